"""Two owners, one model name (issue 12 item 5): alice and bob both push ``iris`` into one bucket
and never read, overwrite or delete each other's versions; versions of the layout before owner
folders are moved into them once by ``jupyter smops admin migrate-registry``.

Who acts is set on the recorder (``recorded.last_owner``), so every call is evaluated against the
ABAC policy as that owner (conftest.py).
"""
from __future__ import annotations

import hashlib
import json

import pytest

from aws_helpers import Faults, make_package
from jupyter_smops.core.config import SmopsConfig
from jupyter_smops.core.errors import AccessDenied, NotFound
from jupyter_smops.core.registry.s3 import S3Registry

pytestmark = pytest.mark.aws
BUCKET = "sagemaker-us-east-1-123456789012"


def _as(recorded, owner: str) -> S3Registry:
    recorded.last_owner = owner  # who the recorder evaluates the next untagged calls as
    return S3Registry(SmopsConfig(owner=owner))


def _keys(raw, prefix="model-artifacts/"):
    return sorted(o["Key"] for o in raw["s3"].list_objects_v2(Bucket=BUCKET, Prefix=prefix).get("Contents", []))


def test_two_owners_push_iris_and_never_meet(aws, raw, recorded, tmp_path):
    a = _as(recorded, "alice").push(make_package(tmp_path / "a", payload=b"alice's"), name="iris", owner="alice")
    b = _as(recorded, "bob").push(make_package(tmp_path / "b", payload=b"bob's"), name="iris", owner="bob")
    assert (a.ref, b.ref) == ("iris:1", "iris:1") and a.sha256 != b.sha256
    assert a.uri == f"s3://{BUCKET}/model-artifacts/alice/iris/v1/model.tar.gz"
    assert b.uri == f"s3://{BUCKET}/model-artifacts/bob/iris/v1/model.tar.gz"
    groups = {g["ModelPackageGroupName"] for g in raw["sagemaker"].list_model_package_groups()["ModelPackageGroupSummaryList"]}
    assert groups == {"alice-iris", "bob-iris"}
    assert a.model_package_arn.endswith("/alice-iris/1") and b.model_package_arn.endswith("/bob-iris/1")

    bob = _as(recorded, "bob")
    assert [(m.name, [v.sha256 for v in m.versions]) for m in bob.list_models()] == [("iris", [b.sha256])]
    assert bob.get("iris").sha256 == b.sha256
    fetched = bob.fetch(bob.get("iris", 1), tmp_path / "fetched")
    assert hashlib.sha256(fetched.read_bytes()).hexdigest() == b.sha256
    assert bob.push(make_package(tmp_path / "b2", payload=b"bob's 2"), name="iris", owner="bob").version == 2
    bob.set_approval("iris", 1, "Approved")
    bob.delete_version("iris", 1)
    bob.delete_version("iris", 2)

    alice = _as(recorded, "alice")
    [model] = alice.list_models()
    assert [(v.version, v.sha256, v.approval_status) for v in model.versions] == [(1, a.sha256, "PendingManualApproval")]
    assert _keys(raw) == ["model-artifacts/alice/iris/v1/model.tar.gz", "model-artifacts/alice/iris/v1/smops.json"]
    fetched = alice.fetch(model.versions[0], tmp_path / "alice")
    assert fetched.read_bytes() == (tmp_path / "a" / "model.tar.gz").read_bytes()


def test_through_the_service_each_owner_sees_only_their_models(aws, monkeypatch, recorded, tmp_path):
    from jupyter_smops.core.api import Smops

    recorded.last_owner = "alice"
    monkeypatch.setenv("SMOPS_OWNER", "alice")
    alice = Smops()
    alice.registry.push(make_package(tmp_path / "a"), name="iris", owner=alice.owner)
    recorded.last_owner = "bob"
    monkeypatch.setenv("SMOPS_OWNER", "bob")
    bob = Smops()
    assert bob.owner == "bob" and bob.registry.list_models() == []
    with pytest.raises(NotFound, match=r"No model named 'iris' in s3://.*/model-artifacts/bob/"):
        bob.registry.get("iris")
    recorded.last_owner = "alice"
    assert [m.name for m in alice.registry.list_models()] == ["iris"]


