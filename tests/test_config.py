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
