"""The SageMaker Model Registry side of the S3 registry: one Model Package Group per owner's model
(``<owner>-<name>``, layout.package_group_name: group names are account-wide), one Model Package
per version (``PendingManualApproval`` until someone approves it).

The S3 objects are the registry's truth; a package mirrors a version so SageMaker's own tools
(Studio's Model Registry, pipelines) see it, and carries the approval status.

Version numbers come from here: SageMaker numbers a group's packages itself (1, 2, ... and never
reuses the number of a deleted one), so a push first ``reserve``s a package (no inference
specification yet, ``smops:state=pushing``) and stores its S3 version under that package's number;
``complete`` then gives the package the artifact's facts. ``iris:3`` is always package
``<owner>-iris/3``.
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

    def reserve(self, name: str, owner: str, folder_uri: str) -> str:
        """Create the next package of ``owner``'s ``name`` and return its ARN: its version number
        (``package_version``) is the S3 version's. ``folder_uri`` is ``.../<name>/`` in S3."""
        group = package_group_name(owner, name)
        self.ensure_group(group, owner, model=name)
        with aws_errors(f"registering a version of {name} in the SageMaker Model Registry", "sagemaker"):
            return self.sagemaker.create_model_package(
                ModelPackageGroupName=group, ModelApprovalStatus="PendingManualApproval",
                ModelPackageDescription=(f"{name} pushed by {owner} with jupyter_smops: model.tar.gz and smops.json "
                                         f"in {folder_uri}v<this version>/")[:1024],
                CustomerMetadataProperties={PUSHING[0]: PUSHING[1]},
                # botocore fills ClientToken (an idempotency token) once per call, so a retried request
                # (a timeout) does not make a second package.
                Tags=tag_list(self.owner_tag_key, owner, model=name))["ModelPackageArn"]

    def register(self, meta: dict, owner: str, artifact_uri: str) -> str:
        """Create a complete package for version ``meta`` (its ``smops.json``) in one request; returns
        its ARN, whose number the caller checks against ``meta["version"]`` (``s3_claims.renumber``)."""
        name, version = meta["name"], meta["version"]
        group = package_group_name(owner, name)
        self.ensure_group(group, owner, model=name)
        args: dict[str, Any] = {
            "ModelPackageGroupName": group,
            "ModelPackageDescription": f"{name}:{version} pushed by jupyter_smops (sha256 {meta['sha256'][:12]})",
            "ModelApprovalStatus": "PendingManualApproval",
            "CustomerMetadataProperties": self._facts(meta, artifact_uri),
            # As ``reserve``'s (tagged before SageMaker gives the number): the number is the ARN's and
            # the customer metadata's ``smops:version``.
            "Tags": tag_list(self.owner_tag_key, owner, model=name),
        }
        spec = self.inference_spec(meta, artifact_uri)
        if spec:
            args["InferenceSpecification"] = spec
        with aws_errors(f"registering {name}:{version} in the SageMaker Model Registry", "sagemaker"):
            return self.sagemaker.create_model_package(**args)["ModelPackageArn"]

    @staticmethod
    def _facts(meta: dict, artifact_uri: str) -> dict:
        return {"smops:version": str(meta["version"]), "sha256": meta["sha256"],
                **split_value("artifact", artifact_uri)}

    def complete(self, arn: str, meta: dict, artifact_uri: str) -> bool:
        """Give a ``reserve``d package its version's facts (customer metadata) and inference
        specification. False when SageMaker refuses to add the specification to the existing
        package (ValidationException): the caller then moves the version to a complete package
        (``s3_claims.renumber``)."""
        ref = f"{meta['name']}:{meta['version']}"
        with aws_errors(f"registering {ref} in the SageMaker Model Registry", "sagemaker"):
            self.sagemaker.update_model_package(ModelPackageArn=arn,
                                                CustomerMetadataProperties=self._facts(meta, artifact_uri),
                                                CustomerMetadataPropertiesToRemove=[PUSHING[0]])
        spec = self.inference_spec(meta, artifact_uri)
        if not spec:
            return True
        try:
            with aws_errors(f"adding the inference specification of {ref}", "sagemaker"):
                self.sagemaker.update_model_package(ModelPackageArn=arn, InferenceSpecification=spec)
        except SmopsError as exc:
            if exc.code != "ValidationException":
                raise
            log.warning("jupyter_smops: SageMaker would not add the inference specification to %s (%s); "
                        "registering it again", arn, exc.message)
            return False
        return True

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
        # What the version's inference.py reads and writes (``accepts``/``produces``, found at
        # packaging), so Studio's Model Registry does not offer a type the model refuses; the
        # container's defaults when unknown or recorded before.
        return {"Containers": [container],
                "SupportedContentTypes": meta.get("accepts") or ["application/json", "text/csv", "application/x-npy"],
                "SupportedResponseMIMETypes": meta.get("produces") or ["application/json", "text/csv"]}

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

    def delete(self, arn: str) -> bool:
        """Delete a model package (gone already counts); False, logged, when it could not be (the
        S3 objects are the registry's truth; the caller keeps a record to retry)."""
        try:
            with aws_errors(f"deleting model package {arn}", "sagemaker"):
                self.sagemaker.delete_model_package(ModelPackageName=arn)
        except NotFound:
            return True
        except SmopsError as exc:
            log.warning("jupyter_smops: the model package %s could not be deleted: %s", arn, exc)
            return False
        return True

    def orphans(self, owner: str, name: str, published: set[int], older_than: float) -> list[dict]:
        """Reserved packages of ``owner``'s ``name`` whose push died before it wrote a claim: not
        in ``published`` (numbers with a ``smops.json`` or a claim), created more than
        ``older_than`` seconds ago, still marked ``smops:state=pushing``. Each is ``{"arn",
        "version", "created"}``; none when the group does not exist."""
        from datetime import datetime, timedelta, timezone

        cutoff = datetime.now(timezone.utc) - timedelta(seconds=older_than)
        group = package_group_name(owner, name)
        found = []
        try:
            with aws_errors(f"listing the model packages of {group}", "sagemaker"):
                # Only packages old enough to be debris: a push lists them every time.
                pages = self.sagemaker.get_paginator("list_model_packages").paginate(ModelPackageGroupName=group,
                                                                                     CreationTimeBefore=cutoff)
                summaries = [p for page in pages for p in page.get("ModelPackageSummaryList", [])]
        except (NotFound, SmopsError) as exc:
            if isinstance(exc, NotFound) or exc.code in ("ValidationException", "AccessDenied"):
                return []  # no group (AccessDenied under ABAC: an absent group has no owner tag)
            raise
        for summary in summaries:
            version = summary.get("ModelPackageVersion")
            if version is None or version in published or summary["CreationTime"] > cutoff:
                continue
            try:
                with aws_errors(f"reading model package {summary['ModelPackageArn']}", "sagemaker"):
                    described = self.sagemaker.describe_model_package(ModelPackageName=summary["ModelPackageArn"])
            except (NotFound, SmopsError) as exc:
                if isinstance(exc, NotFound) or exc.code == "ValidationException":
                    continue  # deleted since the listing (a concurrent cleanup or rollback)
                raise
            if (described.get("CustomerMetadataProperties") or {}).get(PUSHING[0]) == PUSHING[1]:
                found.append({"arn": summary["ModelPackageArn"], "version": version,
                              "created": summary["CreationTime"].isoformat(timespec="seconds")})
        return found


