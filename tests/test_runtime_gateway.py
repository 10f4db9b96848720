"""The local SageMaker Runtime address: real boto3 (and the SDK) against local endpoints.

Any credentials and region work; errors arrive as botocore's modeled exceptions; the address
is loopback only and answers only signed requests of this user; the gateway lives exactly as
long as there are local endpoints.
"""
from __future__ import annotations

import http.client
import json
import os
import shlex
import shutil
import socket
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import boto3
import pytest
from botocore.config import Config

from jupyter_smops.core.config import SmopsConfig
from jupyter_smops.core.endpoints.local import LocalEndpoints
from jupyter_smops.core.procs import start_time
from jupyter_smops.core.files import write_json
from jupyter_smops.core.limits import MAX_PAYLOAD_BYTES
from jupyter_smops.core.serving import peer, runtime_gateway
from test_serving_support import DEFAULT_HANDLERS, deploy, iris_tree, teardown_endpoints, wait_for  # noqa: F401

ROW = json.dumps([[5.1, 3.5, 1.4, 0.2]])


@pytest.fixture(scope="module")
def le(tmp_path_factory):
    endpoints = LocalEndpoints(SmopsConfig(home=str(tmp_path_factory.mktemp("runtime"))))
    yield endpoints
    teardown_endpoints(endpoints)
    runtime_gateway.stop(endpoints.root)


@pytest.fixture(scope="module")
def iris_ep(le, iris_tree):
    ep = deploy(le, le.root.parent, "iris-rt", {"model.joblib": iris_tree, "code/inference.py": DEFAULT_HANDLERS})
    assert ep.status == "InService", ep.failure_reason
    return ep


@pytest.fixture(scope="module")
def runtime_url(le, iris_ep):
    return le.runtime_url()


def client(url, region="eu-central-1"):
    # Dummy credentials and an arbitrary region: the local address accepts any signature.
    return boto3.client("sagemaker-runtime", endpoint_url=url, region_name=region, aws_access_key_id="AKIDEXAMPLE",
                        aws_secret_access_key="dummy", config=Config(retries={"total_max_attempts": 1}))


def test_invoke_endpoint_with_boto3(runtime_url, iris_ep):
    assert runtime_url.startswith("http://127.0.0.1:") and runtime_url != iris_ep.url
    out = client(runtime_url).invoke_endpoint(EndpointName="iris-rt", Body=ROW, ContentType="application/json")
    assert json.loads(out["Body"].read()) == [0]
    assert out["ContentType"] == "application/json"
    assert out["InvokedProductionVariant"] == "AllTraffic"
    assert out["ResponseMetadata"]["HTTPStatusCode"] == 200 and out["ResponseMetadata"]["RequestId"]
    assert "CustomAttributes" not in out  # the scikit-learn container sets none


def test_accept_is_honoured(runtime_url, iris_ep):
    out = client(runtime_url, "ap-south-1").invoke_endpoint(EndpointName="iris-rt", Body=ROW,
                                                           ContentType="application/json", Accept="text/csv")
    assert (out["ContentType"], out["Body"].read()) == ("text/csv", b"0\n")
    npy = client(runtime_url).invoke_endpoint(EndpointName="iris-rt", Body="5.1,3.5,1.4,0.2\n6.7,3.0,5.2,2.3\n",
                                              ContentType="text/csv", Accept="application/json")
    assert json.loads(npy["Body"].read()) == [0, 2]


def test_model_error_is_424_with_the_containers_status_and_message(runtime_url, iris_ep, le):
    c = client(runtime_url)
    with pytest.raises(c.exceptions.ModelError) as info:
        c.invoke_endpoint(EndpointName="iris-rt", Body="[5.1, 3.5, 1.4, 0.2]", ContentType="application/json")
    resp = info.value.response
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 424
    assert resp["Error"]["Code"] == "ModelError"
    assert resp["OriginalStatusCode"] == 500
    assert "Expected 2D array" in resp["OriginalMessage"]
    assert resp["LogStreamArn"] == str(le.root / "iris-rt" / "endpoint.log")
    assert "jupyter smops logs iris-rt" in resp["Error"]["Message"]


def test_unknown_endpoint_is_a_validation_error(runtime_url, iris_ep):
    c = client(runtime_url)
    with pytest.raises(c.exceptions.ValidationError) as info:
        c.invoke_endpoint(EndpointName="no-such-endpoint", Body=ROW, ContentType="application/json")
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert "no-such-endpoint not found" in info.value.response["Error"]["Message"]


