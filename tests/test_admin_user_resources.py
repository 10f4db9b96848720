"""Teardown stops every charge: `admin status` lists the users' resources with their hourly cost,
`admin teardown` refuses while they remain and deletes them first with include_user_resources.
Against moto (+ FakeStudio for the user profiles)."""
from __future__ import annotations

import urllib.request

import pytest

from jupyter_smops.core.admin import bootstrap as bs
from jupyter_smops.core.admin import teardown
from jupyter_smops.core.errors import BadRequest, Conflict
from test_admin_support import ACCOUNT, client, routed_caller

pytestmark = pytest.mark.aws
USERS = (bs.parse_user("alice:alice123"), bs.parse_user("bob:bob456"))
BUCKET = f"sagemaker-us-east-1-{ACCOUNT}"
IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3"


@pytest.fixture
def moto(aws_env, monkeypatch):
    monkeypatch.setenv("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")
    urllib.request.urlopen(urllib.request.Request(f"{aws_env}/moto-api/reset", method="POST")).read()
    return aws_env


def _alice_deploys(moto, name="iris-ep", owner="alice123"):
    """What `%smops push` + `%smops deploy` leave behind for alice (tags as the product sets them)."""
    sm, s3 = client("sagemaker", moto), client("s3", moto)
    tags = [{"Key": "studiouserid", "Value": owner}, {"Key": "smops:model", "Value": "iris"}]
    resource = f"{owner}-{name}-20240501-120000"
    sm.create_model(ModelName=resource, ExecutionRoleArn=f"arn:aws:iam::{ACCOUNT}:role/SageMakerDomainExecutionRole",
                    PrimaryContainer={"Image": IMAGE, "ModelDataUrl": f"s3://{BUCKET}/x"}, Tags=tags)
    sm.create_endpoint_config(EndpointConfigName=resource, Tags=tags, ProductionVariants=[{
        "VariantName": "AllTraffic", "ModelName": resource, "InstanceType": "ml.m5.large", "InitialInstanceCount": 2}])
    sm.create_endpoint(EndpointName=name, EndpointConfigName=resource, Tags=tags)
    s3.put_object(Bucket=BUCKET, Key=f"model-artifacts/{owner}/iris/v1/model.tar.gz", Body=b"x" * 1000)
    # Someone else's endpoint (no smops tags) must be left alone.
    sm.create_endpoint_config(EndpointConfigName="other", ProductionVariants=[{
        "VariantName": "AllTraffic", "ModelName": resource, "InstanceType": "ml.m5.large", "InitialInstanceCount": 1}])
    sm.create_endpoint(EndpointName="not-ours", EndpointConfigName="other")
    return resource


def test_status_lists_the_users_resources_with_their_hourly_cost(moto):
    caller = routed_caller(moto)
    bs.bootstrap(caller, bs.Spec(domain="team", users=USERS))
    resource = _alice_deploys(moto)
    report = bs.status(routed_caller(moto, caller.fake), bs.Spec(domain="team"))
    steps = {(s.what, s.name): s for s in report.steps}
    endpoint = steps[("endpoint", "iris-ep")]
    assert endpoint.state == "billed" and "owner alice123" in endpoint.detail and "2 x ml.m5.large" in endpoint.detail
    assert ("endpoint config", resource) in steps and ("model", resource) in steps
    assert steps[("registry objects", f"s3://{BUCKET}/model-artifacts/alice123/")].state == "billed"
    assert ("endpoint", "not-ours") not in steps
    hourly = [r["usd_per_hour"] for r in report.data["user_resources"] if r["kind"] == "endpoint"][0]
    assert hourly > 0 and f"${hourly:.4f}" in endpoint.detail and "Users' resources: 4 user resource(s)" in str(report)


def test_teardown_refuses_while_users_resources_remain_then_deletes_them_first(moto):
    caller = routed_caller(moto)
    bs.bootstrap(caller, bs.Spec(domain="team", users=USERS))
    resource = _alice_deploys(moto)
    sm = client("sagemaker", moto)
    with pytest.raises(Conflict) as refused:
        teardown.teardown(routed_caller(moto, caller.fake), domain_name="team")
    text = refused.value.message
    assert "endpoint iris-ep" in text and "--include-user-resources" in text and "/h" in text
    assert sm.list_domains()["Domains"] and sm.describe_endpoint(EndpointName="iris-ep")  # nothing deleted

    live = routed_caller(moto, caller.fake)
    report = teardown.teardown(live, domain_name="team", include_user_resources=True)
    deleted = [(s.what, s.name) for s in report.steps if s.state == "deleted"]

    kinds = [what for what, _ in deleted]
    assert kinds.index("endpoint") < kinds.index("endpoint config") < kinds.index("model") < kinds.index("registry objects")
    assert kinds.index("registry objects") < kinds.index("user profile") < kinds.index("domain")
    names = {e["EndpointName"] for e in sm.list_endpoints()["Endpoints"]}
    assert names == {"not-ours"}
    assert client("s3", moto).list_objects_v2(Bucket=BUCKET).get("KeyCount", 0) == 0
    # The endpoint was waited for before its config went (the config cannot go while it is Deleting).
    ops = [op for _, op, _ in live.calls]
    assert ops.index("DeleteEndpoint") < ops.index("DescribeEndpoint", ops.index("DeleteEndpoint")) < ops.index("DeleteEndpointConfig")


def test_teardown_dry_run_plans_the_search_for_users_resources(moto):
    from jupyter_smops.core.admin.plan import PlanCaller

    report = teardown.teardown(PlanCaller(), domain_name="team")
    plan = "\n".join(report.plan)
    assert "sagemaker.ListEndpoints" in plan and "sagemaker.DeleteDomain" in plan


def test_vpc_only_needs_security_groups_before_anything_is_created(moto):
    caller = routed_caller(moto)
    with pytest.raises(BadRequest, match="--security-group-ids"):
        bs.bootstrap(caller, bs.Spec(domain="team", users=USERS, vpc_only=True))
    assert caller.calls == []
    report = bs.bootstrap(caller, bs.Spec(domain="team", users=USERS, vpc_only=True, security_group_ids=("sg-123",)))
    sent = [p for _, op, p in caller.calls if op == "CreateDomain"][0]
    assert sent["AppNetworkAccessType"] == "VpcOnly" and sent["DefaultUserSettings"]["SecurityGroups"] == ["sg-123"]
    assert report.data["domain_id"]
