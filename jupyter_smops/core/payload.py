"""Python data -> an InvokeEndpoint body, in a form the scikit-learn container decodes as meant.

pandas frames go as JSON rows rather than CSV: the container's default ``input_fn`` squeezes a
one-row CSV into a 1-D array, which ``model.predict`` refuses, while ``[[...]]`` decodes to a
2-D array for any number of rows (the generated ``inference.py`` reads both).
"""
from __future__ import annotations

import datetime
import io
import json
import math
from typing import Any, Optional

from .errors import BadRequest

JSON, CSV, NPY = "application/json", "text/csv", "application/x-npy"


def encode_payload(data: Any, content_type: Optional[str] = None) -> tuple[bytes, str]:
    """Python data -> (body, Content-Type), the way the scikit-learn container reads it.

    bytes pass through; str is JSON (or CSV when asked); numpy arrays go as ``application/x-npy``
    (exact dtype, no pickles); pandas DataFrames as JSON rows ``[[...], ...]`` and a Series as
    one row (``text/csv`` asked explicitly: headerless CSV); lists and dicts as JSON.
    """
    if isinstance(data, (bytes, bytearray)):
        return bytes(data), content_type or JSON
    if isinstance(data, str):
        text = data.strip()
        if content_type in (None, JSON):
            try:
                json.loads(text)
            except ValueError:
                raise BadRequest("The input is not valid JSON. Pass a variable, a JSON document such as "
                                 '{"instances": [[5.1, 3.5, 1.4, 0.2]]}, or --content-type text/csv.') from None
        return text.encode(), content_type or JSON
    module = type(data).__module__.split(".")[0]
    if module == "pandas":
        import pandas as pd

        if isinstance(data, (pd.DataFrame, pd.Series)):
            return _encode_pandas(data, content_type)
    if module == "numpy":
        import numpy as np

        array = np.asarray(data)
        if content_type == JSON:
            return json.dumps(array.tolist()).encode(), content_type
        if content_type == CSV:
            buf = io.StringIO()
            np.savetxt(buf, np.atleast_2d(array), delimiter=",", fmt="%r")
            return buf.getvalue().encode(), content_type
        buf = io.BytesIO()
        np.save(buf, array, allow_pickle=False)
        return buf.getvalue(), NPY
    try:
        return json.dumps(data).encode(), content_type or JSON
    except (TypeError, ValueError):
        raise BadRequest(f"Cannot send a {type(data).__name__}: pass a list, dict, numpy array, "
                         f"pandas DataFrame, JSON text or bytes.") from None


def _encode_pandas(data: Any, content_type: Optional[str]) -> tuple[bytes, str]:
    """A DataFrame as JSON rows (a Series as one row), or headerless CSV when that is asked for."""
    media = (content_type or "").split(";")[0].strip().lower()
    frame = data if data.ndim == 2 else data.to_frame().T
    if media == CSV:
        return frame.to_csv(header=False, index=False).encode(), content_type or CSV
    if media not in ("", JSON):
        raise BadRequest(f"A pandas {type(data).__name__} is sent as {JSON} (a list of rows) or {CSV}, "
                         f"not {content_type}; convert it (e.g. df.to_numpy()) to send another type.")
    columns = [_json_column(frame.iloc[:, i], label) for i, label in enumerate(frame.columns)]
    rows = [list(row) for row in zip(*columns)] if columns else [[] for _ in range(len(frame))]
    return json.dumps(rows, allow_nan=False).encode(), content_type or JSON


def _json_column(series: Any, label: Any) -> list:
    """A column's values as JSON-ready Python values (``tolist`` makes numpy scalars Python ones)."""
    import numpy as np

    values = series.tolist()
    dtype = series.dtype
    if isinstance(dtype, np.dtype) and dtype.kind in "iub":
        return values  # plain numbers, nothing missing: exact already, no per-value work
    if isinstance(dtype, np.dtype) and dtype.kind == "f" and np.isfinite(series.to_numpy()).all():
        return values
    return [_json_cell(value, label) for value in values]


def _json_cell(value: Any, column: Any) -> Any:
    """One frame value as JSON: numbers exactly as they are, missing values as null.

    ``Series.tolist()`` has already turned numpy scalars into Python ones (a float32 into the
    float64 of the same value), and Python's float repr round-trips, so the container decodes
    the very numbers the frame holds. NaN, None, ``pd.NA`` and ``NaT`` become ``null``, which
    the container's decoder (and the generated inference.py, for numeric rows) turn back into NaN.
    """
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        if math.isnan(value):
            return None
        if math.isinf(value):
            raise BadRequest(f"Column {column!r} holds {value}, which JSON cannot carry (and scikit-learn "
                             f"refuses); replace it (e.g. df.replace([np.inf, -np.inf], np.nan)) before predicting.")
        return value
    import numpy as np
    import pandas as pd

    if value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, np.generic) and not isinstance(value, (np.datetime64, np.timedelta64)):
        return _json_cell(value.item(), column)  # object columns may hold numpy scalars
    if isinstance(value, np.datetime64):
        return None if np.isnat(value) else pd.Timestamp(value).isoformat()
    if isinstance(value, (datetime.date, datetime.time)):
        return value.isoformat()  # dates and times (pd.Timestamp too) as ISO 8601 text
    raise BadRequest(f"Column {column!r} holds a {type(value).__name__}, which cannot be sent as JSON; convert "
                     f"the column (e.g. df[{column!r}].astype(float) or .astype(str)), or pass "
                     f"content_type='text/csv'.")
