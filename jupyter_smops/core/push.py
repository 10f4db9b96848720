"""Pushing a model: package, validate and store at once, publishing only when all succeed.

The archive is compressed in a thread (``archive_chunks``) and its bytes go to the registry as
they come out (S3: multipart parts, 8 in flight; local: straight into the staging folder),
while the checks run beside them on the same source files (``validate_sources``). The registry
asks for the package's facts once every byte is stored and before it completes the upload: a
failed check raises there (or sooner, between chunks), so the upload is aborted and the claimed
version rolled back. bench/push.py measures it against packaging, then uploading.
"""
from __future__ import annotations

import tempfile
import threading
from pathlib import Path
from typing import Any, Optional

from .packaging.archive import archive_chunks, archive_input_size
from .packaging.build import stage_sources
from .packaging.validate import normalize_sample, validate_sources
from .registry.base import Registry
from .types import ModelVersion, PackageResult, Progress, no_progress


def push_streamed(registry: Registry, model: Any, *, name: str, owner: str, inference: Optional[str] = None,
                  requirements: Optional[str] = None, sample: Any = None, source: Optional[str] = None,
                  progress: Progress = no_progress, timeout: float = 60,
                  warm_root: Optional[Path] = None) -> ModelVersion:
    """Store ``model`` (an estimator or a model file) as the next version of ``name``
    (``warm_root``: see ``validate.run_probe``)."""
    sample = normalize_sample(sample)
    progress("packaging", None, None)
    with tempfile.TemporaryDirectory(prefix="smops-push-") as tmp:
        files = stage_sources(model, inference=inference, requirements=requirements, stage=Path(tmp))
        verdict: dict[str, Any] = {}

        def check() -> None:
            try:
                verdict["package"] = validate_sources(files, timeout=timeout, sample=sample, warm_root=warm_root)
            except BaseException as exc:  # noqa: BLE001 - raised in the pushing thread
                verdict["error"] = exc

        checker = threading.Thread(target=check, name="smops-validate", daemon=True)
        checker.start()
        total_in, packed = archive_input_size(files), [0]

        def chunks():
            for chunk in archive_chunks(files, progress=lambda done: packed.__setitem__(0, done)):
                if "error" in verdict:
                    raise verdict["error"]  # stops the upload early; the registry rolls back
                yield chunk
            packed[0] = total_in  # the input size was an upper estimate of the tar framing

        def facts() -> PackageResult:
            """Called by the registry once every byte is stored, before it completes the upload."""
            checker.join()
            if "error" in verdict:
                raise verdict["error"]
            return verdict["package"]

        def stored(phase: str, done: Optional[int] = None, total: Optional[int] = None) -> None:
            # The registry counts compressed bytes of a stream whose length is not known yet;
            # the share it has stored times the share of the input compressed is the progress.
            if done is not None and total and phase in ("uploading", "storing"):
                share = done / total * min(1.0, packed[0] / total_in)
                progress(phase, min(int(share * total_in), total_in), total_in)
            else:
                progress(phase, done, total)

        stream = chunks()
        try:
            return registry.push_stream(stream, facts, name=name, owner=owner, source=source, progress=stored)
        finally:
            stream.close()  # stops the compression if the upload ended early
            checker.join()
