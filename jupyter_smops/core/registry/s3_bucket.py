"""The S3 registry's bucket: checked before the first push, created when it is SageMaker's default.

A configured bucket (``SMOPS_BUCKET``) must exist; the default ``sagemaker-<region>-<account>``
is created on first use, with public access blocked and a rule that drops abandoned multipart
uploads after a day.
"""
from __future__ import annotations

import logging
from typing import Any, Callable

from ..aws import aws_errors
from ..errors import NotFound, SmopsError
from ..types import Progress, no_progress

log = logging.getLogger("jupyter_smops")


def ensure_bucket(s3, bucket: str, *, configured: bool, region: str, prefix: str,
                  progress: Progress = no_progress) -> None:
    """Check ``bucket``; create it when it is the default one (``configured``: set by the user).

    ``prefix`` (``<prefix>/`` or "") is where the registry's objects go: the lifecycle rule of a
    created bucket covers only it.
    """
    try:
        with aws_errors(f"checking bucket {bucket}", "s3"):
            # Not HeadBucket: that is s3:ListBucket on the whole bucket, which the ABAC policy grants only
            # under the caller's own folder; GetBucketLocation answers NoSuchBucket just the same.
            s3.get_bucket_location(Bucket=bucket)
    except NotFound:
        if configured:
            from ..aws import bucket_hint

            raise NotFound(f"The configured bucket {bucket!r} does not exist. {bucket_hint(bucket)}") from None
        create_default_bucket(s3, bucket, region=region, prefix=prefix, progress=progress)


def create_default_bucket(s3, bucket: str, *, region: str, prefix: str, progress: Progress = no_progress) -> None:
    """Create the registry's default bucket (a concurrent first push may have made it already)."""
    log.warning("jupyter_smops: creating the registry bucket s3://%s (first push in %s; set SMOPS_BUCKET "
                "to use another bucket)", bucket, region)
    progress("creating-bucket", None, None)
    args: dict[str, Any] = {"Bucket": bucket}
    if region != "us-east-1":
        args["CreateBucketConfiguration"] = {"LocationConstraint": region}
    try:
        with aws_errors(f"creating the registry bucket {bucket}", "s3"):
            s3.create_bucket(**args)
    except SmopsError as exc:
        if exc.code != "Conflict":  # BucketAlreadyOwnedByYou: a concurrent first push made it
            raise
    # Both are hardening, not requirements: a role without these rights still gets a registry.
    quietly(f"blocking public access on {bucket}", lambda: s3.put_public_access_block(
        Bucket=bucket, PublicAccessBlockConfiguration={
            "BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True,
            "RestrictPublicBuckets": True}))
    # A push killed with its network (or its machine) cannot abort its multipart upload; S3
    # then drops the parts itself after a day instead of billing them forever.
    quietly(f"adding the lifecycle rule of {bucket}", lambda: s3.put_bucket_lifecycle_configuration(
        Bucket=bucket, LifecycleConfiguration={"Rules": [{
            "ID": "smops-abort-incomplete-uploads", "Status": "Enabled", "Filter": {"Prefix": prefix},
            "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1}}]}))


def quietly(step: str, call: Callable[[], Any]) -> None:
    """Run an optional S3 step; a failure is logged as skipped, never raised."""
    try:
        with aws_errors(step, "s3"):
            call()
    except SmopsError as exc:
        log.warning("jupyter_smops: skipped %s: %s", step, exc.message)


def keys_under(s3, bucket: str, prefix: str) -> list[str]:
    """Every object key under ``prefix``."""
    keys = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        keys += [o["Key"] for o in page.get("Contents", [])]
    return keys


def delete_quietly(s3, bucket: str, keys: list[str]) -> None:
    """Delete ``keys`` (in batches of 1000, as DeleteObjects allows); failures are logged: cleanup
    is best effort and must never hide the error that caused it."""
    for start in range(0, len(keys), 1000):
        batch = [{"Key": k} for k in keys[start:start + 1000]]
        try:
            s3.delete_objects(Bucket=bucket, Delete={"Objects": batch, "Quiet": True})
        except Exception as exc:  # noqa: BLE001 - cleanup is best effort
            log.warning("jupyter_smops: could not delete %d objects: %s", len(batch), exc)
