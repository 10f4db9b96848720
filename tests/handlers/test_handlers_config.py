"""The server extension reads ``c.SmopsConfig`` from the Jupyter server's own configuration."""
from __future__ import annotations

import pytest


@pytest.fixture
def jp_server_config(smops_backend):
    return {"ServerApp": {"jpserver_extensions": {"jupyter_smops": True}},
            "SmopsConfig": {"instance_type": "ml.m5.large", "require_approval": True, "owner": "alice"}}


async def test_server_config_reaches_the_core(api):
    code, status, _ = await api("GET", "status")
    assert code == 200
    assert (status["instance_type"], status["require_approval"], status["owner"]) == ("ml.m5.large", True, "alice")
