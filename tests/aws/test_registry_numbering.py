"""S3 versions and SageMaker model package versions always have one number (issue 15 item 4).

SageMaker numbers a group's packages 1, 2, ... and never gives a deleted package's number again;
the moto server is patched to do the same (moto_packages.py). Before the package became the
number's source, a rolled-back push or a deleted latest version made the next push ``big:2``
with package ``big/3`` (or ``big/1``), and approving ``big:2`` approved another number.
"""
from __future__ import annotations

import json

import pytest

from aws_helpers import make_package
from jupyter_smops.core.errors import Conflict, UpstreamError
from jupyter_smops.core.registry.s3 import S3Registry

pytestmark = pytest.mark.aws
BUCKET = "sagemaker-us-east-1-123456789012"
GROUP = "alice-big"


@pytest.fixture(autouse=True)
def _acting_as_alice(aws, monkeypatch):
    monkeypatch.setenv("SMOPS_OWNER", "alice")


@pytest.fixture
def registry(config):
    return S3Registry(config)


def _packages(raw, group=GROUP) -> dict[int, dict]:
    """{number: description} of the group's packages."""
    sm = raw["sagemaker"]
    return {p["ModelPackageVersion"]: sm.describe_model_package(ModelPackageName=p["ModelPackageArn"])
            for p in sm.list_model_packages(ModelPackageGroupName=group)["ModelPackageSummaryList"]}


def _keys(raw, prefix="model-artifacts/alice/big/"):
    return sorted(o["Key"] for o in raw["s3"].list_objects_v2(Bucket=BUCKET, Prefix=prefix).get("Contents", []))


def _assert_in_step(registry, raw):
    """Every version's package has the version's number and points at the version's artifact; no other package."""
    versions = registry.list_models("big")[0].versions
    packages = _packages(raw)
    assert sorted(packages) == [mv.version for mv in versions]
    for mv in versions:
        assert mv.model_package_arn.endswith(f"/{GROUP}/{mv.version}")
        package = packages[mv.version]
        assert package["InferenceSpecification"]["Containers"][0]["ModelDataUrl"] == mv.uri
        assert package["CustomerMetadataProperties"] == {"smops:version": str(mv.version), "sha256": mv.sha256,
                                                         "artifact": mv.uri}


def test_a_rolled_back_push_burns_its_number_and_the_next_push_keeps_in_step(registry, raw, tmp_path):
    registry.push(make_package(tmp_path / "1"), name="big", owner="alice")
    faults_on_upload(registry)
    with pytest.raises(UpstreamError):
        registry.push(make_package(tmp_path / "2", payload=b"two"), name="big", owner="alice")
    assert sorted(_packages(raw)) == [1]  # the failed push's package big/2 is gone...
    mv = registry.push(make_package(tmp_path / "3", payload=b"three"), name="big", owner="alice")
    assert mv.version == 3  # ...and its number with it: big:3 is package big/3
    assert [v.version for v in registry.list_models("big")[0].versions] == [1, 3]
    _assert_in_step(registry, raw)
    assert not [k for k in _keys(raw) if "/v2/" in k or k.endswith(".claim")]


def faults_on_upload(registry):
    """Fail the next artifact upload (a PUT of model.tar.gz), letting claims and metadata through."""
    from botocore.exceptions import EndpointConnectionError

    state = {"armed": True}

    def hook(params, **kwargs):
        if state["armed"] and params["url_path"].endswith("/model.tar.gz"):
            state["armed"] = False
            raise EndpointConnectionError(endpoint_url="http://127.0.0.1")
    registry.s3.meta.events.register_first("before-call.s3.PutObject", hook)


def test_deleting_the_latest_version_then_pushing_keeps_in_step(registry, raw, tmp_path):
    for i in (1, 2):
        registry.push(make_package(tmp_path / str(i), payload=str(i).encode()), name="big", owner="alice")
    registry.delete_version("big", 2)
    assert sorted(_packages(raw)) == [1]
    mv = registry.push(make_package(tmp_path / "3", payload=b"3"), name="big", owner="alice")
    assert mv.version == 3 and mv.model_package_arn.endswith(f"/{GROUP}/3")
    _assert_in_step(registry, raw)


def test_approve_and_reject_after_a_delete_change_the_package_of_the_same_number(registry, raw, tmp_path):
    for i in (1, 2):
        registry.push(make_package(tmp_path / str(i), payload=str(i).encode()), name="big", owner="alice")
    registry.delete_version("big", 2)
    registry.push(make_package(tmp_path / "3", payload=b"3"), name="big", owner="alice")
    registry.set_approval("big", 3, "Approved")
    registry.set_approval("big", 1, "Rejected")
    statuses = {n: p["ModelApprovalStatus"] for n, p in _packages(raw).items()}
    assert statuses == {1: "Rejected", 3: "Approved"}
    assert [(v.version, v.approval_status) for v in registry.list_models("big")[0].versions] == [
        (1, "Rejected"), (3, "Approved")]


