"""GET /smops/api/status and GET /smops/api/models over HTTP (local backend)."""
from __future__ import annotations

import pytest
from tornado.httpclient import HTTPClientError



async def test_status_reports_backend_owner_and_versions(api, smops_home):
    import jupyter_smops

    code, body, headers = await api("GET", "status")
    assert code == 200
    assert headers["Content-Type"].startswith("application/json")
    assert body["backend"] == "local"
    assert body["owner"] == "tester"
    assert body["version"] == jupyter_smops.__version__
    assert body["api_version"] == 1
    assert body["registry"]["kind"] == "local"
    assert body["home"] == str(smops_home)
    assert body["studio"]["detected"] is False


async def test_models_lists_names_and_versions(api, store_version):
    code, body, _ = await api("GET", "models")
    assert (code, body) == (200, {"models": []})
    store_version("iris", b"first")
    store_version("iris", b"second")
    store_version("churn", b"other")
    code, body, _ = await api("GET", "models")
    assert code == 200
    by_name = {m["name"]: m for m in body["models"]}
    assert sorted(by_name) == ["churn", "iris"]
    assert [v["version"] for v in by_name["iris"]["versions"]] == [1, 2]
    assert by_name["iris"]["versions"][0]["created_by"] == "tester"
    code, one, _ = await api("GET", "models/iris")
    assert code == 200 and [v["version"] for v in one["versions"]] == [1, 2]


@pytest.mark.parametrize("route", ["status", "models"])
async def test_status_and_models_refuse_requests_without_a_token(jp_fetch, route):
    with pytest.raises(HTTPClientError) as info:
        await jp_fetch("smops", "api", route, headers={"Authorization": ""})
    assert info.value.code == 403
    with pytest.raises(HTTPClientError) as info:
        await jp_fetch("smops", "api", route, headers={"Authorization": "token wrong-token"})
    assert info.value.code == 403
