"""The runtime gateway hands a checked connection to the endpoint's workers after its first request.

The worker then answers InvokeEndpoint on it in the gateway's shapes with no second hop; anything
else goes back to the gateway with the connection, and the answer is the gateway's own. Only this
user's processes can hand a worker (or the gateway) a connection.
"""
from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time

import boto3
import pytest
from botocore.config import Config

from jupyter_smops.core.files import read_json
from jupyter_smops.core.limits import MAX_PAYLOAD_BYTES
from jupyter_smops.core.serving import handoff, runtime_gateway
from test_runtime_gateway import ROW, iris_ep, le, runtime_url  # noqa: F401 - module fixtures
from test_serving_support import iris_tree, wait_for  # noqa: F401

pytestmark = pytest.mark.skipif(not handoff.supported(), reason="connections are handed over on Linux only")
SIGNED = {"Authorization": "AWS4-HMAC-SHA256 Credential=x/20260101/us-east-1/sagemaker/aws4_request, "
                           "SignedHeaders=host, Signature=00", "Content-Type": "application/json"}
PATH = "/endpoints/iris-rt/invocations"


class _StoppedGateway:
    """SIGSTOP the gateway process: only a connection its worker holds can still be answered."""

    def __init__(self, root):
        self.pid = runtime_gateway.current(root)["pid"]

    def __enter__(self):
        os.kill(self.pid, signal.SIGSTOP)
        return self

    def __exit__(self, *exc):
        os.kill(self.pid, signal.SIGCONT)


def _connect(url: str) -> http.client.HTTPConnection:
    host, port = url.split("//")[1].split(":")
    return http.client.HTTPConnection(host, int(port), timeout=5)


def _post(conn, path=PATH, headers=SIGNED, body=ROW.encode(), method="POST"):
    conn.request(method, path, body=body, headers=headers)
    resp = conn.getresponse()
    data = resp.read()
    return resp.status, resp.getheader("x-amzn-ErrorType"), resp, data


def _handed(le, sock: socket.socket) -> None:
    """Wait until one of the endpoint's workers holds the server end of the connection ``sock``
    (the gateway hands it over once the first answer has left)."""
    gateway_port = runtime_gateway.current(le.root)["port"]
    ours = f"0100007F:{sock.getsockname()[1]:04X}"

    def held() -> bool:
        rows = [line.split() for line in open("/proc/net/tcp").read().splitlines()[1:]]
        inodes = {f[9] for f in rows if f[1] == f"0100007F:{gateway_port:04X}" and f[2] == ours}
        for pid in read_json(le.root / "iris-rt" / "runtime.json")["workers"]:
            for fd in os.listdir(f"/proc/{pid}/fd"):
                try:
                    if os.readlink(f"/proc/{pid}/fd/{fd}") in {f"socket:[{i}]" for i in inodes}:
                        return True
                except OSError:
                    pass
        return False

    assert wait_for(held, timeout=10), "the connection was not handed to a worker"


def _gateway_clients(le) -> int:
    """How many client connections the gateway process holds open (the rest were handed over)."""
    record = runtime_gateway.current(le.root)
    rows = [line.split() for line in open("/proc/net/tcp").read().splitlines()[1:]]
    inodes = {f"socket:[{f[9]}]" for f in rows if f[1] == f"0100007F:{record['port']:04X}" and f[3] == "01"}
    held = 0
    for fd in os.listdir(f"/proc/{record['pid']}/fd"):
        try:
            held += os.readlink(f"/proc/{record['pid']}/fd/{fd}") in inodes
        except OSError:
            pass
    return held


def _gateway_holds_no_client(le) -> bool:
    return _gateway_clients(le) == 0


def test_after_the_first_request_the_worker_answers_without_the_gateway(runtime_url, iris_ep, le):
    conn = _connect(runtime_url)
    assert _post(conn)[0] == 200  # through the gateway
    _handed(le, conn.sock)
    with _StoppedGateway(le.root):
        status, kind, resp, data = _post(conn)
        assert (status, kind, json.loads(data)) == (200, None, [0])
        assert resp.getheader("x-Amzn-Invoked-Production-Variant") == "AllTraffic"
        assert resp.getheader("Content-Type") == "application/json" and resp.getheader("x-amzn-RequestId")
        status, kind, resp, data = _post(conn, body=b"[5.1, 3.5, 1.4, 0.2]")  # 1-D: the container's 500
        body = json.loads(data)
        assert (status, kind, body["OriginalStatusCode"]) == (424, "ModelError", 500)
        assert "Expected 2D array" in body["OriginalMessage"]
        assert body["LogStreamArn"] == str(le.root / "iris-rt" / "endpoint.log")
        assert "jupyter smops logs iris-rt" in body["message"]
    conn.close()


