"""What schemathesis found where the server and docs/openapi.yaml disagreed, each pinned here:
a non-boolean ``all_owners`` was read as false, an invocation body that cannot be what its own
Content-Type says was forwarded (and came back as the model's 424, or worse, a prediction), and
durations too long for a date were accepted and failed in the deploy job."""
from __future__ import annotations

import pytest

from jupyter_smops.core.config import SmopsConfig
from smops_testing.fakes import FakeEndpoints


@pytest.fixture
def serving(smops_home, fake_endpoints, store_version):
    store_version("iris")
    FakeEndpoints(SmopsConfig()).seed(2, "iris", 1, "tester")
    return "iris-ep-0001"


@pytest.mark.parametrize("value", ["null", "1", "yes", "", "TRUE", "2.3e307"])
async def test_all_owners_must_be_a_boolean(api, smops_home, value):
    code, body, _ = await api("GET", "endpoints", params={"all_owners": value})
    assert code == 400, body
    assert "'all_owners' must be true or false" in body["error"]["message"]


@pytest.mark.parametrize("value", ["true", "false"])
async def test_all_owners_true_and_false_are_read(api, smops_home, value):
    code, body, _ = await api("GET", "endpoints", params={"all_owners": value})
    assert code == 200 and body["endpoints"] == []


async def test_a_json_body_that_does_not_parse_is_400_not_forwarded(api, serving):
    code, body, _ = await api("POST", f"endpoints/{serving}/invocations", raw=b'{"instances": [[5.1, 3.5',
                              headers={"Content-Type": "application/json"})
    assert code == 400 and "not valid JSON" in body["error"]["message"], body
    assert "text/csv" in body["error"]["message"]  # what to do if it was not meant as JSON


async def test_text_that_is_not_utf8_is_400(api, serving):
    code, body, _ = await api("POST", f"endpoints/{serving}/invocations", raw=b"\xfd\xfe,1.0\n",
                              headers={"Content-Type": "text/csv"})
    assert code == 400 and "not UTF-8 text" in body["error"]["message"], body


async def test_json_text_declared_as_csv_is_forwarded_as_declared(api, serving):
    # As InvokeEndpoint does: the server does not second-guess the declared type; the model reads
    # the body as CSV (the fake answers; a real container answers 424 ModelError when it cannot).
    code, body, _ = await api("POST", f"endpoints/{serving}/invocations", raw=b'{"instances": [[5.1, 3.5, 1.4, 0.2]]}',
                              headers={"Content-Type": "text/csv"})
    assert code == 200, body


async def test_binary_bodies_pass_untouched(api, serving):
    code, body, _ = await api("POST", f"endpoints/{serving}/invocations", raw=b"\x93NUMPY\x01\x00\xff",
                              headers={"Content-Type": "application/x-npy"})
    assert code == 200, body


@pytest.mark.parametrize("expires_in", ["451143927081449", "99999999d"])
async def test_a_duration_past_what_dates_hold_is_400_at_the_deploy(api, serving, expires_in):
    code, body, _ = await api("POST", "endpoints", {"model": "iris", "name": "far-away", "expires_in": expires_in})
    assert code == 400, body
    assert "longer than 1,000,000 days" in body["error"]["message"] and "no_expiry" in body["error"]["message"]
    code, jobs, _ = await api("GET", "jobs")
    assert jobs["jobs"] == []


async def test_a_duration_past_what_dates_hold_is_400_at_extend(api, serving):
    code, body, _ = await api("POST", f"endpoints/{serving}/expiry", {"by": "451143927081449"})
    assert code == 400 and "longer than 1,000,000 days" in body["error"]["message"], body


async def test_a_missing_xsrf_token_says_how_to_authenticate(jp_fetch, jp_serverapp, raw_http, smops_home):
    login = await jp_fetch("lab", headers={"Authorization": ""}, raise_error=False, follow_redirects=False,
                           params={"token": jp_serverapp.identity_provider.token})
    cookie = "; ".join(h.split(";")[0] for h in login.headers.get_list("Set-Cookie"))
    status, _, body = await raw_http("smops/api/cleanup", {"Content-Type": "application/json", "Content-Length": "2",
                                                           "Cookie": cookie}, [b"{}"], auth=False)
    assert status == 403
    assert b"_xsrf" in body and b"Authorization: token" in body
