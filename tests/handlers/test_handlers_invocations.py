"""Invocations stream their body: an oversized one is refused from its headers (or, chunked, as
soon as it passes 6 MiB), after Jupyter's authentication, and is never held in memory whole.

These tests speak raw HTTP/1.1 over a socket where they need to send what an HTTP client would
not: a Content-Length the body does not live up to, or a chunked body left unfinished. A server
that read the whole body before answering would wait for the missing bytes and time out here.
"""
from __future__ import annotations

import asyncio
import json

import pytest

from raw_http_helpers import chunk as _chunk
from raw_http_helpers import json_error as _error

from jupyter_smops.core.config import SmopsConfig
from jupyter_smops.core.endpoints.base import MAX_PAYLOAD_BYTES
from smops_testing.fakes import FakeEndpoints

ROUTE = "smops/api/endpoints/{}/invocations"
ROW = b'{"instances": [[5.1, 3.5, 1.4, 0.2]]}'
ANSWER_WITHIN = 5.0  # seconds; the server has every byte it will get by then


@pytest.fixture
def serving(smops_home, fake_endpoints, store_version):
    """iris:1 and two fake endpoints; ``iris-ep-0001`` is InService (``-0000`` is set to fail)."""
    store_version("iris")
    FakeEndpoints(SmopsConfig()).seed(2, "iris", 1, "tester")
    return "iris-ep-0001"


async def test_content_length_over_the_limit_is_413_before_the_body_arrives(raw_http, serving):
    claimed = MAX_PAYLOAD_BYTES + 1_048_576
    status, headers, body = await raw_http(ROUTE.format(serving), {
        "Content-Type": "application/json", "Content-Length": str(claimed)}, [ROW])
    assert status == 413
    error = _error(headers, body)
    assert error["code"] == "PayloadTooLarge"
    assert f"{claimed:,} bytes" in error["message"] and "6 MiB" in error["message"]
    assert "batch transform" in error["message"]  # what to do next


async def test_expect_100_continue_gets_the_413_instead_of_the_go_ahead(raw_http, serving):
    status, headers, body = await raw_http(ROUTE.format(serving), {
        "Content-Type": "application/json", "Content-Length": str(MAX_PAYLOAD_BYTES + 1),
        "Expect": "100-continue"}, [])
    assert status == 413 and _error(headers, body)["code"] == "PayloadTooLarge"


async def test_content_length_at_the_limit_is_read(raw_http, serving):
    # Exactly 6 MiB passes the size check; this one is declared but not sent, so only the
    # absence of a quick 413 is checked: the server waits for the body, as it should.
    with pytest.raises(AssertionError, match="waiting for the rest"):
        await raw_http(ROUTE.format(serving), {"Content-Type": "application/json",
                                               "Content-Length": str(MAX_PAYLOAD_BYTES)}, [ROW], wait=1.0)


async def test_chunked_body_is_cut_off_once_past_the_limit(raw_http, serving):
    mib = b"x" * 1_048_576
    parts = [_chunk(mib)] * 6 + [_chunk(b"y" * 1024)]  # 6 MiB + 1 KiB, and no final 0-chunk
    status, headers, body = await raw_http(ROUTE.format(serving), {
        "Content-Type": "application/json", "Transfer-Encoding": "chunked"}, parts)
    assert status == 413
    error = _error(headers, body)
    assert error["code"] == "PayloadTooLarge"
    assert f"more than {MAX_PAYLOAD_BYTES:,} bytes" in error["message"]


async def test_chunked_body_within_the_limit_is_invoked_whole(raw_http, serving):
    parts = [_chunk(ROW[:10]), _chunk(ROW[10:]), b"0\r\n\r\n"]
    status, headers, body = await raw_http(ROUTE.format(serving), {
        "Content-Type": "application/json", "Transfer-Encoding": "chunked", "Connection": "close"}, parts)
    assert status == 200, body
    assert json.loads(body) == {"predictions": [0]}


async def test_a_normal_invocation_still_works(api, serving):
    code, body, headers = await api("POST", ROUTE.format(serving).removeprefix("smops/api/"), raw=ROW,
                                    headers={"Content-Type": "application/json"})
    assert code == 200, body
    assert body == {"predictions": [0]} and float(headers["X-Smops-Latency-Ms"]) > 0


async def test_an_oversized_body_from_an_http_client_gets_the_413(api, serving):
    code, body, _ = await api("POST", ROUTE.format(serving).removeprefix("smops/api/"),
                              raw=b"x" * (MAX_PAYLOAD_BYTES + 1), headers={"Content-Type": "application/json"})
    assert code == 413 and body["error"]["code"] == "PayloadTooLarge", body


@pytest.mark.parametrize("auth", [None, "token not-the-token"], ids=["no-token", "wrong-token"])
async def test_strangers_get_403_not_413(raw_http, serving, auth):
    # Authentication comes before the size check: without credentials even a huge request is 403.
    headers = {"Content-Type": "application/json", "Content-Length": str(MAX_PAYLOAD_BYTES * 2)}
    if auth:
        headers["Authorization"] = auth
    status, answer_headers, body = await raw_http(ROUTE.format(serving), headers, [ROW], auth=False)
    assert status == 403
    assert _error(answer_headers, body)["code"] == "Forbidden"


async def test_cookie_sessions_still_need_xsrf(jp_fetch, jp_serverapp, raw_http, serving):
    login = await jp_fetch("lab", headers={"Authorization": ""}, raise_error=False, follow_redirects=False,
                           params={"token": jp_serverapp.identity_provider.token})
    jar = {}
    for header in login.headers.get_list("Set-Cookie"):
        name, _, rest = header.partition("=")
        jar[name] = rest.split(";")[0]
    cookie = "; ".join(f"{k}={v}" for k, v in jar.items())
    big = {"Content-Type": "application/json", "Content-Length": str(MAX_PAYLOAD_BYTES * 2), "Cookie": cookie}
    status, headers, body = await raw_http(ROUTE.format(serving), big, [ROW], auth=False)
    assert status == 403 and "xsrf" in _error(headers, body)["message"].lower()
    status, headers, body = await raw_http(ROUTE.format(serving), {**big, "X-XSRFToken": jar["_xsrf"]},
                                           [ROW], auth=False)
    assert status == 413  # past XSRF, refused for its size
    small = {"Content-Type": "application/json", "Content-Length": str(len(ROW)), "Cookie": cookie,
             "X-XSRFToken": jar["_xsrf"], "Connection": "close"}
    status, _, body = await raw_http(ROUTE.format(serving), small, [ROW], auth=False)
    assert status == 200 and json.loads(body) == {"predictions": [0]}
