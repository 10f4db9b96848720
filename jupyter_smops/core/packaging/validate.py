"""Validating a model.tar.gz: what SageMaker's scikit-learn container will do with it, ahead of time.

Which layout counts: the model file(s) at the top of the archive and the handlers in
``code/inference.py`` — the container is started with SAGEMAKER_SUBMIT_DIRECTORY=
/opt/ml/model/code, so a top-level ``inference.py`` (as in the seed's hand-made tarball) is never
imported there. The SageMaker SDK hides this by repacking; we deploy the archive as it is, so
such an archive fails the ``layout`` check with a message to move the file under ``code/``.
"""
from __future__ import annotations

import importlib.metadata
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Optional

from ..errors import BadRequest, InvalidArtifact
from ..types import Check, PackageResult
from . import content_types, requirements, static
from .archive import ArchiveLimits, list_names, safe_extract, sha256_file

PROGRAM = "code/inference.py"
MODEL_SUFFIXES = (".joblib", ".pkl", ".pickle", ".skops", ".sav", ".bin", ".model")
_PROBE = Path(__file__).with_name("_probe.py")


def validate_package(path: Path, *, timeout: float = 60, sample: Any = None,
                     warm_root: Optional[Path] = None, limits: Optional[ArchiveLimits] = None,
                     accept: Optional[str] = None) -> PackageResult:
    """Validate an existing ``model.tar.gz``; raises ``InvalidArtifact`` naming every failed check.

    Checks, by name: archive-safe, layout, inference-syntax, handlers, model-file, model-loads,
    predicts-sample (both in a separate process with ``timeout``), framework-version (the image and
    the scikit-learn the endpoint runs; an error when code/requirements.txt contradicts the model) and
    environment (a warning when this environment does not satisfy code/requirements.txt).
    ``limits`` cap what the archive may unpack to (see ``ArchiveLimits``; checked while extracting).
    """
    path = Path(path)
    if not path.is_file():
        raise BadRequest(f"No such file: {path}. Pass the path of a model.tar.gz.")
    sample = normalize_sample(sample)
    # Hashed first: the digest describes the bytes that are then checked.
    sha256, size = sha256_file(path), path.stat().st_size
    with tempfile.TemporaryDirectory(prefix="smops-validate-") as tmp:
        model_dir = Path(tmp) / "model"
        try:
            members = safe_extract(path, model_dir, limits)
        except InvalidArtifact as exc:
            raise InvalidArtifact(_failure_message(path, exc.checks), exc.checks) from None
        checks = [Check("archive-safe", True, f"{len(members)} entries, relative paths, no links")]
        files = list_names(members)
        checks_more, model_file, probe, types = _check_tree(model_dir, files, timeout, sample, warm_root)
        checks += checks_more
        wanted = _requirements_text(model_dir)
    return _result(str(path.resolve()), sha256, size, checks, model_file, probe, sample, wanted=wanted, accept=accept,
                   types=types)


def validate_sources(files: dict[str, Path], *, timeout: float = 60, sample: Any = None,
                     warm_root: Optional[Path] = None, accept: Optional[str] = None) -> PackageResult:
    """The same checks as ``validate_package``, on the files ``write_archive`` is about to pack
    (``{archive name: source file}``) instead of on the archive, so they can run while the archive
    is compressed and uploaded. The probe sees the archive's layout: the code copied (it may look
    at its own ``__file__``), the model hard-linked (a symbolic link across file systems), so
    nothing large is copied. The result has no path, sha256 or size: the stream supplies them.
    """
    import shutil

    sample = normalize_sample(sample)
    with tempfile.TemporaryDirectory(prefix="smops-validate-") as tmp:
        model_dir = Path(tmp) / "model"
        for name, source in files.items():
            target = model_dir / name
            target.parent.mkdir(parents=True, exist_ok=True)
            if name.startswith("code/"):
                shutil.copyfile(source, target)
                continue
            try:
                os.link(source, target)
            except OSError:
                target.symlink_to(Path(source).resolve())
        sizes = {name: Path(source).stat().st_size for name, source in files.items()}
        checks = [Check("archive-safe", True, f"{len(files)} files, written by jupyter_smops with relative "
                                              f"paths and no links")]
        checks_more, model_file, probe, types = _check_tree(model_dir, sizes, timeout, sample, warm_root)
        checks += checks_more
        wanted = _requirements_text(model_dir)
    return _result("", "", 0, checks, model_file, probe, sample, label=Path("model.tar.gz"), wanted=wanted,
                   accept=accept, types=types)


