"""The SageMaker Model Registry side of the S3 registry: one Model Package Group per owner's model
(``<owner>-<name>``, layout.package_group_name: group names are account-wide), one Model Package
per version (``PendingManualApproval`` until someone approves it).

The S3 objects are the registry's truth; a package mirrors a version so SageMaker's own tools
(Studio's Model Registry, pipelines) see it, and carries the approval status.
"""
from __future__ import annotations

import logging
from typing import Any, Callable, Optional

from ..aws import aws_errors, serving_environment, tag_list
from ..errors import BadRequest, NotFound, SmopsError
from .layout import package_group_name

log = logging.getLogger("jupyter_smops")


class ModelPackages:
    """Model Package Groups and Packages, through ``sagemaker()`` (a boto3 SageMaker client)."""

    def __init__(self, sagemaker: Callable[[], Any], *, region: Callable[[], str], owner_tag_key: str):
        # Callables, not clients: the registry's clients are made (and cached) on first use.
        self._sagemaker = sagemaker
        self._region = region
        self.owner_tag_key = owner_tag_key

    @property
    def sagemaker(self):
        return self._sagemaker()

    def register(self, meta: dict, owner: str, artifact_uri: str) -> str:
        """Register version ``meta`` (its ``smops.json``) as a Model Package; returns its ARN."""
        name, version = meta["name"], meta["version"]
        group = package_group_name(owner, name)
        self.ensure_group(group, owner, model=name)
        args: dict[str, Any] = {
            "ModelPackageGroupName": group,
            "ModelPackageDescription": f"{name}:{version} pushed by jupyter_smops (sha256 {meta['sha256'][:12]})",
            "ModelApprovalStatus": "PendingManualApproval",
            "CustomerMetadataProperties": {"smops:version": str(version), "sha256": meta["sha256"],
                                           "artifact": artifact_uri},
            "Tags": tag_list(self.owner_tag_key, owner, model=name, version=version),
        }
        spec = self.inference_spec(meta, artifact_uri)
        if spec:
            args["InferenceSpecification"] = spec
        with aws_errors(f"registering {name}:{version} in the SageMaker Model Registry", "sagemaker"):
            return self.sagemaker.create_model_package(**args)["ModelPackageArn"]

    def inference_spec(self, meta: dict, artifact_uri: str) -> Optional[dict]:
        """The scikit-learn container serving the artifact; None when no image matches its version."""
        from ..images import image_uri

        region = self._region()
        try:
            image = image_uri(region, meta.get("serving_version") or "")
        except BadRequest:
            return None  # no matching image: the package still records the artifact
        container = {"Image": image, "ModelDataUrl": artifact_uri,
                     "Environment": serving_environment(region), "Framework": "SKLEARN",
                     # At most 10 characters: the scikit-learn version, not the image's "-py312" suffix.
                     "FrameworkVersion": meta["serving_version"].split("-py")[0]}
        return {"Containers": [container],
                "SupportedContentTypes": ["application/json", "text/csv", "application/x-npy"],
                "SupportedResponseMIMETypes": ["application/json", "text/csv"]}

    def ensure_group(self, name: str, owner: str, *, model: str) -> None:
        """Create the group ``name`` (of ``owner``'s ``model``) unless it exists (a concurrent push
        may create it first)."""
        try:
            with aws_errors(f"reading model package group {name}", "sagemaker"):
                self.sagemaker.describe_model_package_group(ModelPackageGroupName=name)
            return
        except NotFound:
            pass
        except SmopsError as exc:
            # Under the ABAC policy a group that does not exist carries no owner tag, so describing it
            # is AccessDenied, not NotFound: create it (someone else's group refuses the create too).
            if exc.code not in ("ValidationException", "AccessDenied"):
                raise
        try:
            with aws_errors(f"creating model package group {name}", "sagemaker"):
                self.sagemaker.create_model_package_group(
                    ModelPackageGroupName=name, Tags=tag_list(self.owner_tag_key, owner, model=model),
                    ModelPackageGroupDescription=f"Versions of {model} pushed by {owner} with jupyter_smops")
        except SmopsError as exc:
            if exc.code not in ("Conflict", "ValidationException"):  # a concurrent push created it
                raise

    def set_approval(self, arn: str, status: str, ref: str) -> None:
        """Set the package's ``ModelApprovalStatus`` (``ref``, e.g. ``iris:3``, names it in errors)."""
        with aws_errors(f"setting {ref} to {status}", "sagemaker"):
            self.sagemaker.update_model_package(ModelPackageArn=arn, ModelApprovalStatus=status)

    def delete(self, arn: str) -> None:
        """Delete a model package; a failure is logged (the S3 objects are the registry's truth)."""
        try:
            with aws_errors(f"deleting model package {arn}", "sagemaker"):
                self.sagemaker.delete_model_package(ModelPackageName=arn)
        except SmopsError as exc:
            log.warning("jupyter_smops: the model package %s could not be deleted: %s", arn, exc)
