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
                  warm_root: Optional[Path] = None, accept: Optional[str] = None) -> ModelVersion:
    """Store ``model`` (an estimator or a model file) as the next version of ``name``
    (``warm_root``: see ``validate.run_probe``; ``accept``: see ``build_package``)."""
    sample = normalize_sample(sample)
    progress("packaging", None, None)
    with tempfile.TemporaryDirectory(prefix="smops-push-") as tmp:
        files = stage_sources(model, inference=inference, requirements=requirements, stage=Path(tmp), accept=accept)
        verdict: dict[str, Any] = {}

        def check() -> None:
            try:
                verdict["package"] = validate_sources(files, timeout=timeout, sample=sample, warm_root=warm_root,
                                                      accept=accept)
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
            return deployable(verdict["package"])

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


def deployable(package: PackageResult) -> PackageResult:
    """``package``, unless the model's scikit-learn has no serving image and the archive does not
    pin it (the file's recorded version could not be read before packaging, and the probe found
    another): InvalidArtifact saying which line to add, so no version deploys the wrong scikit-learn."""
    if package.serving_version or package.requirements_pin or not package.framework_version:
        return package  # pinned without a listed image: deploys take --image-uri (images.mismatch_advice)
    from .errors import InvalidArtifact

    version = package.framework_version
    raise InvalidArtifact(f"The model was pickled with scikit-learn {version}, which has no SageMaker serving image, "
                          f"and its version could not be read from the file before packaging. Pass a "
                          f"requirements.txt with the line scikit-learn=={version} (--requirements) and push "
                          f"again.", package.checks)


def pinned_archive(package: PackageResult, workdir: Path, limits=None) -> PackageResult:
    """A validated ``model.tar.gz`` pushed as it is, with the ``scikit-learn==<trained>`` line it
    lacks when no serving image has the model's scikit-learn: re-packed (reproducibly) in
    ``workdir`` with that line added to ``code/requirements.txt``, so what the registry stores and
    its sha256 are what deploys. Archives that need no pin come back unchanged."""
    if package.serving_version or not package.framework_version:
        return package
    import dataclasses

    from .files import sha256_file
    from .packaging import requirements as pins
    from .packaging.archive import list_names, safe_extract, write_archive
    from .types import Check

    tree = workdir / "model"
    names = list_names(safe_extract(Path(package.path), tree, limits))
    wanted = tree / "code" / "requirements.txt"
    text = wanted.read_text(encoding="utf-8", errors="replace") if wanted.is_file() else None
    decision = pins.decide(package.framework_version, text)
    if not decision.pin_added:
        return deployable(package)
    wanted.write_text(decision.text or "", encoding="utf-8")
    files = {name: tree / name for name in names}
    files["code/requirements.txt"] = wanted
    out = workdir / "model.tar.gz"
    write_archive(out, files)
    sentence = pins.runtime_sentence(package.framework_version, decision.serving_version, decision.pin)
    checks = [c for c in package.checks if c.name != "framework-version"]
    checks.append(Check("framework-version", True, f"{sentence}; the pin was added to the archive's "
                                                   f"code/requirements.txt at push, so the stored sha256 is not "
                                                   f"the file's"))
    return dataclasses.replace(package, path=str(out), sha256=sha256_file(out), size=out.stat().st_size,
                               serving_version=decision.serving_version, checks=checks,
                               requirements=pins.requirement_lines(decision.text), requirements_pin=decision.pin,
                               pin_added=True)
