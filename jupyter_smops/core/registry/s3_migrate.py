"""The one-time move of versions pushed before owners had folders (``<prefix>/<name>/v<N>/``) into
their owners' (``<prefix>/<owner>/<name>/v<N>/``): ``jupyter smops admin migrate-registry``.

An administrator runs it once after upgrading: under the ABAC policy a user can neither list nor
read outside their own folder, so the old versions are out of their reach until moved. Each goes
to the folder of its ``created_by`` (the owner it was pushed as). Nothing is lost on the way: the
new copy is complete (objects, a Model Package in ``<owner>-<name>`` with the same approval
status, ``smops.json`` written last) before the old objects and package are deleted, and a
failure leaves the old version where it was. A version's number is always its package's, so a
version keeps its old number by burning the package numbers below it (SageMaker numbers a new group
from 1 and never reuses a deleted package's number): a notebook pinned to ``iris:3`` still gets the
same model. Only when the owner's group is already past it (the owner pushed since the upgrade) is
a version renumbered, and the report says so. A number the owner has used is never overwritten.
"""
from __future__ import annotations

import json

from ..aws import aws_errors
from ..errors import SmopsError
from . import s3_bucket, s3_claims
from .layout import ARTIFACT, LEGACY_METADATA_KEY, METADATA, owner_folder


class Migration:
    """What ``migrate`` moved (or would move, on a dry run) and what it kept, one line each."""

    def __init__(self, dry_run: bool):
        self.dry_run = dry_run
        self.moved: list[str] = []
        self.kept: list[str] = []

    def __str__(self) -> str:
        verb = "would move" if self.dry_run else "moved"
        lines = [f"{verb} {line}" for line in self.moved] + [f"kept {line}" for line in self.kept]
        if not lines:
            return "Nothing to migrate: every version is in its owner's folder."
        return "\n".join(lines)

    def to_dict(self) -> dict:
        return {"dry_run": self.dry_run, "moved": self.moved, "kept": self.kept}


def legacy_versions(registry) -> list[tuple[str, int]]:
    """(name, version) of every published version in the old layout, oldest first."""
    base = registry._prefix_base()
    found = []
    with aws_errors("listing the registry", "s3"):
        for key in s3_bucket.keys_under(registry.s3, registry.bucket, base):
            m = LEGACY_METADATA_KEY.match(key[len(base):])
            if m:
                found.append((m.group("name"), int(m.group("version"))))
    return sorted(found)


def migrate(registry, *, dry_run: bool = False) -> Migration:
    """Move every old-layout version of ``registry``'s bucket and prefix (an ``S3Registry``) into
    its owner's folder; with ``dry_run`` only say what would move."""
    report = Migration(dry_run)
    base = registry._prefix_base()
    for name, version in legacy_versions(registry):
        old = f"{base}{name}/v{version}/"
        try:
            with aws_errors(f"reading s3://{registry.bucket}/{old}{METADATA}", "s3"):
                meta = json.loads(registry.s3.get_object(Bucket=registry.bucket, Key=old + METADATA)["Body"].read())
            owner = owner_folder(str(meta.get("created_by") or ""))
            target = registry.as_owner(owner)
            if dry_run:
                # The number is the one SageMaker gives its new package: the old one unless the
                # owner's group is past it by then, unknown until the package is made.
                report.moved.append(f"{name}:{version} of {owner}: s3://{registry.bucket}/{old} -> "
                                    f"s3://{registry.bucket}/{target._base()}{name}/ (as {name}:{version} "
                                    f"unless the owner's model package group is past {version})")
                continue
            number = _move(target, meta, old, name, version, owner)
        except SmopsError as exc:
            report.kept.append(f"{name}:{version} in s3://{registry.bucket}/{old}: {exc.message}")
            continue
        renumbered = (f" as {name}:{number} (the number of its model package in the owner's group)"
                      if number != version else "")
        report.moved.append(f"{name}:{version} of {owner}{renumbered} -> s3://{registry.bucket}/"
                            f"{target.key(name, number, '')}")
    return report


def _move(target, meta: dict, old: str, name: str, version: int, owner: str) -> int:
    """Copy one version into ``target``'s folder, then delete the old one; returns its number there."""
    number, arn = target.reserve(name, owner, at_least=version)
    try:
        with aws_errors(f"copying {name}:{version}", "s3"):
            # A managed copy: artifacts over 5 GB are copied in parts.
            target.s3.copy({"Bucket": target.bucket, "Key": old + ARTIFACT}, target.bucket,
                           target.key(name, number), ExtraArgs={"Tagging": target.tagging(owner, name, number),
                                                                "TaggingDirective": "REPLACE"})
        moved = target.publish_metadata({**meta, "version": number, "model_package_arn": arn}, name=name, owner=owner,
                                        approval=meta.get("approval_status") or "PendingManualApproval")
    except BaseException:  # publish_metadata has removed what it made itself
        target.rollback(name, number, arn)
        raise
    s3_bucket.delete_quietly(target.s3, target.bucket, s3_bucket.keys_under(target.s3, target.bucket, old))
    if meta.get("model_package_arn"):  # it points at the old key
        s3_claims.discard(target, name, owner, meta["model_package_arn"], reason=f"{name}:{version} before migration")
    return moved["version"]