def test_oversize_body_is_a_validation_error_and_the_limit_is_exact(runtime_url, iris_ep):
    c = client(runtime_url)
    with pytest.raises(c.exceptions.ValidationError) as info:
        c.invoke_endpoint(EndpointName="iris-rt", Body=b" " * (MAX_PAYLOAD_BYTES + 1), ContentType="application/json")
    assert "6,291,457 bytes" in info.value.response["Error"]["Message"]
    # exactly 6 MiB reaches the container (whose JSON decoder refuses blank input: a ModelError)
    with pytest.raises(c.exceptions.ModelError):
        c.invoke_endpoint(EndpointName="iris-rt", Body=b" " * MAX_PAYLOAD_BYTES, ContentType="application/json")
    # and the connection still serves the next request
    assert c.invoke_endpoint(EndpointName="iris-rt", Body=ROW, ContentType="application/json")["Body"].read() == b"[0]"


def test_response_stream_and_async_are_clearly_unsupported(runtime_url, iris_ep):
    c = client(runtime_url)
    with pytest.raises(c.exceptions.ValidationError, match="InvokeEndpointWithResponseStream is not supported"):
        c.invoke_endpoint_with_response_stream(EndpointName="iris-rt", Body=ROW, ContentType="application/json")
    with pytest.raises(c.exceptions.ValidationError, match="InvokeEndpointAsync is not supported"):
        c.invoke_endpoint_async(EndpointName="iris-rt", InputLocation="s3://bucket/input.json")


class _EchoContainer(BaseHTTPRequestHandler):
    """A container that sets the custom attributes (as a model's output_fn can on SageMaker)."""

    def do_POST(self):  # noqa: N802
        body = self.rfile.read(int(self.headers["Content-Length"]))
        got = self.headers.get("X-Amzn-SageMaker-Custom-Attributes")
        out = json.dumps({"attributes": got, "accept": self.headers.get("Accept"), "bytes": len(body)}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("X-Amzn-SageMaker-Custom-Attributes", f"echo={got}")
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)

    def log_message(self, *args):
        pass


def test_custom_attributes_round_trip(runtime_url, le):
    server = ThreadingHTTPServer(("127.0.0.1", 0), _EchoContainer)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    d = le.root / "echo-container"
    d.mkdir()
    try:
        me = os.getpid()
        write_json(d / "state.json", {"name": "echo-container", "uid": "x", "model": "echo", "version": 1,
                                      "owner": "tester", "status": "Creating", "created_at": "2026-01-01T00:00:00Z",
                                      "pid": me, "pid_start": start_time(me)})
        write_json(d / "runtime.json", {"status": "InService", "pid": me, "url": f"http://127.0.0.1:{server.server_port}"})
        out = client(runtime_url).invoke_endpoint(EndpointName="echo-container", Body=b"{}", ContentType="application/json",
                                                  Accept="application/json", CustomAttributes="trace-id=42,c1")
        assert json.loads(out["Body"].read()) == {"attributes": "trace-id=42,c1", "accept": "application/json", "bytes": 2}
        assert out["CustomAttributes"] == "echo=trace-id=42,c1"
    finally:
        server.shutdown()
        import shutil

        shutil.rmtree(d)


def _raw(url: str, path: str, headers: dict, body: bytes = b"[]") -> tuple[int, dict]:
    host, port = url.split("//")[1].split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=10)
    conn.request("POST", path, body=body, headers=headers)
    resp = conn.getresponse()
    data = json.loads(resp.read() or b"{}")
    out = resp.status, ({"type": resp.getheader("x-amzn-ErrorType"), **data} if isinstance(data, dict) else data)
    conn.close()
    return out


def test_unsigned_browser_and_rebound_requests_are_refused(runtime_url, iris_ep):
    path = "/endpoints/iris-rt/invocations"
    signed = {"Authorization": "AWS4-HMAC-SHA256 Credential=x/20260101/us-east-1/sagemaker/aws4_request, "
                               "SignedHeaders=host, Signature=00", "Content-Type": "application/json"}
    status, body = _raw(runtime_url, path, {"Content-Type": "application/json"})
    assert (status, body["type"]) == (403, "MissingAuthenticationTokenException")
    assert _raw(runtime_url, path, {**signed, "Origin": "https://evil.example"})[0] == 403
    assert _raw(runtime_url, path, {**signed, "Host": "evil.example:80"})[0] == 403
    assert _raw(runtime_url, "/ping", signed)[1]["type"] == "UnknownOperationException"
    # the same request, signed and addressed to us, is served
    assert _raw(runtime_url, path, signed, ROW.encode()) == (200, [0])


