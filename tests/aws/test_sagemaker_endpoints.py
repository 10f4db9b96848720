"""SageMaker endpoints against moto, with faults injected where moto is lenient or instant."""
from __future__ import annotations

import time

import pytest

from aws_helpers import Faults, make_package, queue_endpoint_results
from jupyter_smops.core.config import SmopsConfig
from jupyter_smops.core.deploy_plan import check_options
from jupyter_smops.core.endpoints.base import DeployOptions
from jupyter_smops.core.endpoints.sagemaker import SageMakerEndpoints
from jupyter_smops.core.errors import (AccessDenied, BadRequest, Conflict, ModelError, NotFound,
                                       PayloadTooLarge, UpstreamError)
from jupyter_smops.core.registry.s3 import S3Registry
from jupyter_smops.core.types import no_progress

pytestmark = pytest.mark.aws


@pytest.fixture(autouse=True)
def _acting_as_alice(aws, monkeypatch):
    """These tests push as alice: she is the one acting (the registry's folder, the recorder's caller)."""
    monkeypatch.setenv("SMOPS_OWNER", "alice")


IMAGE_1_9 = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.9-0-cpu-py3"


@pytest.fixture
def mv(config, tmp_path):
    return S3Registry(config).push(make_package(tmp_path), name="iris", owner="alice")


@pytest.fixture
def eps(config):
    endpoints = SageMakerEndpoints(config)
    endpoints.poll_seconds = 0.01
    return endpoints


def _planned(eps, mv, **options):
    """Options as Smops.plan_deploy hands them to the backend: the core's rules, then the backend's."""
    checked = check_options(DeployOptions(**options), remote=True, default_instance_type=eps.config.instance_type)
    return eps.prepare_deploy(mv, checked)


def _deploy(eps, mv, name="iris-ep", owner="alice", progress=no_progress, **options):
    return eps.deploy(mv, name=name, owner=owner, options=_planned(eps, mv, **options), fetch=None,
                      progress=progress)


def _inventory(raw):
    sm = raw["sagemaker"]
    return (sorted(m["ModelName"] for m in sm.list_models()["Models"]),
            sorted(c["EndpointConfigName"] for c in sm.list_endpoint_configs()["EndpointConfigs"]),
            sorted(e["EndpointName"] for e in sm.list_endpoints()["Endpoints"]))


def _tags(raw, arn):
    return {t["Key"]: t["Value"] for t in raw["sagemaker"].list_tags(ResourceArn=arn)["Tags"]}


def test_deploy_creates_the_seeds_resources_tagged(eps, mv, raw):
    phases = []
    ep = _deploy(eps, mv, progress=lambda p, d, t: phases.append(p))
    models, configs, endpoints = _inventory(raw)
    assert len(models) == 1 and configs == models and endpoints == ["iris-ep"]
    assert models[0].startswith("alice-iris-ep-")
    model = raw["sagemaker"].describe_model(ModelName=models[0])
    assert model["PrimaryContainer"]["Image"] == IMAGE_1_9
    assert model["PrimaryContainer"]["ModelDataUrl"] == mv.uri
    assert model["PrimaryContainer"]["Environment"] == {
        "SAGEMAKER_PROGRAM": "inference.py", "SAGEMAKER_SUBMIT_DIRECTORY": "/opt/ml/model/code",
        "SAGEMAKER_REGION": "us-east-1", "SAGEMAKER_CONTAINER_LOG_LEVEL": "20"}
    assert model["ExecutionRoleArn"].endswith(":role/SageMakerDemoExecutionRole")
    variant = raw["sagemaker"].describe_endpoint_config(EndpointConfigName=configs[0])["ProductionVariants"][0]
    assert (variant["InstanceType"], variant["InitialInstanceCount"], variant["ModelName"]) == (
        "ml.t2.medium", 1, models[0])
    expected = {"studiouserid": "alice", "smops:model": "iris", "smops:version": "1", "smops:endpoint": "iris-ep"}
    for arn in (model["ModelArn"],
                raw["sagemaker"].describe_endpoint_config(EndpointConfigName=configs[0])["EndpointConfigArn"],
                ep.arn):
        assert _tags(raw, arn) == expected
    assert (ep.status, ep.model, ep.version, ep.owner, ep.image_uri) == ("InService", "iris", 1, "alice", IMAGE_1_9)
    assert ep.cost_per_hour == pytest.approx(0.056) and ep.cost_so_far is not None
    assert phases[:3] == ["creating-model", "creating-endpoint-config", "creating-endpoint"]
    assert phases[-1] == "done"


