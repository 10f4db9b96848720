"""Expiry (EventBridge Scheduler) and the public front (API Gateway) of SageMaker endpoints, on moto."""
from __future__ import annotations

import json
import time

import boto3
import pytest
from botocore.config import Config

from aws_helpers import make_package
from jupyter_smops.core.api import Smops
from jupyter_smops.core.endpoints.sagemaker import SageMakerEndpoints
from jupyter_smops.core.errors import BadRequest, Conflict
from jupyter_smops.core.registry.s3 import S3Registry
from jupyter_smops.core.types import DeployOptions

pytestmark = pytest.mark.aws
ROLE_EXPIRY = "arn:aws:iam::123456789012:role/smops-expiry-tester"
ROLE_FRONT = "arn:aws:iam::123456789012:role/smops-front-tester"


def _client(service):
    return boto3.client(service, region_name="us-east-1", config=Config(retries={"total_max_attempts": 1}))


@pytest.fixture
def smops(config, tmp_path):
    eps = SageMakerEndpoints(config)
    eps.poll_seconds = 0.01
    s = Smops(config, endpoints=eps)
    S3Registry(config).push(make_package(tmp_path), name="iris", owner="tester")
    return s


def _deploy(smops, name="iris-ep", **options):
    return smops.deploy(smops.plan_deploy("iris:1", endpoint=name, options=DeployOptions(**options)))


def _schedules(group="smops-tester"):
    try:
        return _client("scheduler").list_schedules(GroupName=group)["Schedules"]
    except Exception:  # noqa: BLE001 - no group yet
        return []


def _tags(arn):
    return {t["Key"]: t["Value"] for t in _client("sagemaker").list_tags(ResourceArn=arn)["Tags"]}


def test_deploy_creates_a_one_time_schedule_deleting_the_endpoint(smops):
    before = time.time()
    ep = _deploy(smops, expires_in=7200)
    s = _client("scheduler").get_schedule(Name="iris-ep", GroupName="smops-tester")
    assert s["Target"]["Arn"] == "arn:aws:scheduler:::aws-sdk:sagemaker:deleteEndpoint"
    assert json.loads(s["Target"]["Input"]) == {"EndpointName": "iris-ep"}
    assert s["Target"]["RoleArn"] == ROLE_EXPIRY
    assert s["ActionAfterCompletion"] == "DELETE" and s["FlexibleTimeWindow"] == {"Mode": "OFF"}
    assert s["ScheduleExpressionTimezone"] == "UTC"
    expr = s["ScheduleExpression"]
    assert expr.startswith("at(") and expr.endswith(")")
    at = time.mktime(time.strptime(expr[3:-1], "%Y-%m-%dT%H:%M:%S")) - time.timezone
    assert before + 7200 - 2 <= at <= time.time() + 7200
    assert ep.expires_at == expr[3:-1] + "Z" and _tags(ep.arn)["smops:expires-at"] == ep.expires_at
    assert 7190 <= ep.seconds_left <= 7200
    assert ep.cost_until_expiry == pytest.approx(ep.cost_per_hour * ep.seconds_left / 3600, rel=1e-3)
    group = _client("scheduler").get_schedule_group(Name="smops-tester")
    assert {t["Key"]: t["Value"] for t in _client("scheduler").list_tags_for_resource(
        ResourceArn=group["Arn"])["Tags"]}["studiouserid"] == "tester"


def test_default_expiry_and_the_admins_cap(smops, monkeypatch):
    ep = _deploy(smops)  # the default, 4h
    assert 4 * 3600 - 10 <= ep.seconds_left <= 4 * 3600
    smops.config.max_expires_in = "1h"
    with pytest.raises(BadRequest, match="administrator allows at most 1 h"):
        smops.plan_deploy("iris:1", endpoint="other", options=DeployOptions(no_expiry=True))
    with pytest.raises(BadRequest, match="longer than the 1 h"):
        smops.plan_deploy("iris:1", endpoint="other", options=DeployOptions(expires_in=7200))
    assert smops.plan_deploy("iris:1", endpoint="other").options.expires_in == 3600  # default cut to the cap
    with pytest.raises(BadRequest, match="longer than the 1 h"):
        smops.extend("iris-ep", by=3600)
    with pytest.raises(BadRequest, match="must expire"):
        smops.extend("iris-ep", no_expiry=True)


