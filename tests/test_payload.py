"""What predict sends: pandas frames as JSON rows, numbers exact, missing values null; and, end
to end on local endpoints, a one-row frame predicts with the container's default input_fn and
with the generated inference.py alike."""
from __future__ import annotations

import json
import math
import struct

import numpy as np
import pandas as pd
import pytest

from jupyter_smops.core.config import SmopsConfig
from jupyter_smops.core.api import Smops
from jupyter_smops.core.endpoints.local import LocalEndpoints
from jupyter_smops.core.errors import BadRequest
from jupyter_smops.core.packaging.default_inference import render
from jupyter_smops.core.payload import encode_payload
from test_serving_support import DEFAULT_HANDLERS, deploy, teardown_endpoints


def _bits(x: float) -> bytes:
    return struct.pack("<d", x)


# -- the body --------------------------------------------------------------------------------
def test_a_frame_is_a_json_list_of_rows_of_any_length():
    frame = pd.DataFrame({"a": [5.1, 6.2], "b": [3.5, 3.4]})
    assert encode_payload(frame) == (b"[[5.1, 3.5], [6.2, 3.4]]", "application/json")
    assert encode_payload(frame.iloc[:1]) == (b"[[5.1, 3.5]]", "application/json")
    assert encode_payload(frame.iloc[0]) == (b"[[5.1, 3.5]]", "application/json")  # a Series is one row
    assert encode_payload(frame.iloc[:0]) == (b"[]", "application/json")
    assert encode_payload(frame, "application/json")[1] == "application/json"


def test_numbers_round_trip_exactly():
    floats = [0.1, 1 / 3, -0.0, 5e-324, 2.2250738585072014e-308, 1.7976931348623157e308, 123456789.123456789]
    f32 = np.array([0.1, 1 / 3, 3.4028235e38, 1e-45], dtype=np.float32)
    ints = [2**53 + 1, -(2**63), 2**63 - 1, 0]
    frame = pd.DataFrame({
        "f64": floats[:4], "f32": f32, "i64": np.array(ints, dtype=np.int64),
        "u64": np.array([2**64 - 1, 0, 1, 2], dtype=np.uint64), "i8": np.array([-128, 127, 0, 1], dtype=np.int8),
        "b": [True, False, True, False], "obj": pd.Series([np.float32(0.1), np.int64(2**62), np.bool_(True), 7],
                                                         dtype=object)})
    rows = json.loads(encode_payload(frame)[0])
    for i in range(4):
        f64, g32, i64, u64, i8, b, obj = rows[i]
        assert _bits(f64) == _bits(floats[i])
        assert np.float32(g32) == f32[i] and g32 == float(f32[i])  # float32's own value, not a rounding
        assert (type(i64), i64) == (int, ints[i]) and type(u64) is int and type(i8) is int
        assert type(b) is bool
    assert rows[0][6] == float(np.float32(0.1)) and rows[1][6] == 2**62 and rows[2][6] is True
    assert json.loads(encode_payload(pd.DataFrame({"x": floats[4:]}))[0]) == [[x] for x in floats[4:]]


def test_missing_values_are_null():
    frame = pd.DataFrame({
        "f": [1.5, np.nan], "i": pd.array([1, None], dtype="Int64"), "s": ["x", None],
        "t": pd.to_datetime(["2024-01-02 03:04:05", None]), "o": pd.Series([None, np.float64("nan")], dtype=object)})
    assert json.loads(encode_payload(frame)[0]) == [[1.5, 1, "x", "2024-01-02T03:04:05", None],
                                                   [None, None, None, None, None]]


def test_infinity_is_a_clear_error():
    with pytest.raises(BadRequest, match=r"Column 'x' holds inf.*replace it"):
        encode_payload(pd.DataFrame({"x": [1.0, np.inf]}))
    with pytest.raises(BadRequest, match="-inf"):
        encode_payload(pd.Series([1.0, -np.inf], index=["a", "x"]))


def test_mixed_type_columns_keep_each_value_as_it_is():
    frame = pd.DataFrame({"num": [5.1, 6.0], "colour": ["red", "1"], "mixed": [1, "a"],
                          "cat": pd.Categorical(["s", "m"]), "when": [pd.Timestamp("2024-05-06"), pd.NaT]})
    assert json.loads(encode_payload(frame)[0]) == [[5.1, "red", 1, "s", "2024-05-06T00:00:00"],
                                                   [6.0, "1", "a", "m", None]]


def test_values_json_cannot_carry_are_refused_by_column():
    from decimal import Decimal

    with pytest.raises(BadRequest, match=r"Column 'price' holds a Decimal.*text/csv"):
        encode_payload(pd.DataFrame({"price": [Decimal("1.10")]}))
    with pytest.raises(BadRequest, match="Timedelta"):
        encode_payload(pd.DataFrame({"d": pd.to_timedelta([1], unit="s")}))


def test_text_csv_asked_explicitly_is_headerless_csv_as_before():
    frame = pd.DataFrame({"a": [5.1, 6.2], "b": [3.5, 3.4]})
    assert encode_payload(frame, "text/csv") == (b"5.1,3.5\n6.2,3.4\n", "text/csv")
    assert encode_payload(frame.iloc[0], "text/csv") == (b"5.1,3.5\n", "text/csv")
    with pytest.raises(BadRequest, match="application/json .* or text/csv"):
        encode_payload(frame, "application/x-npy")