def _result(path: str, sha256: str, size: int, checks: list[Check], model_file: str, probe: Optional[dict],
            sample: Any, label: Optional[Path] = None, wanted: Optional[str] = None,
            accept: Optional[str] = None, types: tuple = (None, None)) -> PackageResult:
    version, local_version = _framework_versions(probe)
    serving_checks, serving = requirements.serving_checks(version, local_version, wanted, accept=accept)
    checks += serving_checks
    result = PackageResult(
        path=path, sha256=sha256, size=size, model_file=model_file, framework="sklearn",
        framework_version=version, checks=checks, sample_input=(probe or {}).get("sample", sample),
        accepts=types[0], produces=types[1], **serving)
    failed = [c for c in checks if not c.ok and c.severity == "error"]
    if failed:
        raise InvalidArtifact(_failure_message(label or Path(path), failed), checks)
    return result


def _check_tree(model_dir: Path, files: dict[str, int], timeout: float, sample: Any,
                warm_root: Optional[Path] = None) -> tuple[list[Check], str, Optional[dict], tuple]:
    """Static checks on the extracted tree, then the probe when they all passed; the last item is
    (request types, response types) the handlers take (``content_types.handled_types``)."""
    layout, source_name = _layout_check(files)
    checks = [layout]
    model_file = _guess_model_file(files)
    tree = None
    if source_name:
        source = (model_dir / source_name).read_text(encoding="utf-8", errors="replace")
        tree, syntax = static.parse(source, source_name)
        checks.append(syntax)
        if tree is not None:
            checks.append(static.check_handlers(tree))
            named = [n for n in static.referenced_files(tree) if n in files]
            model_file = named[0] if named else model_file
    checks.append(static.check_model_file(tree, files))
    types = content_types.handled_types(tree)
    if any(not c.ok and c.severity == "error" for c in checks):
        return checks, model_file, None, types
    probe, elapsed = run_probe(model_dir, timeout, sample, warm_root)
    checks += _probe_checks(probe, elapsed, timeout, sample is None)
    return checks, model_file, probe, types


def _layout_check(files: dict[str, int]) -> tuple[Check, Optional[str]]:
    """``layout`` and the inference.py to read (even a misplaced one, to report more problems)."""
    models = [n for n in files if "/" not in n and n != "inference.py"]
    if PROGRAM in files:
        if not models:
            return Check("layout", False, "no model file at the top of the archive: put the model file "
                         "(e.g. model.joblib) beside the code/ folder"), PROGRAM
        return Check("layout", True, f"{', '.join(sorted(models))} + {PROGRAM}"
                     + (" + code/requirements.txt" if "code/requirements.txt" in files else "")), PROGRAM
    if "inference.py" in files:
        return Check("layout", False, "inference.py is at the top of the archive, but the SageMaker "
                     "scikit-learn container only imports code/inference.py (SAGEMAKER_SUBMIT_DIRECTORY="
                     "/opt/ml/model/code). Move it to code/inference.py (tar: code/inference.py) "
                     "and package again."), "inference.py"
    nested = sorted({n.split("/")[0] for n in files if n.endswith("/" + PROGRAM)})
    if nested:
        return Check("layout", False, f"everything is inside the folder {nested[0]}/, but SageMaker extracts the "
                     f"archive into /opt/ml/model and looks for code/inference.py there. Archive the folder's "
                     f"contents instead (tar -czf model.tar.gz -C {nested[0]} .)."), None
    others = sorted(n for n in files if n.startswith("code/") and n.endswith(".py"))
    hint = f" (code/ has {', '.join(others)}: rename the handler module to inference.py)" if others else ""
    return Check("layout", False, f"no code/inference.py{hint}. Add one with model_fn, or package the model "
                 f"itself and let jupyter_smops generate it."), None


def _guess_model_file(files: dict[str, int]) -> str:
    top = sorted(n for n in files if "/" not in n and n != "inference.py")
    preferred = [n for n in top if n.endswith(MODEL_SUFFIXES)]
    return (preferred or top or [""])[0]


