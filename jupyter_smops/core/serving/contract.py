"""The SageMaker scikit-learn container's inference contract: the one copy of its rules.

Follows ``sagemaker_sklearn_container.serving`` on top of ``sagemaker_containers``' transformer:

* the user module is ``$SAGEMAKER_PROGRAM`` (default ``inference.py``) in
  ``$SAGEMAKER_SUBMIT_DIRECTORY`` (default ``<model dir>/code``), imported with that directory on
  ``sys.path``;
* ``model_fn`` is required; ``input_fn``/``predict_fn``/``output_fn`` default to the container's
  (JSON, CSV and NPY both ways; JSON and CSV input cast to float32; see ``default_functions``),
  or ``transform_fn`` alone;
* the container wraps even its default functions as user code, so an unsupported Content-Type
  or Accept, a 1-D input or any exception is a 500 (the message goes in the body here, where the
  container only gives an HTML page) and the next request is served normally;
* a missing Content-Type is JSON; a missing Accept or ``*/*`` is
  ``$SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT`` (default JSON).

One deliberate difference: when ``output_fn`` returns a plain ``str``/``bytes`` (as the seed's
does) the container's Flask answers ``text/html``; here the response carries the Accept type, so
clients decode the JSON the function produced.

Local endpoints (``process``, ``app``), the validation probe (``packaging/_probe.py``) and the
static check (``packaging/static.py``) all import this module. It imports only the standard
library (never numpy: the Jupyter server and kernels import it too) and keeps no state.
"""
from __future__ import annotations

import importlib
import json
import os
import sys
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Optional

JSON = "application/json"
CSV = "text/csv"
NPY = "application/x-npy"
UTF8_TYPES = (JSON, CSV)
CONTAINER_MODEL_DIR = "/opt/ml/model"
DEFAULT_PROGRAM = "inference.py"
# The functions an inference.py may define (SageMaker's "inference handlers").
FUNCTION_NAMES = ("model_fn", "input_fn", "predict_fn", "output_fn", "transform_fn")
ERROR_STATUS = 500  # what the container answers for any exception of the user's functions
_HERE = os.path.dirname(os.path.abspath(__file__))


class LoadError(Exception):
    """The model cannot be served; the message says what to fix."""


class UnsupportedFormat(Exception):
    """A content type the default functions cannot decode or encode."""


@dataclass
class Encoded:
    """What the default output_fn returns (the container's ``worker.Response``)."""

    body: bytes
    content_type: str


@dataclass
class LoadedModel:
    """The loaded model and the function that serves a request with it."""

    model: Any
    transform_fn: Callable[[Any, Any, str, str], Any]
    default_accept: str
    execution_parameters_fn: Optional[Callable[[], Any]] = None


# -- which functions the container accepts ---------------------------------------------
def rule_violations(defined: Iterable[str]) -> list[str]:
    """What the container refuses in a module defining the function names ``defined`` (none: fine)."""
    defined = set(defined)
    problems = []
    if "model_fn" not in defined:
        problems.append("model_fn(model_dir) is missing: the SageMaker scikit-learn container has no default "
                        "model loader, so inference.py must define model_fn (e.g. `def model_fn(model_dir): "
                        "return joblib.load(os.path.join(model_dir, 'model.joblib'))`)")
    mixed = [n for n in ("input_fn", "predict_fn", "output_fn") if n in defined]
    if "transform_fn" in defined and mixed:
        problems.append(f"transform_fn is defined together with {', '.join(mixed)}: the container refuses this "
                        f"mix (\"Cannot use transform_fn implementation with input_fn, predict_fn, and/or "
                        f"output_fn\"); keep transform_fn alone, or remove it and keep input_fn/predict_fn/output_fn")
    return problems


def user_functions(module: Any) -> dict[str, Callable]:
    """The inference functions ``module`` defines, by name; LoadError when the container refuses them."""
    fns = {name: getattr(module, name) for name in FUNCTION_NAMES if getattr(module, name, None) is not None}
    problems = rule_violations(fns)
    if problems:
        raise LoadError("; ".join(problems) + ".")
    return fns


