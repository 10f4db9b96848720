"""How the SageMaker scikit-learn container loads and calls ``inference.py`` (its rules, our code).

Standalone on purpose (stdlib + numpy, no package imports) so the validation probe can load it
by file path in a fresh interpreter without importing jupyter_smops. The rules followed:

- the user module is imported with its folder (``code/``) on ``sys.path``;
- ``model_fn`` is required; ``transform_fn`` may not be mixed with input/predict/output_fn;
- missing input/predict/output_fn fall back to the container's defaults: numpy decoding of
  JSON / CSV / NPY (JSON and CSV cast to float32), ``model.predict``, numpy encoding;
- JSON and CSV bodies reach the handlers as ``str``, other types as ``bytes``;
- a handler result that is a ``(body, content_type)`` tuple sets the response's content type;
  a bare ``str`` or ``bytes`` goes out under the requested Accept type.

core/serving/handlers.py serves with the same rules; this copy exists so the probe needs no
package import (it runs in a bare interpreter) and must stay in step with it.
"""
from __future__ import annotations

import importlib
import io
import json
import sys
from pathlib import Path

JSON, CSV, NPY = "application/json", "text/csv", "application/x-npy"
UTF8_TYPES = (JSON, CSV)


class HandlerError(Exception):
    """The user's module breaks a container rule (the message says which)."""


class UnsupportedFormat(Exception):
    """The container answers 415 for a content type its default handlers cannot decode."""


def _media_type(value) -> str:
    return (value or "").split(";")[0].strip().lower()


def load_handlers(code_dir, program: str = "inference.py") -> dict:
    """Import ``program`` from ``code_dir`` and return its handlers, defaults filled in."""
    code_dir = str(Path(code_dir))
    if code_dir not in sys.path:
        sys.path.insert(0, code_dir)
    module = importlib.import_module(Path(program).stem)
    found = {name: getattr(module, name, None)
             for name in ("model_fn", "input_fn", "predict_fn", "output_fn", "transform_fn")}
    if found["model_fn"] is None:
        raise HandlerError("model_fn is missing: the scikit-learn container has no default model loader")
    if found["transform_fn"] and (found["input_fn"] or found["predict_fn"] or found["output_fn"]):
        raise HandlerError("Cannot use transform_fn together with input_fn, predict_fn and/or output_fn")
    found["user_defined"] = sorted(name for name, fn in found.items() if fn is not None)
    found["input_fn"] = found["input_fn"] or default_input_fn
    found["predict_fn"] = found["predict_fn"] or default_predict_fn
    found["output_fn"] = found["output_fn"] or default_output_fn
    return found


def default_input_fn(input_data, content_type):
    """The container's default: numpy-decode JSON, CSV or NPY."""
    import numpy as np

    ctype = _media_type(content_type)
    if ctype == JSON:
        array = np.array(json.loads(input_data))
    elif ctype == CSV:
        text = input_data.decode("utf-8") if isinstance(input_data, bytes) else input_data
        array = np.genfromtxt(io.StringIO(text), delimiter=",")
    elif ctype == NPY:
        array = np.load(io.BytesIO(input_data), allow_pickle=False)
    else:
        raise UnsupportedFormat(f"Content type {content_type} is not supported by this framework")
    return array.astype(np.float32) if ctype in UTF8_TYPES else array


def default_predict_fn(input_data, model):
    return model.predict(input_data)


def default_output_fn(prediction, accept):
    """The container's default: numpy-encode to JSON, CSV or NPY; returns (body, content type)."""
    import numpy as np

    ctype = _media_type(accept) or JSON
    array = np.asarray(prediction)
    if ctype == JSON:
        return json.dumps(array.tolist()), JSON
    if ctype == CSV:
        buffer = io.StringIO()
        np.savetxt(buffer, array if array.ndim else array.reshape(1), delimiter=",", fmt="%s")
        return buffer.getvalue(), CSV
    if ctype == NPY:
        buffer = io.BytesIO()
        np.save(buffer, array, allow_pickle=False)
        return buffer.getvalue(), NPY
    raise UnsupportedFormat(f"Accept {accept} is not supported by this framework")


def request_body(body: bytes, content_type: str):
    """What a handler receives: ``str`` for JSON and CSV, ``bytes`` otherwise."""
    return body.decode("utf-8") if _media_type(content_type) in UTF8_TYPES else body


def to_response(result, accept: str) -> tuple[bytes, str]:
    """A handler's return value as (body bytes, content type), as the container sends it."""
    content_type = accept
    if isinstance(result, tuple) and len(result) == 2:
        result, content_type = result
    elif hasattr(result, "get_data") and hasattr(result, "mimetype"):  # a Flask/worker Response
        return result.get_data(), result.mimetype
    if isinstance(result, str):
        return result.encode("utf-8"), content_type
    if isinstance(result, (bytes, bytearray)):
        return bytes(result), content_type
    raise HandlerError(f"output_fn returned a {type(result).__name__}; return a str or bytes body "
                       f"(or a (body, content_type) tuple)")


def transform(handlers: dict, model, body: bytes, content_type: str, accept: str) -> tuple[bytes, str]:
    """One invocation: transform_fn, or input_fn -> predict_fn -> output_fn."""
    data = request_body(body, content_type)
    if handlers.get("transform_fn"):
        return to_response(handlers["transform_fn"](model, data, content_type, accept), accept)
    decoded = handlers["input_fn"](data, content_type)
    prediction = handlers["predict_fn"](decoded, model)
    return to_response(handlers["output_fn"](prediction, accept), accept)