def _legacy_skew(registry, raw, tmp_path):
    """What the issue found, as an older release left it: big:2 in S3 whose package is big/1."""
    registry.ensure_bucket()
    registry.packages.ensure_group(GROUP, "alice", model="big")
    arn = raw["sagemaker"].create_model_package(ModelPackageGroupName=GROUP,
                                                ModelApprovalStatus="PendingManualApproval")["ModelPackageArn"]
    package = make_package(tmp_path / "legacy")
    meta = {"name": "big", "version": 2, "sha256": package.sha256, "size": package.size, "framework": "sklearn",
            "framework_version": "1.9.1", "serving_version": "1.9-0", "model_file": "model.joblib",
            "created_at": "2026-01-01T00:00:00Z", "created_by": "alice", "source": None,
            "approval_status": "PendingManualApproval", "model_package_arn": arn}
    raw["s3"].put_object(Bucket=BUCKET, Key=registry.key("big", 2), Body=open(package.path, "rb").read())
    raw["s3"].put_object(Bucket=BUCKET, Key=registry.key("big", 2, "smops.json"), Body=json.dumps(meta).encode())
    return arn


def test_approving_a_version_an_older_release_numbered_apart_is_refused(registry, raw, tmp_path):
    _legacy_skew(registry, raw, tmp_path)
    for status in ("Approved", "Rejected"):
        with pytest.raises(Conflict, match=r"big:2 was registered as model package alice-big/1 .*Push the model again"):
            registry.set_approval("big", 2, status)
    assert _packages(raw)[1]["ModelApprovalStatus"] == "PendingManualApproval"  # package 1 untouched
    assert registry.get("big", 2).approval_status == "PendingManualApproval"


def test_a_number_an_older_release_used_in_s3_is_skipped_not_overwritten(registry, raw, tmp_path):
    _legacy_skew(registry, raw, tmp_path)  # SageMaker's next number is 2, but S3 holds big:2 already
    mv = registry.push(make_package(tmp_path / "new", payload=b"new"), name="big", owner="alice")
    assert mv.version == 3 and mv.model_package_arn.endswith(f"/{GROUP}/3")
    assert sorted(_packages(raw)) == [1, 3]  # the package that got 2 was deleted again
    assert registry.get("big", 2).sha256 != mv.sha256  # the old big:2 is intact


def test_when_sagemaker_will_not_complete_a_package_the_version_moves_to_a_complete_one(registry, raw, tmp_path,
                                                                                       caplog, recorded):
    import moto_packages

    moto_packages.Switches.refuse_spec_updates = True
    with caplog.at_level("WARNING", logger="jupyter_smops"):
        mv = registry.push(make_package(tmp_path), name="big", owner="alice")
    assert "would not add the inference specification" in caplog.text
    # Package big/1 (reserved) could not take the specification: big/2 was made complete, the
    # artifact copied to v2, and big/1 and v1 removed.
    assert mv.version == 2 and mv.model_package_arn.endswith(f"/{GROUP}/2")
    assert _keys(raw) == ["model-artifacts/alice/big/v2/model.tar.gz", "model-artifacts/alice/big/v2/smops.json"]
    _assert_in_step(registry, raw)
    assert registry.fetch(mv, tmp_path / "fetched").exists()
    # The same tags as a reserved package (which is tagged before SageMaker gives its number): the
    # number is the ARN's and the customer metadata's smops:version, never a tag some packages lack.
    # (moto's ListTags cannot read a versioned package's ARN: the tags are read from the requests.)
    made = [call.params for call in recorded.calls if call.operation == "CreateModelPackage"]
    assert [bool(p.get("InferenceSpecification")) for p in made] == [False, True]  # reserved, then complete
    tags = [{t["Key"]: t["Value"] for t in p["Tags"]} for p in made]
    assert tags[0] == tags[1] == {"studiouserid": "alice", "smops:model": "big"}


