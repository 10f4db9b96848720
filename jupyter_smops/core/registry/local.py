"""The local registry: ``<root>/<name>/v<N>/{model.tar.gz, smops.json}``.

A push is staged in a temporary folder beside the versions and published with one atomic
``rename``; a version number is claimed by that rename itself (renaming onto an existing,
non-empty ``v<N>`` fails), so concurrent pushes from many processes get distinct numbers and a
reader never sees a half-written version.

A staging folder's name carries its writer's pid and that pid's start time
(``.staging-<pid>-<start>-<hex>``): a push killed mid-store (the Jupyter server, a kernel) leaves
one behind, and the next push of the model, or cleanup, removes it as soon as that process is gone.
"""
from __future__ import annotations

import dataclasses
import errno
import json
import os
import shutil
import time
import uuid
from pathlib import Path
from typing import Optional

from ..errors import BadRequest, NotFound, UpstreamError
from ..files import private_copy, private_dir, sha256_file, write_json
from ..names import check_case_unique, validate_model_name
from ..procs import start_time as _start_time
from ..types import APPROVAL_STATUSES, Model, ModelVersion, PackageResult, Progress, no_progress
from .base import Registry, package_facts, streamed_package
from .layout import ARTIFACT, METADATA, VERSION_DIR, version_from_metadata, version_metadata, version_path

# A staging folder without its writer in its name (an older release's) is left this long.
_STALE_STAGING_SECONDS = 3600
STAGING = ".staging-"