def test_boto3_keeps_its_connection_on_the_worker(runtime_url, iris_ep, le):
    c = boto3.client("sagemaker-runtime", endpoint_url=runtime_url, region_name="us-east-1",
                     aws_access_key_id="AKIDEXAMPLE", aws_secret_access_key="dummy",
                     config=Config(retries={"total_max_attempts": 1}, read_timeout=5, connect_timeout=5))
    assert c.invoke_endpoint(EndpointName="iris-rt", Body=ROW, ContentType="application/json")["Body"].read() == b"[0]"
    assert wait_for(lambda: _gateway_holds_no_client(le), timeout=10)  # boto3's pooled connection: handed over
    with _StoppedGateway(le.root):
        out = c.invoke_endpoint(EndpointName="iris-rt", Body=ROW, ContentType="application/json", Accept="text/csv")
        assert (out["ContentType"], out["Body"].read(), out["InvokedProductionVariant"]) == ("text/csv", b"0\n",
                                                                                            "AllTraffic")
        with pytest.raises(c.exceptions.ModelError):
            c.invoke_endpoint(EndpointName="iris-rt", Body="[1, 2]", ContentType="application/json")


def test_one_client_alternating_endpoints_and_a_deleted_one(runtime_url, iris_ep, le, iris_tree):
    """boto3 pools connections per address, not per endpoint: a handed connection asked for another
    endpoint goes back to the gateway, and a deleted endpoint's connection ends cleanly."""
    from test_serving_support import DEFAULT_HANDLERS, deploy

    other = deploy(le, le.root.parent, "iris-two", {"model.joblib": iris_tree, "code/inference.py": DEFAULT_HANDLERS})
    assert other.status == "InService", other.failure_reason
    c = boto3.client("sagemaker-runtime", endpoint_url=runtime_url, region_name="us-east-1",
                     aws_access_key_id="AKIDEXAMPLE", aws_secret_access_key="dummy",
                     config=Config(retries={"total_max_attempts": 1}, read_timeout=10))
    for name in ["iris-rt", "iris-rt", "iris-two", "iris-rt", "iris-two", "iris-two", "iris-rt"]:
        out = c.invoke_endpoint(EndpointName=name, Body=ROW, ContentType="application/json")
        assert out["Body"].read() == b"[0]" and out["InvokedProductionVariant"] == "AllTraffic"
    fresh = boto3.client("sagemaker-runtime", endpoint_url=runtime_url, region_name="us-east-1",
                         aws_access_key_id="AKIDEXAMPLE", aws_secret_access_key="dummy",
                         config=Config(retries={"total_max_attempts": 1}, read_timeout=10))
    assert fresh.invoke_endpoint(EndpointName="iris-two", Body=ROW, ContentType="application/json")["Body"].read()
    # c's connection came back to the gateway and stays there; fresh's is on iris-two's worker
    assert wait_for(lambda: _gateway_clients(le) == 1, timeout=10)
    le.delete("iris-two")
    with pytest.raises(fresh.exceptions.ValidationError, match="iris-two not found"):
        fresh.invoke_endpoint(EndpointName="iris-two", Body=ROW, ContentType="application/json")
    assert fresh.invoke_endpoint(EndpointName="iris-rt", Body=ROW, ContentType="application/json")["Body"].read()


@pytest.mark.parametrize("request_, expected", [
    ({"headers": {**SIGNED, "Origin": "https://evil.example"}}, (403, "AccessDeniedException")),
    ({"headers": {"Content-Type": "application/json"}}, (403, "MissingAuthenticationTokenException")),
    ({"headers": {**SIGNED, "Host": "evil.example:80"}}, (403, "AccessDeniedException")),
    ({"path": "/endpoints/no-such-endpoint/invocations"}, (400, "ValidationError")),
    ({"path": "/endpoints/iris-rt/invocations-response-stream"}, (400, "ValidationError")),
    ({"method": "GET", "body": None}, (404, "UnknownOperationException")),
    ({"body": b" " * (MAX_PAYLOAD_BYTES + 1)}, (400, "ValidationError")),
], ids=["origin", "unsigned", "rebound-host", "other-endpoint", "stream", "get", "oversize"])
def test_what_a_worker_does_not_answer_goes_back_to_the_gateway(runtime_url, iris_ep, le, request_, expected):
    conn = _connect(runtime_url)
    assert _post(conn)[0] == 200
    _handed(le, conn.sock)
    status, kind, _resp, _data = _post(conn, **request_)
    assert (status, kind) == expected
    if status == 400 and request_.get("body"):
        return  # the oversize refusal closes the connection once the body is drained
    assert _post(conn)[:2] == (200, None)  # the same connection, now served by the gateway again
    conn.close()