def test_owner_that_cannot_name_a_folder_is_refused(aws):
    from jupyter_smops.core.errors import BadRequest

    with pytest.raises(BadRequest, match="cannot name a registry folder"):
        S3Registry(SmopsConfig(), owner="a/b")


def test_a_missing_endpoint_hidden_by_abac_is_absent(aws, config):
    """Under ABAC, describing an endpoint that does not exist is AccessDenied (it has no owner tag)."""
    from jupyter_smops.core.endpoints.sagemaker import SageMakerEndpoints

    eps = SageMakerEndpoints(config)
    faults = Faults(eps.sm)
    faults.fail("DescribeEndpoint", "AccessDeniedException", "not authorized", times=1)
    assert eps.exists("iris-ep") is False
    faults.fail("DescribeEndpoint", "ExpiredTokenException", "expired", times=1)  # not an answer about the endpoint
    with pytest.raises(AccessDenied):
        eps.exists("iris-ep")


def _legacy_version(raw, tmp_path, name: str, version: int, owner: str, status: str) -> str:
    """A version as releases before owner folders stored it; its package in the old group ``name``."""
    package = make_package(tmp_path / f"legacy-{version}", payload=f"legacy {version}".encode())
    key = f"model-artifacts/{name}/v{version}/"
    tags = f"studiouserid={owner}&smops:model={name}&smops:version={version}"
    raw["s3"].put_object(Bucket=BUCKET, Key=key + "model.tar.gz", Body=open(package.path, "rb").read(), Tagging=tags)
    try:
        raw["sagemaker"].create_model_package_group(ModelPackageGroupName=name)
    except raw["sagemaker"].exceptions.ClientError:
        pass
    arn = raw["sagemaker"].create_model_package(ModelPackageGroupName=name, ModelApprovalStatus=status)["ModelPackageArn"]
    meta = {"name": name, "version": version, "sha256": package.sha256, "size": package.size, "framework": "sklearn",
            "framework_version": "1.9.1", "serving_version": "1.9-0", "model_file": "model.joblib",
            "created_at": "2024-05-01T12:00:00Z", "created_by": owner, "source": None, "approval_status": status,
            "model_package_arn": arn}
    raw["s3"].put_object(Bucket=BUCKET, Key=key + "smops.json", Body=json.dumps(meta).encode(), Tagging=tags)
    return package.sha256


def test_a_model_left_in_the_old_layout_says_how_to_migrate(aws, raw, recorded, tmp_path):
    alice = _as(recorded, "alice")
    alice.ensure_bucket()
    _legacy_version(raw, tmp_path, "iris", 1, "alice", "Approved")
    with pytest.raises(NotFound, match="jupyter smops admin migrate-registry"):
        alice.get("iris")
    with pytest.raises(NotFound) as missing:
        alice.get("churn")
    assert "migrate" not in str(missing.value)


@pytest.mark.iam_unchecked  # the migration is the admin's: it reads and writes every owner's folder
def test_old_layout_versions_are_migrated_once_into_their_owners_folders(aws, raw, recorded, tmp_path, capsys):
    from jupyter_smops import cli_admin

    alice = _as(recorded, "alice")
    alice.ensure_bucket()
    old1 = _legacy_version(raw, tmp_path, "iris", 1, "alice", "Approved")
    old2 = _legacy_version(raw, tmp_path, "iris", 2, "bob", "PendingManualApproval")
    # Since the upgrade alice pushed iris:1 into her folder: the old iris:1 must not overwrite it.
    new = alice.push(make_package(tmp_path / "new", payload=b"new"), name="iris", owner="alice")
    assert new.version == 1

    before = _keys(raw)
    assert cli_admin.main(["admin", "migrate-registry", "--dry-run"]) == 0
    preview = capsys.readouterr().out
    assert "would move iris:1 of alice" in preview and _keys(raw) == before
    # The number there is the new package's, unknown until it is made: the preview names no v<N>.
    assert "-> s3://sagemaker-us-east-1-123456789012/model-artifacts/alice/iris/ (" in preview
    assert "alice/iris/v1/" not in preview

    assert cli_admin.main(["admin", "migrate-registry"]) == 0
    out = capsys.readouterr().out
    # A version's number is its new package's: alice's iris:1 cannot stay 1 (her own iris:1 is
    # package alice-iris/1) and becomes iris:2; bob's group is new, so his iris:2 keeps 2 (package 1 burned).
    assert "moved iris:1 of alice as iris:2 (the number of its model package in the owner's group)" in out
    assert "moved iris:2 of bob -> s3://" in out
    assert not [k for k in _keys(raw) if k.startswith("model-artifacts/iris/")]  # the old folder is gone
    versions = {v.version: v for v in _as(recorded, "alice").list_models()[0].versions}
    assert (versions[1].sha256, versions[2].sha256, versions[2].approval_status) == (new.sha256, old1, "Approved")
    assert versions[2].model_package_arn.endswith("/alice-iris/2")
    package = raw["sagemaker"].describe_model_package(ModelPackageName=versions[2].model_package_arn)
    assert package["ModelApprovalStatus"] == "Approved"
    assert _as(recorded, "alice").fetch(versions[2], tmp_path / "f").exists()
    bobs = _as(recorded, "bob").get("iris", 2)
    assert bobs.model_package_arn.endswith("/bob-iris/2")
    assert (bobs.sha256, bobs.created_by) == (old2, "bob")
    assert cli_admin.main(["admin", "migrate-registry"]) == 0
    assert "Nothing to migrate" in capsys.readouterr().out


