"""What pushes to the S3 registry that died left behind, found and removed (``S3Registry.leftovers``).

A push killed mid-way (the Jupyter server, a kernel) or cut off from S3 cannot clean up after
itself. What it leaves, once older than the registry's ``stale_upload_seconds`` (an hour):

- a claim (``v<N>/.claim``) in a folder with no ``smops.json`` and no recent multipart upload, with
  the objects under it and the model package the claim names (a rollback that could not delete its
  package, or a delete of a version, leaves such a claim on purpose, so the package is retried; when
  the number's folder cannot hold it, as for a skipped number or a migrated version's old package,
  it is kept in ``<name>/.packages/<group>-<N>/``);
- a model package reserved by a push killed before it wrote its claim (still ``smops:state=pushing``);
- multipart uploads never completed.

The next push of a model sweeps its own; ``cleanup --include-registry`` lists (``--dry-run``) or
removes the owner's.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Optional

from ..aws import aws_errors
from ..errors import NotFound
from . import s3_claims


def leftovers(registry, owner: Optional[str], *, dry_run: bool = False, name: Optional[str] = None) -> list[str]:
    """Describe (and unless ``dry_run`` remove) the debris in ``registry``'s folder (module
    docstring): only ``owner``'s claims (all with None), of ``name`` when given. One listing of
    the objects and one of the multipart uploads serve every step (a push pays for it each time)."""
    base = f"{registry._base()}{name}/" if name else registry._base()
    objects, uploads = s3_claims.list_folder(registry.s3, registry.bucket, base)
    found = []
    for claim in s3_claims.stale_claims(registry.s3, registry.bucket, objects, uploads, registry.stale_upload_seconds):
        if owner is not None and claim["owner"] != owner:
            continue
        arn = claim["model_package_arn"]
        why = claim["reason"] or "a push that died"
        found.append(f"s3://{registry.bucket}/{claim['key']} ({why}, claimed {claim['claimed_at']}"
                     + (f"; its model package {arn})" if arn else ")"))
        if not dry_run and (not arn or registry.packages.delete(arn)):
            registry._remove_objects(claim["folder"])  # kept while its package is: the claim names it
            if claim["also"] and claim["also"].startswith(registry._base()):
                registry._remove_objects(claim["also"])
    found += orphan_packages(registry, name, objects, dry_run=dry_run)
    cutoff = datetime.now(timezone.utc) - timedelta(seconds=registry.stale_upload_seconds)
    for upload in uploads:
        if upload["Initiated"] > cutoff:
            continue
        found.append(f"multipart upload of s3://{registry.bucket}/{upload['Key']} (started "
                     f"{upload['Initiated'].isoformat(timespec='seconds')}, never completed)")
        if not dry_run:
            try:
                with aws_errors("aborting abandoned uploads", "s3"):
                    registry.s3.abort_multipart_upload(Bucket=registry.bucket, Key=upload["Key"],
                                                       UploadId=upload["UploadId"])
            except NotFound:
                pass  # aborted with its stale claim's folder above
    return found


def orphan_packages(registry, name: Optional[str], objects: list[dict], *, dry_run: bool) -> list[str]:
    """Packages reserved by pushes that died before claiming their number (``ModelPackages.orphans``),
    of ``name`` or of every model in ``registry``'s folder (``objects``: its listing); deleted unless ``dry_run``."""
    found = []
    for model in [name] if name else registry._model_names():
        numbers = s3_claims.published_or_claimed(objects, f"{registry._base()}{model}/")
        for orphan in registry.packages.orphans(registry.owner, model, numbers, registry.stale_upload_seconds):
            found.append(f"model package {orphan['arn']} (reserved by a push of {model} that died, "
                         f"created {orphan['created']})")
            if not dry_run:
                registry.packages.delete(orphan["arn"])
    return found