# -- finding the user's code -----------------------------------------------------------
def code_location(model_dir: Path, environ: dict) -> tuple[Path, str]:
    """(directory, module name) the way the container resolves them."""
    submit = environ.get("SAGEMAKER_SUBMIT_DIRECTORY") or str(model_dir / "code")
    if submit.startswith("s3://"):
        raise LoadError(f"SAGEMAKER_SUBMIT_DIRECTORY={submit} points at S3; local endpoints serve the code "
                        f"packed in the model archive (code/). Unset it or pack the code into code/.")
    if submit == CONTAINER_MODEL_DIR or submit.startswith(CONTAINER_MODEL_DIR + "/"):
        submit = str(model_dir) + submit[len(CONTAINER_MODEL_DIR):]
    program = environ.get("SAGEMAKER_PROGRAM") or DEFAULT_PROGRAM
    module = program[:-3] if program.endswith(".py") else program
    return Path(submit), module


def import_user_module(model_dir: Path, code_dir: Path, module_name: str) -> Any:
    """The user module, imported with ``code_dir`` first on sys.path; exceptions from its code propagate."""
    if not (code_dir / f"{module_name}.py").is_file() and not (code_dir / module_name / "__init__.py").is_file():
        if module_name == "inference" and (model_dir / DEFAULT_PROGRAM).is_file():
            raise LoadError("inference.py is at the top of model.tar.gz, but the scikit-learn container "
                            "looks for code/inference.py: repackage with the script under code/ "
                            "(%smops package does this).")
        # No script at all: the container falls back to its default model_fn, which has none.
        return type(sys)("smops_no_user_module")
    sys.path.insert(0, str(code_dir))
    return importlib.import_module(module_name)


def user_traceback() -> str:
    """The current exception's traceback without our serving frames: only the user's code is interesting."""
    etype, value, tb = sys.exc_info()
    frames = [f for f in traceback.extract_tb(tb) if os.path.dirname(os.path.abspath(f.filename)) != _HERE]
    lines = ["Traceback (most recent call last):\n"] + traceback.format_list(frames)
    return "".join(lines + traceback.format_exception_only(etype, value)).rstrip()


# -- one request -----------------------------------------------------------------------
def invoke(loaded: LoadedModel, body: bytes, content_type: Optional[str],
           accept: Optional[str]) -> tuple[int, str, bytes, Optional[str]]:
    """(status, content type, body, traceback-or-None) for one POST /invocations."""
    ctype = (content_type or JSON).strip()
    acc = (accept or "").strip()
    if not acc or acc == "*/*":
        acc = loaded.default_accept
    try:
        out_type, payload = respond(loaded, body, ctype, acc)
    except Exception as exc:  # the container turns every error of the user's functions into a 500
        trace = user_traceback()
        message = f"{type(exc).__name__}: {exc}"
        return ERROR_STATUS, "text/plain; charset=utf-8", (message + hint(exc, ctype)).encode("utf-8", "replace"), trace
    return 200, out_type, payload, None


def respond(loaded: LoadedModel, body: bytes, content_type: str, accept: str) -> tuple[str, bytes]:
    """(content type, body) the functions answer to one request; their exceptions propagate."""
    content = body.decode("utf-8") if content_type in UTF8_TYPES else body
    return response(loaded.transform_fn(loaded.model, content, content_type, accept), accept)


def response(result: Any, accept: str) -> tuple[str, bytes]:
    """(content type, body) of what a transform_fn / output_fn returned."""
    if isinstance(result, Encoded):
        return result.content_type, result.body
    if isinstance(result, tuple) and len(result) == 2:
        data, ctype = result
        return str(ctype or accept), data if isinstance(data, bytes) else str(data).encode("utf-8")
    if isinstance(result, (bytes, bytearray, memoryview)):
        return accept, bytes(result)
    if isinstance(result, str):
        return accept, result.encode("utf-8")
    # Flask (the container's server) turns returned dicts and lists into JSON.
    return JSON, json.dumps(result, default=json_default).encode("utf-8")


def json_default(obj: Any) -> Any:
    """JSON for numpy arrays and scalars. An object can only be one once numpy is imported, so
    this module looks numpy up instead of importing it."""
    np = sys.modules.get("numpy")
    if np is not None:
        if isinstance(obj, np.ndarray):
            return obj.tolist()
        if isinstance(obj, np.generic):
            return obj.item()
    raise TypeError(f"{type(obj).__name__} is not JSON serializable")


def hint(exc: Exception, ctype: str) -> str:
    """What to change when a request failed the usual way (e.g. one row instead of a list of rows)."""
    text = str(exc)
    if "Expected 2D array" in text:
        if ctype == CSV:
            return (" (the scikit-learn container squeezes a one-row CSV body to 1-D: send JSON [[...]] or "
                    "application/x-npy, or reshape in input_fn)")
        return " (send a list of rows, e.g. [[5.1, 3.5, 1.4, 0.2]], not a single row)"
    return ""