def test_serverless_endpoint_request(eps, mv, raw):
    ep = _deploy(eps, mv, serverless_memory_mb=2048, serverless_max_concurrency=3)
    config = raw["sagemaker"].describe_endpoint_config(EndpointConfigName=_inventory(raw)[1][0])
    variant = config["ProductionVariants"][0]
    assert variant["ServerlessConfig"] == {"MemorySizeInMB": 2048, "MaxConcurrency": 3}
    assert "InstanceType" not in variant
    assert (ep.serverless_memory_mb, ep.instance_count, ep.cost_per_hour) == (2048, None, None)
    with pytest.raises(BadRequest, match="1024, 2048"):
        _deploy(eps, mv, name="other", serverless_memory_mb=1500)


def test_autoscaling_target_and_policy_then_removed_on_delete(eps, mv, raw):
    ep = _deploy(eps, mv, instance_type="ml.m5.large", count=2, max_count=5)
    aas = raw["application-autoscaling"]
    rid = "endpoint/iris-ep/variant/AllTraffic"
    target = aas.describe_scalable_targets(ServiceNamespace="sagemaker", ResourceIds=[rid])["ScalableTargets"][0]
    assert (target["MinCapacity"], target["MaxCapacity"]) == (2, 5)
    assert target["ScalableDimension"] == "sagemaker:variant:DesiredInstanceCount"
    policy = aas.describe_scaling_policies(ServiceNamespace="sagemaker", ResourceId=rid)["ScalingPolicies"][0]
    assert policy["PolicyType"] == "TargetTrackingScaling"
    spec = policy["TargetTrackingScalingPolicyConfiguration"]["PredefinedMetricSpecification"]
    assert spec["PredefinedMetricType"] == "SageMakerVariantInvocationsPerInstance"
    assert (ep.instance_count, ep.max_count, ep.cost_per_hour) == (2, 5, pytest.approx(0.23))
    eps.delete("iris-ep")
    assert aas.describe_scalable_targets(ServiceNamespace="sagemaker", ResourceIds=[rid])["ScalableTargets"] == []
    with pytest.raises(BadRequest, match=r"at least the instance count \(count: 3\)"):
        _deploy(eps, mv, name="x", count=3, max_count=2)


def test_creating_phase_is_reported_with_elapsed_time(eps, mv):
    faults = Faults(eps.sm)
    faults.fail("DescribeEndpoint", "ValidationException", "Could not find endpoint", times=1)  # exists()
    faults.answer("DescribeEndpoint", {"EndpointName": "iris-ep", "EndpointStatus": "Creating"}, times=3)
    seen = []
    ep = _deploy(eps, mv, progress=lambda p, d, t: seen.append((p, d)))
    waits = [d for p, d in seen if p == "creating-endpoint"]
    assert len(waits) >= 4 and all(isinstance(d, int) for d in waits)  # 0, 3 x Creating, InService
    assert faults.calls["DescribeEndpoint"] == 4 and ep.status == "InService"


def test_no_wait_returns_creating(eps, mv):
    faults = Faults(eps.sm)
    faults.fail("DescribeEndpoint", "ValidationException", "Could not find endpoint", times=1)
    faults.answer("DescribeEndpoint", {
        "EndpointName": "iris-ep", "EndpointArn": "arn:aws:sagemaker:us-east-1:123456789012:endpoint/iris-ep",
        "EndpointConfigName": "nope", "EndpointStatus": "Creating", "CreationTime": time.time()})
    ep = _deploy(eps, mv, wait=False)
    assert ep.status == "Creating"
    reason = "Image 683313688378.dkr.ecr.us-east-1.amazonaws.com/x:1 does not exist."
    faults.answer("DescribeEndpoint", {
        "EndpointName": "iris-ep", "EndpointArn": "arn:aws:sagemaker:us-east-1:123456789012:endpoint/iris-ep",
        "EndpointConfigName": "nope", "EndpointStatus": "Failed", "FailureReason": reason,
        "CreationTime": time.time()}, times=2)
    failed = eps.describe("iris-ep")
    assert (failed.status, failed.failure_reason, failed.cost_per_hour) == ("Failed", reason, None)
    assert reason in str(failed)
    with pytest.raises(BadRequest, match="scales by itself"):
        _deploy(eps, mv, name="sl", serverless_memory_mb=2048, instance_type="ml.m5.large")