def normalize_sample(sample: Any) -> Any:
    """A sample input as the JSON body to send: text is parsed, lists and dicts are kept as given
    (the body is what the user wrote), numpy arrays and pandas frames become ``{"instances": rows}``."""
    if sample is None:
        return None
    if isinstance(sample, (bytes, str)):
        try:
            sample = json.loads(sample)
        except ValueError:
            raise BadRequest('The sample input is not valid JSON; pass e.g. {"instances": [[5.1, 3.5, 1.4, 0.2]]}.') \
                from None
    if hasattr(sample, "to_numpy"):  # pandas
        sample = sample.to_numpy()
    if hasattr(sample, "tolist"):  # numpy
        rows = sample.tolist()
        sample = {"instances": rows if isinstance(rows, list) and rows and isinstance(rows[0], list) else [rows]}
    elif isinstance(sample, tuple):
        sample = list(sample)
    try:
        json.dumps(sample)
    except (TypeError, ValueError):
        raise BadRequest(f"The sample input ({type(sample).__name__}) cannot be sent as JSON; pass a list of rows "
                         f"or {{\"instances\": [[...]]}}.") from None
    return sample


def run_probe(model_dir: Path, timeout: float, sample: Any, warm_root: Optional[Path] = None) -> tuple[dict, float]:
    """Run _probe.py on ``model_dir`` in its own process; (its report, seconds).

    With ``warm_root`` (the local endpoints' folder) the process is forked from their warm fork
    server, which has scikit-learn imported already (~0.1 s instead of ~1.5 s); without it, or
    when that server cannot be had, a fresh interpreter runs it. Same script, same report.
    """
    result_path = model_dir.parent / "probe-result.json"
    args = [str(_PROBE), str(model_dir), str(result_path)]
    if sample is not None:
        sample_path = model_dir.parent / "probe-sample.json"
        sample_path.write_text(json.dumps(sample))
        args.append(str(sample_path))
    from ..serving.environment import endpoint_environment

    # The container's environment, not the notebook's: no AWS keys or other secrets (an allowlist).
    env = dict(endpoint_environment(), SM_MODEL_DIR=str(model_dir), SAGEMAKER_PROGRAM="inference.py",
               SAGEMAKER_SUBMIT_DIRECTORY=str(model_dir / "code"), PYTHONDONTWRITEBYTECODE="1")
    start = time.perf_counter()
    ran = _run_forked(warm_root, args, env, model_dir.parent, timeout) if warm_root else None
    if ran is None:
        ran = _run_fresh(args, env, model_dir.parent, timeout)
    timed_out, exit_note, err = ran
    elapsed = time.perf_counter() - start
    try:
        report = json.loads(result_path.read_text())
    except (OSError, ValueError):
        report = {"stage": "start"}
    if timed_out:
        report["timed_out"] = True
    elif "error" not in report and report.get("stage") not in ("done", "no-sample", "model-type"):
        tail = err.strip().splitlines()[-3:]
        report["error"] = f"the process died{exit_note}" + (f": {' '.join(tail)}" if tail else "")
    return report, elapsed