def test_handing_over_round_trip_carries_the_note_and_the_bytes_read():
    listener = handoff.listen(f"smops-test-{os.getpid()}")
    a, b = socket.socketpair()
    try:
        assert not handoff.receive(listener)  # nothing waiting
        import threading

        result = {}
        thread = threading.Thread(target=lambda: result.update(ok=handoff.send(
            f"smops-test-{os.getpid()}", a.fileno(), {"name": "x"}, b"POST / HTTP/1.1\r\n")))
        thread.start()
        got = None
        deadline = time.monotonic() + 5
        while got is None and time.monotonic() < deadline:
            got = handoff.receive(listener)
        thread.join(5)
        assert result == {"ok": True}
        sock, note, data = got
        assert (note, data) == ({"name": "x"}, b"POST / HTTP/1.1\r\n")
        b.sendall(b"ping")
        sock.setblocking(True)
        assert sock.recv(4) == b"ping"  # the very connection, through the passed descriptor
        sock.close()
    finally:
        for s in (a, b, listener):
            s.close()


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to act as another uid")
def test_another_user_cannot_hand_over_a_connection():
    name = f"smops-test-foreign-{os.getpid()}"
    listener = handoff.listen(name)
    script = ("import array, socket, struct\na, b = socket.socketpair()\ns = socket.socket(socket.AF_UNIX)\n"
              f"s.connect('\\0' + {name!r})\nhead = b'{{}}'\n"
              "s.sendmsg([struct.pack('!II', len(head), 0) + head], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, "
              "array.array('i', [a.fileno()]))])\nprint('SENT')\n")
    python = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable

    def hand_over(**user) -> object:
        out = subprocess.run([python, "-c", script], capture_output=True, text=True, timeout=30, cwd="/", **user)
        assert out.stdout.split() == ["SENT"], out.stderr  # the abstract address is open to every user...
        got = None
        deadline = time.monotonic() + 5
        while got is None and time.monotonic() < deadline:
            got = handoff.receive(listener)  # (None while nothing waits, and for a refused sender)
            if got is None and not _waiting(listener):
                break
        return got

    try:
        assert hand_over(user=65534, group=65534, extra_groups=[]) is None  # ...but only this uid is taken
        taken = hand_over()
        assert taken is not None and taken[1] == {}
        taken[0].close()
    finally:
        listener.close()


def _waiting(listener: socket.socket) -> bool:
    import select

    return bool(select.select([listener], [], [], 0.5)[0])


def test_a_worker_answers_only_the_plain_invoke_of_its_own_endpoint():
    from jupyter_smops.core.serving.runtime_worker import HandedConnection

    worker = HandedConnection(lambda *a: (200, "application/json", b"[0]"),
                              {"name": "ep", "hosts": ["127.0.0.1:9"], "log": "l", "back": "b"}, b"")
    signed = b"Host: 127.0.0.1:9\r\nAuthorization: AWS4-HMAC-SHA256 x\r\nContent-Type: text/csv\r\n"

    def parse(first: bytes, extra: bytes = b"", length: bytes = b"Content-Length: 3"):
        return worker._parse(first + b"\r\n" + signed + extra + length)

    assert parse(b"POST /endpoints/ep/invocations HTTP/1.1") == (3, {"content-type": "text/csv"}, False)
    assert parse(b"POST /endpoints/%65p/invocations HTTP/1.0")[2] is True  # 1.0 closes unless kept alive
    assert parse(b"POST /endpoints/ep/invocations HTTP/1.1", b"Connection: close\r\n")[2] is True
    for first, extra, length in [
            (b"POST /endpoints/other/invocations HTTP/1.1", b"", b"Content-Length: 3"),  # another endpoint
            (b"POST /endpoints/ep/invocations?x=1 HTTP/1.1", b"", b"Content-Length: 3"),
            (b"PUT /endpoints/ep/invocations HTTP/1.1", b"", b"Content-Length: 3"),
            (b"POST /endpoints/ep/invocations HTTP/1.1", b"Host: 127.0.0.1:9\r\n", b"Content-Length: 3"),  # twice
            (b"POST /endpoints/ep/invocations HTTP/1.1", b"", b"Transfer-Encoding: chunked"),
            (b"POST /endpoints/ep/invocations HTTP/1.1", b"Expect: 100-continue\r\n", b"Content-Length: 3"),
            (b"POST /endpoints/ep/invocations HTTP/1.1", b"", f"Content-Length: {MAX_PAYLOAD_BYTES + 1}".encode())]:
        assert parse(first, extra, length) is None, (first, extra, length)


def test_forked_workers_do_not_repeat_request_ids():
    from jupyter_smops.core.serving import runtime_protocol

    first = runtime_protocol._request_id()
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # a worker forked from a supervisor that had already imported the module
        os.write(w, runtime_protocol._request_id().encode())
        os._exit(0)
    os.close(w)
    os.waitpid(pid, 0)
    child = os.read(r, 100).decode()
    os.close(r)
    assert child.split("-")[:2] != first.split("-")[:2]
    assert runtime_protocol._request_id() != child