def test_no_expiry_then_extend_creates_moves_and_removes_the_schedule(smops):
    ep = _deploy(smops, no_expiry=True)
    assert ep.expires_at is None and _schedules() == [] and "smops:expires-at" not in _tags(ep.arn)
    ep = smops.extend("iris-ep", expires_in=1800)
    assert 1790 <= ep.seconds_left <= 1800 and [s["Name"] for s in _schedules()] == ["iris-ep"]
    ep = smops.extend("iris-ep", by=3600)
    assert 5390 <= ep.seconds_left <= 5400
    expr = _client("scheduler").get_schedule(Name="iris-ep", GroupName="smops-tester")["ScheduleExpression"]
    assert expr == f"at({ep.expires_at[:-1]})"
    ep = smops.extend("iris-ep", no_expiry=True)
    assert ep.expires_at is None and _schedules() == [] and "smops:expires-at" not in _tags(ep.arn)


def test_delete_removes_the_schedule_before_the_endpoint(smops, recorded):
    _deploy(smops, expires_in=600)
    smops.delete("iris-ep")
    assert _schedules() == []
    ops = [c.operation for c in recorded.calls if c.operation in ("DeleteSchedule", "DeleteEndpoint")]
    assert ops == ["DeleteSchedule", "DeleteEndpoint"]


def test_a_failed_endpoint_creation_deletes_its_schedule(smops, raw):
    from aws_helpers import Faults

    from jupyter_smops.core.aws import clients_for

    plan = smops.plan_deploy("iris:1", endpoint="iris-ep", options=DeployOptions(expires_in=600))
    Faults(smops.endpoints.sm).fail("CreateEndpoint", "ValidationException", "bad", times=1)
    with pytest.raises(BadRequest):
        smops.deploy(plan)
    assert _schedules() == [] and raw["sagemaker"].list_models()["Models"] == []
    assert clients_for  # the endpoints' own client was the one failed


def test_cleanup_removes_schedules_and_what_an_expired_endpoint_left(smops, raw):
    _deploy(smops, name="gone-ep", expires_in=600)
    _deploy(smops, name="live-ep", expires_in=600)
    # The schedule fires: EventBridge deletes the endpoint only (its config and model stay).
    raw["sagemaker"].delete_endpoint(EndpointName="gone-ep")
    _client("scheduler").delete_schedule(Name="gone-ep", GroupName="smops-tester")  # ActionAfterCompletion
    dry = smops.cleanup(dry_run=True)
    assert dry.endpoints == ["live-ep"] and dry.schedules == ["live-ep"]
    assert len(dry.endpoint_configs) == 2 and len(dry.models) == 2
    done = smops.cleanup()
    assert done.errors == []
    assert _schedules() == [] and raw["sagemaker"].list_models()["Models"] == []
    assert raw["sagemaker"].list_endpoint_configs()["EndpointConfigs"] == []


# -- the public front ------------------------------------------------------------------------
def _front():
    api = _client("apigateway")
    rests = api.get_rest_apis()["items"]
    plans = api.get_usage_plans()["items"]
    return api, rests, plans


