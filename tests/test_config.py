"""Settings: defaults, SMOPS_* overrides, backend auto-detection, Studio metadata."""
from __future__ import annotations

import json

import pytest

from jupyter_smops.core.config import SmopsConfig, read_studio_metadata
from jupyter_smops.core.errors import BadRequest


def test_env_overrides_defaults(monkeypatch, tmp_path):
    monkeypatch.setenv("SMOPS_BUCKET", "my-bucket")
    monkeypatch.setenv("SMOPS_PREFIX", "/models/")
    monkeypatch.setenv("SMOPS_HOME", str(tmp_path))
    monkeypatch.setenv("SMOPS_REQUIRE_APPROVAL", "true")
    monkeypatch.setenv("SMOPS_INSTANCE_TYPE", "ml.m5.large")
    cfg = SmopsConfig()
    assert cfg.bucket == "my-bucket" and cfg.prefix == "models"
    assert cfg.home_path == tmp_path and cfg.require_approval is True
    assert cfg.instance_type == "ml.m5.large"


def test_defaults(monkeypatch):
    for var in ("SMOPS_PREFIX", "SMOPS_INSTANCE_TYPE", "SMOPS_OWNER_TAG_KEY", "SMOPS_BACKEND"):
        monkeypatch.delenv(var, raising=False)
    cfg = SmopsConfig()
    assert (cfg.prefix, cfg.instance_type, cfg.owner_tag_key, cfg.backend) == (
        "model-artifacts", "ml.t2.medium", "studiouserid", "auto")


def test_traitlets_config_wins_over_env(monkeypatch):
    from traitlets.config import Config

    monkeypatch.setenv("SMOPS_BUCKET", "from-env")
    c = Config()
    c.SmopsConfig.bucket = "from-config"
    assert SmopsConfig(config=c).bucket == "from-config"


def test_auto_backend_follows_credentials(monkeypatch):
    monkeypatch.setenv("SMOPS_BACKEND", "auto")
    for var in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_PROFILE", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "")
    assert SmopsConfig().resolved_backend() == "local"
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAEXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret")
    assert SmopsConfig().resolved_backend() == "aws"
    monkeypatch.setenv("SMOPS_BACKEND", "local")
    assert SmopsConfig().resolved_backend() == "local"


def test_unknown_backend_is_a_clear_error(monkeypatch):
    monkeypatch.setenv("SMOPS_BACKEND", "azure")
    with pytest.raises(BadRequest, match="auto, local, aws"):
        SmopsConfig().backend


def test_studio_metadata(tmp_path, monkeypatch):
    meta = tmp_path / "resource-metadata.json"
    meta.write_text(json.dumps({"DomainId": "d-abc", "UserProfileName": "alice-profile",
                                "SpaceName": "alice-space",
                                "ExecutionRoleArn": "arn:aws:iam::123456789012:role/Exec"}))
    monkeypatch.setenv("SMOPS_STUDIO_METADATA", str(meta))
    monkeypatch.delenv("SMOPS_ROLE_ARN", raising=False)
    cfg = SmopsConfig()
    assert cfg.studio.detected and cfg.studio.domain_id == "d-abc"
    assert cfg.studio.user_profile_name == "alice-profile" and cfg.studio.space_name == "alice-space"
    assert cfg.role_arn == "arn:aws:iam::123456789012:role/Exec"
    assert not read_studio_metadata(tmp_path / "missing.json").detected
    (tmp_path / "bad.json").write_text("{not json")
    assert not read_studio_metadata(tmp_path / "bad.json").detected


def test_owner_default_is_sanitised_login(monkeypatch):
    monkeypatch.delenv("SMOPS_OWNER", raising=False)
    monkeypatch.setattr("getpass.getuser", lambda: "jane doe")
    assert SmopsConfig().default_owner() == "jane-doe"
    monkeypatch.setenv("SMOPS_OWNER", "alice123")
    assert SmopsConfig().default_owner() == "alice123"


# -- backend classes: Type traits -----------------------------------------------------------
def test_backend_classes_default_to_the_backends_own(monkeypatch, tmp_path):
    from jupyter_smops.core.endpoints import make_endpoints
    from jupyter_smops.core.endpoints.local import LocalEndpoints
    from jupyter_smops.core.registry import make_registry
    from jupyter_smops.core.registry.local import LocalRegistry

    monkeypatch.delenv("SMOPS_REGISTRY_CLASS", raising=False)
    monkeypatch.delenv("SMOPS_ENDPOINTS_CLASS", raising=False)
    cfg = SmopsConfig(home=str(tmp_path))
    assert cfg.registry_class is None and cfg.endpoints_class is None
    registry, endpoints = make_registry(cfg, "local"), make_endpoints(cfg, "local")
    assert type(registry) is LocalRegistry and registry.root == tmp_path / "registry"
    assert type(endpoints) is LocalEndpoints and endpoints.root == tmp_path / "endpoints"


def test_backend_class_from_a_dotted_name_in_the_environment(monkeypatch, smops_home):
    from smops_testing.fakes import FakeEndpoints

    from jupyter_smops.core.api import Smops

    monkeypatch.setenv("SMOPS_ENDPOINTS_CLASS", "smops_testing.fakes.FakeEndpoints")
    cfg = SmopsConfig()
    assert cfg.endpoints_class is FakeEndpoints
    assert isinstance(Smops(cfg).endpoints, FakeEndpoints)


def test_backend_class_object_in_traitlets_config_wins_over_the_environment(monkeypatch, smops_home):
    from traitlets.config import Config

    from jupyter_smops.core.api import Smops
    from jupyter_smops.core.registry.local import LocalRegistry

    class CountingRegistry(LocalRegistry):
        built = 0

        def __init__(self, config):
            super().__init__(config)
            CountingRegistry.built += 1

    monkeypatch.setenv("SMOPS_REGISTRY_CLASS", "no.such.Registry")
    c = Config()
    c.SmopsConfig.registry_class = CountingRegistry
    smops = Smops(SmopsConfig(config=c))
    assert isinstance(smops.registry, CountingRegistry) and CountingRegistry.built == 1
    assert smops.registry.root == smops_home / "registry"


def test_unusable_backend_classes_are_clear_errors(monkeypatch):
    from traitlets import TraitError
    from traitlets.config import Config

    monkeypatch.setenv("SMOPS_ENDPOINTS_CLASS", "smops_testing.fakes.NoSuchClass")
    with pytest.raises(BadRequest, match="SMOPS_ENDPOINTS_CLASS=.*dotted name of an importable class"):
        SmopsConfig().endpoints_class
    monkeypatch.setenv("SMOPS_ENDPOINTS_CLASS", "jupyter_smops.core.registry.local.LocalRegistry")
    with pytest.raises(BadRequest, match="SMOPS_ENDPOINTS_CLASS"):  # a registry is not endpoints
        SmopsConfig().endpoints_class
    c = Config()
    c.SmopsConfig.registry_class = dict
    with pytest.raises(TraitError, match="Registry"):
        SmopsConfig(config=c)
