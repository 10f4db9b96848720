"""The S3 registry against a moto server: layout, tags, checksums, atomic versions, rollback."""
from __future__ import annotations

import base64
import hashlib
import json
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from botocore.stub import Stubber

from aws_helpers import Faults, make_big_package, make_package
from jupyter_smops.core.config import SmopsConfig
from jupyter_smops.core.errors import AccessDenied, BadRequest, NotFound, UpstreamError
from jupyter_smops.core.registry.s3 import S3Registry

pytestmark = pytest.mark.aws


@pytest.fixture(autouse=True)
def _acting_as_alice(aws, monkeypatch):
    """These tests push as alice: she is the one acting (the registry's folder, the recorder's caller)."""
    monkeypatch.setenv("SMOPS_OWNER", "alice")


BUCKET = "sagemaker-us-east-1-123456789012"
MIB = 1024 * 1024


@pytest.fixture
def registry(config):
    return S3Registry(config)


def _pending_uploads(raw, bucket=BUCKET):
    return raw["s3"].list_multipart_uploads(Bucket=bucket).get("Uploads", [])


def _keys(raw, bucket=BUCKET):
    return sorted(o["Key"] for o in raw["s3"].list_objects_v2(Bucket=bucket).get("Contents", []))


def test_push_creates_default_bucket_layout_tags_and_metadata(registry, raw, tmp_path, caplog):
    package = make_package(tmp_path)
    phases = []
    with caplog.at_level("WARNING", logger="jupyter_smops"):
        mv = registry.push(package, name="iris", owner="alice", source="iris.ipynb",
                           progress=lambda phase, done, total: phases.append((phase, done, total)))
    assert "creating the registry bucket s3://" + BUCKET in caplog.text
    assert phases[0] == ("creating-bucket", None, None)
    assert ("uploading", package.size, package.size) in phases
    assert (mv.name, mv.version, mv.sha256, mv.size) == ("iris", 1, package.sha256, package.size)
    assert mv.uri == f"s3://{BUCKET}/model-artifacts/alice/iris/v1/model.tar.gz"
    # The claim object is gone: only the artifact and its metadata are left.
    assert _keys(raw) == ["model-artifacts/alice/iris/v1/model.tar.gz", "model-artifacts/alice/iris/v1/smops.json"]
    head = raw["s3"].head_object(Bucket=BUCKET, Key="model-artifacts/alice/iris/v1/model.tar.gz", ChecksumMode="ENABLED")
    expected = base64.b64encode(bytes.fromhex(package.sha256)).decode()
    assert head["ChecksumSHA256"] == expected
    assert head["Metadata"]["sha256"] == package.sha256
    for key in ("model-artifacts/alice/iris/v1/model.tar.gz", "model-artifacts/alice/iris/v1/smops.json"):
        tags = {t["Key"]: t["Value"] for t in raw["s3"].get_object_tagging(Bucket=BUCKET, Key=key)["TagSet"]}
        assert tags == {"studiouserid": "alice", "smops:model": "iris", "smops:version": "1"}
    meta = json.loads(raw["s3"].get_object(Bucket=BUCKET, Key="model-artifacts/alice/iris/v1/smops.json")["Body"].read())
    assert meta["created_by"] == "alice" and meta["source"] == "iris.ipynb"
    assert meta["approval_status"] == "PendingManualApproval"
    assert meta["model_package_arn"] == mv.model_package_arn
    public = raw["s3"].get_public_access_block(Bucket=BUCKET)["PublicAccessBlockConfiguration"]
    assert all(public.values())


def test_version_registered_as_model_package_and_approval_updates_both(registry, raw, tmp_path):
    mv = registry.push(make_package(tmp_path), name="iris", owner="alice")
    package = raw["sagemaker"].describe_model_package(ModelPackageName=mv.model_package_arn)
    assert package["ModelPackageGroupName"] == "alice-iris"
    assert package["ModelApprovalStatus"] == "PendingManualApproval"
    container = package["InferenceSpecification"]["Containers"][0]
    assert container["ModelDataUrl"] == mv.uri
    assert container["Image"].endswith("/sagemaker-scikit-learn:1.9-0-cpu-py3")
    approved = registry.set_approval("iris", 1, "Approved")
    assert approved.approval_status == "Approved"
    assert raw["sagemaker"].describe_model_package(
        ModelPackageName=mv.model_package_arn)["ModelApprovalStatus"] == "Approved"
    assert registry.get("iris", 1).approval_status == "Approved"
    with pytest.raises(BadRequest, match="PendingManualApproval"):
        registry.set_approval("iris", 1, "Maybe")