def test_failed_endpoint_shows_reason_and_leaves_nothing(eps, mv, raw):
    faults = Faults(eps.sm)
    faults.fail("DescribeEndpoint", "ValidationException", "Could not find endpoint", times=1)
    reason = "The primary container for production variant AllTraffic did not pass the ping health check."
    faults.answer("DescribeEndpoint", {"EndpointName": "iris-ep", "EndpointStatus": "Failed", "FailureReason": reason})
    with pytest.raises(UpstreamError) as err:
        _deploy(eps, mv)
    assert reason in err.value.message and "step 3/3 CreateEndpoint" in err.value.message
    assert err.value.code == "EndpointFailed"
    assert _inventory(raw) == ([], [], [])


def test_access_denied_names_step_and_action_and_rolls_back(eps, mv, raw):
    Faults(eps.sm).fail("CreateEndpointConfig", "AccessDeniedException",
                        "User is not authorized to perform: sagemaker:CreateEndpointConfig")
    with pytest.raises(AccessDenied) as err:
        _deploy(eps, mv)
    assert "step 2/3 CreateEndpointConfig" in err.value.message
    assert "allow sagemaker:CreateEndpointConfig" in err.value.message
    assert _inventory(raw) == ([], [], [])


def test_quota_reached_rolls_back(eps, mv, raw):
    Faults(eps.sm).fail("CreateEndpoint", "ResourceLimitExceeded",
                        "The account-level service limit 'ml.t2.medium for endpoint usage' is 0 Instances")
    with pytest.raises(Conflict) as err:
        _deploy(eps, mv)
    assert err.value.code == "ResourceLimitExceeded" and "Service Quotas" in err.value.message
    assert _inventory(raw) == ([], [], [])


def test_throttling_is_retried_then_reported(aws, mv, raw, monkeypatch):
    from botocore.awsrequest import AWSResponse

    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "3")
    # Same retries, shorter sleeps: the count of attempts is what is checked.
    monkeypatch.setattr("botocore.retries.standard.ExponentialBackoff.delay_amount", lambda self, ctx: 0.01)
    monkeypatch.setattr("botocore.retries.bucket.TokenBucket.acquire", lambda self, amount=1, block=True: True)
    eps = SageMakerEndpoints(SmopsConfig())
    sent = []

    class Body:
        def stream(self, **kw):
            yield b'{"__type": "ThrottlingException", "message": "Rate exceeded"}'

    def throttle(request, **kwargs):  # at the HTTP layer, so botocore's retries see it
        if request.headers.get("X-Amz-Target", b"").endswith(b"CreateModel"):
            sent.append(1)
            if len(sent) <= throttles:
                return AWSResponse(request.url, 400, {"x-amzn-ErrorType": "ThrottlingException"}, Body())
        return None
    eps.sm.meta.events.register("before-send.sagemaker", throttle)
    throttles = 2
    assert _deploy(eps, mv).status == "InService" and len(sent) == 3
    eps.delete("iris-ep")
    sent.clear()
    throttles = 99
    with pytest.raises(UpstreamError) as err:
        _deploy(eps, mv)
    assert err.value.code == "Throttling" and len(sent) == 3
    assert "after 3 attempt(s) with adaptive back-off. Wait a minute" in err.value.message
    assert _inventory(raw) == ([], [], [])


def test_image_choice_and_mismatches(eps, mv, raw, config):
    import dataclasses

    with pytest.raises(BadRequest, match="Graviton.*ml.m5.large"):
        _deploy(eps, mv, instance_type="ml.m6g.large")
    unknown = dataclasses.replace(mv, serving_version=None, framework_version="1.5.2")
    with pytest.raises(Conflict, match="1.5.2 has no SageMaker serving image.*--framework-version"):
        _deploy(eps, unknown)
    assert _inventory(raw) == ([], [], [])
    _deploy(eps, unknown, name="explicit-version", framework_version="1.4-2-py312")
    _deploy(eps, mv, name="explicit-image", image_uri="123.dkr.ecr.us-east-1.amazonaws.com/mine:1")
    images = {m: raw["sagemaker"].describe_model(ModelName=m)["PrimaryContainer"]["Image"] for m in _inventory(raw)[0]}
    assert sorted(images.values()) == ["123.dkr.ecr.us-east-1.amazonaws.com/mine:1",
                                       IMAGE_1_9.replace("1.9-0", "1.4-2-py312")]


def test_missing_role_and_duplicate_name(eps, mv, raw, monkeypatch):
    _deploy(eps, mv)
    with pytest.raises(Conflict, match="already exists"):  # moto would accept a duplicate
        _deploy(eps, mv)
    monkeypatch.delenv("SMOPS_ROLE_ARN")
    no_role = SageMakerEndpoints(SmopsConfig())
    with pytest.raises(BadRequest, match="SMOPS_ROLE_ARN"):
        _deploy(no_role, mv, name="other")
    assert _inventory(raw)[2] == ["iris-ep"]


