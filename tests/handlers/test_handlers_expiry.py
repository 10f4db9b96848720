"""Expiry and public-front routes over HTTP, with a real local endpoint (answers checked against
docs/openapi.yaml by the ``api`` fixture)."""
from __future__ import annotations

from test_handlers_flow import _deploy, _push, iris_file  # noqa: F401


async def test_deploy_with_expiry_extend_and_expose_locally(api, wait_job, iris_file):  # noqa: F811
    await _push(api, wait_job, iris_file, "iris")
    ep = await _deploy(api, wait_job, {"model": "iris", "local": True, "name": "exp-ep", "expires_in": "30m"})
    assert 1700 < ep["seconds_left"] <= 1800 and ep["expires_at"].endswith("Z")
    code, moved, _ = await api("POST", "endpoints/exp-ep/expiry", {"by": "1h"})
    assert code == 200 and 5300 < moved["seconds_left"] <= 5400, moved
    code, error, _ = await api("POST", "endpoints/exp-ep/expiry", {"by": "soon"})
    assert code == 400 and "90s, 30m, 2h" in error["error"]["message"]
    code, error, _ = await api("POST", "endpoints/exp-ep/expiry", {})
    assert code == 400 and "Say how" in error["error"]["message"]
    code, kept, _ = await api("POST", "endpoints/exp-ep/expiry", {"no_expiry": True})
    assert code == 200 and kept["expires_at"] is None and kept["seconds_left"] is None
    code, front, headers = await api("POST", "endpoints/exp-ep/public", {"rate_limit": 5})
    assert code == 200 and front["created"] is False and front["api_key"] is None
    assert front["runtime_url"].startswith("http://127.0.0.1:") and "/endpoints/exp-ep/invocations" in front["curl"]
    assert headers["Cache-Control"] == "no-store"
    code, gone, _ = await api("DELETE", "endpoints/exp-ep/public")
    assert code == 200 and gone == {"endpoint": "exp-ep", "removed": False}
    code, error, _ = await api("POST", "endpoints/nope/public", {})
    assert code == 404
    code, _, _ = await api("DELETE", "endpoints/exp-ep")
    assert code == 202