@pytest.mark.iam_unchecked  # the migration is the admin's: it reads and writes every owner's folder
def test_migrated_versions_keep_their_numbers_so_a_pinned_version_never_changes_model(aws, raw, recorded, tmp_path):
    from jupyter_smops.core.registry.s3_migrate import migrate

    alice = _as(recorded, "alice")
    alice.ensure_bucket()
    one = _legacy_version(raw, tmp_path, "iris", 1, "alice", "Approved")
    three = _legacy_version(raw, tmp_path, "iris", 3, "alice", "PendingManualApproval")
    five = _legacy_version(raw, tmp_path, "iris", 5, "alice", "Rejected")
    report = migrate(alice)
    assert report.kept == [] and not any(" as iris:" in line for line in report.moved)
    versions = {v.version: v for v in alice.list_models("iris")[0].versions}
    assert {n: v.sha256 for n, v in versions.items()} == {1: one, 3: three, 5: five}
    assert versions[5].approval_status == "Rejected"
    sm = raw["sagemaker"]
    packages = sm.list_model_packages(ModelPackageGroupName="alice-iris")["ModelPackageSummaryList"]
    # The burned numbers (2, 4) left no package; each version's package has its number.
    assert sorted(p["ModelPackageVersion"] for p in packages) == [1, 3, 5]
    assert all(v.model_package_arn.endswith(f"/alice-iris/{n}") for n, v in versions.items())
    # A later push takes the next number, never one a pinned notebook already means.
    new = alice.push(make_package(tmp_path / "new", payload=b"new"), name="iris", owner="alice")
    assert new.version == 6 and new.model_package_arn.endswith("/alice-iris/6")


@pytest.mark.iam_unchecked  # the migration is the admin's: it reads and writes every owner's folder
def test_an_old_package_the_migration_cannot_delete_is_recorded_for_cleanup(aws, raw, recorded, tmp_path):
    from aws_helpers import Faults
    from jupyter_smops.core.registry.s3_migrate import migrate

    alice = _as(recorded, "alice")
    alice.ensure_bucket()
    _legacy_version(raw, tmp_path, "iris", 1, "alice", "Approved")
    Faults(alice.sagemaker).fail("DeleteModelPackage", "ThrottlingException", "Rate exceeded", times=1)
    assert migrate(alice).kept == []
    old = "arn:aws:sagemaker:us-east-1:123456789012:model-package/iris/1"
    record = "model-artifacts/alice/iris/.packages/iris-1/.claim"
    assert record in _keys(raw) and json.loads(raw["s3"].get_object(Bucket=BUCKET, Key=record)["Body"].read())[
        "model_package_arn"] == old
    alice.stale_upload_seconds = 0  # (an hour later)
    alice.leftovers("alice")
    assert record not in _keys(raw)
    assert [p["ModelPackageArn"] for p in raw["sagemaker"].list_model_packages(
        ModelPackageGroupName="iris")["ModelPackageSummaryList"]] == []
    assert alice.get("iris", 1).sha256  # the migrated version is untouched
