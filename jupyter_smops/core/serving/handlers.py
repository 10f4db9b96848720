"""The SageMaker scikit-learn container's inference contract, in one process.

Follows ``sagemaker_sklearn_container.serving`` on top of ``sagemaker_containers``' transformer:

* the user module is ``$SAGEMAKER_PROGRAM`` (default ``inference.py``) in
  ``$SAGEMAKER_SUBMIT_DIRECTORY`` (default ``<model dir>/code``), imported with that directory on
  ``sys.path``;
* ``model_fn`` is required; ``input_fn``/``predict_fn``/``output_fn`` default to the container's
  (JSON, CSV and NPY both ways; JSON and CSV input cast to float32), or ``transform_fn`` alone;
* the container wraps even its default handlers as user code, so an unsupported Content-Type or
  Accept, a 1-D input or any exception is a 500 (the message goes in the body here, where the
  container only gives an HTML page) and the next request is served normally;
* a missing Content-Type is JSON; a missing Accept or ``*/*`` is
  ``$SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT`` (default JSON).

One deliberate difference: when ``output_fn`` returns a plain ``str``/``bytes`` (as the seed's
does) the container's Flask answers ``text/html``; here the response carries the Accept type, so
clients decode the JSON the function produced.

This file is the only copy of these rules. Local endpoints import it; the validation probe
(``packaging/_probe.py``) loads it by file path in a bare interpreter, and ``packaging/static.py``
words its handler check with ``rule_violations``. So it imports only the standard library and
numpy, uses no relative imports and keeps no state at module level.
"""
from __future__ import annotations

import csv
import importlib
import io
import json
import os
import sys
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Optional

import numpy as np

JSON = "application/json"
CSV = "text/csv"
NPY = "application/x-npy"
UTF8_TYPES = (JSON, CSV)
_CONTAINER_MODEL_DIR = "/opt/ml/model"
HANDLER_NAMES = ("model_fn", "input_fn", "predict_fn", "output_fn", "transform_fn")


class LoadError(Exception):
    """The model cannot be served; the message says what to fix."""


class UnsupportedFormat(Exception):
    """A content type the default handlers cannot decode or encode."""


# -- encoders: the container's, except npy never unpickles -------------------------------
def _json_default(obj: Any) -> Any:
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, np.generic):
        return obj.item()
    raise TypeError(f"{type(obj).__name__} is not JSON serializable")


def decode(content: Any, content_type: str) -> np.ndarray:
    """Request body (str for JSON/CSV, bytes otherwise) -> numpy array."""
    if content_type == JSON:
        return np.array(json.loads(content))
    if content_type == CSV:
        # The container squeezes the rows, so a single CSV row becomes a 1-D array.
        rows = list(csv.reader(io.StringIO(content), delimiter=",", quotechar='"', doublequote=True, strict=True))
        return np.array(rows).squeeze()
    if content_type == NPY:
        return np.load(io.BytesIO(content), allow_pickle=False)
    raise UnsupportedFormat(f"Content-Type {content_type!r} is not supported by the default input_fn: "
                            f"send {JSON}, {CSV} or {NPY}, or define input_fn in inference.py.")


def encode(prediction: Any, accept: str) -> bytes:
    """Prediction -> response body in the ``accept`` format."""
    if accept == JSON:
        return json.dumps(prediction, default=_json_default).encode("utf-8")
    if accept == CSV:
        array = np.array(prediction)
        if array.ndim == 1:
            array = array.reshape(array.shape[0], 1)
        out = io.StringIO()
        csv.writer(out, lineterminator="\n", delimiter=",", quotechar='"', doublequote=True,
                   strict=True).writerows(array.tolist() if array.ndim else [[array.item()]])
        return out.getvalue().encode("utf-8")
    if accept == NPY:
        buf = io.BytesIO()
        np.save(buf, np.asarray(prediction), allow_pickle=False)
        return buf.getvalue()
    raise UnsupportedFormat(f"Accept {accept!r} is not supported by the default output_fn: ask for "
                            f"{JSON}, {CSV} or {NPY}, or define output_fn in inference.py.")


# -- which handlers the container accepts ---------------------------------------------
def rule_violations(defined: Iterable[str]) -> list[str]:
    """What the container refuses in a module defining the handler names ``defined`` (none: fine)."""
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


def user_handlers(module: Any) -> dict[str, Callable]:
    """The handler functions ``module`` defines, by name; LoadError when the container refuses them."""
    fns = {name: getattr(module, name) for name in HANDLER_NAMES if getattr(module, name, None) is not None}
    problems = rule_violations(fns)
    if problems:
        raise LoadError("; ".join(problems) + ".")
    return fns


# -- default handlers -----------------------------------------------------------------
def default_input_fn(content: Any, content_type: str) -> np.ndarray:
    array = decode(content, content_type)
    return array.astype(np.float32) if content_type in UTF8_TYPES else array


def default_predict_fn(data: Any, model: Any) -> Any:
    return model.predict(data)


@dataclass
class Encoded:
    """What the default output_fn returns (the container's ``worker.Response``)."""

    body: bytes
    content_type: str


def default_output_fn(prediction: Any, accept: str) -> Encoded:
    return Encoded(encode(prediction, accept), accept)


