"""Invoking a SageMaker endpoint (InvokeEndpoint), with the container's errors made readable."""
from __future__ import annotations

import time
from typing import Any, Optional

from ...aws import aws_errors, error_code
from ...errors import ModelError, NotFound
from ...types import InvokeResult
from ..base import check_payload_size
from .account import Account


def invoke(account: Account, name: str, body: bytes, *, content_type: Optional[str], accept: Optional[str],
           timeout: float) -> InvokeResult:
    """InvokeEndpoint; the container's errors become ModelError (424) with its status and log."""
    check_payload_size(len(body))
    if len(body) > SERVERLESS_MAX_PAYLOAD_BYTES:
        _check_serverless_payload(account, name, len(body))
    runtime = account.clients.client("sagemaker-runtime", read_timeout=int(timeout) + 5, connect_timeout=10)
    args = {"EndpointName": name, "Body": body, "ContentType": content_type or "application/json"}
    if accept:
        args["Accept"] = accept
    start = time.perf_counter()
    try:
        answer = runtime.invoke_endpoint(**args)
        data = answer["Body"].read()
    except Exception as exc:  # noqa: BLE001 - ModelError is special, the rest is translated
        if error_code(exc) == "ModelError":
            raise _model_error(name, exc) from exc
        if error_code(exc) in ("ValidationError", "ValidationException") and "not found" in str(exc):
            # SageMaker's answer for a missing endpoint: "Endpoint X of account N not found."
            raise NotFound(account.missing(name)) from None
        with aws_errors(f"InvokeEndpoint {name}", "sagemaker-runtime"):
            raise
    return InvokeResult(endpoint=name, status=200, body=data,
                        content_type=answer.get("ContentType", "application/octet-stream"),
                        latency_ms=(time.perf_counter() - start) * 1000.0)


# A serverless endpoint accepts at most 4 MB per invocation (real-time: 6 MB): refuse before sending.
SERVERLESS_MAX_PAYLOAD_BYTES = 4 * 1024 * 1024


def _check_serverless_payload(account: Account, name: str, size: int) -> None:
    """PayloadTooLarge when ``name`` is serverless (only asked for bodies over 4 MB)."""
    from ...errors import PayloadTooLarge

    try:
        with aws_errors(f"describing endpoint {name}", "sagemaker"):
            config = account.sm.describe_endpoint(EndpointName=name)["EndpointConfigName"]
            variants = account.sm.describe_endpoint_config(EndpointConfigName=config).get("ProductionVariants", [])
    except NotFound:
        return  # InvokeEndpoint will say the endpoint does not exist
    if any(v.get("ServerlessConfig") for v in variants):
        raise PayloadTooLarge(f"The request body is {size:,} bytes; a serverless endpoint accepts at most "
                              f"{SERVERLESS_MAX_PAYLOAD_BYTES:,} (4 MiB) per invocation. Send fewer rows per "
                              f"request, or deploy {name} on instances (6 MiB).")


def _model_error(name: str, exc: Any) -> ModelError:
    response = exc.response
    status = int(response.get("OriginalStatusCode") or 500)
    original = response.get("OriginalMessage") or response.get("Error", {}).get("Message") or ""
    stream = response.get("LogStreamArn")
    return ModelError(f"The model in endpoint {name} answered {status}: {original.strip()[:1000]} "
                      f"(see %smops logs {name}).", original_status=status, log_stream=stream)