def test_multipart_push_fetch_and_corruption_detected(registry, raw, tmp_path):
    package = make_big_package(tmp_path / "big", 40 * MIB)
    seen = []
    mv = registry.push(package, name="forest", owner="alice", progress=lambda p, d, t: seen.append(d))
    head = raw["s3"].head_object(Bucket=BUCKET, Key="model-artifacts/alice/forest/v1/model.tar.gz", ChecksumMode="ENABLED")
    assert head["ContentLength"] == 40 * MIB and head.get("ChecksumSHA256")
    assert head["ContentType"] == "application/gzip"
    assert max(d for d in seen if d is not None) == 40 * MIB and len(seen) > 3  # per-part progress
    assert _pending_uploads(raw) == []
    fetched = registry.fetch(mv, tmp_path / "fetched")
    assert hashlib.sha256(fetched.read_bytes()).hexdigest() == package.sha256
    raw["s3"].put_object(Bucket=BUCKET, Key="model-artifacts/alice/forest/v1/model.tar.gz", Body=b"tampered")
    with pytest.raises(UpstreamError, match="corrupt"):
        registry.fetch(mv, tmp_path / "again")
    assert not (tmp_path / "again" / "model.tar.gz").exists()


def test_interrupted_upload_leaves_no_version_and_no_pending_upload(registry, raw, tmp_path):
    registry.push(make_package(tmp_path / "first"), name="forest", owner="alice")
    package = make_big_package(tmp_path / "big", 48 * MIB)

    def cancel(phase, done, total):
        if phase == "uploading" and done and done >= 16 * MIB:
            raise KeyboardInterrupt  # what a kernel interrupt looks like half-way through
    with pytest.raises(KeyboardInterrupt):
        registry.push(package, name="forest", owner="alice", progress=cancel)
    assert _pending_uploads(raw) == []
    assert [v.version for v in registry.list_models("forest")[0].versions] == [1]
    assert not [k for k in _keys(raw) if "/v2/" in k]
    # Its package is gone and SageMaker never gives its number again: the next push is forest:3,
    # registered as package forest/3 (it used to be forest:2 with package forest/3).
    packages = raw["sagemaker"].list_model_packages(ModelPackageGroupName="alice-forest")["ModelPackageSummaryList"]
    assert [p["ModelPackageVersion"] for p in packages] == [1]
    mv = registry.push(make_package(tmp_path / "next"), name="forest", owner="alice")
    assert mv.version == 3 and mv.model_package_arn.endswith("/alice-forest/3")


def test_server_failure_mid_upload_aborts_the_multipart_upload(registry, raw, tmp_path):
    calls = {"n": 0}

    def flaky(model, **kwargs):  # the 3rd part fails as if the server went away
        calls["n"] += 1
        if calls["n"] == 3:
            from botocore.exceptions import EndpointConnectionError
            raise EndpointConnectionError(endpoint_url="http://127.0.0.1")
    registry.s3.meta.events.register("before-call.s3.UploadPart", flaky)
    with pytest.raises(UpstreamError, match="Cannot reach AWS"):
        registry.push(make_big_package(tmp_path, 64 * MIB), name="forest", owner="alice")
    assert _pending_uploads(raw) == []
    assert not [k for k in _keys(raw) if k.startswith("model-artifacts/alice/forest/")]
    with pytest.raises(NotFound, match="No model named 'forest'"):
        registry.get("forest")


def test_metadata_failure_rolls_back_artifact_and_package(registry, raw, tmp_path):
    original = registry.s3.put_object

    def put(**kw):  # only the last write (smops.json) fails
        if kw["Key"].endswith("smops.json"):
            from botocore.exceptions import ClientError
            raise ClientError({"Error": {"Code": "InternalError", "Message": "boom"}}, "PutObject")
        return original(**kw)
    registry.s3.put_object = put
    deleted = []
    registry.sagemaker.meta.events.register(
        "before-call.sagemaker.DeleteModelPackage",  # moto lacks it: record and answer
        lambda params, **kw: deleted.append(params["body"]) or (_Ok(), {}))
    with pytest.raises(UpstreamError, match="writing the metadata of iris:1"):
        registry.push(make_package(tmp_path), name="iris", owner="alice")
    assert _keys(raw) == [] and _pending_uploads(raw) == []
    assert len(deleted) == 1 and b"model-package/alice-iris/1" in deleted[0]


class _Ok:
    status_code = 200
    headers: dict = {}
    content = b""


