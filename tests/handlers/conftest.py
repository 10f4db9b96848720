"""Fixtures for the REST API tests: a Jupyter server with jupyter_smops enabled.

pytest-jupyter's fixtures and its async-test hook are imported here, not declared as a
root-level ``pytest_plugins``, so they (and the autouse event-loop fixture) apply to this
folder only and leave the other test files alone.
"""
from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any, Optional

import pytest
from pytest_jupyter.jupyter_server import *  # noqa: F401,F403
from tornado.httpclient import HTTPClientError


@pytest.fixture
def smops_backend(smops_home):
    """Which backend the server under test uses; aws test modules override this with aws_env."""
    return "local"


@pytest.fixture
def jp_server_config(smops_backend):
    # The backend's environment (SMOPS_*, AWS_*) is in place before the server reads it.
    return {"ServerApp": {"jpserver_extensions": {"jupyter_smops": True}}}


@pytest.fixture
def api(jp_fetch):
    """``await api("GET", "models")`` -> (status, decoded body, headers); never raises on 4xx/5xx.

    Every answer is checked against docs/openapi.yaml (``check=False`` for deliberate misuse)."""

    async def call(method: str, route: str, body: Any = None, *, raw: Optional[bytes] = None,
                   headers: Optional[dict] = None, params: Optional[dict] = None, check: bool = True):
        hdrs = {"Content-Type": "application/json"} if raw is None else {}
        hdrs.update(headers or {})
        if raw is not None:
            payload = raw
        elif body is not None:
            payload = json.dumps(body).encode()
        else:
            payload = b"{}" if method in ("POST", "PUT") else None
        try:
            resp = await jp_fetch("smops", "api", *route.split("/"), method=method, body=payload,
                                  headers=hdrs, params=params, allow_nonstandard_methods=True)
        except HTTPClientError as exc:
            resp = exc.response
            if resp is None:
                raise
        ctype = resp.headers.get("Content-Type", "")
        data = json.loads(resp.body) if resp.body and ctype.startswith("application/json") else resp.body
        if check:
            check_against_openapi(method, route, resp.code, ctype, data)
        return resp.code, data, resp.headers

    return call


@pytest.fixture
def raw_http(jp_fetch, jp_http_port, jp_base_url, jp_auth_header):
    """``await raw_http(path, headers, body_parts)`` -> (status, headers, body) of the answer, which
    must arrive within ``wait`` seconds of the last byte sent. Raw HTTP/1.1 over a socket, for what
    an HTTP client would not send: a Content-Length the body does not live up to, a chunked body
    left unfinished. The answer is read by its Content-Length, not until the server closes: a
    refused request's connection stays open while the server drops the rest of the announced body.
    ``after(reader, writer)`` runs before the socket closes (to check what the server does next)."""

    async def send(path: str, headers: dict, parts: list[bytes], *, auth: bool = True, wait: float = 5.0,
                   method: str = "POST", after=None, pause: float = 0.0):
        reader, writer = await asyncio.open_connection("127.0.0.1", jp_http_port)
        head = {"Host": f"127.0.0.1:{jp_http_port}", **(jp_auth_header if auth else {}), **headers}
        lines = [f"{method} {jp_base_url}{path} HTTP/1.1"] + [f"{k}: {v}" for k, v in head.items()]
        try:
            writer.write(("\r\n".join(lines) + "\r\n\r\n").encode())
            for part in parts:
                writer.write(part)
                await writer.drain()  # a reset here is what a client that is still sending would see
                if pause:
                    await asyncio.sleep(pause)
            try:
                answer = await asyncio.wait_for(read_answer(reader), wait)
            except asyncio.TimeoutError:
                raise AssertionError("no answer: the server is waiting for the rest of the body") from None
            if after is not None:
                await after(reader, writer)
            return answer
        finally:
            writer.close()

    return send


async def read_answer(reader) -> tuple[int, dict, bytes]:
    """One HTTP/1.1 answer with a Content-Length: (status, headers, body)."""
    head = await reader.readuntil(b"\r\n\r\n")
    status_line, _, header_block = head[:-4].partition(b"\r\n")
    headers = dict(line.decode().split(": ", 1) for line in header_block.split(b"\r\n") if line)
    body = await reader.readexactly(int(headers.get("Content-Length", "0")))
    return int(status_line.split()[1]), headers, body