def test_other_inputs_are_unchanged():
    assert encode_payload({"instances": [[1, 2]]}) == (b'{"instances": [[1, 2]]}', "application/json")
    assert encode_payload(b"1,2\n", "text/csv") == (b"1,2\n", "text/csv")
    body, ctype = encode_payload(np.array([[1.0, 2.0]]))
    assert ctype == "application/x-npy" and np.load(__import__("io").BytesIO(body)).tolist() == [[1.0, 2.0]]


# -- end to end: local endpoints serving the container's rules --------------------------------
@pytest.fixture(scope="module")
def iris():
    from sklearn.datasets import load_iris
    from sklearn.tree import DecisionTreeClassifier

    data = load_iris(as_frame=True)
    return data.data, DecisionTreeClassifier(random_state=0).fit(data.data.to_numpy(), data.target)


@pytest.fixture(scope="module")
def served(tmp_path_factory, iris):
    """Two endpoints on one iris model: ``defaults`` (inference.py with model_fn only, so the
    container's default input_fn decodes) and ``generated`` (the inference.py push writes)."""
    frame, model = iris
    le = LocalEndpoints(SmopsConfig(home=str(tmp_path_factory.mktemp("payload"))))
    deploy(le, le.root.parent, "defaults", {"model.joblib": model, "code/inference.py": DEFAULT_HANDLERS})
    deploy(le, le.root.parent, "generated", {"model.joblib": model, "code/inference.py": render("model.joblib")})
    yield le
    teardown_endpoints(le)


@pytest.fixture
def smops(served, smops_home):
    return Smops(SmopsConfig(), endpoints=served, local_endpoints=served)


def _predictions(result) -> list:
    body = result.decoded()
    return body["predictions"] if isinstance(body, dict) else body


@pytest.mark.parametrize("endpoint", ["defaults", "generated"])
def test_one_row_frames_and_series_predict(smops, iris, endpoint):
    frame, model = iris
    assert smops.describe_endpoint(endpoint).status == "InService"
    for data, rows in ((frame.iloc[:1], frame.iloc[:1]), (frame.iloc[0], frame.iloc[:1]),
                       (frame.iloc[[0, 60, 120]], frame.iloc[[0, 60, 120]])):
        result = smops.predict(endpoint, data)
        assert _predictions(result) == model.predict(rows.to_numpy()).tolist(), (endpoint, result.body)


def test_the_one_row_csv_the_old_default_sent_fails_on_the_containers_decoder(smops, iris):
    # Why frames no longer default to CSV: the container squeezes one CSV row to 1-D (a 500).
    from jupyter_smops.core.errors import ModelError

    frame, _ = iris
    with pytest.raises(ModelError, match="1D array"):
        smops.predict("defaults", frame.iloc[:1], content_type="text/csv")
    assert _predictions(smops.predict("generated", frame.iloc[:1], content_type="text/csv")) == [0]


def test_mixed_type_frame_through_the_generated_inference(tmp_path, smops_home):
    from sklearn.compose import ColumnTransformer
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder
    from sklearn.tree import DecisionTreeClassifier

    frame = pd.DataFrame({"size": [1.0, 2.5, 3.0, 4.5], "colour": ["red", "blue", "red", "green"],
                          "count": np.array([1, 2, 3, 4], dtype=np.int64)})
    model = make_pipeline(
        ColumnTransformer([("cat", OneHotEncoder(handle_unknown="ignore"), [1])], remainder="passthrough"),
        DecisionTreeClassifier(random_state=0)).fit(frame.to_numpy(dtype=object), [0, 1, 0, 1])
    le = LocalEndpoints(SmopsConfig(home=str(tmp_path)))
    try:
        deploy(le, tmp_path, "mixed", {"model.joblib": model, "code/inference.py": render("model.joblib")})
        smops = Smops(SmopsConfig(), endpoints=le, local_endpoints=le)
        assert _predictions(smops.predict("mixed", frame.iloc[:1])) == [0]
        assert _predictions(smops.predict("mixed", frame.iloc[1])) == [1]
        assert _predictions(smops.predict("mixed", frame)) == [0, 1, 0, 1]
        with_gap = frame.copy()
        with_gap.loc[0, "size"] = np.nan  # sent as null; the tree (sklearn >= 1.3) takes NaN
        assert len(_predictions(smops.predict("mixed", with_gap.iloc[:1]))) == 1
    finally:
        teardown_endpoints(le)


def test_null_comes_back_as_nan_in_both_decoders(smops):
    # What the documented NaN -> null choice relies on, checked in the served code itself.
    from jupyter_smops.core.serving.default_functions import default_input_fn

    assert math.isnan(default_input_fn('[[1.0, null]]', "application/json")[0][1])
    namespace: dict = {}
    exec(render("model.joblib"), namespace)  # noqa: S102 - our own generated module
    assert math.isnan(namespace["input_fn"]('[[1.0, null]]', "application/json")[0][1])
