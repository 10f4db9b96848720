"""S3 registry hardening (issue 15 items 4, 5, 8) against a moto server."""
from __future__ import annotations

import pytest

from aws_helpers import make_package
from jupyter_smops.core.config import SmopsConfig
from jupyter_smops.core.errors import Conflict, NotFound
from jupyter_smops.core.registry.s3 import S3Registry

pytestmark = pytest.mark.aws
BUCKET = "sagemaker-us-east-1-123456789012"


def _empty_and_delete_bucket(s3, bucket=BUCKET):
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        for obj in page.get("Contents", []):
            s3.delete_object(Bucket=bucket, Key=obj["Key"])
    s3.delete_bucket(Bucket=bucket)


def test_a_running_registry_recreates_a_deleted_default_bucket(config, raw, tmp_path):
    registry = S3Registry(config)
    registry.push(make_package(tmp_path / "1"), name="iris", owner="alice")
    _empty_and_delete_bucket(raw["s3"])
    mv = registry.push(make_package(tmp_path / "2", payload=b"two"), name="iris", owner="alice")
    assert mv.uri.startswith(f"s3://{BUCKET}/")
    raw["s3"].head_object(Bucket=BUCKET, Key=mv.uri.split(BUCKET + "/", 1)[1])


def test_the_missing_bucket_hint_names_only_the_setting_in_use(aws, monkeypatch, tmp_path):
    monkeypatch.delenv("SMOPS_BUCKET", raising=False)
    registry = S3Registry(SmopsConfig(bucket="team-registry"))
    with pytest.raises(NotFound) as err:
        registry.push(make_package(tmp_path), name="iris", owner="alice")
    assert "SMOPS_BUCKET" not in err.value.message and "c.SmopsConfig.bucket" in err.value.message
    monkeypatch.setenv("SMOPS_BUCKET", "team-registry")
    with pytest.raises(NotFound, match="unset SMOPS_BUCKET"):
        S3Registry(SmopsConfig()).push(make_package(tmp_path), name="iris", owner="alice")


def test_model_names_are_unique_whatever_their_case(config, raw, tmp_path):
    registry = S3Registry(config)
    registry.push(make_package(tmp_path / "1"), name="iris", owner="alice")
    with pytest.raises(Conflict, match="'iris' already exists.*whatever their case.*push to iris"):
        registry.push(make_package(tmp_path / "2"), name="IRIS", owner="alice")
    assert registry.push(make_package(tmp_path / "3"), name="iris", owner="alice").version == 2
