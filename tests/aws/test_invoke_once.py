"""An invocation reaches the model once: no retry after a 5xx, a ModelError or a read timeout;
throttling (the model did not run) is retried with back-off. Hits are counted on a local HTTP
stand-in for the SageMaker runtime, reached through AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME."""
from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from jupyter_smops.core import aws as core_aws
from jupyter_smops.core.errors import ModelError, SmopsError

# The endpoint exists only in the stand-in, so the calls have no owner to check IAM against.
pytestmark = [pytest.mark.aws, pytest.mark.iam_unchecked]


class Runtime:
    """Answers POST /endpoints/<name>/invocations from a script of (status, error code, body)."""

    def __init__(self, script):
        self.script, self.hits = list(script), 0
        runtime = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's name
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                runtime.hits += 1
                status, code, body = runtime.script.pop(0) if len(runtime.script) > 1 else runtime.script[0]
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                if code:
                    self.send_header("x-amzn-ErrorType", code)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def runtime_stub(aws, monkeypatch):
    made = []

    def start(*script):
        stub = Runtime(script)
        made.append(stub)
        monkeypatch.setenv("AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME", stub.url)
        monkeypatch.delenv("AWS_MAX_ATTEMPTS")  # the product's own default (8 for every other client)
        monkeypatch.setattr(core_aws, "runtime_retry", _no_sleep(core_aws.runtime_retry))
        return stub

    yield start
    for stub in made:
        stub.close()


def _no_sleep(retry):
    return lambda *a, **kw: (0.0 if retry(*a, **kw) is not None else None)


def _endpoints(config):
    from jupyter_smops.core.endpoints.sagemaker import SageMakerEndpoints

    return SageMakerEndpoints(config)


@pytest.mark.parametrize("status, code, body", [
    (500, "InternalFailure", {"message": "internal failure"}),
    (503, "ServiceUnavailable", {"message": "unavailable"}),
    (424, "ModelError", {"message": "Received server error (500) from model", "OriginalStatusCode": 500,
                         "OriginalMessage": "boom"}),
])
def test_an_invocation_that_may_have_run_is_sent_exactly_once(runtime_stub, config, status, code, body):
    stub = runtime_stub((status, code, body))
    with pytest.raises((ModelError, SmopsError)):
        _endpoints(config).invoke("iris-ep", b'{"instances": [[1, 2, 3, 4]]}')
    assert stub.hits == 1


def test_throttling_before_the_model_runs_is_retried_with_back_off(runtime_stub, config):
    stub = runtime_stub((400, "ThrottlingException", {"message": "slow down"}),
                        (400, "ThrottlingException", {"message": "slow down"}),
                        (200, "", {"predictions": [0]}))
    result = _endpoints(config).invoke("iris-ep", b'{"instances": [[1, 2, 3, 4]]}')
    assert json.loads(result.body) == {"predictions": [0]} and stub.hits == 3


def test_throttling_gives_up_after_a_few_tries(runtime_stub, config):
    stub = runtime_stub((400, "ThrottlingException", {"message": "slow down"}))
    with pytest.raises(SmopsError):
        _endpoints(config).invoke("iris-ep", b"{}")
    assert stub.hits == core_aws.RUNTIME_MAX_ATTEMPTS


def test_retry_decisions_and_timeouts():
    from botocore import exceptions as bx

    retry = core_aws.runtime_retry
    read = bx.ReadTimeoutError(endpoint_url="http://x")
    connect = bx.ConnectTimeoutError(endpoint_url="http://x")
    assert retry(1, caught_exception=read) is None  # the model may be running: never again
    assert retry(1, caught_exception=bx.ConnectionClosedError(endpoint_url="http://x")) is None
    assert retry(1, caught_exception=connect) is not None  # nothing was sent
    assert retry(1, response=(None, {"Error": {"Code": "ModelNotReadyException"}})) is not None
    assert retry(1, response=(None, {"Error": {"Code": "ModelError"}})) is None
    assert retry(core_aws.RUNTIME_MAX_ATTEMPTS, response=(None, {"Error": {"Code": "ThrottlingException"}})) is None
    client = core_aws.AwsClients("us-east-1").client("sagemaker-runtime", read_timeout=65, connect_timeout=10)
    cfg = client.meta.config
    assert cfg.read_timeout >= 70 and cfg.connect_timeout == 10 and cfg.retries["total_max_attempts"] == 1


def test_serverless_endpoints_refuse_more_than_4_mb_before_sending(runtime_stub, config, raw):
    from jupyter_smops.core.errors import PayloadTooLarge

    stub = runtime_stub((200, "", {"predictions": [0]}))
    sm = raw["sagemaker"]
    sm.create_model(ModelName="m", ExecutionRoleArn="arn:aws:iam::123456789012:role/R",
                    PrimaryContainer={"Image": "img", "ModelDataUrl": "s3://b/k"})
    for name, variant in (("sls", {"ServerlessConfig": {"MemorySizeInMB": 2048, "MaxConcurrency": 1}}),
                          ("rt", {"InstanceType": "ml.m5.large", "InitialInstanceCount": 1})):
        sm.create_endpoint_config(EndpointConfigName=name, ProductionVariants=[{"VariantName": "AllTraffic",
                                                                                "ModelName": "m", **variant}])
        sm.create_endpoint(EndpointName=name, EndpointConfigName=name)
    body = b"x" * (5 * 1024 * 1024)
    with pytest.raises(PayloadTooLarge, match="serverless endpoint accepts at most 4,194,304"):
        _endpoints(config).invoke("sls", body)
    assert stub.hits == 0
    _endpoints(config).invoke("rt", body)  # 5 MB is fine for a real-time endpoint (6 MB)
    assert stub.hits == 1
