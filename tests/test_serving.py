"""Contract tests of the serving process: the SageMaker scikit-learn container's behaviour."""
from __future__ import annotations

import http.client
import io
import json
import shutil
import subprocess

import numpy as np
import pytest

from jupyter_smops.core.config import SmopsConfig
from jupyter_smops.core.endpoints.local import LocalEndpoints
from jupyter_smops.core.errors import ModelError, Timeout
from test_serving_support import DEFAULT_HANDLERS, SEED_INFERENCE, deploy, iris_tree, teardown_endpoints, wait_for  # noqa: F401

ROW = [5.1, 3.5, 1.4, 0.2]
OVERRIDES = '''import json, time
import numpy as np

def model_fn(model_dir):
    return "model"

def input_fn(body, content_type):
    if content_type == "text/x-semicolon":
        return np.array([[float(x) for x in body.decode().split(";")]])   # bytes: not a UTF-8 type
    return np.array(json.loads(body))

def predict_fn(data, model):
    print(f"PREDICT-MARKER shape={data.shape}")
    if (data < 0).any():
        raise ValueError("negative values are not allowed")
    if data[0][0] > 100:
        time.sleep(data[0][0] / 1000.0)
    return {"dtype": str(data.dtype), "sum": float(data.sum()), "model": model}

def output_fn(prediction, accept):
    return json.dumps(prediction), "application/vnd.smops+json"
'''
ECHO = '''import numpy as np

class Echo:
    def predict(self, X):
        return np.array([str(X.dtype), str(X.ndim)])

def model_fn(model_dir):
    return Echo()
'''
TRANSFORM = '''import json

def model_fn(model_dir):
    return 2

def transform_fn(model, content, content_type, accept):
    data = json.loads(content)
    return json.dumps({"doubled": [x * model for x in data], "accept": accept}), "application/json"
'''


@pytest.fixture(scope="module")
def le(tmp_path_factory, iris_tree):
    root = tmp_path_factory.mktemp("serving") / "endpoints"
    endpoints = LocalEndpoints(SmopsConfig(home=str(root.parent)))
    tmp = root.parent
    eps = {
        "default": deploy(endpoints, tmp, "default", {"model.joblib": iris_tree, "code/inference.py": DEFAULT_HANDLERS}),
        "seed": deploy(endpoints, tmp, "seed", {"iris-model.pkl": iris_tree, "code/inference.py": SEED_INFERENCE}),
        "overrides": deploy(endpoints, tmp, "overrides", {"code/inference.py": OVERRIDES}),
        "echo": deploy(endpoints, tmp, "echo", {"code/inference.py": ECHO}),
        "transform": deploy(endpoints, tmp, "transform", {"code/inference.py": TRANSFORM}),
    }
    assert {k: e.status for k, e in eps.items()} == dict.fromkeys(eps, "InService"), [e.failure_reason for e in eps.values()]
    yield endpoints
    teardown_endpoints(endpoints)


def npy(array) -> bytes:
    buf = io.BytesIO()
    np.save(buf, np.asarray(array), allow_pickle=False)
    return buf.getvalue()


def raw(le, name, method, path, body=None, headers=None):
    url = le.describe(name).url
    conn = http.client.HTTPConnection(url.split("//")[1], timeout=10)
    conn.request(method, path, body=body, headers=headers or {})
    resp = conn.getresponse()
    out = resp.status, resp.getheader("Content-Type"), resp.read()
    conn.close()
    return out


def test_seed_inference_answers_the_seed_request(le):
    r = le.invoke("seed", json.dumps({"instances": [ROW]}).encode(), content_type="application/json")
    assert r.status == 200 and json.loads(r.body) == {"predictions": [0]}
    assert r.decoded() == {"predictions": [0]}


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl not installed")
def test_seed_with_curl(le):
    url = le.describe("seed").url
    out = subprocess.run(["curl", "-s", "-X", "POST", "-H", "Content-Type: application/json", "-d",
                          '{"instances": [[5.1, 3.5, 1.4, 0.2]]}', f"{url}/invocations"],
                         capture_output=True, text=True, timeout=30)
    assert json.loads(out.stdout) == {"predictions": [0]}


def test_ping_and_routes(le):
    assert raw(le, "default", "GET", "/ping")[0] == 200
    assert raw(le, "default", "GET", "/invocations")[0] == 405
    assert raw(le, "default", "GET", "/nope")[0] == 404


@pytest.mark.parametrize("accept, decode", [
    ("application/json", lambda b: json.loads(b)),
    ("text/csv", lambda b: b.decode().split()),
    ("application/x-npy", lambda b: np.load(io.BytesIO(b), allow_pickle=False).tolist()),
])
@pytest.mark.parametrize("content_type, body", [
    ("application/json", json.dumps([ROW, [6.2, 3.4, 5.4, 2.3]]).encode()),
    ("text/csv", b"5.1,3.5,1.4,0.2\n6.2,3.4,5.4,2.3\n"),
    ("application/x-npy", npy([ROW, [6.2, 3.4, 5.4, 2.3]])),
])
def test_default_handlers_every_content_type_both_ways(le, content_type, body, accept, decode):
    r = le.invoke("default", body, content_type=content_type, accept=accept)
    assert r.content_type == accept
    assert [int(x) for x in decode(r.body)] == [0, 2]


