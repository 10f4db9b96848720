"""With ``require_approval`` on, deploying a version that is not Approved is refused by the POST
itself (409, no job started); ``local: true`` deploys stay exempt, as in the core."""
from __future__ import annotations

import pytest


@pytest.fixture
def jp_server_config(smops_backend):
    return {"ServerApp": {"jpserver_extensions": {"jupyter_smops": True}},
            "SmopsConfig": {"require_approval": True}}


async def test_unapproved_versions_are_409_at_post_time(api, wait_job, fake_endpoints, store_version):
    store_version("iris")
    code, error, _ = await api("POST", "endpoints", {"model": "iris:1", "name": "iris-prod"})
    assert code == 409, error
    assert error["error"]["code"] == "Conflict"
    message = error["error"]["message"]
    assert "iris:1 is PendingManualApproval; this deployment requires Approved versions. Approve it first" in message
    # Refused before any work: no job, no endpoint.
    assert (await api("GET", "jobs"))[:2] == (200, {"jobs": []})
    assert (await api("GET", "endpoints/iris-prod"))[0] == 404

    code, rejected, _ = await api("POST", "models/iris/versions/1/approval", {"status": "Rejected"})
    assert code == 200 and rejected["approval_status"] == "Rejected"
    code, error, _ = await api("POST", "endpoints", {"model": "iris", "name": "iris-prod"})
    assert code == 409 and "iris:1 is Rejected" in error["error"]["message"], error

    code, approved, _ = await api("POST", "models/iris/versions/1/approval", {"status": "Approved"})
    assert code == 200 and approved["approval_status"] == "Approved"
    code, accepted, _ = await api("POST", "endpoints", {"model": "iris", "name": "iris-prod"})
    assert code == 202, accepted
    job = await wait_job(accepted["job"]["id"])
    assert job["state"] == "succeeded", job


async def test_local_deploys_are_exempt(api, wait_job, fake_endpoints, store_version):
    store_version("iris")
    code, accepted, _ = await api("POST", "endpoints", {"model": "iris", "name": "iris-try", "local": True})
    assert code == 202, accepted
    job = await wait_job(accepted["job"]["id"])
    assert job["state"] == "succeeded", job


def test_the_core_deploy_applies_the_same_rule(smops_home, fake_endpoints, store_version, monkeypatch):
    # Magics and the CLI plan through the core too (tests/test_deploy_plan.py runs both faces).
    from jupyter_smops.core.config import SmopsConfig
    from jupyter_smops.core.api import Smops
    from jupyter_smops.core.errors import Conflict

    monkeypatch.setenv("SMOPS_REQUIRE_APPROVAL", "true")
    store_version("iris")
    smops = Smops(SmopsConfig())
    with pytest.raises(Conflict, match="iris:1 is PendingManualApproval; this deployment requires Approved"):
        smops.deploy("iris", endpoint="iris-core")
    assert smops.deploy("iris", endpoint="iris-core", local=True).name == "iris-core"