# -- finding and loading the user's code ---------------------------------------------
def code_location(model_dir: Path, environ: dict) -> tuple[Path, str]:
    """(directory, module name) the way the container resolves them."""
    submit = environ.get("SAGEMAKER_SUBMIT_DIRECTORY") or str(model_dir / "code")
    if submit.startswith("s3://"):
        raise LoadError(f"SAGEMAKER_SUBMIT_DIRECTORY={submit} points at S3; local endpoints serve the code "
                        f"packed in the model archive (code/). Unset it or pack the code into code/.")
    if submit == _CONTAINER_MODEL_DIR or submit.startswith(_CONTAINER_MODEL_DIR + "/"):
        submit = str(model_dir) + submit[len(_CONTAINER_MODEL_DIR):]
    program = environ.get("SAGEMAKER_PROGRAM") or "inference.py"
    module = program[:-3] if program.endswith(".py") else program
    return Path(submit), module


@dataclass
class Handlers:
    """The loaded model and the functions that serve it."""

    model: Any
    transform_fn: Callable[[Any, Any, str, str], Any]
    default_accept: str
    execution_parameters_fn: Optional[Callable[[], Any]] = None


def load(model_dir: Path, environ: Optional[dict] = None) -> Handlers:
    """Import the user module and call model_fn; LoadError says what to fix."""
    environ = dict(os.environ if environ is None else environ)
    code_dir, module_name = code_location(model_dir, environ)
    try:
        user = import_user_module(model_dir, code_dir, module_name)
    except LoadError:
        raise
    except Exception:
        raise LoadError(f"Importing {code_dir.name}/{module_name}.py failed:\n" + _user_traceback()) from None
    fns = user_handlers(user)
    try:
        model = fns["model_fn"](str(model_dir))
    except Exception:
        raise LoadError("model_fn raised:\n" + _user_traceback()) from None
    return make_handlers(model, fns, environ, getattr(user, "execution_parameters_fn", None))


def make_handlers(model: Any, fns: dict[str, Callable], environ: dict,
                  execution_parameters_fn: Optional[Callable[[], Any]] = None) -> Handlers:
    """The loaded model served by the user's handlers (``user_handlers``), the defaults filling gaps."""
    if "transform_fn" in fns:
        transform = fns["transform_fn"]
    else:
        transform = _chain(fns.get("input_fn") or default_input_fn, fns.get("predict_fn") or default_predict_fn,
                           fns.get("output_fn") or default_output_fn)
    accept = environ.get("SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT") or JSON
    return Handlers(model, transform, accept, execution_parameters_fn)


def import_user_module(model_dir: Path, code_dir: Path, module_name: str) -> Any:
    """The user module, imported with ``code_dir`` first on sys.path; exceptions from its code propagate."""
    if not (code_dir / f"{module_name}.py").is_file() and not (code_dir / module_name / "__init__.py").is_file():
        if module_name == "inference" and (model_dir / "inference.py").is_file():
            raise LoadError("inference.py is at the top of model.tar.gz, but the scikit-learn container "
                            "looks for code/inference.py: repackage with the script under code/ "
                            "(%smops package does this).")
        # No script at all: the container falls back to its default model_fn, which has none.
        return type(sys)("smops_no_user_module")
    sys.path.insert(0, str(code_dir))
    return importlib.import_module(module_name)


def _chain(input_fn: Callable, predict_fn: Callable, output_fn: Callable) -> Callable:
    def transform(model: Any, content: Any, content_type: str, accept: str) -> Any:
        return output_fn(predict_fn(input_fn(content, content_type), model), accept)
    return transform


def _user_traceback() -> str:
    """The traceback without this module's frames: only the user's code is interesting."""
    etype, value, tb = sys.exc_info()
    frames = [f for f in traceback.extract_tb(tb) if f.filename != __file__]
    lines = ["Traceback (most recent call last):\n"] + traceback.format_list(frames)
    return "".join(lines + traceback.format_exception_only(etype, value)).rstrip()


# -- one request ---------------------------------------------------------------------
def invoke(h: Handlers, body: bytes, content_type: Optional[str], accept: Optional[str]) -> tuple[int, str, bytes, Optional[str]]:
    """(status, content type, body, traceback-or-None) for one POST /invocations."""
    ctype = (content_type or JSON).strip()
    acc = (accept or "").strip()
    if not acc or acc == "*/*":
        acc = h.default_accept
    try:
        out_type, payload = respond(h, body, ctype, acc)
    except Exception as exc:  # the container turns every handler error into a 500
        trace = _user_traceback()
        message = f"{type(exc).__name__}: {exc}"
        return 500, "text/plain; charset=utf-8", (message + hint(exc, ctype)).encode("utf-8", "replace"), trace
    return 200, out_type, payload, None


def respond(h: Handlers, body: bytes, content_type: str, accept: str) -> tuple[str, bytes]:
    """(content type, body) the handlers answer to one request; their exceptions propagate."""
    content = body.decode("utf-8") if content_type in UTF8_TYPES else body
    return _response(h.transform_fn(h.model, content, content_type, accept), accept)


def _response(result: Any, accept: str) -> tuple[str, bytes]:
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
    return JSON, json.dumps(result, default=_json_default).encode("utf-8")


def hint(exc: Exception, ctype: str) -> str:
    """What to change when a request failed the usual way (e.g. one row instead of a list of rows)."""
    text = str(exc)
    if "Expected 2D array" in text:
        if ctype == CSV:
            return (" (the scikit-learn container squeezes a one-row CSV body to 1-D: send JSON [[...]] or "
                    "application/x-npy, or reshape in input_fn)")
        return " (send a list of rows, e.g. [[5.1, 3.5, 1.4, 0.2]], not a single row)"
    return ""