def test_twenty_concurrent_pushes_get_distinct_versions(config, raw, tmp_path):
    registry = S3Registry(config)
    registry.ensure_bucket()
    packages = [make_package(tmp_path / str(i), payload=f"model {i}".encode()) for i in range(20)]
    start = threading.Barrier(20)

    def push(package):
        start.wait()
        # One registry shared by the threads, no in-process lock: the numbers come from SageMaker,
        # which gives each package its own (as between separate notebooks).
        return registry.push(package, name="iris", owner="alice")
    with ThreadPoolExecutor(max_workers=20) as pool:
        pushed = list(pool.map(push, packages))
    assert sorted(mv.version for mv in pushed) == list(range(1, 21))
    assert all(mv.model_package_arn.endswith(f"/alice-iris/{mv.version}") for mv in pushed)
    listed = registry.list_models("iris")[0].versions
    assert [v.version for v in listed] == list(range(1, 21))
    by_version = {v.version: v.sha256 for v in listed}
    assert len(set(by_version.values())) == 20  # each version holds its own artifact
    assert not [k for k in _keys(raw) if k.endswith(".claim")]


def test_access_denied_names_the_missing_action_and_leaves_nothing(registry, raw, tmp_path):
    registry.ensure_bucket()
    Faults(registry.s3).fail("CreateMultipartUpload", "AccessDenied", "Access Denied", status=403)
    with pytest.raises(AccessDenied) as err:
        registry.push(make_big_package(tmp_path, 20 * MIB), name="iris", owner="alice")
    assert "s3:PutObject" in err.value.message and "uploading iris:1" in err.value.message
    assert _keys(raw) == [] and _pending_uploads(raw) == []


def test_configured_bucket_must_exist(aws, monkeypatch, tmp_path):
    monkeypatch.setenv("SMOPS_BUCKET", "team-registry")
    registry = S3Registry(SmopsConfig())
    with pytest.raises(NotFound, match="configured bucket 'team-registry'.*aws s3 mb"):
        registry.push(make_package(tmp_path), name="iris", owner="alice")


def test_listing_reading_and_deleting(registry, raw, tmp_path):
    assert registry.list_models() == []  # the default bucket does not exist yet: an empty registry
    for i, name in enumerate(["iris", "iris", "churn"]):
        registry.push(make_package(tmp_path / str(i), payload=bytes([i])), name=name, owner="alice")
    assert [(m.name, [v.version for v in m.versions]) for m in registry.list_models()] == [
        ("churn", [1]), ("iris", [1, 2])]
    assert registry.get("iris").version == 2
    with pytest.raises(NotFound, match="has versions 1, 2"):
        registry.get("iris", 7)
    with pytest.raises(NotFound, match="Known models: churn, iris"):
        registry.get("nope")
    registry.delete_version("iris", 1)
    registry.delete_version("iris", 1)  # idempotent
    assert [v.version for v in registry.list_models("iris")[0].versions] == [2]
    assert not [k for k in _keys(raw) if "/iris/v1/" in k]


def test_push_stream_computes_sha_and_size(registry, raw, tmp_path):
    package = make_package(tmp_path)
    data = b"".join(bytes([i % 251]) * 1000 for i in range(40_000))  # 40 MB in 1000-byte pieces
    chunks = (data[i:i + 65536] for i in range(0, len(data), 65536))
    from dataclasses import replace
    mv = registry.push_stream(chunks, replace(package, sha256="", size=0), name="iris", owner="alice")
    assert (mv.sha256, mv.size) == (hashlib.sha256(data).hexdigest(), len(data))
    assert registry.fetch(mv, tmp_path / "out").read_bytes() == data
    assert _pending_uploads(raw) == []


def test_resolve_owner_reads_the_studio_profile_tag(aws, monkeypatch, tmp_path):
    meta = tmp_path / "resource-metadata.json"
    meta.write_text(json.dumps({"DomainId": "d-abc", "UserProfileName": "alice-profile",
                                "ExecutionRoleArn": "arn:aws:iam::123456789012:role/Exec"}))
    monkeypatch.setenv("SMOPS_STUDIO_METADATA", str(meta))
    registry = S3Registry(SmopsConfig())
    arn = "arn:aws:sagemaker:us-east-1:123456789012:user-profile/d-abc/alice-profile"
    with Stubber(registry.sagemaker) as stub:  # moto does not implement user profiles
        stub.add_response("describe_user_profile", {"UserProfileArn": arn},
                          {"DomainId": "d-abc", "UserProfileName": "alice-profile"})
        stub.add_response("list_tags", {"Tags": [{"Key": "studiouserid", "Value": "alice123"}]}, {"ResourceArn": arn})
        assert registry.resolve_owner() == "alice123"
        stub.add_client_error("describe_user_profile", "AccessDeniedException", http_status_code=400)
        assert registry.resolve_owner() == ""  # falls back to the user name upstream
    monkeypatch.setenv("SMOPS_STUDIO_METADATA", str(tmp_path / "none.json"))
    assert S3Registry(SmopsConfig()).resolve_owner() == ""