class LocalRegistry(Registry):
    """A folder of versions; safe for many processes at once."""

    kind = "local"

    def __init__(self, config):
        """Every backend takes the settings (``SmopsConfig``); this one keeps ``$SMOPS_HOME/registry``."""
        self.home = config.home_path
        self.root = config.home_path / "registry"

    def describe(self) -> dict:
        return {"kind": self.kind, "path": str(self.root)}

    def _model_dir(self, name: str) -> Path:
        return self.root / validate_model_name(name)

    def _version_dir(self, name: str, version: int) -> Path:
        return self.root / version_path(validate_model_name(name), version)

    def _versions(self, name: str) -> list[int]:
        d = self._model_dir(name)
        try:
            entries = os.listdir(d)
        except FileNotFoundError:
            return []
        out = []
        for entry in entries:
            m = VERSION_DIR.match(entry)
            if m and (d / entry / METADATA).is_file():
                out.append(int(m.group(1)))
        return sorted(out)

    def push(self, package: PackageResult, *, name: str, owner: str, source: Optional[str] = None,
             progress: Progress = no_progress) -> ModelVersion:
        model_dir, staging = self._new_staging(name)
        try:
            progress("storing", 0, package.size)
            private_copy(package.path, staging / ARTIFACT)
            if sha256_file(staging / ARTIFACT) != package.sha256:
                raise UpstreamError("The artifact changed while it was being stored; push again.")
            progress("storing", package.size, package.size)
            version = self._publish(model_dir, staging, package, name, owner, source)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        return version

    def push_stream(self, chunks, package, *, name: str, owner: str, source: Optional[str] = None,
                    progress: Progress = no_progress) -> ModelVersion:
        """Write the artifact's bytes straight into a staging folder as they are produced
        (no copy, no second hash); publish as ``push`` does once the stream has ended."""
        import hashlib

        model_dir, staging = self._new_staging(name)
        try:
            digest, size = hashlib.sha256(), 0
            with open(os.open(staging / ARTIFACT, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as fh:
                for chunk in chunks:
                    digest.update(chunk)
                    fh.write(chunk)
                    size += len(chunk)
                    progress("storing", size, size)
            package = streamed_package(package_facts(package), digest.hexdigest(), size, path=str(staging / ARTIFACT))
            return self._publish(model_dir, staging, package, name, owner, source)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise

    def _new_staging(self, name: str) -> tuple[Path, Path]:
        """(the model's folder, a fresh staging folder in it); abandoned ones are swept first."""
        model_dir = self._model_dir(name)
        if not model_dir.exists():
            try:
                check_case_unique(name, os.listdir(self.root), "model", "push to {other} instead")
            except FileNotFoundError:
                pass
        private_dir(model_dir, home=self.home)
        self._sweep_staging(model_dir)
        pid = os.getpid()
        # The writer is in the name, not in a file inside: there is no moment without it, and the
        # folder is renamed into the version as it is.
        staging = private_dir(model_dir / f"{STAGING}{pid}-{_start_time(pid) or 0}-{uuid.uuid4().hex}")
        return model_dir, staging

    def _publish(self, model_dir: Path, staging: Path, package: PackageResult, name: str,
                 owner: str, source: Optional[str]) -> ModelVersion:
        candidate = (self._versions(name) or [0])[-1] + 1
        while True:
            meta = version_metadata(package, name=name, version=candidate, owner=owner, source=source)
            write_json(staging / METADATA, meta)
            target = self._version_dir(name, candidate)
            try:
                os.rename(staging, target)
            except OSError as exc:
                if exc.errno in (errno.ENOTEMPTY, errno.EEXIST):
                    candidate += 1  # another process took this number first
                    continue
                raise
            return version_from_metadata(meta, str(target / ARTIFACT))

    def _sweep_staging(self, model_dir: Path, *, dry_run: bool = False) -> list[Path]:
        """Remove (list only, on a ``dry_run``) the staging folders of pushes whose process is gone."""
        dead = [entry for entry in sorted(model_dir.glob(f"{STAGING}*")) if _staging_is_dead(entry)]
        if not dry_run:
            for entry in dead:
                shutil.rmtree(entry, ignore_errors=True)
        return dead

    def leftovers(self, owner: Optional[str], *, dry_run: bool = False) -> list[str]:
        """Staging folders of pushes that died (the server or a kernel killed mid-store), removed
        unless ``dry_run``. The registry is this user's own folder, so ``owner`` changes nothing."""
        try:
            models = sorted(d for d in self.root.iterdir() if d.is_dir() and not d.name.startswith("."))
        except FileNotFoundError:
            return []
        found = []
        for model_dir in models:
            for entry in self._sweep_staging(model_dir, dry_run=dry_run):
                found.append(f"registry/{model_dir.name}/{entry.name} (a push that died while storing)")
        return found

    def _read(self, name: str, version: int) -> ModelVersion:
        path = self._version_dir(name, version)
        try:
            data = json.loads((path / METADATA).read_text())
        except FileNotFoundError:
            raise NotFound(self._missing(name, version)) from None
        return version_from_metadata(data, str(path / ARTIFACT))

    def _missing(self, name: str, version: Optional[int]) -> str:
        versions = self._versions(name)
        if not versions:
            known = [m.name for m in self.list_models()]
            hint = f" Known models: {', '.join(known)}." if known else " The registry is empty: push one first (%smops push model --name NAME)."
            return f"No model named {name!r} in the registry.{hint}"
        return f"Model {name!r} has no version {version}; it has versions {', '.join(map(str, versions))}."

    def list_models(self, name: Optional[str] = None) -> list[Model]:
        if name is not None:
            names = [validate_model_name(name)]
        else:
            try:
                names = sorted(e for e in os.listdir(self.root) if not e.startswith("."))
            except FileNotFoundError:
                names = []
        models = []
        for n in names:
            try:
                versions = [self._read(n, v) for v in self._versions(n)]
            except (BadRequest, NotFound):
                continue
            if versions:
                models.append(Model(name=n, versions=versions))
        if name is not None and not models:
            raise NotFound(self._missing(name, None))
        return models

    def get(self, name: str, version: Optional[int] = None) -> ModelVersion:
        if version is None:
            versions = self._versions(name)
            if not versions:
                raise NotFound(self._missing(name, None))
            version = versions[-1]
        return self._read(name, version)

    def fetch(self, mv: ModelVersion, dest_dir: Path) -> Path:
        source = self._version_dir(mv.name, mv.version) / ARTIFACT
        if not source.is_file():
            raise NotFound(self._missing(mv.name, mv.version))
        dest_dir = Path(dest_dir)
        private_dir(dest_dir)
        dest = dest_dir / ARTIFACT
        private_copy(source, dest)
        actual = sha256_file(dest)
        if actual != mv.sha256:
            dest.unlink(missing_ok=True)
            raise UpstreamError(
                f"{mv.ref} is corrupt: its sha256 is {actual[:12]}..., the registry recorded "
                f"{mv.sha256[:12]}.... Push the model again as a new version.")
        return dest

    def delete_version(self, name: str, version: int) -> None:
        path = self._version_dir(name, version)
        if not path.exists():
            return
        # Rename first so readers never see a version without its metadata.
        doomed = path.with_name(f".deleting-{version}-{uuid.uuid4().hex}")
        try:
            os.rename(path, doomed)
        except FileNotFoundError:
            return
        shutil.rmtree(doomed, ignore_errors=True)

    def set_approval(self, name: str, version: int, status: str) -> ModelVersion:
        if status not in APPROVAL_STATUSES:
            raise BadRequest(f"Unknown approval status {status!r}: use one of {', '.join(APPROVAL_STATUSES)}.")
        mv = self._read(name, version)
        path = self._version_dir(name, version) / METADATA
        data = json.loads(path.read_text())
        data["approval_status"] = status
        write_json(path, data)
        return dataclasses.replace(mv, approval_status=status)


def _staging_is_dead(entry: Path, *, now: Optional[float] = None) -> bool:
    """Whether ``entry`` (``.staging-<pid>-<start>-<hex>``) belongs to a process that is gone: its
    pid is not running, or runs with another start time (reused). A name without a writer (an older
    release's) is dead once it is an hour old."""
    parts = entry.name[len(STAGING):].split("-")
    if len(parts) == 3 and parts[0].isdigit():
        start = _start_time(int(parts[0]))
        return start is None or (parts[1] not in ("0", "?") and start not in ("?", parts[1]))
    try:
        return entry.stat().st_mtime < (time.time() if now is None else now) - _STALE_STAGING_SECONDS
    except FileNotFoundError:
        return False
