"""GET /smops/api/endpoints/{name}/logs?since=…: a client follows a log by passing back next_since."""
from __future__ import annotations

import asyncio
import json
import time

import pytest

SEED_REQUEST = {"instances": [[5.1, 3.5, 1.4, 0.2]]}


@pytest.fixture
def iris_file(jp_root_dir, iris_model):
    import joblib

    joblib.dump(iris_model, jp_root_dir / "iris.joblib")
    return "iris.joblib"


async def _job(api, wait_job, route: str, body: dict, timeout: float = 180) -> dict:
    code, accepted, _ = await api("POST", route, body)
    assert code == 202, accepted
    job = await wait_job(accepted["job"]["id"], timeout=timeout)
    assert job["state"] == "succeeded", job
    return job["result"]


async def _invoke(api, name: str) -> None:
    code, body, _ = await api("POST", f"endpoints/{name}/invocations", raw=json.dumps(SEED_REQUEST).encode(),
                              headers={"Content-Type": "application/json"})
    assert code == 200, body


async def _new_lines(api, name: str, cursor: str, until: str, timeout: float = 10) -> tuple[list[str], str]:
    """Follow from ``cursor`` until a line containing ``until`` arrives; (every line received, cursor)."""
    got: list[str] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        code, page, _ = await api("GET", f"endpoints/{name}/logs", params={"since": cursor, "tail": "1000"})
        assert code == 200, page
        got += page["logs"].splitlines()
        cursor = page["next_since"]
        if any(until in line for line in got):
            return got, cursor
        await asyncio.sleep(0.1)
    raise AssertionError(f"no {until!r} line within {timeout}s: {got}")


async def test_following_a_local_endpoints_log_gives_each_new_line_once(api, wait_job, iris_file):
    await _job(api, wait_job, "models", {"path": iris_file, "name": "iris", "sample": SEED_REQUEST}, 120)
    await _job(api, wait_job, "endpoints", {"model": "iris", "name": "logs-ep"})
    try:
        await _invoke(api, "logs-ep")
        code, first, _ = await api("GET", "endpoints/logs-ep/logs", params={"tail": "50"})
        assert code == 200 and first["truncated"] is False and "~" in first["next_since"]
        # The first request may not be in the log yet: follow until it is, then mark the place.
        _, cursor = await _new_lines(api, "logs-ep", first["next_since"], "POST /invocations") \
            if "POST /invocations" not in first["logs"] else ([], first["next_since"])
        await _invoke(api, "logs-ep")
        got, cursor = await _new_lines(api, "logs-ep", cursor, "POST /invocations")
        assert sum("POST /invocations" in line for line in got) == 1, got
        code, rest, _ = await api("GET", "endpoints/logs-ep/logs", params={"since": cursor})
        assert code == 200 and rest["logs"] == "" and rest["next_since"] == cursor
        # A time window works as the CLI's --since does.
        code, window, _ = await api("GET", "endpoints/logs-ep/logs", params={"since": "10m"})
        assert code == 200 and window["logs"].count("POST /invocations") == 2
    finally:
        code, accepted, _ = await api("DELETE", "endpoints/logs-ep")
        await wait_job(accepted["job"]["id"])


@pytest.mark.parametrize("since", ["yesterday", "2025-06-01T12:00:00Z~x", "~3"])
async def test_a_bad_since_is_a_readable_400(api, fake_endpoints, store_version, wait_job, since):
    store_version("iris")
    await _job(api, wait_job, "endpoints", {"model": "iris", "name": "fake-ep"}, 30)
    code, error, _ = await api("GET", "endpoints/fake-ep/logs", params={"since": since})
    assert code == 400 and error["error"]["code"] == "BadRequest", error
    assert "since=" in error["error"]["message"] and "next_since" in error["error"]["message"]
    assert "Traceback" not in error["error"]["message"]