def test_missing_content_type_is_json_and_any_accept_is_json(le):
    status, ctype, body = raw(le, "default", "POST", "/invocations", json.dumps([ROW]).encode(), {"Accept": "*/*"})
    assert (status, ctype, json.loads(body)) == (200, "application/json", [0])
    status, ctype, body = raw(le, "default", "POST", "/invocations", json.dumps([ROW]).encode())
    assert (status, ctype) == (200, "application/json")


def test_json_and_csv_are_cast_to_float32_npy_keeps_its_dtype(le):
    assert le.invoke("echo", b"[[1, 2]]", content_type="application/json").decoded() == ["float32", "2"]
    assert le.invoke("echo", b"1,2\n3,4\n", content_type="text/csv").decoded() == ["float32", "2"]
    assert le.invoke("echo", npy([[1.0, 2.0]]), content_type="application/x-npy").decoded() == ["float64", "2"]
    assert le.invoke("echo", npy([[1, 2]]), content_type="application/x-npy").decoded() == ["int64", "2"]


@pytest.mark.parametrize("body, content_type, accept, message", [
    (b"[[1,2,3,4]]", "text/plain", None, "Content-Type 'text/plain' is not supported"),
    (b"[[5.1, 3.5, 1.4, 0.2]]", "application/json", "application/xml", "Accept 'application/xml' is not supported"),
    (b"[5.1, 3.5, 1.4, 0.2]", "application/json", None, "Expected 2D array"),
    (b"5.1,3.5,1.4,0.2\n", "text/csv", None, "one-row CSV"),
    (b"{not json", "application/json", None, "JSONDecodeError"),
    (b"\x93NUMPY garbage", "application/x-npy", None, "Error"),
])
def test_container_errors_are_500_with_the_message(le, body, content_type, accept, message):
    with pytest.raises(ModelError) as info:
        le.invoke("default", body, content_type=content_type, accept=accept)
    assert info.value.original_status == 500
    assert message in info.value.message
    # the server keeps serving
    assert le.invoke("default", json.dumps([ROW]).encode(), content_type="application/json").decoded() == [0]


def test_pickled_npy_is_refused(le):
    buf = io.BytesIO()
    np.save(buf, np.array([[{"a": 1}]], dtype=object), allow_pickle=True)
    with pytest.raises(ModelError, match="allow_pickle"):
        le.invoke("default", buf.getvalue(), content_type="application/x-npy")


def test_user_input_and_output_fn(le):
    r = le.invoke("overrides", b"1;2;3", content_type="text/x-semicolon")
    assert r.content_type == "application/vnd.smops+json"
    assert json.loads(r.body) == {"dtype": "float64", "sum": 6.0, "model": "model"}


def test_predict_fn_raising_is_500_then_next_request_ok(le):
    with pytest.raises(ModelError, match="negative values are not allowed") as info:
        le.invoke("overrides", b"[[-1, 2]]", content_type="application/json")
    assert info.value.original_status == 500
    assert json.loads(le.invoke("overrides", b"[[1, 2]]", content_type="application/json").body)["sum"] == 3.0
    log = wait_for(lambda: "negative values are not allowed" in le.logs("overrides") and le.logs("overrides"))
    assert "Traceback" in log and "predict_fn" in log and "ValueError" in log


def test_print_output_and_requests_land_in_the_log(le):
    le.invoke("overrides", b"[[7, 8]]", content_type="application/json")
    log = wait_for(lambda: (lambda t: "shape=(1, 2)" in t and " 200 " in t and t)(le.logs("overrides")))
    assert "PREDICT-MARKER shape=(1, 2)" in log
    assert "POST /invocations 200" in log and "ms" in log
    assert "MODEL-FN-MARKER loading ['code', 'model.joblib']" in le.logs("default")
    assert len(le.logs("overrides", tail=3).splitlines()) == 3


def test_transform_fn_alone(le):
    r = le.invoke("transform", b"[1, 2]", content_type="application/json", accept="text/csv")
    assert json.loads(r.body) == {"doubled": [2, 4], "accept": "text/csv"}


def test_slow_model_past_the_limit_times_out_then_serves(le):
    with pytest.raises(Timeout, match="did not answer within 0.3 s"):
        le.invoke("overrides", b"[[900]]", content_type="application/json", timeout=0.3)
    r = le.invoke("overrides", b"[[1]]", content_type="application/json", timeout=10)
    assert json.loads(r.body)["sum"] == 1.0


def test_keep_alive_pipelined_requests(le):
    import socket

    url = le.describe("default").url
    host, port = url.split("//")[1].split(":")
    body = json.dumps([ROW]).encode()
    req = (b"POST /invocations HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
           b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
    with socket.create_connection((host, int(port)), timeout=10) as s:
        s.sendall(req * 3)
        data = b""
        while data.count(b"HTTP/1.1 200") < 3:
            chunk = s.recv(65536)
            assert chunk
            data += chunk
    assert data.count(b"[0]") == 3
