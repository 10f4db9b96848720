"""Model packages on the moto server the way SageMaker keeps them (moto 5.2 differs, TOOLCHAIN.md).

The server runs in this process (``ThreadedMotoServer``), so its SageMaker backend is patched for
the test (``aws_model_packages(monkeypatch)``, from the ``aws`` fixture):

- a group's packages are numbered 1, 2, ... and a deleted package's number is never given again
  (moto numbers ``len(group) + 1``, which would hand a deleted number out twice and replace the
  live package holding that number), atomically
  (moto's count races under concurrent requests);
- ``DeleteModelPackage`` works (moto answers 500, not implemented);
- ``UpdateModelPackage`` changes only what it is given (moto clears the approval status and the
  customer metadata a request leaves out), merges ``CustomerMetadataProperties``, and sets an
  ``InferenceSpecification`` only on a package created without one (moto ignores it). AWS's own
  rule for the latter is not documented; the strictest reading is modelled, and a test can make
  it refuse outright (``refuse_spec_updates``) to exercise the product's fallback.
"""
from __future__ import annotations

import threading

from moto.sagemaker import models, responses
from moto.sagemaker.exceptions import ValidationError

_LOCK = threading.Lock()


class Switches:
    """What a test may change about the patched behaviour."""

    refuse_spec_updates = False


def _highest(backend) -> dict:
    if not hasattr(backend, "_smops_highest"):
        backend._smops_highest = {}
    return backend._smops_highest


def _create(original):
    def create_model_package(self, *args, **kwargs):
        group = kwargs.get("model_package_group_name")
        with _LOCK:
            # moto's ARN ends in len(group) + 1, which after a delete is a live package's: keep that one.
            clobbered = dict(self.model_packages)
            arn = original(self, *args, **kwargs)
            if not group:
                return arn
            package = self.model_packages.pop(arn)
            if arn in clobbered:
                self.model_packages[arn] = clobbered[arn]
            number = _highest(self).get(group, 0) + 1
            _highest(self)[group] = number
            package.model_package_version = number
            package.arn = arn.rsplit("/", 1)[0] + f"/{number}"
            self.model_packages[package.arn] = package
            if arn not in clobbered:
                self.model_package_name_mapping.pop(arn, None)
            self.model_package_name_mapping[package.arn] = package.arn
            self.model_package_name_mapping[package.model_package_name] = package.arn
            return package.arn
    return create_model_package


def _find(backend, name: str):
    package = backend.model_packages.get(backend.model_package_name_mapping.get(name, name))
    if package is None:
        raise ValidationError(f"Model package {name} does not exist.")
    return package


def _update(self):
    params = {k: self._get_param(k) for k in ("ModelPackageArn", "ModelApprovalStatus", "ApprovalDescription",
                                              "CustomerMetadataProperties", "InferenceSpecification")}
    remove = self._get_param("CustomerMetadataPropertiesToRemove", []) or []
    with _LOCK:
        package = _find(self.sagemaker_backend, params["ModelPackageArn"])
        if params["InferenceSpecification"] is not None:
            if Switches.refuse_spec_updates or package.inference_specification:
                raise ValidationError("The InferenceSpecification of this model package cannot be updated.")
            package.inference_specification = params["InferenceSpecification"]
        if params["ModelApprovalStatus"] is not None:
            package.set_model_approval_status(params["ModelApprovalStatus"])
        if params["ApprovalDescription"] is not None:
            package.approval_description = params["ApprovalDescription"]
        if params["CustomerMetadataProperties"] is not None or remove:
            merged = {**(package.customer_metadata_properties or {}), **(params["CustomerMetadataProperties"] or {})}
            package.customer_metadata_properties = {k: v for k, v in merged.items() if k not in remove}
        package.modifications_done()
    return responses.ActionResult({"ModelPackageArn": package.arn})


def _delete(self):
    name = self._get_param("ModelPackageName")
    backend = self.sagemaker_backend
    with _LOCK:
        package = _find(backend, name)
        backend.model_packages.pop(package.arn, None)
        for key in [k for k, v in backend.model_package_name_mapping.items() if v == package.arn]:
            del backend.model_package_name_mapping[key]
    return responses.EmptyResult()


def aws_model_packages(monkeypatch) -> type[Switches]:
    """Patch the in-process moto server's model packages for one test (module docstring)."""
    monkeypatch.setattr(Switches, "refuse_spec_updates", False)
    backend_class = models.SageMakerModelBackend
    monkeypatch.setattr(backend_class, "create_model_package", _create(backend_class.create_model_package))
    monkeypatch.setattr(responses.SageMakerResponse, "update_model_package", _update)
    monkeypatch.setattr(responses.SageMakerResponse, "delete_model_package", _delete, raising=False)
    return Switches
