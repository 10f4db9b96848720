"""Building a model.tar.gz from a model object or file, then validating it before returning."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any, Optional

from ..errors import BadRequest, InvalidArtifact
from ..types import PackageResult
from . import default_inference, static
from . import requirements as pins
from .trained import local_sklearn, trained_version
from .archive import write_archive
from .validate import normalize_sample, validate_package

OBJECT_MODEL_FILE = "model.joblib"
JOBLIB_SUFFIXES = (".joblib", ".pkl", ".pickle", ".sav", ".bin", ".model")


def build_package(model: Any, *, inference: Optional[str | Path] = None, requirements: Optional[str | Path] = None,
                  sample: Any = None, out: Path, timeout: float = 60,
                  warm_root: Optional[Path] = None, accept: Optional[str] = None) -> PackageResult:
    """Build a reproducible, validated ``model.tar.gz`` at ``out``.

    ``model`` is a fitted estimator (saved with joblib as ``model.joblib``, or under the one name
    the user's ``model_fn`` opens) or the path of a model file
    (.joblib/.pkl/.pickle via joblib, .skops via skops; kept under its own name). Without
    ``inference`` a default ``code/inference.py`` is generated. On a failed check ``out`` is
    deleted and ``InvalidArtifact`` names every failed check. ``code/requirements.txt`` pins the
    model's scikit-learn when no serving image has it, unless ``accept`` names the image to serve
    it with instead (see ``requirements.decide``).
    """
    out = Path(out)
    sample = normalize_sample(sample)
    with tempfile.TemporaryDirectory(prefix="smops-build-") as tmp:
        files = stage_sources(model, inference=inference, requirements=requirements, stage=Path(tmp), accept=accept)
        out.parent.mkdir(parents=True, exist_ok=True)
        partial = out.with_name(f".{out.name}.{os.getpid()}.partial")
        try:
            write_archive(partial, files)
            os.replace(partial, out)
        finally:
            partial.unlink(missing_ok=True)
    try:
        return validate_package(out, timeout=timeout, sample=sample, warm_root=warm_root, accept=accept)
    except BaseException:
        # An artifact that failed validation must not be mistaken for a good one later.
        out.unlink(missing_ok=True)
        raise


def stage_sources(model: Any, *, inference: Optional[str | Path] = None, requirements: Optional[str | Path] = None,
                  stage: Path, accept: Optional[str] = None) -> dict[str, Path]:
    """``{archive name: source file}`` for a package: the model (saved into ``stage`` when it is
    an object), ``code/inference.py`` (generated into ``stage`` when not given) and
    ``code/requirements.txt`` (the user's, with the scikit-learn pin ``requirements.decide`` asks
    for; BadRequest for a pin that contradicts the model). ``stage`` must outlive the archive."""
    if accept:
        pins.check_accept(accept, local_sklearn())
    inference_path = _existing(inference, "inference script") if inference else None
    requirements_path = _existing(requirements, "requirements file") if requirements else None
    model_path, model_name = _stage_model(model, stage, _name_for_object(inference_path))
    files = {model_name: model_path}
    if inference_path:
        files["code/inference.py"] = inference_path
    else:
        files["code/inference.py"] = _generate_inference(model_path, model_name, stage)
        if requirements_path is None and model_name.endswith(".skops"):
            requirements_path = _skops_requirements(stage)
    # Before the archive is written: it must say what the endpoint installs.
    text = requirements_path.read_text(encoding="utf-8", errors="replace") if requirements_path else None
    decision = pins.decide(trained_version(model), text, accept=accept)
    if decision.text is not None:
        requirements_path = stage / "requirements.txt"
        requirements_path.write_text(decision.text, encoding="utf-8")
    if requirements_path:
        files["code/requirements.txt"] = requirements_path
    return files


def _existing(value: str | Path, what: str) -> Path:
    path = Path(value).expanduser()
    if not path.is_file():
        raise BadRequest(f"The {what} {str(value)!r} does not exist or is not a file.")
    return path


def _name_for_object(inference: Optional[Path]) -> str:
    """The name to save a model object under: the one file the user's model_fn opens with
    joblib/pickle (so the seed's own inference.py works with a notebook variable), else model.joblib."""
    if inference is None:
        return OBJECT_MODEL_FILE
    tree, _ = static.parse(inference.read_text(encoding="utf-8", errors="replace"))
    names = static.referenced_files(tree) if tree is not None else []
    if len(names) == 1 and "/" not in names[0] and names[0].lower().endswith(JOBLIB_SUFFIXES):
        return names[0]
    return OBJECT_MODEL_FILE


def _stage_model(model: Any, stage: Path, object_name: str = OBJECT_MODEL_FILE) -> tuple[Path, str]:
    """(file to archive, its name in the archive) for a model object or a model file."""
    if isinstance(model, (str, os.PathLike)):
        path = _existing(model, "model file")
        if path.name.endswith((".tar.gz", ".tgz")):
            raise BadRequest(f"{path.name} is already a packaged model: validate it (%smops validate "
                             f"{path.name}) or push it as it is (%smops push {path.name} --name NAME) "
                             f"instead of packaging it again.")
        if path.name in ("inference.py", "code"):
            raise BadRequest(f"{path.name} cannot be the model file name; rename it.")
        return path, path.name
    if isinstance(model, type):
        raise BadRequest(f"{model.__name__} is a class, not a fitted model: pass the fitted object.")
    target = stage / object_name
    try:
        import joblib

        joblib.dump(model, target)
    except Exception as exc:  # pickling runs arbitrary __reduce__ code; any failure is the user's object
        raise BadRequest(f"The model could not be saved with joblib ({type(exc).__name__}: {exc}). Objects "
                         f"holding open files, locks, lambdas or notebook-defined functions cannot be pickled.") \
            from None
    return target, object_name


def _generate_inference(model_path: Path, model_name: str, stage: Path) -> Path:
    if model_name.endswith(".skops"):
        source = default_inference.render(model_name, loader="skops", trusted=_skops_types(model_path))
    else:
        source = default_inference.render(model_name)
    target = stage / "inference.py"
    target.write_text(source, encoding="utf-8")
    return target


def _skops_types(path: Path) -> list[str]:
    """The types a skops file needs; packaging it is the user's decision to trust them."""
    try:
        from skops.io import get_untrusted_types
    except ImportError:
        raise BadRequest("Packaging a .skops model needs the skops package: pip install skops.") from None
    try:
        return list(get_untrusted_types(file=path))
    except Exception as exc:  # a corrupt file: say so now rather than at deploy time
        raise InvalidArtifact(f"{path.name} is not a readable skops file ({type(exc).__name__}: {exc}).") from None


def _skops_requirements(stage: Path) -> Path:
    """The container has no skops: the generated code needs it installed, at the local version."""
    import importlib.metadata

    target = stage / "requirements.txt"
    target.write_text(f"skops=={importlib.metadata.version('skops')}\n", encoding="utf-8")
    return target
