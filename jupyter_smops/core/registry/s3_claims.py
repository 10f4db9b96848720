"""Claims of version numbers in the S3 registry.

A version's number is its SageMaker model package's (``model_packages``: SageMaker hands out each
number once). The push then writes ``v<N>/.claim`` with ``IfNoneMatch='*'`` (its owner, when, and
the package's ARN): S3 answers 412 when ``v<N>/`` is already used (by a version an older release
stored under a number its package does not have), and the push takes another package. The claim is
removed when the version is published (or rolled back), so one left behind older than an hour
marks a push that died, and says which package to delete with it.
"""
from __future__ import annotations

import json
import logging
import time

from ..aws import aws_errors, error_code
from ..errors import UpstreamError
from . import s3_bucket
from .layout import CLAIM, METADATA, claim_metadata
from .model_packages import package_version

log = logging.getLogger("jupyter_smops")
# Package numbers tried before giving up when their S3 folders are taken (by versions an older
# release stored under numbers their packages did not have).
MAX_SKIPS = 200
# Where a package that could not be deleted is recorded when its number's folder cannot hold the claim.
PACKAGE_RECORDS = ".packages"


def claim(s3, bucket: str, key: str, body: dict, tagging: str, *, what: str) -> bool:
    """Write the claim ``key`` unless it exists: True when this call took it, False when S3 says
    it is taken (412). ``what`` (``iris:3``) names it in errors."""
    data = json.dumps(body).encode()
    for attempt in range(20):
        try:
            s3.put_object(Bucket=bucket, Key=key, Body=data, IfNoneMatch="*", Tagging=tagging)
            return True
        except Exception as exc:  # noqa: BLE001 - sorted by error code below
            code = error_code(exc)
            if code == "PreconditionFailed":
                return False
            if code != "ConditionalRequestConflict":
                with aws_errors(f"claiming {what}", "s3"):
                    raise
            time.sleep(0.05 * (attempt + 1))  # a concurrent write to the same key: try again
    return False


def reserve(registry, name: str, owner: str, *, at_least: int = 1) -> tuple[int, str]:
    """The next version of ``owner``'s ``name`` in ``registry`` (an S3Registry): (number, package
    ARN). The package comes first and SageMaker picks its number; the S3 claim of that number
    follows. A number whose ``v<N>/`` S3 already holds (a version an older release stored under a
    number its package does not have) is skipped: that package is deleted and another made, so
    versions never collide. ``at_least``: numbers below it are burned (their packages deleted) until
    SageMaker reaches it, so a migrated version keeps its number (``s3_migrate``)."""
    folder = f"s3://{registry.bucket}/{registry._base()}{name}/"
    skips = 0
    while skips < MAX_SKIPS:
        arn = registry.packages.reserve(name, owner, folder)
        try:
            version = package_version(arn)
            if version < at_least:
                # SageMaker never gives a deleted package's number again, so each burned one moves
                # the group one closer to ``at_least``.
                discard(registry, name, owner, arn, reason="a number burned to keep a migrated version's")
                continue
            if take(registry, name, version, owner, arn):
                return version, arn
        except BaseException:
            registry.packages.delete(arn)
            raise
        skips += 1
        log.warning("jupyter_smops: s3://%s/%s is taken (stored by an older release under another package's "
                    "number); skipping model package %s", registry.bucket, registry.key(name, version, ""), arn)
        discard(registry, name, owner, arn, reason="a number whose folder an older release used")
    raise UpstreamError(f"The next {MAX_SKIPS} version numbers of {name} are all taken in {folder} (versions "
                        f"stored under numbers their model packages do not have); ask your administrator to look "
                        f"at that folder.")


def discard(registry, name: str, owner: str, arn: str, *, reason: str, version: int | None = None) -> None:
    """Delete package ``arn`` of ``owner``'s ``name``; when SageMaker refuses, keep a claim naming
    it (``record``) so the next push's sweep or cleanup deletes it later."""
    if not registry.packages.delete(arn):
        record(registry, name, owner, arn, reason=f"its model package could not be deleted: {reason}",
               version=version)


def record(registry, name: str, owner: str, arn: str, *, reason: str, version: int | None = None) -> None:
    """Keep a claim naming package ``arn``, which could not be deleted, for ``leftovers``: in
    ``v<version>/`` when that folder is free, else in ``<name>/.packages/<group>-<N>/`` (the
    number's folder holds a version, or the package is another group's), best effort."""
    def write():
        if version is not None and take(registry, name, version, owner, arn, reason=reason):
            return
        group, number = arn.rsplit("/", 2)[-2:]
        key = f"{registry._base()}{name}/{PACKAGE_RECORDS}/{group}-{number}/{CLAIM}"
        body = {**claim_metadata(owner), "model_package_arn": arn, "reason": reason,
                # What a rollback could not remove there goes with the package (``leftovers``).
                **({"version_folder": registry.key(name, version, "")} if version is not None else {})}
        with aws_errors(f"recording model package {arn}", "s3"):
            registry.s3.put_object(Bucket=registry.bucket, Key=key, Body=json.dumps(body).encode(),
                                   Tagging=registry.tagging(owner, name, int(number) if number.isdigit() else 0))
    s3_bucket.quietly(f"recording model package {arn} for cleanup", write)