def test_invoke_results_model_error_and_size_limit(eps, mv, aws):
    _deploy(eps, mv)
    queue_endpoint_results(aws, [{"Body": '{"predictions": [0]}', "ContentType": "application/json"}])
    result = eps.invoke("iris-ep", b'{"instances": [[5.1, 3.5, 1.4, 0.2]]}', content_type="application/json")
    assert (result.status, result.decoded()) == (200, {"predictions": [0]})
    runtime = eps.clients.client("sagemaker-runtime", read_timeout=65, connect_timeout=10)
    stream = "arn:aws:logs:us-east-1:123456789012:log-group:/aws/sagemaker/Endpoints/iris-ep"
    faults = Faults(runtime).fail("InvokeEndpoint", "ModelError", "Received client error (400)", times=1,
                                  status=424, extra={"OriginalStatusCode": 400, "OriginalMessage": "bad input shape",
                                                     "LogStreamArn": stream})
    with pytest.raises(ModelError) as err:
        eps.invoke("iris-ep", b"[1]")
    assert (err.value.status, err.value.original_status, err.value.log_stream) == (424, 400, stream)
    assert "bad input shape" in err.value.message
    with pytest.raises(PayloadTooLarge, match="6 MiB"):
        eps.invoke("iris-ep", b"x" * (6 * 1024 * 1024 + 1))
    assert faults.calls == {"InvokeEndpoint": 1}  # the large body never left


def test_logs_newest_events_across_streams(eps, raw):
    logs = raw["logs"]
    group = "/aws/sagemaker/Endpoints/iris-ep"
    assert "No logs yet" in eps.logs("iris-ep")
    logs.create_log_group(logGroupName=group)
    now = int(time.time() * 1000)
    for stream, offsets in (("AllTraffic/i-aaa", (1, 3, 5)), ("AllTraffic/i-bbb", (2, 4, 6))):
        logs.create_log_stream(logGroupName=group, logStreamName=stream)
        logs.put_log_events(logGroupName=group, logStreamName=stream,
                            logEvents=[{"timestamp": now + o, "message": f"line {o}"} for o in offsets])
    lines = eps.logs("iris-ep", tail=4).splitlines()
    assert [line.split("] ")[1] for line in lines] == ["line 3", "line 4", "line 5", "line 6"]
    assert "[i-bbb]" in lines[-1]


def test_delete_order_and_idempotence(eps, mv, raw):
    _deploy(eps, mv)
    order = []
    eps.sm.meta.events.register("before-call.sagemaker", lambda model, **kw: order.append(model.name))
    aas = eps.clients.client("application-autoscaling")
    aas.meta.events.register("before-call", lambda model, **kw: order.append(model.name))
    eps.delete("iris-ep")
    assert [o for o in order if o.startswith(("Delete", "Deregister"))] == [
        "DeleteEndpoint", "DeleteEndpointConfig", "DeleteModel"]  # not autoscaled: no autoscaling rights needed
    assert _inventory(raw) == ([], [], [])
    with pytest.raises(NotFound, match="No SageMaker endpoint named 'iris-ep'"):
        eps.delete("iris-ep")
    # A half-deleted endpoint (config already gone) still deletes cleanly.
    _deploy(eps, mv, name="half")
    raw["sagemaker"].delete_endpoint_config(EndpointConfigName=_inventory(raw)[1][0])
    eps.delete("half")
    assert _inventory(raw)[2] == []


def test_list_and_cleanup_are_owner_scoped(eps, mv, raw):
    _deploy(eps, mv, name="a1")
    _deploy(eps, mv, name="a2", owner="alice")
    _deploy(eps, mv, name="b1", owner="bob")
    raw["sagemaker"].create_model(ModelName="not-smops", ExecutionRoleArn="arn:aws:iam::123456789012:role/x",
                                  PrimaryContainer={"Image": IMAGE_1_9}, Tags=[{"Key": "studiouserid", "Value": "alice"}])
    assert sorted(e.name for e in eps.list("alice")) == ["a1", "a2"]
    assert sorted(e.name for e in eps.list()) == ["a1", "a2", "b1"]
    dry = eps.cleanup("alice", dry_run=True)
    assert sorted(dry.endpoints) == ["a1", "a2"] and len(dry.endpoint_configs) == 2 and len(dry.models) == 2
    assert len(_inventory(raw)[2]) == 3  # nothing deleted on a dry run
    done = eps.cleanup("alice")
    assert done.errors == [] and sorted(done.models) == sorted(dry.models)
    models, configs, endpoints = _inventory(raw)
    assert endpoints == ["b1"] and len(configs) == 1 and configs[0].startswith("bob-b1-")
    assert sorted(models) == sorted([configs[0], "not-smops"])
    assert "not-smops" in models  # untagged by smops: never touched
    assert eps.cleanup("alice").endpoints == []  # idempotent


