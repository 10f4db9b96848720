"""Version numbers in the S3 registry, claimed so concurrent pushes never share one.

A push takes ``v<N>`` by writing ``v<N>/.claim`` with ``IfNoneMatch='*'``: S3 answers 412 when
another push holds the number, and the next one is tried. Claims are removed when the version is
published (or rolled back), so a listing of ``v<N>/`` folders shows every number ever taken.
"""
from __future__ import annotations

import json
import time
from typing import Callable

from ..aws import aws_errors, error_code
from ..errors import UpstreamError
from .layout import CLAIM, METADATA, VERSION_PREFIX, claim_metadata


def claimed_versions(s3, bucket: str, model_prefix: str) -> list[int]:
    """Every ``v<N>`` folder under ``model_prefix`` (``<prefix>/<owner>/<name>/``): claimed, in progress or published."""
    found = []
    name = model_prefix.rstrip("/").rsplit("/", 1)[-1]
    with aws_errors(f"listing versions of {name}", "s3"):
        pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=model_prefix, Delimiter="/")
        for page in pages:
            for cp in page.get("CommonPrefixes", []):
                m = VERSION_PREFIX.search(cp["Prefix"])
                if m:
                    found.append(int(m.group(1)))
    return sorted(found)


def claim_version(s3, bucket: str, *, name: str, owner: str, model_prefix: str,
                  claim_key: Callable[[int], str], tagging: Callable[[int], str]) -> int:
    """Atomically take the next free version number of ``name``.

    ``claim_key(n)`` is the object key of ``v<n>/.claim`` and ``tagging(n)`` its S3 tags.
    """
    candidate = (claimed_versions(s3, bucket, model_prefix) or [0])[-1] + 1
    for attempt in range(1000):
        body = json.dumps(claim_metadata(owner)).encode()
        try:
            s3.put_object(Bucket=bucket, Key=claim_key(candidate), Body=body, IfNoneMatch="*",
                          Tagging=tagging(candidate))
            return candidate
        except Exception as exc:  # noqa: BLE001 - sorted by error code below
            code = error_code(exc)
            if code == "PreconditionFailed":
                candidate += 1  # another push holds this number
            elif code == "ConditionalRequestConflict":
                time.sleep(0.05 * (attempt + 1))  # a concurrent write to the same key: retry it
            else:
                with aws_errors(f"claiming version {candidate} of {name}", "s3"):
                    raise
    raise UpstreamError(f"Could not claim a version number for {name} after 1000 tries; try again.")


def stale_claims(s3, bucket: str, prefix: str, older_than: float) -> list[dict]:
    """Claims under ``prefix`` of pushes that died: ``v<N>/.claim`` older than ``older_than``
    seconds in a folder with no ``smops.json`` and no multipart upload started within that time.
    Each is ``{"key", "folder", "owner", "claimed_at"}`` (the owner read from the claim's body)."""
    from datetime import datetime, timedelta, timezone

    cutoff = datetime.now(timezone.utc) - timedelta(seconds=older_than)
    claims, published = [], set()
    with aws_errors("listing the registry's claims", "s3"):
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
            for obj in page.get("Contents", []):
                folder, _, leaf = obj["Key"].rpartition("/")
                if leaf == CLAIM and obj["LastModified"] <= cutoff:
                    claims.append((folder + "/", obj))
                elif leaf == METADATA:
                    published.add(folder + "/")
        live = set()
        for page in s3.get_paginator("list_multipart_uploads").paginate(Bucket=bucket, Prefix=prefix):
            for upload in page.get("Uploads", []):
                if upload["Initiated"] > cutoff:
                    live.add(upload["Key"].rpartition("/")[0] + "/")
        out = []
        for folder, obj in claims:
            if folder in published or folder in live:
                continue
            try:
                body = json.loads(s3.get_object(Bucket=bucket, Key=obj["Key"])["Body"].read())
            except ValueError:
                body = {}
            out.append({"key": obj["Key"], "folder": folder, "owner": body.get("owner", ""),
                        "claimed_at": body.get("claimed_at") or obj["LastModified"].isoformat()})
    return out
