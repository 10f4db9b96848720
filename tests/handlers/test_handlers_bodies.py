"""A request body the server refuses while the client is still sending it gets a readable JSON 4xx,
whatever the client: the answer goes out as soon as the refusal is known (from the headers, or
once a chunked body passes the limit) and the rest of the body is read and dropped, so the
client's send never ends in a connection reset (closing a socket with unread input makes the
kernel send RST, and many clients then never read the answer). Every route has a limit: 6 MiB
for invocations (InvokeEndpoint's), 6 MiB of JSON for the others (a sample must fit in one
invocation). Past ``MAX_DRAIN`` announced bytes the server answers and closes at once.
"""
from __future__ import annotations

import asyncio
import json

import pytest

from raw_http_helpers import chunk as _chunk
from raw_http_helpers import json_error as _error

from jupyter_smops.core.limits import MAX_PAYLOAD_BYTES
from jupyter_smops.handlers.base import MAX_DRAIN, MAX_JSON_BODY

PIECE = b"x" * 65536
OVER = 10 * 1024 * 1024  # over both limits, under MAX_DRAIN
ROUTES = ["models", "packages", "endpoints", "cleanup", "endpoints/iris-v1/invocations"]


async def _closed(reader, writer) -> None:
    # The server ends the connection after the refused body (it said Connection: close).
    assert await asyncio.wait_for(reader.read(), 5.0) == b""


async def _ended(reader, writer) -> None:
    # Past MAX_DRAIN the server closes with the body unread: a reset is expected there, the 413
    # was read before it.
    try:
        assert await asyncio.wait_for(reader.read(), 5.0) == b""
    except ConnectionResetError:
        pass


@pytest.mark.parametrize("route", ROUTES)
async def test_a_slow_client_sends_its_whole_body_and_reads_the_413(raw_http, openapi_check, smops_home, route):
    # 10 MiB in 64 KiB writes: before the fix JSON routes read it all (no limit: 400 invalid JSON)
    # and invocations closed the socket under the client (ConnectionResetError from drain()).
    parts = [PIECE] * (OVER // len(PIECE))
    status, headers, body = await raw_http(f"smops/api/{route}", {
        "Content-Type": "application/json", "Content-Length": str(OVER)}, parts, after=_closed)
    assert status == 413, body
    assert headers["Connection"] == "close"
    error = _error(headers, body)
    assert error["code"] == "PayloadTooLarge" and f"{OVER:,} bytes" in error["message"]
    openapi_check("POST", route, status, headers["Content-Type"], json.loads(body))  # a documented 413


@pytest.mark.parametrize("route", ["models", "endpoints/iris-v1/invocations"])
async def test_a_chunked_body_going_over_is_drained_after_the_413(raw_http, smops_home, route):
    parts = [_chunk(PIECE)] * (OVER // len(PIECE)) + [b"0\r\n\r\n"]
    status, headers, body = await raw_http(f"smops/api/{route}", {
        "Content-Type": "application/json", "Transfer-Encoding": "chunked"}, parts, after=_closed)
    assert status == 413 and _error(headers, body)["code"] == "PayloadTooLarge"
    assert "more than 6,291,456 bytes" in _error(headers, body)["message"]


async def test_the_413_comes_before_the_body_is_sent(raw_http, smops_home):
    # Announced but not sent: the answer does not wait for the body.
    status, headers, body = await raw_http("smops/api/models", {
        "Content-Type": "application/json", "Content-Length": str(MAX_JSON_BODY + 1)}, [])
    assert status == 413 and "sample input must fit in one invocation" in _error(headers, body)["message"]


async def test_expect_100_continue_gets_the_413_and_no_go_ahead(raw_http, smops_home):
    status, headers, body = await raw_http("smops/api/packages", {
        "Content-Type": "application/json", "Content-Length": str(OVER), "Expect": "100-continue"}, [])
    assert status == 413 and _error(headers, body)["code"] == "PayloadTooLarge"


async def test_more_than_can_be_drained_is_answered_then_closed(raw_http, smops_home):
    # Over the server's own max_body_size (512 MiB) too: tornado alone answered a bare 400 here.
    claimed = max(MAX_DRAIN, 512 * 1024 * 1024) + 1
    status, headers, body = await raw_http("smops/api/models", {
        "Content-Type": "application/json", "Content-Length": str(claimed)}, [PIECE], after=_ended)
    assert status == 413 and f"{claimed:,} bytes" in _error(headers, body)["message"]


async def test_a_stranger_sending_a_body_reads_the_403(raw_http, smops_home):
    parts = [PIECE] * 32  # 2 MiB, sent while the server has already refused
    status, headers, body = await raw_http("smops/api/models", {
        "Content-Type": "application/json", "Content-Length": str(32 * len(PIECE))}, parts, auth=False,
        after=_closed)
    assert status == 403 and _error(headers, body)["code"] == "Forbidden"


async def test_a_body_within_the_limit_is_still_read_whole(api, smops_home):
    # Streaming bodies must not change what a normal JSON request gets.
    code, body, _ = await api("POST", "cleanup", {"dry_run": True})
    assert code == 200 and body["dry_run"] is True
    code, body, _ = await api("POST", "cleanup", raw=b'{"dry_run": tr', headers={"Content-Type": "application/json"})
    assert code == 400 and "not valid JSON" in body["error"]["message"]


@pytest.mark.parametrize("client", ["requests", "urllib3"])
async def test_http_client_libraries_read_the_413(jp_fetch, jp_http_port, jp_base_url, jp_auth_header, smops_home,
                                                 client):
    import requests
    import urllib3

    url = f"http://127.0.0.1:{jp_http_port}{jp_base_url}smops/api/models"
    headers = {**jp_auth_header, "Content-Type": "application/json"}
    data = b"x" * (MAX_PAYLOAD_BYTES + 3 * 1024 * 1024)

    def send():
        if client == "requests":
            resp = requests.post(url, data=data, headers=headers, timeout=30)
            return resp.status_code, resp.json()
        resp = urllib3.PoolManager().request("POST", url, body=data, headers=headers, retries=False, timeout=30)
        return resp.status, json.loads(resp.data)

    status, body = await asyncio.get_running_loop().run_in_executor(None, send)
    assert status == 413 and body["error"]["code"] == "PayloadTooLarge"
