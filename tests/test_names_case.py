"""Names unique whatever their case on the local backend (issue 15 item 8): SageMaker treats
endpoint and model package group names case-insensitively, so a name valid here is valid there."""
from __future__ import annotations

import pytest

from jupyter_smops.core.config import SmopsConfig
from jupyter_smops.core.endpoints.local import LocalEndpoints
from jupyter_smops.core.errors import Conflict
from jupyter_smops.core.files import private_dir, write_json
from jupyter_smops.core.registry.local import LocalRegistry
from jupyter_smops.core.types import DeployOptions
from test_serving_support import version


def test_local_endpoint_names_are_unique_whatever_their_case(tmp_path):
    le = LocalEndpoints(SmopsConfig(home=str(tmp_path)))
    private_dir(le.root / "iris-v1")
    write_json(le.root / "iris-v1" / "state.json", {"name": "iris-v1", "owner": "me", "status": "Creating"})
    fetched = []
    with pytest.raises(Conflict, match="'iris-v1' already exists.*whatever their case"):
        le.deploy(version(), name="IRIS-V1", owner="me", options=DeployOptions(),
                  fetch=lambda mv: fetched.append(mv))
    assert not fetched and not (le.root / "IRIS-V1").exists()


def test_local_model_names_are_unique_whatever_their_case(tmp_path, iris_model):
    from jupyter_smops.core.packaging import build_package

    package = build_package(iris_model, sample=[[5.1, 3.5, 1.4, 0.2]], out=tmp_path / "model.tar.gz")
    registry = LocalRegistry(SmopsConfig(home=str(tmp_path / "home")))
    registry.push(package, name="iris", owner="me")
    with pytest.raises(Conflict, match="'iris' already exists.*push to iris"):
        registry.push(package, name="Iris", owner="me")
    assert registry.push(package, name="iris", owner="me").version == 2
    assert [m.name for m in registry.list_models()] == ["iris"]