def test_describe(registry):
    assert registry.describe() == {"kind": "s3", "bucket": BUCKET, "prefix": "model-artifacts",
                                   "region": "us-east-1", "account": "123456789012",
                                   "folder": f"s3://{BUCKET}/model-artifacts/alice/"}


def test_server_stopped_mid_upload_leaves_no_version_and_next_push_sweeps(aws, monkeypatch, tmp_path):
    """The real thing: the S3 server goes away half-way, so not even the abort can be sent."""
    import boto3
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://{host}:{port}")
    registry = S3Registry(SmopsConfig())
    registry.ensure_bucket()
    rules = boto3.client("s3").get_bucket_lifecycle_configuration(Bucket=BUCKET)["Rules"]
    assert rules[0]["AbortIncompleteMultipartUpload"] == {"DaysAfterInitiation": 1}

    def stop_server(phase, done, total):
        if phase == "uploading" and done and done >= 16 * MIB and server._server is not None:
            server.stop()
            server._server = None
    try:
        with pytest.raises(UpstreamError):
            registry.push(make_big_package(tmp_path / "big", 64 * MIB), name="forest", owner="alice",
                          progress=stop_server)
    finally:
        if server._server is not None:
            server.stop()
    # Back up on the same port with the same state (moto keeps it in this process).
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        s3 = boto3.client("s3")
        assert len(s3.list_multipart_uploads(Bucket=BUCKET).get("Uploads", [])) == 1  # the abort never arrived
        with pytest.raises(NotFound):
            registry.get("forest")  # ...but no version is visible
        registry.stale_upload_seconds = 0  # the test cannot wait an hour
        mv = registry.push(make_package(tmp_path / "small"), name="forest", owner="alice")
        # The dead push's claim is swept with its upload and its package (forest/1, named in the
        # claim); SageMaker never reuses 1, and the version keeps its package's number (issue 15:
        # big:2 used to be package big/1).
        assert mv.version == 2 and mv.model_package_arn.endswith("/alice-forest/2")
        assert s3.list_multipart_uploads(Bucket=BUCKET).get("Uploads", []) == []
        assert [v.version for v in registry.list_models("forest")[0].versions] == [2]
        packages = boto3.client("sagemaker").list_model_packages(ModelPackageGroupName="alice-forest")
        assert [p["ModelPackageVersion"] for p in packages["ModelPackageSummaryList"]] == [2]
    finally:
        server.stop()


def test_local_registry_push_stream_checks_what_it_was_promised(tmp_path):
    from dataclasses import replace

    from jupyter_smops.core.registry.local import LocalRegistry

    package = make_package(tmp_path / "p")
    data = open(package.path, "rb").read()
    local = LocalRegistry(SmopsConfig(home=str(tmp_path)))
    mv = local.push_stream(iter([data[:100], data[100:]]), replace(package, sha256="", size=0), name="iris", owner="me")
    assert (mv.version, mv.sha256, mv.size) == (1, package.sha256, package.size)
    with pytest.raises(UpstreamError, match="differs"):
        local.push_stream(iter([data[:-1]]), package, name="iris", owner="me")
    assert [v.version for v in local.list_models("iris")[0].versions] == [1]


def test_without_credentials_describe_explains_and_push_refuses(aws, monkeypatch, tmp_path):
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    registry = S3Registry(SmopsConfig())
    info = registry.describe()
    assert info["account"] is None and "No AWS credentials" in info["error"]
    with pytest.raises(AccessDenied, match="SMOPS_BACKEND=local"):
        registry.push(make_package(tmp_path), name="iris", owner="alice")


def test_parts_carry_a_signed_sha256_checksum_instead_of_a_second_body_hash(registry, raw, tmp_path):
    """S3 verifies the x-amz-checksum-sha256 header (which is signed); the body itself is not
    hashed again for SigV4, over HTTPS as botocore does by default, and over HTTP too."""
    sent = []
    registry.s3.meta.events.register("before-send.s3.UploadPart", lambda request, **kw: sent.append(request.headers))
    package = make_big_package(tmp_path, 20 * MIB)
    registry.push(package, name="forest", owner="alice")
    assert len(sent) == 2

    def text(value):
        return value.decode() if isinstance(value, bytes) else value
    for headers in sent:
        assert text(headers["x-amz-content-sha256"]) == "UNSIGNED-PAYLOAD"
        signed = text(headers["Authorization"]).split("SignedHeaders=")[1].split(",")[0].split(";")
        assert "x-amz-checksum-sha256" in signed and "x-amz-checksum-sha256" in headers
    head = raw["s3"].head_object(Bucket=BUCKET, Key="model-artifacts/alice/forest/v1/model.tar.gz", ChecksumMode="ENABLED")
    assert head["ChecksumSHA256"]