def take(registry, name: str, version: int, owner: str, arn: str, *, reason: str = "") -> bool:
    """Claim ``v<version>/`` of ``name`` for package ``arn``: False when the folder is taken. A
    published version has no claim left, so a folder holding anything besides this claim is taken
    too (the claim is then withdrawn, and nothing else in the folder touched). ``reason``: why a
    claim is written for a number no push holds (cleanup says it)."""
    s3, bucket = registry.s3, registry.bucket
    key = registry.key(name, version, CLAIM)
    body = {**claim_metadata(owner), "model_package_arn": arn, **({"reason": reason} if reason else {})}
    if not claim(s3, bucket, key, body, registry.tagging(owner, name, version), what=f"{name}:{version}"):
        return False
    with aws_errors(f"checking that {name}:{version} is free", "s3"):
        listed = s3.list_objects_v2(Bucket=bucket, Prefix=registry.key(name, version, ""), MaxKeys=2)
    if any(obj["Key"] != key for obj in listed.get("Contents", [])):
        s3_bucket.delete_quietly(s3, bucket, [key])
        return False
    return True


def renumber(registry, meta: dict, *, name: str, owner: str) -> dict:
    """``meta`` moved to a complete package made in one request, for a version whose reserved
    package SageMaker would not complete: the number is guessed (the reserved one + 1, then past
    each answer) and checked on SageMaker's answer, claimed in S3, and the artifact copied there.
    Returns the moved version's metadata; the caller removes the reserved number's."""
    guess = meta["version"] + 1
    for _ in range(MAX_SKIPS):
        moved = {**meta, "version": guess}
        arn = registry.packages.register(moved, owner, registry.uri(name, guess))
        try:
            got = package_version(arn)
            taken = got == guess and take(registry, name, got, owner, arn)
        except BaseException:
            # A complete package is not marked as pushing, so no sweep would find it: delete it now.
            registry.packages.delete(arn)
            raise
        if taken:
            break
        discard(registry, name, owner, arn, reason="a number taken while moving a version")
        guess = max(got, guess) + 1
    else:
        raise UpstreamError(f"Could not register {name} in the SageMaker Model Registry under a free number; "
                            f"push again.")
    moved["model_package_arn"] = arn
    try:
        with aws_errors(f"copying {name}:{meta['version']} to {name}:{got}", "s3"):
            registry.s3.copy({"Bucket": registry.bucket, "Key": registry.key(name, meta["version"])}, registry.bucket,
                             registry.key(name, got), ExtraArgs={"Tagging": registry.tagging(owner, name, got),
                                                                  "TaggingDirective": "REPLACE"})
    except BaseException:
        registry.rollback(name, got, arn)
        raise
    return moved


def list_folder(s3, bucket: str, prefix: str) -> tuple[list[dict], list[dict]]:
    """(objects, multipart uploads) under ``prefix``: one listing of each, which the sweeps of a
    push or cleanup share (``stale_claims``, ``published_or_claimed``)."""
    with aws_errors("listing the registry's claims", "s3"):
        objects = [o for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
                   for o in page.get("Contents", [])]
        uploads = [u for page in s3.get_paginator("list_multipart_uploads").paginate(Bucket=bucket, Prefix=prefix)
                   for u in page.get("Uploads", [])]
    return objects, uploads


def published_or_claimed(objects: list[dict], model_prefix: str) -> set[int]:
    """The numbers under ``model_prefix`` (``<prefix>/<owner>/<name>/``) with a ``smops.json`` or a
    claim, among ``objects`` (``list_folder``'s)."""
    from .layout import VERSION_DIR

    found = set()
    for obj in objects:
        if not obj["Key"].startswith(model_prefix):
            continue
        folder, _, leaf = obj["Key"][len(model_prefix):].rpartition("/")
        m = VERSION_DIR.match(folder)
        if m and leaf in (CLAIM, METADATA):
            found.add(int(m.group(1)))
    return found


def stale_claims(s3, bucket: str, objects: list[dict], uploads: list[dict], older_than: float) -> list[dict]:
    """Claims among ``objects`` (``list_folder``'s, with its ``uploads``) of pushes that died:
    ``v<N>/.claim`` older than ``older_than`` seconds in a folder with no ``smops.json`` and no
    multipart upload started within that time. Each is ``{"key", "folder", "also", "owner",
    "claimed_at", "model_package_arn", "reason"}`` (from the claim's body; ``also``: the unpublished
    version folder a ``record`` names, removed with it, else None)."""
    from datetime import datetime, timedelta, timezone

    cutoff = datetime.now(timezone.utc) - timedelta(seconds=older_than)
    claims, published = [], set()
    for obj in objects:
        folder, _, leaf = obj["Key"].rpartition("/")
        if leaf == CLAIM and obj["LastModified"] <= cutoff:
            claims.append((folder + "/", obj))
        elif leaf == METADATA:
            published.add(folder + "/")
    live = {u["Key"].rpartition("/")[0] + "/" for u in uploads if u["Initiated"] > cutoff}
    out = []
    with aws_errors("reading the registry's claims", "s3"):
        for folder, obj in claims:
            if folder in published or folder in live:
                continue
            try:
                body = json.loads(s3.get_object(Bucket=bucket, Key=obj["Key"])["Body"].read())
            except ValueError:
                body = {}
            extra = body.get("version_folder")
            # Only while that number's folder is unpublished: a version stored there since is kept.
            if isinstance(extra, str) and extra.endswith("/") and extra not in published and extra not in live:
                folder_also = extra
            else:
                folder_also = None
            out.append({"key": obj["Key"], "folder": folder, "also": folder_also, "owner": body.get("owner", ""),
                        "claimed_at": body.get("claimed_at") or obj["LastModified"].isoformat(),
                        "model_package_arn": body.get("model_package_arn"), "reason": body.get("reason") or ""})
    return out