@pytest.fixture
def openapi_check():
    """``check_against_openapi`` for answers read without the ``api`` fixture (raw HTTP)."""
    return check_against_openapi


@pytest.fixture
def wait_job(api):
    """``await wait_job(id)``: poll a job the way a client would, until it leaves ``running``."""
    return lambda job_id, timeout=120.0: _wait_job(api, job_id, timeout)


async def _wait_job(api, job_id: str, timeout: float) -> dict:
    import asyncio
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        code, job, _ = await api("GET", f"jobs/{job_id}")
        assert code == 200, job
        if job["state"] != "running":
            return job
        await asyncio.sleep(0.05)
    raise AssertionError(f"job {job_id} still running after {timeout}s: {job}")


@pytest.fixture
def store_version(smops_home, tmp_path):
    """``store_version("iris")``: a version put straight into the local registry (for tests
    where packaging is not under test)."""
    return lambda name, payload=b"not-a-real-archive": _store_version(smops_home, tmp_path, name, payload)


def _store_version(home, tmp_path, name: str, payload: bytes) -> None:
    import hashlib

    from jupyter_smops.core.config import SmopsConfig
    from jupyter_smops.core.registry.local import LocalRegistry
    from jupyter_smops.core.types import PackageResult

    art = tmp_path / f"{name}-{hashlib.sha1(payload).hexdigest()[:8]}.tar.gz"
    art.write_bytes(payload)
    pkg = PackageResult(path=str(art), sha256=hashlib.sha256(payload).hexdigest(), size=len(payload),
                        model_file="model.joblib", framework="sklearn", framework_version="1.9.1",
                        serving_version="1.9-0")
    LocalRegistry(SmopsConfig(home=str(home))).push(pkg, name=name, owner="tester")


@pytest.fixture
def fake_endpoints(monkeypatch):
    """The fault-injecting endpoints backend (smops_testing/fakes.py) in place of local processes."""
    monkeypatch.setenv("SMOPS_ENDPOINTS_CLASS", "smops_testing.fakes.FakeEndpoints")
    monkeypatch.setenv("SMOPS_FAKE_DEPLOY_SECONDS", "0.2")
    return "fake"


# -- every answer checked against docs/openapi.yaml --------------------------------------------
_SPEC: dict = {}


def _openapi() -> dict:
    if not _SPEC:
        import yaml

        path = Path(__file__).resolve().parents[2] / "docs" / "openapi.yaml"
        _SPEC.update(yaml.safe_load(path.read_text()))
    return _SPEC


def _to_json_schema(node: Any) -> Any:
    """OpenAPI 3.0 schema -> JSON Schema: inline ``$ref``s, turn ``nullable`` into ``null``."""
    if isinstance(node, list):
        return [_to_json_schema(n) for n in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        target: Any = _openapi()
        for part in node["$ref"].lstrip("#/").split("/"):
            target = target[part]
        return _to_json_schema(target)
    out = {k: _to_json_schema(v) for k, v in node.items() if k != "nullable"}
    if node.get("nullable"):
        if "type" in out:
            out["type"] = [out["type"], "null"]
        if "enum" in out:
            out["enum"] = list(out["enum"]) + [None]
    return out


def check_against_openapi(method: str, route: str, status: int, ctype: str, data: Any) -> None:
    """The answer's status is documented for the operation and its JSON body fits the schema."""
    import re

    import jsonschema

    spec = _openapi()
    path = "/smops/api/" + route.split("?")[0]
    for template, ops in spec["paths"].items():
        if re.fullmatch(re.sub(r"\{\w+\}", "[^/]+", template), path):
            break
    else:
        return  # not a documented path (tests of unknown routes)
    op = ops.get(method.lower())
    if op is None:
        return  # an undocumented method: tornado's 405
    if status == 500:  # InternalError: any route may answer it, always with the Error body
        response = _to_json_schema(spec["components"]["responses"]["Error"])
    else:
        assert str(status) in op["responses"], f"{method} {template} answered {status}, not documented"
        response = _to_json_schema(op["responses"][str(status)])
    schema = response.get("content", {}).get("application/json", {}).get("schema")
    if schema and ctype.startswith("application/json"):
        jsonschema.validate(data, schema)
