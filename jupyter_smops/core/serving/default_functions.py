"""The container's default ``input_fn``/``predict_fn``/``output_fn`` and loading a model with them.

Uses numpy, so only an endpoint's own process and the validation probe import it (never the
Jupyter server, a kernel or the CLI); the rules they follow are in ``contract``.
"""
from __future__ import annotations

import csv
import io
import json
import os
from pathlib import Path
from typing import Any, Callable, Optional

import numpy as np

from .contract import (CSV, JSON, NPY, UTF8_TYPES, Encoded, LoadedModel, LoadError, UnsupportedFormat,
                       code_location, import_user_module, json_default, user_functions, user_traceback)


# -- encoders: the container's, except npy never unpickles -------------------------------
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
        return json.dumps(prediction, default=json_default).encode("utf-8")
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


# -- the default functions -------------------------------------------------------------
def default_input_fn(content: Any, content_type: str) -> np.ndarray:
    """The body as an array; JSON and CSV cast to float32, as the container does."""
    array = decode(content, content_type)
    return array.astype(np.float32) if content_type in UTF8_TYPES else array


def default_predict_fn(data: Any, model: Any) -> Any:
    """``model.predict(data)``."""
    return model.predict(data)


def default_output_fn(prediction: Any, accept: str) -> Encoded:
    """The prediction encoded in the ``accept`` format."""
    return Encoded(encode(prediction, accept), accept)


# -- loading ---------------------------------------------------------------------------
def load(model_dir: Path, environ: Optional[dict] = None) -> LoadedModel:
    """Import the user module and call model_fn; LoadError says what to fix."""
    environ = dict(os.environ if environ is None else environ)
    code_dir, module_name = code_location(model_dir, environ)
    try:
        user = import_user_module(model_dir, code_dir, module_name)
    except LoadError:
        raise
    except Exception:
        raise LoadError(f"Importing {code_dir.name}/{module_name}.py failed:\n" + user_traceback()) from None
    fns = user_functions(user)
    try:
        model = fns["model_fn"](str(model_dir))
    except Exception:
        raise LoadError("model_fn raised:\n" + user_traceback()) from None
    return with_defaults(model, fns, environ, getattr(user, "execution_parameters_fn", None))


def with_defaults(model: Any, fns: dict[str, Callable], environ: dict,
                  execution_parameters_fn: Optional[Callable[[], Any]] = None) -> LoadedModel:
    """The loaded model served by the user's functions (``contract.user_functions``), the
    container's defaults filling the gaps."""
    if "transform_fn" in fns:
        transform = fns["transform_fn"]
    else:
        transform = _chain(fns.get("input_fn") or default_input_fn, fns.get("predict_fn") or default_predict_fn,
                           fns.get("output_fn") or default_output_fn)
    accept = environ.get("SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT") or JSON
    return LoadedModel(model, transform, accept, execution_parameters_fn)


def _chain(input_fn: Callable, predict_fn: Callable, output_fn: Callable) -> Callable:
    def transform(model: Any, content: Any, content_type: str, accept: str) -> Any:
        return output_fn(predict_fn(input_fn(content, content_type), model), accept)
    return transform
