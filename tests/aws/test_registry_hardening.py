"""S3 registry hardening (issue 15 items 4, 5, 8) against a moto server."""
from __future__ import annotations

import pytest

from aws_helpers import make_package
from jupyter_smops.core.config import SmopsConfig
from jupyter_smops.core.errors import Conflict, NotFound
from jupyter_smops.core.registry.s3 import S3Registry

pytestmark = pytest.mark.aws


@pytest.fixture(autouse=True)
def _acting_as_alice(aws, monkeypatch):
    """These tests push as alice: she is the one acting (the registry's folder, the recorder's caller)."""
    monkeypatch.setenv("SMOPS_OWNER", "alice")


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
    assert "unset SMOPS_BUCKET" not in err.value.message and "c.SmopsConfig.bucket" in err.value.message
    monkeypatch.setenv("SMOPS_BUCKET", "team-registry")
    with pytest.raises(NotFound, match="unset SMOPS_BUCKET"):
        S3Registry(SmopsConfig()).push(make_package(tmp_path), name="iris", owner="alice")


def test_model_names_are_unique_whatever_their_case(config, raw, tmp_path):
    registry = S3Registry(config)
    registry.push(make_package(tmp_path / "1"), name="iris", owner="alice")
    with pytest.raises(Conflict, match="'iris' already exists.*whatever their case.*push to iris"):
        registry.push(make_package(tmp_path / "2"), name="IRIS", owner="alice")
    assert registry.push(make_package(tmp_path / "3"), name="iris", owner="alice").version == 2


def _smops(config, registry, tmp_path):
    from jupyter_smops.core.api import Smops
    from smops_testing.fakes import FakeEndpoints

    config.home = str(tmp_path / "home")
    fakes = FakeEndpoints(config)
    return Smops(config, registry=registry, endpoints=fakes, local_endpoints=fakes)


def _packages(raw, group="alice-big"):
    return [p["ModelPackageVersion"] for p in
            raw["sagemaker"].list_model_packages(ModelPackageGroupName=group)["ModelPackageSummaryList"]]


def test_a_push_that_died_is_shown_by_the_dry_run_swept_and_numbering_stays_with_the_packages(config, raw, tmp_path):
    """The issue's case: S3 lost mid-upload left v1/.claim and a pending multipart upload; the next
    push became big:2 while its model package was big/1."""
    registry = S3Registry(config)
    registry.ensure_bucket()
    assert registry.reserve("big", "alice")[0] == 1  # the push that died held package big/1 and v1...
    key = registry.key("big", 1)
    raw["s3"].create_multipart_upload(Bucket=BUCKET, Key=key)  # ...and had started its upload
    registry.stale_upload_seconds = 0  # (an hour later)
    smops = _smops(config, registry, tmp_path)
    smops._owner = "alice"
    preview = smops.cleanup(dry_run=True, include_registry=True)
    assert any("big/v1/.claim" in item and "died" in item and item.endswith("/alice-big/1)")
               for item in preview.leftovers), preview.leftovers
    assert any("multipart upload" in item and key in item for item in preview.leftovers), preview.leftovers
    assert raw["s3"].list_multipart_uploads(Bucket=BUCKET).get("Uploads") and _packages(raw) == [1]
    smops.cleanup(include_registry=True)
    assert not raw["s3"].list_multipart_uploads(Bucket=BUCKET).get("Uploads")
    assert raw["s3"].list_objects_v2(Bucket=BUCKET, Prefix="model-artifacts/alice/big/").get("KeyCount") == 0
    assert _packages(raw) == []
    # SageMaker never gives 1 again: the next push is big:2, registered as package big/2.
    mv = registry.push(make_package(tmp_path / "1"), name="big", owner="alice")
    assert mv.version == 2 and mv.model_package_arn.endswith("/alice-big/2") and _packages(raw) == [2]


def test_the_next_push_sweeps_a_dead_claim_of_its_model(config, raw, tmp_path):
    registry = S3Registry(config)
    registry.ensure_bucket()
    registry.reserve("big", "alice")  # a push of hers that died
    registry.stale_upload_seconds = 0
    mv = registry.push(make_package(tmp_path), name="big", owner="alice")
    assert mv.version == 2 and mv.model_package_arn.endswith("/alice-big/2") and _packages(raw) == [2]


def test_losing_s3_fails_in_seconds_not_minutes(config, monkeypatch, tmp_path):
    import socket
    import time

    from jupyter_smops.core.errors import SmopsError

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed once the block ends: S3 is gone
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", f"http://127.0.0.1:{port}")
    monkeypatch.delenv("AWS_MAX_ATTEMPTS")  # the default retries, as a user has them
    registry = S3Registry(config)
    start = time.monotonic()
    with pytest.raises(SmopsError):
        registry.push(make_package(tmp_path), name="iris", owner="alice")
    assert time.monotonic() - start < 25