def test_a_package_reserved_by_a_push_killed_before_its_claim_is_found_and_removed(registry, raw, tmp_path):
    from jupyter_smops.core.api import Smops
    from smops_testing.fakes import FakeEndpoints

    registry.push(make_package(tmp_path / "1"), name="big", owner="alice")
    # Killed between CreateModelPackage's answer and the claim's PUT: a package, nothing in S3.
    registry.packages.reserve("big", "alice", f"s3://{BUCKET}/model-artifacts/alice/big/")
    registry.stale_upload_seconds = 0  # (an hour later)
    config = registry.config
    config.home = str(tmp_path / "home")
    fakes = FakeEndpoints(config)
    smops = Smops(config, registry=registry, endpoints=fakes, local_endpoints=fakes)
    smops._owner = "alice"
    preview = smops.cleanup(dry_run=True, include_registry=True)
    orphan = [item for item in preview.leftovers if item.startswith("model package ")]
    assert len(orphan) == 1 and f"/{GROUP}/2 (reserved by a push of big that died" in orphan[0], preview.leftovers
    assert sorted(_packages(raw)) == [1, 2]
    smops.cleanup(include_registry=True)
    assert sorted(_packages(raw)) == []  # the orphan, and big:1 (cleanup --include-registry deletes versions)
    assert registry.list_models() == []


def test_a_package_that_cannot_be_deleted_is_recorded_for_cleanup(registry, raw, tmp_path):
    from aws_helpers import Faults

    mv = registry.push(make_package(tmp_path), name="big", owner="alice")
    Faults(registry.sagemaker).fail("DeleteModelPackage", "ThrottlingException", "Rate exceeded", times=1)
    registry.delete_version("big", 1)
    assert sorted(_packages(raw)) == [1]  # still there...
    assert _keys(raw) == ["model-artifacts/alice/big/v1/.claim"]  # ...and a claim names it
    registry.stale_upload_seconds = 0  # (an hour later)
    preview = registry.leftovers("alice", dry_run=True)
    assert preview == [f"s3://{BUCKET}/model-artifacts/alice/big/v1/.claim (its model package could not be deleted, "
                       f"claimed {preview[0].split('claimed ')[1].split(';')[0]}; its model package "
                       f"{mv.model_package_arn})"]
    assert registry.leftovers("alice") == preview
    assert _packages(raw) == {} and _keys(raw) == []


def test_a_failed_claim_of_the_moved_number_leaves_no_package(registry, raw, tmp_path):
    import moto_packages
    from botocore.exceptions import EndpointConnectionError

    moto_packages.Switches.refuse_spec_updates = True
    claims = []

    def hook(params, **kwargs):  # the reserve's claim of v1 goes through; the move's claim of v2 cannot
        if params["url_path"].endswith("/.claim"):
            claims.append(params["url_path"])
            if len(claims) == 2:
                raise EndpointConnectionError(endpoint_url="http://127.0.0.1")
    registry.s3.meta.events.register_first("before-call.s3.PutObject", hook)
    with pytest.raises(UpstreamError):
        registry.push(make_package(tmp_path), name="big", owner="alice")
    assert [c.rsplit("/", 2)[-2] for c in claims] == ["v1", "v2"]
    # Package big/2, made complete by the move (not marked as pushing, so no sweep would find it), is gone too.
    assert _packages(raw) == {} and _keys(raw) == []


def test_an_orphan_deleted_by_someone_else_while_cleanup_reads_it_is_skipped(registry, raw, tmp_path):
    registry.push(make_package(tmp_path), name="big", owner="alice")
    orphan = registry.packages.reserve("big", "alice", f"s3://{BUCKET}/model-artifacts/alice/big/")
    registry.stale_upload_seconds = 0

    def hook(params, **kwargs):  # a concurrent cleanup deletes it between the listing and the describe
        if params.get("ModelPackageName") == orphan:
            raw["sagemaker"].delete_model_package(ModelPackageName=orphan)
    registry.sagemaker.meta.events.register_first("provide-client-params.sagemaker.DescribeModelPackage", hook)
    assert registry.leftovers("alice", dry_run=True) == []
    assert sorted(_packages(raw)) == [1]


@pytest.mark.iam_unchecked  # the ABAC policy names the default prefix; this one is 180 characters
def test_long_prefix_owner_and_name_keep_every_package_metadata_value_within_sagemakers_limit(aws, raw, tmp_path):
    """CustomerMetadataProperties values are at most 256 characters (botocore's CustomerMetadataValue);
    the artifact's URI with a long prefix, owner and model name is longer, and must still be recoverable."""
    from jupyter_smops.core.config import SmopsConfig
    from jupyter_smops.core.registry.model_packages import artifact_from_metadata

    owner, name = "o" * 80, "n" * 63
    registry = S3Registry(SmopsConfig(prefix="p" * 180, owner=owner))
    mv = registry.push(make_package(tmp_path / "1"), name=name, owner=owner)
    assert len(mv.uri) > 256
    facts = raw["sagemaker"].describe_model_package(ModelPackageName=mv.model_package_arn)["CustomerMetadataProperties"]
    assert all(0 < len(v) <= 256 for v in facts.values()) and all(len(k) <= 128 for k in facts)
    assert artifact_from_metadata(facts) == mv.uri
    assert facts["smops:version"] == "1" and facts["sha256"] == mv.sha256