def test_expose_creates_the_api_gateway_front(smops):
    ep = _deploy(smops, expires_in=600)
    front = smops.expose("iris-ep", rate_limit=5, burst_limit=10, quota_per_day=1000)
    api, rests, plans = _front()
    assert [r["name"] for r in rests] == ["smops-iris-ep"]
    rest = rests[0]
    assert rest["tags"]["studiouserid"] == "tester" and rest["tags"]["smops:endpoint"] == "iris-ep"
    res = next(r for r in api.get_resources(restApiId=rest["id"])["items"] if r["path"] == "/invocations")
    method = api.get_method(restApiId=rest["id"], resourceId=res["id"], httpMethod="POST")
    assert method["apiKeyRequired"] is True and method["authorizationType"] == "NONE"
    integ = api.get_integration(restApiId=rest["id"], resourceId=res["id"], httpMethod="POST")
    assert integ["type"] == "AWS" and integ["httpMethod"] == "POST"
    assert integ["uri"] == "arn:aws:apigateway:us-east-1:runtime.sagemaker:path//endpoints/iris-ep/invocations"
    assert integ["credentials"] == ROLE_FRONT
    assert api.get_stage(restApiId=rest["id"], stageName="prod")["stageName"] == "prod"
    plan = plans[0]
    assert plan["throttle"] == {"rateLimit": 5.0, "burstLimit": 10} and plan["quota"]["limit"] == 1000
    assert plan["apiStages"] == [{"apiId": rest["id"], "stage": "prod"}] and plan["tags"]["studiouserid"] == "tester"
    keys = api.get_usage_plan_keys(usagePlanId=plan["id"])["items"]
    assert [k["id"] for k in keys] == [front.api_key_id] and keys[0]["value"] == front.api_key
    assert front.url == f"https://{rest['id']}.execute-api.us-east-1.amazonaws.com/prod/invocations"
    assert "x-api-key: " + front.api_key in front.curl()
    assert smops.describe_endpoint("iris-ep").public_url == front.url
    with pytest.raises(Conflict, match="already exposed"):
        smops.expose("iris-ep")
    assert ep.public_url is None


def test_unexpose_and_delete_remove_the_front_first(smops, recorded):
    _deploy(smops, expires_in=600)
    smops.expose("iris-ep")
    assert smops.unexpose("iris-ep") is True
    _, rests, plans = _front()
    assert rests == [] and plans == [] and _client("apigateway").get_api_keys()["items"] == []
    assert smops.describe_endpoint("iris-ep").public_url is None
    assert smops.unexpose("iris-ep") is False
    smops.expose("iris-ep")
    recorded.calls.clear()
    smops.delete("iris-ep")
    order = [c.operation for c in recorded.calls if c.operation.startswith("Delete")]
    assert order == ["DeleteUsagePlanKey", "DeleteUsagePlan", "DeleteApiKey", "DeleteRestApi", "DeleteSchedule",
                     "DeleteEndpoint", "DeleteEndpointConfig", "DeleteModel"]
    _, rests, plans = _front()
    assert rests == [] and plans == []


def test_cleanup_removes_the_front_of_an_expired_endpoint(smops, raw):
    _deploy(smops, expires_in=600)
    smops.expose("iris-ep")
    raw["sagemaker"].delete_endpoint(EndpointName="iris-ep")  # the schedule fired
    dry = smops.cleanup(dry_run=True)
    assert dry.public_fronts == ["iris-ep"] and dry.endpoints == []
    assert smops.cleanup().errors == []
    _, rests, plans = _front()
    assert rests == [] and plans == [] and _client("apigateway").get_api_keys()["items"] == []


def test_a_failed_expose_leaves_nothing(smops):
    from aws_helpers import Faults

    _deploy(smops, expires_in=600)
    Faults(smops.endpoints.clients.client("apigateway")).fail("CreateUsagePlan", "BadRequestException", "no", times=1)
    with pytest.raises(BadRequest):
        smops.expose("iris-ep")
    _, rests, plans = _front()
    assert rests == [] and plans == [] and _client("apigateway").get_api_keys()["items"] == []


def test_a_failed_endpoint_is_not_exposed(smops):
    from aws_helpers import Faults

    _deploy(smops, expires_in=600)
    Faults(smops.endpoints.sm).answer("DescribeEndpoint", {
        "EndpointName": "iris-ep", "EndpointArn": "arn:aws:sagemaker:us-east-1:123456789012:endpoint/iris-ep",
        "EndpointConfigName": "x", "EndpointStatus": "Failed", "FailureReason": "ping", "CreationTime": time.time()},
        times=5)
    with pytest.raises(Conflict, match="is Failed: .*Delete it and deploy again"):
        smops.expose("iris-ep")
    _, rests, plans = _front()
    assert rests == [] and plans == []