@pytest.mark.skipif(os.geteuid() != 0 or not peer.procfs_available(), reason="needs root to act as another uid")
def test_another_local_user_is_refused(runtime_url, iris_ep):
    script = (f"import http.client, sys\nc = http.client.HTTPConnection('127.0.0.1', {runtime_url.rsplit(':', 1)[1]})\n"
              "c.request('POST', '/endpoints/iris-rt/invocations', body=b'[[1,2,3,4]]', headers={'Authorization': "
              "'AWS4-HMAC-SHA256 x', 'Content-Type': 'application/json'})\nr = c.getresponse()\n"
              "print(r.status, r.getheader('x-amzn-ErrorType'))\n")
    # the system interpreter: the venv's may sit where that user cannot read
    python = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable
    out = subprocess.run([python, "-c", script], capture_output=True, text=True, timeout=30, cwd="/",
                         user=65534, group=65534, extra_groups=[])
    assert out.stdout.split() == ["403", "AccessDeniedException"], out.stderr
    # this user's own client passes the same check
    same = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=30)
    assert same.stdout.split()[0] == "200", same.stderr


@pytest.mark.skipif(not shutil.which("curl"), reason="curl not installed")
def test_the_curl_example_local_expose_gives_is_served(runtime_url, iris_ep):
    from jupyter_smops.core.types import PublicFront

    command = PublicFront(endpoint="iris-rt", created=False, runtime_url=runtime_url).curl()
    out = subprocess.run(shlex.split(command) + ["-s"], capture_output=True, text=True, timeout=30)
    # It reaches the model (whose default input_fn here takes no {"instances": ...} wrapper: the
    # container's 500 as a ModelError), not the gateway's refusal of an unsigned request.
    answer = json.loads(out.stdout)
    assert answer.get("OriginalStatusCode") == 500 and "float()" in answer["OriginalMessage"], out.stdout + out.stderr


def test_peer_uid_is_the_clients():
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    cli = socket.create_connection(listener.getsockname())
    srv, _ = listener.accept()
    try:
        expected = os.getuid() if peer.procfs_available() else None
        assert peer.tcp_peer_uid(srv) == expected
    finally:
        for s in (cli, srv, listener):
            s.close()


@pytest.mark.skipif(not peer.procfs_available(), reason="Linux only")
def test_peer_uid_by_netlink_and_by_the_table_agree_also_for_a_dual_stack_client():
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    port = listener.getsockname()[1]
    clients = [socket.create_connection(("127.0.0.1", port))]
    dual = socket.socket(socket.AF_INET6)
    dual.connect(("::ffff:127.0.0.1", port))  # as a dual-stack client library reaches 127.0.0.1
    clients.append(dual)
    try:
        for client in clients:
            srv, (host, cport) = listener.accept()
            try:
                assert peer.tcp_peer_uid(srv) == os.getuid()
                assert peer._proc_uid(host, cport, "127.0.0.1", port) == os.getuid()
            finally:
                srv.close()
        # the fast path answers by itself (the table is only the fallback)
        ip = socket.inet_aton("127.0.0.1")
        assert peer._diag_uid(socket.AF_INET, ip, clients[0].getsockname()[1], ip, port) == os.getuid()
    finally:
        for s in clients + [listener]:
            s.close()


def test_the_gateway_listens_on_loopback_only(runtime_url, le):
    port = int(runtime_url.rsplit(":", 1)[1])
    assert runtime_gateway.current(le.root)["port"] == port
    sock = runtime_gateway._bind(0)
    assert sock.getsockname()[0] == "127.0.0.1"
    sock.close()
    if peer.procfs_available():  # the kernel's table: bound to 127.0.0.1, not 0.0.0.0
        listening = [f[1] for f in (line.split() for line in open("/proc/net/tcp").read().splitlines()[1:])
                     if f[3] == "0A"]
        assert f"0100007F:{port:04X}" in listening and f"00000000:{port:04X}" not in listening


def test_the_gateway_refuses_a_socket_bound_elsewhere(tmp_path):
    sock = socket.socket()
    sock.bind(("0.0.0.0", 0))
    sock.listen()
    try:
        out = subprocess.run([sys.executable, "-m", "jupyter_smops.core.serving.runtime_gateway", str(tmp_path),
                              str(sock.fileno())], pass_fds=[sock.fileno()], capture_output=True, text=True, timeout=60)
    finally:
        sock.close()
    assert out.returncode != 0 and "not bound to 127.0.0.1" in out.stderr


