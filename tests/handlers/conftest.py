"""Fixtures for the REST API tests: a Jupyter server with jupyter_smops enabled.

pytest-jupyter's fixtures and its async-test hook are imported here, not declared as a
root-level ``pytest_plugins``, so they (and the autouse event-loop fixture) apply to this
folder only and leave the other test files alone.
"""
from __future__ import annotations

import json
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
    """``await api("GET", "models")`` -> (status, decoded body, headers); never raises on 4xx/5xx."""

    async def call(method: str, route: str, body: Any = None, *, raw: Optional[bytes] = None,
                   headers: Optional[dict] = None, params: Optional[dict] = None):
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
        return resp.code, data, resp.headers

    return call


async def wait_job(api, job_id: str, timeout: float = 120.0) -> dict:
    """Poll a job the way a client would, until it leaves ``running``."""
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
