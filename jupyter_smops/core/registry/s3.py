"""The S3 registry: ``s3://<bucket>/<prefix>/<owner>/<name>/v<N>/{model.tar.gz, smops.json}``.

Each owner (the Studio profile's owner tag, else SMOPS_OWNER or the user name) has a folder of
their own: a registry reads and lists only its owner's (``S3Registry.owner``), and the ABAC
policy lets a user reach nothing else, so two owners pushing ``iris`` never meet.

A push (1) creates the version's SageMaker Model Package in group ``<owner>-<name>``
(``PendingManualApproval``) and takes the number SageMaker gives it, claiming ``v<N>`` in S3 with
``IfNoneMatch='*'`` on ``v<N>/.claim`` (SageMaker hands out each number once, so concurrent pushes
from many notebooks get distinct versions, and ``iris:N`` is always package ``<owner>-iris/N``,
whatever was deleted or rolled back before); (2) uploads the artifact with boto3's transfer manager
(parallel parts, SHA-256 checksums S3 verifies, owner and ``smops:*`` tags); (3) completes the
package (inference specification, sha256); (4) writes ``smops.json`` last. A version exists only
once its ``smops.json`` does, so an interrupted push leaves nothing visible; its multipart upload,
objects and package are removed on the way out (a number is never reused: SageMaker's is burned).

Beside this module: ``layout`` (keys and ``smops.json``, shared with the local registry),
``s3_claims`` (step 1's numbers), ``s3_upload`` (step 2), ``model_packages`` (steps 1 and 3),
``s3_leftovers`` (what dead pushes left), ``s3_bucket`` (the bucket and object housekeeping) and
``studio_owner`` (the owner tag of a Studio user).
"""
from __future__ import annotations

import dataclasses
import json
import logging
import urllib.parse
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Optional

from ..aws import aws_errors, clients_for, error_code, tag_list
from ..errors import BadRequest, Conflict, NotFound, SmopsError, UpstreamError
from ..files import sha256_file
from ..names import check_case_unique, validate_model_name
from ..types import APPROVAL_STATUSES, Model, ModelVersion, PackageResult, Progress, no_progress
from . import s3_bucket, s3_claims, s3_leftovers
from .base import Registry, package_facts, streamed_package
from .layout import ARTIFACT, CLAIM, METADATA, METADATA_KEY, owner_folder, version_from_metadata, version_metadata, version_path
from .model_packages import ModelPackages, package_version
from .studio_owner import studio_owner

log = logging.getLogger("jupyter_smops")