def test_resources_hidden_by_abac_are_skipped(eps, mv, raw):
    _deploy(eps, mv, name="a1")
    _deploy(eps, mv, name="b1", owner="bob")

    def deny_bob(model, params, **kwargs):  # ABAC: bob's resources cannot even be tagged-read by alice
        if model.name == "ListTags" and (b"/b1" in params["body"] or b"/bob-b1-" in params["body"]):
            return _Denied(), {"Error": {"Code": "AccessDeniedException", "Message": "not yours"},
                               "ResponseMetadata": {"HTTPStatusCode": 400}}
        return None
    eps.sm.meta.events.register("before-call.sagemaker.ListTags", deny_bob)
    assert [e.name for e in eps.list("alice")] == ["a1"]
    assert [e.name for e in eps.list()] == ["a1"]
    dry = eps.cleanup("alice", dry_run=True)
    assert dry.endpoints == ["a1"] and all(m.startswith("alice-a1-") for m in dry.models + dry.endpoint_configs)


class _Denied:
    status_code = 400
    headers: dict = {}
    content = b""


def test_execution_role_found_through_studio(aws, monkeypatch, tmp_path):
    import json

    from botocore.stub import Stubber

    meta = tmp_path / "resource-metadata.json"
    meta.write_text(json.dumps({"DomainId": "d-abc", "UserProfileName": "alice-profile"}))  # no role in it
    monkeypatch.setenv("SMOPS_STUDIO_METADATA", str(meta))
    monkeypatch.delenv("SMOPS_ROLE_ARN")
    eps = SageMakerEndpoints(SmopsConfig())
    profile_role = "arn:aws:iam::123456789012:role/ProfileRole"
    with Stubber(eps.sm) as stub:  # moto does not implement user profiles
        ids = {"DomainId": "d-abc", "UserProfileName": "alice-profile"}
        stub.add_response("describe_user_profile", {"UserSettings": {"ExecutionRole": profile_role}}, ids)
        assert eps.execution_role() == profile_role
        stub.add_response("describe_user_profile", {"UserSettings": {}}, ids)
        stub.add_response("describe_domain", {"DefaultUserSettings": {"ExecutionRole": "arn:aws:iam::1:role/D"}},
                          {"DomainId": "d-abc"})
        assert eps.execution_role() == "arn:aws:iam::1:role/D"
        stub.add_response("describe_user_profile", {"UserSettings": {}}, ids)
        stub.add_response("describe_domain", {"DefaultUserSettings": {}}, {"DomainId": "d-abc"})
        # moto's STS answers with an IAM user, which is no execution role: the error says what to set.
        with pytest.raises(BadRequest, match="SMOPS_ROLE_ARN"):
            eps.execution_role()
        stub.add_response("describe_user_profile", {"UserSettings": {}}, ids)
        stub.add_response("describe_domain", {"DefaultUserSettings": {}}, {"DomainId": "d-abc"})
        with Stubber(eps.clients.client("sts")) as sts:
            sts.add_response("get_caller_identity", {
                "Arn": "arn:aws:sts::123456789012:assumed-role/SageMakerExec/SageMaker",
                "Account": "123456789012", "UserId": "AROAEXAMPLE:SageMaker"}, {})
            assert eps.execution_role() == "arn:aws:iam::123456789012:role/SageMakerExec"


def test_cancelling_while_creating_rolls_back(eps, mv, raw):
    faults = Faults(eps.sm)
    faults.fail("DescribeEndpoint", "ValidationException", "Could not find endpoint", times=1)
    faults.answer("DescribeEndpoint", {"EndpointName": "iris-ep", "EndpointStatus": "Creating"}, times=5)

    class Cancelled(Exception):
        pass

    def cancel(phase, done, total):  # what the job manager does when the user cancels
        if phase == "creating-endpoint" and done is not None and faults.calls.get("DescribeEndpoint", 0) >= 3:
            raise Cancelled()
    with pytest.raises(Cancelled):
        _deploy(eps, mv, progress=cancel)
    assert _inventory(raw) == ([], [], [])