# The customer metadata of a package reserved by a push that has not completed it yet.
PUSHING = ("smops:state", "pushing")
# SageMaker's limit on a CustomerMetadataProperties value (botocore: CustomerMetadataValue).
METADATA_VALUE_MAX = 256


def split_value(key: str, value: str) -> dict[str, str]:
    """``{key: value}`` when ``value`` fits a customer metadata value, else its pieces under ``key``,
    ``key:2``, ``key:3``, ...: an artifact's URI with a long prefix, owner and model name is longer
    than SageMaker takes, and a package without an inference specification has nowhere else to name it."""
    pieces = [value[i:i + METADATA_VALUE_MAX] for i in range(0, len(value), METADATA_VALUE_MAX)] or [value]
    return {key if i == 0 else f"{key}:{i + 1}": piece for i, piece in enumerate(pieces)}


def artifact_from_metadata(properties: dict) -> str:
    """The artifact URI a package's customer metadata names (``split_value``'s pieces joined)."""
    out, i = properties.get("artifact", ""), 2
    while f"artifact:{i}" in properties:
        out, i = out + properties[f"artifact:{i}"], i + 1
    return out


def package_version(arn: str) -> int:
    """The version number at the end of a versioned package's ARN (``.../model-package/<group>/<N>``)."""
    tail = arn.rsplit("/", 1)[-1]
    if not tail.isdigit():
        raise ValueError(f"{arn} is not a versioned model package")
    return int(tail)
