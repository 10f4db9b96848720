"""The one registry interface; ``local`` and ``s3`` implement it."""
from __future__ import annotations

import abc
from pathlib import Path
from typing import Iterable, Optional

from ..types import Model, ModelVersion, PackageResult, Progress, no_progress


class Registry(abc.ABC):
    """Versioned, immutable storage of validated model.tar.gz artifacts."""

    kind: str = "abstract"

    @abc.abstractmethod
    def push(self, package: PackageResult, *, name: str, owner: str, source: Optional[str] = None,
             progress: Progress = no_progress) -> ModelVersion:
        """Store a validated package as the next version of ``name``; all or nothing."""

    @abc.abstractmethod
    def list_models(self, name: Optional[str] = None) -> list[Model]:
        """Every model (or just ``name``) with its versions, oldest first."""

    @abc.abstractmethod
    def get(self, name: str, version: Optional[int] = None) -> ModelVersion:
        """One version (the latest when ``version`` is None); NotFound if absent."""

    @abc.abstractmethod
    def fetch(self, mv: ModelVersion, dest_dir: Path) -> Path:
        """Copy the artifact into ``dest_dir`` and verify its sha256; returns the file's path."""

    @abc.abstractmethod
    def delete_version(self, name: str, version: int) -> None:
        """Remove one version (idempotent)."""

    @abc.abstractmethod
    def set_approval(self, name: str, version: int, status: str) -> ModelVersion:
        """Set ``PendingManualApproval`` / ``Approved`` / ``Rejected``."""

    def describe(self) -> dict:
        """What the status route shows about this registry."""
        return {"kind": self.kind}

    def leftovers(self, owner: Optional[str], *, dry_run: bool = False) -> list[str]:
        """What pushes that died left behind (``owner``'s), removed unless ``dry_run``; described
        for cleanup. Registries whose pushes leave nothing behind keep this default."""
        return []

    def push_stream(self, chunks: Iterable[bytes], package: PackageResult, *, name: str, owner: str,
                    source: Optional[str] = None, progress: Progress = no_progress) -> ModelVersion:
        """Store an artifact while it is being produced (``chunks``: its bytes, in order).

        ``package`` carries the artifact's facts; its ``sha256``/``size`` may be empty and are
        computed from the stream. It may also be a function returning them, called once the
        stream has ended (``Smops.push`` validates while the archive is still being written).
        This default spools to a temporary file and calls ``push``; the local registry writes
        straight into its staging folder and the S3 registry uploads parts as they come.
        """
        import hashlib
        import tempfile

        with tempfile.TemporaryDirectory(prefix="smops-stream-") as tmp:
            path = Path(tmp) / "model.tar.gz"
            digest, size = hashlib.sha256(), 0
            with open(path, "wb") as fh:
                for chunk in chunks:
                    digest.update(chunk)
                    size += len(chunk)
                    fh.write(chunk)
            spooled = streamed_package(package_facts(package), digest.hexdigest(), size, path=str(path))
            return self.push(spooled, name=name, owner=owner, source=source, progress=progress)


def package_facts(package) -> PackageResult:
    """A ``push_stream`` caller's package facts: given, or computed once the stream has ended."""
    return package() if callable(package) else package


def streamed_package(facts: PackageResult, sha256: str, size: int, **changes) -> PackageResult:
    """The package a stream turned out to be: ``facts`` with the stream's sha256 and size, which
    must agree with any the facts already state."""
    import dataclasses

    if (facts.sha256 and facts.sha256 != sha256) or (facts.size and facts.size != size):
        from ..errors import UpstreamError

        raise UpstreamError("The streamed artifact differs from the package it claims to be; push again.")
    return dataclasses.replace(facts, sha256=sha256, size=size, **changes)
