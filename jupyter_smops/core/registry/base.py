"""The one registry interface; ``local`` and ``s3`` implement it."""
from __future__ import annotations

import abc
from pathlib import Path
from typing import Callable, Optional

from ..types import Model, ModelVersion, PackageResult

# progress(phase, done, total): phases such as "uploading"; done/total in bytes or steps.
Progress = Callable[[str, Optional[int], Optional[int]], None]


def no_progress(phase: str, done: Optional[int] = None, total: Optional[int] = None) -> None:
    """A progress callback that ignores everything."""


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