def _run_fresh(args: list[str], env: dict, cwd: Path, timeout: float) -> tuple[bool, str, str]:
    """(timed out, exit note, stderr) of ``python args`` in a fresh interpreter and session."""
    proc = subprocess.Popen([sys.executable, *args], cwd=str(cwd), env=env, stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    timed_out = False
    try:
        _, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        timed_out = True
        _kill_group(proc)
        _, err = proc.communicate()
    return timed_out, f" (exit code {proc.returncode})", err.decode("utf-8", "replace")


def _run_forked(warm_root: Path, args: list[str], env: dict, cwd: Path,
                timeout: float) -> Optional[tuple[bool, str, str]]:
    """The same, forked from the warm fork server of ``warm_root``; None when there is none."""
    from ..serving import zygote

    out, err_path = cwd / "probe-stdout.txt", cwd / "probe-stderr.txt"
    try:
        pid = zygote.run_script(warm_root, args, env=env, cwd=cwd, stdout=out, stderr=err_path)
    except zygote.ZygoteUnavailable:
        return None
    timed_out = not zygote.wait_exit(pid, timeout)
    if timed_out:
        try:
            os.killpg(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        zygote.wait_exit(pid, 5)
    try:
        err = err_path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        err = ""
    return timed_out, "", err


def _kill_group(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        proc.kill()


def _probe_checks(report: dict, elapsed: float, timeout: float, defaulted: bool) -> list[Check]:
    """``model-loads`` and ``predicts-sample`` from the probe's report."""
    stage = report.get("stage")
    error = report.get("error")
    if report.get("timed_out"):
        what = {"model": "model_fn", "predict": "predicting the sample"}.get(stage, "importing inference.py")
        msg = f"{what} did not finish within {timeout:g} s; make it faster or raise SMOPS_VALIDATE_TIMEOUT"
        return ([Check("model-loads", True, "loaded")] if stage == "predict" else []) + \
            [Check("predicts-sample" if stage == "predict" else "model-loads", False, msg)]
    if stage in ("start", "import"):
        if report.get("error_type") == "LoadError":  # a container rule, worded as local endpoints word it
            return [Check("model-loads", False, error)]
        return [Check("model-loads", False, f"importing code/inference.py failed: {error}" + _import_hint(error))]
    if stage == "model":
        return [Check("model-loads", False, f"model_fn failed: {error}" + _load_hint(error, report))]
    kind = report.get("model_type_short", "object")
    if stage == "model-type":
        what = "None" if kind == "NoneType" else f"a {kind}"
        return [Check("model-loads", False,
                      f"model_fn loaded {what}, which has no predict method: the model file must hold a fitted "
                      f"estimator (e.g. joblib.dump(model, 'model.joblib')), or inference.py must define a "
                      f"predict_fn that knows how to use it")]
    loads = Check("model-loads", True, f"{report.get('model_type')} (probe took {elapsed:.1f} s)")
    if stage == "no-sample":
        return [loads, Check("predicts-sample", False, "not run: the model does not say how many features it takes; "
                             "pass a sample input (--sample '{\"instances\": [[...]]}')", severity="warning")]
    if stage == "predict":
        hint = " (the sample was a guessed row of zeros: pass a real row with --sample)" if defaulted else ""
        if "input_fn" not in report.get("handlers", []) and isinstance(report.get("sample"), dict):
            hint += ("; inference.py has no input_fn and the container's default reads a bare JSON list of "
                     "rows, not {\"instances\": ...}: add an input_fn or send a list")
        if not report.get("has_predict"):
            hint += f"; the model is a {kind}, which has no predict method"
        return [loads, Check("predicts-sample", False, f"predicting the sample failed: {error}{hint}")]
    return [loads, Check("predicts-sample", True,
                         f"{json.dumps(report.get('sample'))[:200]} -> {report.get('response', '')[:300]}")]


def _import_hint(error: Optional[str]) -> str:
    if error and error.startswith("ModuleNotFoundError"):
        return ". List the missing package in code/requirements.txt (pass --requirements) and install it here too"
    return ""


def _load_hint(error: Optional[str], report: dict) -> str:
    error = error or ""
    if "on <module '__main__'" in error:
        return (". The model uses a class defined in the notebook; move that class into a module and add it "
                "to code/, or use only library classes")
    if error.startswith("ModuleNotFoundError"):
        return (". The model needs a package that is not installed here; install it and list it in "
                "code/requirements.txt")
    if report.get("in_unpickler") or error.startswith(("UnpicklingError", "EOFError")):
        return (". The model file is not a valid joblib/pickle file (truncated, or written by another tool); "
                "save it again with joblib.dump")
    if error.startswith("FileNotFoundError"):
        return ". model_fn opens a file that is not in the archive"
    return ""


def _framework_versions(probe: Optional[dict]) -> tuple[Optional[str], Optional[str]]:
    """(version the model was pickled with, local version); metadata when the probe did not say."""
    if probe and probe.get("sklearn_version"):
        return probe["sklearn_version"], probe.get("local_sklearn_version")
    try:
        local = importlib.metadata.version("scikit-learn")
    except importlib.metadata.PackageNotFoundError:
        local = None
    return local, local


def _requirements_text(model_dir: Path) -> Optional[str]:
    try:
        return (model_dir / "code" / "requirements.txt").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None


def _failure_message(path: Path, failed: list) -> str:
    failed = [c for c in failed if not c.ok and c.severity == "error"]
    lines = [f"{path.name} is not deployable: {len(failed)} check{'s' if len(failed) != 1 else ''} failed."]
    lines += [f"- {c.name}: {c.message}" for c in failed]
    return "\n".join(lines)