def test_status_and_cli_give_the_runtime_url(runtime_url, le, monkeypatch, capsys):
    from jupyter_smops.core import Smops

    smops = Smops(SmopsConfig(home=str(le.root.parent), backend="local"))
    assert smops.status()["runtime_url"] == runtime_url
    monkeypatch.setenv("SMOPS_HOME", str(le.root.parent))
    monkeypatch.setenv("SMOPS_BACKEND", "local")
    from jupyter_smops import cli

    try:
        cli.main(["status", "--json"])
    except SystemExit as exc:
        assert not exc.code
    assert json.loads(capsys.readouterr().out)["runtime_url"] == runtime_url


def test_sdk_v3_endpoint_invoke(runtime_url, iris_ep, monkeypatch):
    resources = pytest.importorskip("sagemaker.core.resources")
    # The SDK builds its own clients: botocore's service-specific endpoint variable points them here.
    monkeypatch.setenv("AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME", runtime_url)
    session = boto3.Session(aws_access_key_id="AKIDEXAMPLE", aws_secret_access_key="dummy", region_name="us-west-2")
    out = resources.Endpoint(endpoint_name="iris-rt").invoke(body=ROW, content_type="application/json",
                                                             accept="application/json", session=session,
                                                             region="us-west-2")
    assert json.loads(out.body.read()) == [0] and out.invoked_production_variant == "AllTraffic"


def test_gateway_stops_with_the_last_endpoint_and_returns_on_the_same_port(tmp_path, iris_tree):
    le = LocalEndpoints(SmopsConfig(home=str(tmp_path)))
    files = {"model.joblib": iris_tree, "code/inference.py": DEFAULT_HANDLERS}
    assert le.runtime_url() is None  # no endpoint, no address
    try:
        deploy(le, tmp_path, "first", files)
        record = runtime_gateway.current(le.root)
        assert record and le.runtime_url() == record["url"]  # the deploy started it
        le.delete("first")
        assert wait_for(lambda: runtime_gateway.current(le.root) is None, timeout=15)
        assert json.loads((le.root / runtime_gateway.RECORD).read_text())["pid"] is None
        deploy(le, tmp_path, "second", files)
        assert le.runtime_url() == record["url"]  # the port of the last run, when free
        out = client(record["url"]).invoke_endpoint(EndpointName="second", Body=ROW, ContentType="application/json")
        assert out["Body"].read() == b"[0]"
    finally:
        teardown_endpoints(le)
        runtime_gateway.stop(le.root)


def _sdk_v2_python():
    """The Studio profile's SageMaker Distribution 3.x venv (SDK v2), when `make` built it."""
    from pathlib import Path

    for python in sorted(Path(__file__).resolve().parents[1].glob("studio/.cache/venvs/3.*/bin/python")):
        probe = subprocess.run([str(python), "-c", "import sagemaker; print(sagemaker.__version__)"],
                               capture_output=True, text=True, timeout=120)
        if probe.returncode == 0 and probe.stdout.strip().splitlines()[-1].startswith("2."):
            return str(python)
    return None


def test_sdk_v2_predictor(runtime_url, iris_ep):
    python = _sdk_v2_python()
    if python is None:
        pytest.skip("no SDK v2 venv (studio/.cache/venvs/3.*: built by the Studio profile suite)")
    code = ("import boto3\nfrom sagemaker.session import Session\nfrom sagemaker.predictor import Predictor\n"
            "from sagemaker.serializers import JSONSerializer\nfrom sagemaker.deserializers import JSONDeserializer\n"
            "b = boto3.Session(aws_access_key_id='x', aws_secret_access_key='y', region_name='eu-west-1')\n"
            "p = Predictor('iris-rt', sagemaker_session=Session(boto_session=b), serializer=JSONSerializer(), "
            "deserializer=JSONDeserializer())\nprint('RESULT', p.predict([[5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3]]))\n"
            "try:\n    p.predict([5.1, 3.5, 1.4, 0.2])\nexcept Exception as e:\n"
            "    print('ERROR', type(e).__name__, e.response['OriginalStatusCode'])\n")
    out = subprocess.run([python, "-c", code], capture_output=True, text=True, timeout=180,
                         env={**os.environ, "AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME": runtime_url})
    lines = [line for line in out.stdout.splitlines() if line.startswith(("RESULT", "ERROR"))]
    assert lines == ["RESULT [0, 2]", "ERROR ModelError 500"], out.stderr[-2000:]
