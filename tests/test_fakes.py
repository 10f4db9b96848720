"""The fault-injecting backend chosen through config drives the same core operations."""
from __future__ import annotations

import pytest

from jupyter_smops.core import Smops
from jupyter_smops.core.endpoints.base import DeployOptions
from jupyter_smops.core.errors import Conflict, ModelError, NotFound, UpstreamError
from smops_testing.fakes import FakeEndpoints

from test_registry_local import make_package


@pytest.fixture
def fake_smops(smops_home, monkeypatch, tmp_path):
    monkeypatch.setenv("SMOPS_ENDPOINTS_CLASS", "smops_testing.fakes.FakeEndpoints")
    monkeypatch.setenv("SMOPS_FAKE_DEPLOY_SECONDS", "0.3")
    smops = Smops()
    smops.registry.push(make_package(tmp_path), name="iris", owner="tester")
    return smops


def test_config_selects_the_fake_and_the_flow_works(fake_smops):
    assert isinstance(fake_smops.endpoints, FakeEndpoints)
    ep = fake_smops.deploy("iris", endpoint="iris-fake", options=DeployOptions(wait=False))
    assert ep.status == "Creating"
    with pytest.raises(Conflict):
        fake_smops.deploy("iris", endpoint="iris-fake")
    ep = fake_smops.deploy("iris:1", endpoint="iris-fake-2")
    assert ep.status == "InService"
    result = fake_smops.predict("iris-fake-2", {"instances": [[5.1, 3.5, 1.4, 0.2]]})
    assert result.decoded() == {"predictions": [0]}
    assert {e.name for e in fake_smops.list_endpoints()} == {"iris-fake", "iris-fake-2"}
    assert fake_smops.cleanup(dry_run=False).endpoints
    assert fake_smops.list_endpoints() == []
    with pytest.raises(NotFound):
        fake_smops.delete("iris-fake")


def test_injected_failures(fake_smops, monkeypatch):
    monkeypatch.setenv("SMOPS_FAKE_FAIL", "deploy,invoke")
    smops = Smops()
    with pytest.raises(UpstreamError, match="ping health check"):
        smops.deploy("iris", endpoint="broken")
    assert smops.describe_endpoint("broken").failure_reason
    monkeypatch.setenv("SMOPS_FAKE_FAIL", "invoke")
    smops = Smops()
    smops.deploy("iris", endpoint="ok-one")
    with pytest.raises(ModelError) as err:
        smops.predict("ok-one", {"instances": [[1, 2, 3, 4]]})
    assert err.value.status == 424 and err.value.original_status == 500