# The sweep describes the older release's package 1, made outside the recorder (its owner tag unknown to the check).
@pytest.mark.iam_unchecked
def test_a_skipped_number_whose_package_cannot_be_deleted_is_recorded_for_cleanup(registry, raw, tmp_path):
    from aws_helpers import Faults

    _legacy_skew(registry, raw, tmp_path)  # package 2's folder holds big:2: no claim can go there
    Faults(registry.sagemaker).fail("DeleteModelPackage", "ThrottlingException", "Rate exceeded", times=1)
    mv = registry.push(make_package(tmp_path / "new", payload=b"new"), name="big", owner="alice")
    assert mv.version == 3 and sorted(_packages(raw)) == [1, 2, 3]  # package 2 is still there...
    record = "model-artifacts/alice/big/.packages/alice-big-2/.claim"
    assert record in _keys(raw)  # ...and a claim beside the versions names it
    registry.stale_upload_seconds = 0  # (an hour later)
    preview = registry.leftovers("alice", dry_run=True)
    assert len(preview) == 1 and preview[0].startswith(f"s3://{BUCKET}/{record} (its model package could not be "
                                                        f"deleted") and preview[0].endswith(f"/{GROUP}/2)")
    registry.leftovers("alice")
    assert sorted(_packages(raw)) == [1, 3] and record not in _keys(raw)
    assert [v.version for v in registry.list_models("big")[0].versions] == [2, 3]


def test_a_push_makes_a_bounded_number_of_aws_calls(registry, recorded, tmp_path):
    """A push's sweeps share one listing of the model's objects and one of its multipart uploads, and
    list only packages old enough to be debris: 19 calls per push before, 15 now (moto, third version)."""
    from collections import Counter

    recorded.last_owner = "alice"
    for i in range(3):
        registry.push(make_package(tmp_path / str(i), payload=str(i).encode()), name="big", owner="alice")
    first = len(recorded.calls)
    registry.push(make_package(tmp_path / "4", payload=b"4"), name="big", owner="alice")
    ops = Counter(f"{c.service}.{c.operation}" for c in recorded.calls[first:])
    assert ops["s3.ListMultipartUploads"] == 1 and ops["s3.ListObjectsV2"] <= 3, ops
    assert ops["sagemaker.DescribeModelPackage"] == 0 and ops["sagemaker.ListModelPackages"] == 1, ops
    assert sum(ops.values()) <= 15, ops


def test_a_failed_publish_whose_objects_and_package_both_stay_is_recorded_for_cleanup(registry, raw, tmp_path):
    from aws_helpers import Faults
    from botocore.exceptions import EndpointConnectionError

    registry.push(make_package(tmp_path / "1"), name="big", owner="alice")

    def hook(params, **kwargs):  # S3 goes away once the package is complete (no pushing mark left)...
        if params["url_path"].endswith("/v2/smops.json"):
            # ...and the rollback's DeleteObjects removes the claim but not the artifact (a per-key error).
            raw["s3"].delete_object(Bucket=BUCKET, Key="model-artifacts/alice/big/v2/.claim")
            raise EndpointConnectionError(endpoint_url="http://127.0.0.1")
    registry.s3.meta.events.register_first("before-call.s3.PutObject", hook)
    Faults(registry.s3).fail("DeleteObjects", "SlowDown", "Please reduce your request rate", times=1, status=503)
    Faults(registry.sagemaker).fail("DeleteModelPackage", "ThrottlingException", "Rate exceeded", times=1)
    with pytest.raises(UpstreamError):
        registry.push(make_package(tmp_path / "2", payload=b"two"), name="big", owner="alice")
    registry.s3.meta.events.unregister("before-call.s3.PutObject", hook)
    assert sorted(_packages(raw)) == [1, 2] and "model-artifacts/alice/big/v2/model.tar.gz" in _keys(raw)
    assert "model-artifacts/alice/big/.packages/alice-big-2/.claim" in _keys(raw)  # v2/ holds the artifact
    registry.stale_upload_seconds = 0  # (an hour later)
    assert any(f"/{GROUP}/2)" in line for line in registry.leftovers("alice", dry_run=True))
    registry.leftovers("alice")
    assert sorted(_packages(raw)) == [1] and not [k for k in _keys(raw) if "/v1/" not in k]