class S3Registry(Registry):
    """Versions in S3 plus a SageMaker Model Package per version."""

    kind = "s3"
    # An upload older than this is abandoned (a live push of even 5 GB finishes well within it).
    stale_upload_seconds = 3600.0

    def __init__(self, config, *, clients=None, owner: Optional[str] = None):
        self.config = config
        self.clients = clients or clients_for(config)
        self.prefix = (config.prefix or "").strip("/")
        self._bucket: Optional[str] = config.bucket or None
        self._bucket_ready = False
        self._owner = owner_folder(owner) if owner is not None else None
        self.packages = ModelPackages(lambda: self.sagemaker, region=lambda: self.region,
                                      owner_tag_key=config.owner_tag_key)

    # -- where things are -----------------------------------------------------------------
    @property
    def region(self) -> str:
        return self.clients.region_name

    @property
    def bucket(self) -> str:
        """The configured bucket, else SageMaker's default ``sagemaker-<region>-<account>``."""
        if self._bucket is None:
            self._bucket = f"sagemaker-{self.region}-{self.clients.account()}"
        return self._bucket

    @property
    def s3(self):
        return self.clients.client("s3")

    @property
    def sagemaker(self):
        return self.clients.client("sagemaker")

    @property
    def owner(self) -> str:
        """Whose folder this registry reads, lists and deletes in: the one given, else SMOPS_OWNER,
        the Studio profile's owner tag, or the user name (what ``Smops.owner`` answers)."""
        if self._owner is None:
            self._owner = owner_folder(self.config.owner or self.resolve_owner() or self.config.default_owner())
        return self._owner

    def as_owner(self, owner: str) -> "S3Registry":
        """This registry for ``owner``'s folder (itself when it is already), sharing clients and bucket."""
        if owner == self.owner:
            return self
        other = S3Registry(self.config, clients=self.clients, owner=owner)
        other._bucket, other._bucket_ready = self._bucket, self._bucket_ready
        return other

    def _prefix_base(self) -> str:
        return f"{self.prefix}/" if self.prefix else ""

    def _base(self) -> str:
        """``<prefix>/<owner>/``: the root of this owner's models."""
        return f"{self._prefix_base()}{self.owner}/"

    def key(self, name: str, version: int, leaf: str = ARTIFACT) -> str:
        """The object key of a version's file."""
        return self._base() + version_path(name, version, leaf)

    def uri(self, name: str, version: int, leaf: str = ARTIFACT) -> str:
        return f"s3://{self.bucket}/{self.key(name, version, leaf)}"

    def describe(self) -> dict:
        """Bucket, prefix, region and account, for the status route (never raises)."""
        info: dict[str, Any] = {"kind": self.kind, "bucket": self._bucket, "prefix": self.prefix,
                                "region": self.region, "account": None, "folder": None}
        try:
            info["account"] = self.clients.account()
            info["bucket"] = self.bucket
            info["folder"] = f"s3://{self.bucket}/{self._base()}"
        except SmopsError as exc:
            info["error"] = exc.message
        return info

    def resolve_owner(self) -> str:
        """The Studio user profile's owner tag (e.g. ``studiouserid``), or "" outside Studio."""
        return studio_owner(self.config, lambda: self.sagemaker)

    def tagging(self, owner: str, name: str, version: int) -> str:
        """S3 ``Tagging`` header value: owner tag plus ``smops:model`` and ``smops:version``."""
        return urllib.parse.urlencode({t["Key"]: t["Value"] for t in self._tags(owner, name, version)})

    def _tags(self, owner: str, name: str, version: int) -> list[dict]:
        return tag_list(self.config.owner_tag_key, owner, model=name, version=version)

    # -- bucket ---------------------------------------------------------------------------
    def ensure_bucket(self, progress: Progress = no_progress, *, recheck: bool = False) -> str:
        """Check the bucket; create the default one on first use (a configured one must exist).
        ``recheck``: ask S3 again even if it was there before (it may have been deleted since)."""
        if recheck or not self._bucket_ready:
            s3_bucket.ensure_bucket(self.s3, self.bucket, configured=bool(self.config.bucket), region=self.region,
                                    prefix=self._prefix_base(), progress=progress)
            self._bucket_ready = True
        return self.bucket

    # -- push -----------------------------------------------------------------------------
    def push(self, package: PackageResult, *, name: str, owner: str, source: Optional[str] = None,
             progress: Progress = no_progress) -> ModelVersion:
        """Upload a validated package as the next version of ``owner``'s ``name`` (in their
        folder); all or nothing."""
        if owner != self.owner:
            return self.as_owner(owner).push(package, name=name, owner=owner, source=source, progress=progress)
        validate_model_name(name)
        path = Path(package.path)
        if not path.is_file():
            raise BadRequest(f"The package {package.path} does not exist; build it again (%smops package).")
        version, arn = self._start_push(name, owner, progress)
        try:
            from .s3_upload import upload_file

            progress("uploading", 0, package.size)
            upload_file(self, path, self.key(name, version), package, owner=owner, name=name,
                        version=version, progress=progress)
            return self.publish(package, name=name, version=version, arn=arn, owner=owner, source=source,
                                progress=progress)
        except BaseException:
            self.rollback(name, version, arn)
            raise

    def push_stream(self, chunks, package: PackageResult, *, name: str, owner: str,
                    source: Optional[str] = None, progress: Progress = no_progress) -> ModelVersion:
        """Upload an artifact while it is being produced (``chunks``: an iterable of bytes).

        ``package`` carries the artifact's facts (framework, model file, sample); its ``sha256``
        and ``size`` are computed from the stream (when given, they must match). Lets packaging
        and upload overlap: the total is about the slower of the two, not their sum.
        """
        if owner != self.owner:
            return self.as_owner(owner).push_stream(chunks, package, name=name, owner=owner, source=source,
                                                    progress=progress)
        validate_model_name(name)
        version, arn = self._start_push(name, owner, progress)
        try:
            from .s3_upload import upload_stream

            facts: list[PackageResult] = []
            # The facts (a callable may still be validating) are settled before the upload is completed.
            sha, size = upload_stream(self, chunks, self.key(name, version), owner=owner, name=name,
                                      version=version, progress=progress,
                                      before_complete=lambda: facts.append(package_facts(package)))
            package = streamed_package(facts[0], sha, size)
            return self.publish(package, name=name, version=version, arn=arn, owner=owner, source=source,
                                progress=progress)
        except BaseException:
            self.rollback(name, version, arn)
            raise

    def _start_push(self, name: str, owner: str, progress: Progress) -> tuple[int, str]:
        """Make sure the bucket exists, sweep what dead pushes left, reserve the next version
        (its number and model package ARN)."""
        # Every push asks again (one GetBucketLocation): a long-running server must recreate a default
        # bucket deleted since its last push instead of failing on a cached "it exists".
        self.ensure_bucket(progress, recheck=True)
        check_case_unique(name, self._model_names(), "model", "push to {other} instead")
        # Claims, packages and multipart uploads of pushes of ``name`` that died.
        s3_bucket.quietly(f"sweeping what pushes of {name} that died left", lambda: self.leftovers(None, name=name))
        return self.reserve(name, owner)

    def _model_names(self) -> list[str]:
        """The model folders under the prefix (one listing of common prefixes)."""
        base = self._base()
        with aws_errors("listing the registry's models", "s3"):
            pages = self.s3.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=base, Delimiter="/")
            return [cp["Prefix"][len(base):].rstrip("/") for page in pages for cp in page.get("CommonPrefixes", [])]

    def leftovers(self, owner: Optional[str], *, dry_run: bool = False, name: Optional[str] = None) -> list[str]:
        """Debris of pushes that died without cleaning up (``s3_leftovers.leftovers``): ``owner``'s
        (everyone's in this folder with None), of ``name`` when given; removed unless ``dry_run``."""
        if owner is not None and owner != self.owner:
            return self.as_owner(owner).leftovers(owner, dry_run=dry_run, name=name)
        return s3_leftovers.leftovers(self, owner, dry_run=dry_run, name=name)

    def reserve(self, name: str, owner: str, *, at_least: int = 1) -> tuple[int, str]:
        """The next version of ``owner``'s ``name`` numbered ``at_least`` or more: (number, model
        package ARN), its package made and its number claimed (``s3_claims.reserve``)."""
        return s3_claims.reserve(self, name, owner, at_least=at_least)

    def _record_package(self, name: str, version: int, arn: str) -> None:
        """Keep a claim naming package ``arn`` that could not be deleted, so cleanup (or the next
        push) deletes it later (``leftovers``; ``s3_claims.record``)."""
        s3_claims.record(self, name, self.owner, arn, reason="its model package could not be deleted",
                         version=version)

    def publish(self, package: PackageResult, *, name: str, version: int, arn: str, owner: str,
                source: Optional[str], progress: Progress = no_progress) -> ModelVersion:
        """Complete the reserved Model Package, then write ``smops.json``: the version becomes visible."""
        progress("registering", None, None)
        meta = version_metadata(package, name=name, version=version, owner=owner, source=source)
        meta["model_package_arn"] = arn
        meta = self.publish_metadata(meta, name=name, owner=owner)
        progress("done", package.size, package.size)
        return version_from_metadata(meta, self.uri(name, meta["version"]))

    def publish_metadata(self, meta: dict, *, name: str, owner: str, approval: str = "PendingManualApproval") -> dict:
        """Complete the package ``reserve`` made (``meta["model_package_arn"]``, numbered
        ``meta["version"]``, the artifact already in its folder) with ``approval``, write
        ``smops.json`` once (``IfNoneMatch``) and drop the claim; push and migration share it.

        When SageMaker will not add the inference specification to the package, the version moves
        to a complete new package's number (``s3_claims.renumber``): the returned metadata says where. What
        this call made is removed on failure; the caller rolls back the reserved number."""
        reserved, reserved_arn = meta["version"], meta["model_package_arn"]
        if not self.packages.complete(reserved_arn, meta, self.uri(name, reserved)):
            meta = s3_claims.renumber(self, meta, name=name, owner=owner)
        version, arn = meta["version"], meta["model_package_arn"]
        try:
            if approval != "PendingManualApproval":
                self.packages.set_approval(arn, approval, f"{name}:{version}")
            with aws_errors(f"writing the metadata of {name}:{version}", "s3"):
                self.s3.put_object(Bucket=self.bucket, Key=self.key(name, version, METADATA),
                                   Body=json.dumps(meta, indent=2, default=str).encode(),
                                   ContentType="application/json", IfNoneMatch="*",
                                   Tagging=self.tagging(owner, name, version))
        except BaseException:
            if version != reserved:
                self.rollback(name, version, arn)
            raise
        s3_bucket.delete_quietly(self.s3, self.bucket, [self.key(name, version, CLAIM)])
        if version != reserved:
            self.rollback(name, reserved, reserved_arn)  # the first package and the artifact's first copy
        return meta

    def rollback(self, name: str, version: int, arn: Optional[str] = None) -> None:
        """Undo a failed push (best effort): abort its multipart uploads, delete its objects and its
        package ``arn``. A package that cannot be deleted keeps a claim naming it, so the next push
        or cleanup deletes it later (``leftovers``)."""
        prefix = self.key(name, version, "")
        try:
            self._remove_objects(prefix)
        except Exception as exc:  # noqa: BLE001 - never hide the error that caused the rollback
            log.warning("jupyter_smops: could not clean up %s after a failed push: %s", prefix, exc)
        if arn and not self.packages.delete(arn):
            self._record_package(name, version, arn)

    def _remove_objects(self, prefix: str) -> None:
        """Abort the multipart uploads under ``prefix`` and delete its objects."""
        from .s3_upload import abort_uploads

        abort_uploads(self, prefix)
        s3_bucket.delete_quietly(self.s3, self.bucket, s3_bucket.keys_under(self.s3, self.bucket, prefix))

    # -- read -----------------------------------------------------------------------------
    def _published(self, name: Optional[str]) -> dict[str, list[int]]:
        """{name: [versions with smops.json]} from one listing."""
        base = self._base()
        prefix = f"{base}{name}/" if name else base
        found: dict[str, list[int]] = {}
        with aws_errors("listing the registry", "s3"):
            try:
                pages = list(self.s3.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix))
            except Exception as exc:
                if error_code(exc) in ("NoSuchBucket", "404") and not self.config.bucket:
                    return {}  # the default bucket appears on the first push
                raise
        for page in pages:
            for obj in page.get("Contents", []):
                m = METADATA_KEY.match(obj["Key"][len(base):])
                if m and (name is None or m.group("name") == name):
                    found.setdefault(m.group("name"), []).append(int(m.group("version")))
        return {n: sorted(v) for n, v in sorted(found.items())}

    def _read(self, name: str, version: int) -> ModelVersion:
        try:
            with aws_errors(f"reading {name}:{version}", "s3"):
                body = self.s3.get_object(Bucket=self.bucket, Key=self.key(name, version, METADATA))["Body"].read()
        except NotFound:
            raise NotFound(self._missing(name, version)) from None
        return version_from_metadata(json.loads(body), self.uri(name, version))

    def _missing(self, name: str, version: Optional[int]) -> str:
        versions = self._published(name).get(name, [])
        if not versions:
            known = list(self._published(None))
            hint = (f" Known models: {', '.join(known)}." if known
                    else " The registry is empty: push one first (%smops push model --name NAME).")
            return f"No model named {name!r} in s3://{self.bucket}/{self._base()}.{hint}{self._legacy_hint(name)}"
        return f"Model {name!r} has no version {version}; it has versions {', '.join(map(str, versions))}."

    def _legacy_hint(self, name: str) -> str:
        """What to do when ``name`` still has versions in the old layout (``<prefix>/<name>/v<N>/``,
        before owner folders); "" otherwise, or when the caller may not look there (under the ABAC
        policy a user lists only their own folder: the admin migrates)."""
        from .layout import LEGACY_METADATA_KEY

        base = self._prefix_base()
        try:
            page = self.s3.list_objects_v2(Bucket=self.bucket, Prefix=f"{base}{name}/v", MaxKeys=20)
        except Exception:  # noqa: BLE001 - only a hint: AccessDenied, no bucket, S3 away
            return ""
        if not any(LEGACY_METADATA_KEY.match(o["Key"][len(base):]) for o in page.get("Contents", [])):
            return ""
        return (f" Versions of {name} pushed before owners had folders are still in s3://{self.bucket}/{base}{name}/: "
                f"move them into their owners' folders once with `jupyter smops admin migrate-registry` (docs/admin.md).")

    def list_models(self, name: Optional[str] = None) -> list[Model]:
        """Every model (or ``name``) with its published versions, oldest first."""
        if name is not None:
            validate_model_name(name)
        published = self._published(name)
        if name is not None and not published:
            raise NotFound(self._missing(name, None))
        jobs = [(n, v) for n, versions in published.items() for v in versions]
        with ThreadPoolExecutor(max_workers=8) as pool:
            read = list(pool.map(lambda nv: self._read_or_none(*nv), jobs))
        models = []
        for n in published:
            versions = [mv for (jn, _), mv in zip(jobs, read) if jn == n and mv is not None]
            if versions:
                models.append(Model(name=n, versions=versions))
        return models

    def _read_or_none(self, name: str, version: int) -> Optional[ModelVersion]:
        try:
            return self._read(name, version)
        except NotFound:
            return None  # deleted between listing and reading

    def get(self, name: str, version: Optional[int] = None) -> ModelVersion:
        """One version (the latest when ``version`` is None); NotFound if absent."""
        validate_model_name(name)
        if version is None:
            versions = self._published(name).get(name, [])
            if not versions:
                raise NotFound(self._missing(name, None))
            version = versions[-1]
        return self._read(name, version)

    def fetch(self, mv: ModelVersion, dest_dir: Path) -> Path:
        """Download the artifact into ``dest_dir`` and verify its sha256."""
        dest_dir = Path(dest_dir)
        dest_dir.mkdir(parents=True, exist_ok=True)
        dest = dest_dir / ARTIFACT
        from .s3_upload import transfer_config

        try:
            with aws_errors(f"downloading {mv.ref}", "s3"):
                self.s3.download_file(self.bucket, self.key(mv.name, mv.version), str(dest),
                                      Config=transfer_config(mv.size))
        except NotFound:
            raise NotFound(self._missing(mv.name, mv.version)) from None
        actual = sha256_file(dest)
        if actual != mv.sha256:
            dest.unlink(missing_ok=True)
            raise UpstreamError(f"{mv.ref} is corrupt: its sha256 is {actual[:12]}..., the registry recorded "
                                f"{mv.sha256[:12]}.... Push the model again as a new version.")
        return dest

    # -- change ---------------------------------------------------------------------------
    def delete_version(self, name: str, version: int) -> None:
        """Remove a version's objects (metadata first, so it vanishes at once) and its package."""
        validate_model_name(name)
        arn = None
        try:
            arn = self._read(name, version).model_package_arn
        except NotFound:
            pass
        with aws_errors(f"deleting {name}:{version}", "s3"):
            self.s3.delete_object(Bucket=self.bucket, Key=self.key(name, version, METADATA))
            prefix = self.key(name, version, "")
            self._remove_objects(prefix)
        if arn and not self.packages.delete(arn):
            self._record_package(name, version, arn)  # its number is never used again either way

    def set_approval(self, name: str, version: int, status: str) -> ModelVersion:
        """Update the Model Package's approval status, then ``smops.json``."""
        if status not in APPROVAL_STATUSES:
            raise BadRequest(f"Unknown approval status {status!r}: use one of {', '.join(APPROVAL_STATUSES)}.")
        mv = self._read(name, version)
        if mv.model_package_arn:
            self._refuse_skew(mv)
            self.packages.set_approval(mv.model_package_arn, status, mv.ref)
        key = self.key(name, version, METADATA)
        with aws_errors(f"updating the metadata of {mv.ref}", "s3"):
            data = json.loads(self.s3.get_object(Bucket=self.bucket, Key=key)["Body"].read())
            data["approval_status"] = status
            self.s3.put_object(Bucket=self.bucket, Key=key, Body=json.dumps(data, indent=2, default=str).encode(),
                               ContentType="application/json",
                               Tagging=self.tagging(data.get("created_by", ""), name, version))
        return dataclasses.replace(mv, approval_status=status)

    def _refuse_skew(self, mv: ModelVersion) -> None:
        """Conflict when ``mv``'s package has another number (a version pushed by a release before
        the package became the number's source): approving ``iris:2`` must never show package
        ``iris/1`` approved in SageMaker's Model Registry."""
        try:
            number = package_version(mv.model_package_arn or "")
        except ValueError:
            return
        if number != mv.version:
            group = mv.model_package_arn.rsplit("/", 2)[-2]
            raise Conflict(f"{mv.ref} was registered as model package {group}/{number} by an older release, so "
                           f"approving or rejecting it would change {group}/{number} in SageMaker's Model Registry. "
                           f"Push the model again (its version and package then have one number), set that "
                           f"version's approval, and delete {mv.ref}.")
