"""The ABAC user policy, evaluated: the cross-owner matrix (docs/admin.md shows this very table)
and the code changes still pending for the owner's own calls (iam_gaps.py).

The owner's calls of the whole aws suite are checked by conftest.py's ``recorded`` fixture; here
alice owns an endpoint, its config and model, a model package in its group, and registry objects,
and bob (another Studio user with the same policy) tries to reach them.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from iam_eval import Request, evaluate
from iam_requests import ACCOUNT, World, apigw_arn, authorizations, sm_arn
from jupyter_smops.core.admin.policies import abac_policy

pytestmark = pytest.mark.aws
ROLE = f"arn:aws:iam::{ACCOUNT}:role/SageMakerDomainExecutionRole"
BUCKET = f"sagemaker-us-east-1-{ACCOUNT}"
POLICY = abac_policy(account=ACCOUNT, region="us-east-1", bucket=BUCKET, role_arn=ROLE)
DOCS = Path(__file__).resolve().parents[2] / "docs" / "admin.md"
PKG = f"arn:aws:sagemaker:us-east-1:{ACCOUNT}:model-package/alice-iris/1"


def _world() -> World:
    world = World()
    alice = {"studiouserid": "alice", "smops:model": "iris"}
    for kind, name in (("model", "alice-iris-ep-20240501-120000"), ("endpoint-config", "alice-iris-ep-20240501-120000"),
                       ("endpoint", "iris-ep"), ("model-package-group", "alice-iris"),
                       ("model", "bob-my-ep-20240501-120000"), ("endpoint-config", "bob-my-ep-20240501-120000")):
        world.tags[sm_arn(kind, name)] = dict(alice) if "alice" in name or name == "iris-ep" else {"studiouserid": "bob"}
    world.tags[PKG] = dict(alice)
    world.tags[f"arn:aws:scheduler:us-east-1:{ACCOUNT}:schedule-group/smops-alice"] = {"studiouserid": "alice"}
    for path, owner in (("/restapis/alice-api", "alice"), ("/apikeys/alice-key", "alice"),
                        ("/usageplans/alice-plan", "alice"), ("/restapis/bob-api", "bob")):
        world.tags[apigw_arn(path)] = {"studiouserid": owner, "smops:endpoint": "iris-ep"}
    world.tags[sm_arn("model", "legacy-model")] = {}
    world.tags["aas:endpoint/iris-ep/variant/AllTraffic"] = dict(alice)
    for key in ("model-artifacts/alice/iris/v1/model.tar.gz", "model-artifacts/alice/iris/v1/smops.json"):
        world.tags[f"s3://{BUCKET}/{key}"] = dict(alice)
    return world


def _tags(owner):
    return [{"Key": "studiouserid", "Value": owner}, {"Key": "smops:model", "Value": "iris"}]


A_KEY = "model-artifacts/alice/iris/v1/model.tar.gz"
SCALE = dict(ServiceNamespace="sagemaker", ResourceId="endpoint/iris-ep/variant/AllTraffic",
             ScalableDimension="sagemaker:variant:DesiredInstanceCount")
EXPIRY_ROLE = f"arn:aws:iam::{ACCOUNT}:role/smops-expiry-alice"
SCHEDULE = {"Name": "iris-ep", "ScheduleExpression": "at(2030-01-01T00:00:00)", "FlexibleTimeWindow": {"Mode": "OFF"},
            "Target": {"Arn": "arn:aws:scheduler:::aws-sdk:sagemaker:deleteEndpoint", "RoleArn": EXPIRY_ROLE,
                       "Input": '{"EndpointName": "iris-ep"}'}}
# (what, service, operation, params with "{me}" for the caller, expected for alice, expected for bob)
MATRIX = [
    ("describe alice's endpoint", "sagemaker", "DescribeEndpoint", {"EndpointName": "iris-ep"}, True, False),
    ("invoke alice's endpoint", "sagemaker-runtime", "InvokeEndpoint", {"EndpointName": "iris-ep"}, True, False),
    ("update alice's endpoint (to alice's config)", "sagemaker", "UpdateEndpoint",
     {"EndpointName": "iris-ep", "EndpointConfigName": "alice-iris-ep-20240501-120000"}, True, False),
    ("delete alice's endpoint", "sagemaker", "DeleteEndpoint", {"EndpointName": "iris-ep"}, True, False),
    ("describe alice's endpoint config", "sagemaker", "DescribeEndpointConfig",
     {"EndpointConfigName": "alice-iris-ep-20240501-120000"}, True, False),
    ("delete alice's endpoint config", "sagemaker", "DeleteEndpointConfig",
     {"EndpointConfigName": "alice-iris-ep-20240501-120000"}, True, False),
    ("describe alice's model", "sagemaker", "DescribeModel", {"ModelName": "alice-iris-ep-20240501-120000"}, True, False),
    ("delete alice's model", "sagemaker", "DeleteModel", {"ModelName": "alice-iris-ep-20240501-120000"}, True, False),
    ("describe alice's model package", "sagemaker", "DescribeModelPackage", {"ModelPackageName": PKG}, True, False),
    ("approve alice's model package", "sagemaker", "UpdateModelPackage",
     {"ModelPackageArn": PKG, "ModelApprovalStatus": "Approved"}, True, False),
    ("delete alice's model package", "sagemaker", "DeleteModelPackage", {"ModelPackageName": PKG}, True, False),
    ("describe alice's package group", "sagemaker", "DescribeModelPackageGroup", {"ModelPackageGroupName": "alice-iris"},
     True, False),
    ("add a package to alice's group", "sagemaker", "CreateModelPackage",
     {"ModelPackageGroupName": "alice-iris", "Tags": "{tags}"}, True, False),
    ("re-tag alice's endpoint as the caller's", "sagemaker", "AddTags",
     {"ResourceArn": sm_arn("endpoint", "iris-ep"), "Tags": [{"Key": "studiouserid", "Value": "{me}"}]}, True, False),
    ("re-tag alice's endpoint as someone else's", "sagemaker", "AddTags",
     {"ResourceArn": sm_arn("endpoint", "iris-ep"), "Tags": [{"Key": "studiouserid", "Value": "carol"}]}, False, False),
    ("claim an untagged model by tagging it", "sagemaker", "AddTags",
     {"ResourceArn": sm_arn("model", "legacy-model"), "Tags": [{"Key": "studiouserid", "Value": "{me}"}]}, False, False),
    ("create a model without tags", "sagemaker", "CreateModel",
     {"ModelName": "{me}-x-1", "ExecutionRoleArn": ROLE}, False, False),
    ("create a model tagged as alice's", "sagemaker", "CreateModel",
     {"ModelName": "{me}-x-1", "ExecutionRoleArn": ROLE, "Tags": _tags("alice")}, True, False),
    ("create an own model passing the execution role", "sagemaker", "CreateModel",
     {"ModelName": "{me}-x-1", "ExecutionRoleArn": ROLE, "Tags": "{tags}"}, True, True),
    ("create an own model passing another role", "sagemaker", "CreateModel",
     {"ModelName": "{me}-x-1", "ExecutionRoleArn": f"arn:aws:iam::{ACCOUNT}:role/Admin", "Tags": "{tags}"}, False, False),
    ("config serving alice's model", "sagemaker", "CreateEndpointConfig",
     {"EndpointConfigName": "{me}-c", "ProductionVariants": [{"VariantName": "AllTraffic",
                                                               "ModelName": "alice-iris-ep-20240501-120000"}],
      "Tags": "{tags}"}, True, False),
    ("config serving bob's model", "sagemaker", "CreateEndpointConfig",
     {"EndpointConfigName": "{me}-c", "ProductionVariants": [{"VariantName": "AllTraffic",
                                                               "ModelName": "bob-my-ep-20240501-120000"}],
      "Tags": "{tags}"}, False, True),
    ("endpoint on alice's config", "sagemaker", "CreateEndpoint",
     {"EndpointName": "{me}-ep", "EndpointConfigName": "alice-iris-ep-20240501-120000", "Tags": "{tags}"}, True, False),
    ("endpoint on bob's config", "sagemaker", "CreateEndpoint",
     {"EndpointName": "{me}-ep", "EndpointConfigName": "bob-my-ep-20240501-120000", "Tags": "{tags}"}, False, True),
    ("autoscale alice's endpoint", "application-autoscaling", "RegisterScalableTarget",
     {**SCALE, "MinCapacity": 1, "MaxCapacity": 2, "Tags": {"studiouserid": "{me}"}}, True, False),
    ("remove alice's scaling target", "application-autoscaling", "DeregisterScalableTarget", SCALE, True, False),
    ("read alice's artifact", "s3", "GetObject", {"Bucket": BUCKET, "Key": A_KEY}, True, False),
    ("overwrite alice's artifact", "s3", "PutObject", {"Bucket": BUCKET, "Key": A_KEY}, True, False),
    ("re-tag alice's artifact", "s3", "PutObjectTagging",
     {"Bucket": BUCKET, "Key": A_KEY, "Tagging": {"TagSet": [{"Key": "studiouserid", "Value": "{me}"}]}}, True, False),
    ("delete alice's artifact", "s3", "DeleteObject", {"Bucket": BUCKET, "Key": A_KEY}, True, False),
    ("list alice's folder", "s3", "ListObjectsV2", {"Bucket": BUCKET, "Prefix": "model-artifacts/alice/"}, True, False),
    ("list the whole registry", "s3", "ListObjectsV2", {"Bucket": BUCKET, "Prefix": "model-artifacts/"}, False, False),
    ("push 'iris' into the caller's own folder", "s3", "PutObject",
     {"Bucket": BUCKET, "Key": "model-artifacts/{me}/iris/v1/model.tar.gz", "Tagging": "studiouserid={me}"}, True, True),
    ("schedule the expiry of alice's endpoint in alice's group", "scheduler", "CreateSchedule",
     {**SCHEDULE, "GroupName": "smops-alice"}, True, False),
    ("schedule an expiry in the caller's own group, as alice's role", "scheduler", "CreateSchedule",
     {**SCHEDULE, "GroupName": "smops-{me}"}, True, False),
    ("schedule an expiry in the caller's own group, as the caller's role", "scheduler", "CreateSchedule",
     {**SCHEDULE, "GroupName": "smops-{me}", "Target": {**SCHEDULE["Target"], "RoleArn": EXPIRY_ROLE.replace("alice", "{me}")}},
     True, True),
    ("delete alice's expiry schedule", "scheduler", "DeleteSchedule", {"Name": "iris-ep", "GroupName": "smops-alice"},
     True, False),
    ("remove the expiry tag of alice's endpoint", "sagemaker", "DeleteTags",
     {"ResourceArn": sm_arn("endpoint", "iris-ep"), "TagKeys": ["smops:expires-at"]}, True, False),
    ("remove the owner tag of alice's endpoint", "sagemaker", "DeleteTags",
     {"ResourceArn": sm_arn("endpoint", "iris-ep"), "TagKeys": ["studiouserid"]}, False, False),
    ("create a REST API tagged as alice's", "apigateway", "CreateRestApi", {"name": "x", "tags": {"studiouserid": "alice"}},
     True, False),
    ("delete alice's REST API (her public front)", "apigateway", "DeleteRestApi", {"restApiId": "alice-api"}, True, False),
    ("read alice's API key with its value", "apigateway", "GetApiKey", {"apiKey": "alice-key", "includeValue": True},
     True, False),
    ("list every API key with its value", "apigateway", "GetApiKeys", {"includeValues": True}, False, False),
    ("remove alice's usage plan", "apigateway", "DeleteUsagePlan", {"usagePlanId": "alice-plan"}, True, False),
    ("integrate the caller's API as alice's front role", "apigateway", "PutIntegration",
     {"restApiId": "{me}-api", "resourceId": "r1", "httpMethod": "POST", "type": "AWS",
      "credentials": f"arn:aws:iam::{ACCOUNT}:role/smops-front-alice"}, True, False),
    ("read alice's endpoint logs (see below)", "logs", "GetLogEvents",
     {"logGroupName": "/aws/sagemaker/Endpoints/iris-ep", "logStreamName": "AllTraffic/i-1"}, True, True),
    ("read alice's endpoint tags (seed: ListTags on *)", "sagemaker", "ListTags",
     {"ResourceArn": sm_arn("endpoint", "iris-ep")}, True, True),
]


def _fill(value, me):
    if value == "{tags}":
        return _tags(me)
    if isinstance(value, str):
        return value.replace("{me}", me)
    if isinstance(value, list):
        return [_fill(v, me) for v in value]
    if isinstance(value, dict):
        return {k: _fill(v, me) for k, v in value.items()}
    return value


def decide(service, operation, params, me) -> bool:
    """Whether ``me`` (a user tagged studiouserid=me, with the ABAC policy) may make the call."""
    requests = authorizations(service, operation, _fill(params, me), _world(), {"aws:PrincipalTag/studiouserid": me})
    return all(evaluate(POLICY, r).allowed for r in requests)


@pytest.mark.parametrize("what, service, operation, params, alice, bob", MATRIX, ids=[m[0] for m in MATRIX])
def test_cross_owner_matrix(what, service, operation, params, alice, bob):
    assert (decide(service, operation, params, "alice"), decide(service, operation, params, "bob")) == (alice, bob)


def test_pass_role_only_the_execution_role_only_to_sagemaker():
    me = {"aws:PrincipalTag/studiouserid": "bob"}
    ok = Request("iam:PassRole", ROLE, {**me, "iam:PassedToService": "sagemaker.amazonaws.com"})
    assert evaluate(POLICY, ok).allowed
    assert not evaluate(POLICY, Request("iam:PassRole", ROLE, {**me, "iam:PassedToService": "ec2.amazonaws.com"})).allowed
    assert not evaluate(POLICY, Request("iam:PassRole", f"arn:aws:iam::{ACCOUNT}:role/Other",
                                        {**me, "iam:PassedToService": "sagemaker.amazonaws.com"})).allowed


def test_a_user_without_the_owner_tag_reaches_nothing():
    for _, service, operation, params, *_ in MATRIX:
        if operation not in ("GetLogEvents", "ListTags"):
            requests = authorizations(service, operation, _fill(params, ""), _world(), {})
            assert not all(evaluate(POLICY, r).allowed for r in requests), operation


def render_matrix() -> str:
    yes = {True: "allowed", False: "**denied**"}
    lines = ["| bob (tagged `studiouserid=bob`) tries to ... | IAM action(s) | alice may | bob may |",
             "| --- | --- | --- | --- |"]
    for what, service, operation, params, _, _ in MATRIX:
        actions = sorted({r.action for r in authorizations(service, operation, _fill(params, "bob"), _world(), {})})
        lines.append(f"| {what} | {', '.join(f'`{a}`' for a in actions)} | "
                     f"{yes[decide(service, operation, params, 'alice')]} | {yes[decide(service, operation, params, 'bob')]} |")
    return "\n".join(lines)


def test_docs_show_this_matrix():
    text = DOCS.read_text()
    found = re.search(r"<!-- iam-matrix:start -->\n(.*?)\n<!-- iam-matrix:end -->", text, re.S)
    assert found, "docs/admin.md lacks the <!-- iam-matrix:start/end --> block"
    assert found.group(1).strip() == render_matrix(), ("docs/admin.md's IAM matrix is out of date; regenerate it with "
                                                       "python -c 'import test_iam_policy as t; print(t.render_matrix())'")


# -- What the policy needs of the code (once strict xfails in iam_gaps.py, now held here).
def _push(config, tmp_path, owner="tester"):
    from aws_helpers import make_package

    from jupyter_smops.core.registry.s3 import S3Registry

    return S3Registry(config).push(make_package(tmp_path), name="iris", owner=owner)


def test_registry_keys_are_under_the_owners_folder(aws, config, recorded, tmp_path):
    _push(config, tmp_path)
    keys = [c.params["Key"] for c in recorded.calls if c.operation in ("PutObject", "CreateMultipartUpload")]
    assert keys and all(k.startswith("model-artifacts/tester/") for k in keys), keys


def test_model_names_start_with_the_owner(aws, config, recorded, tmp_path):
    from jupyter_smops.core.deploy_plan import check_options
    from jupyter_smops.core.endpoints.base import DeployOptions
    from jupyter_smops.core.endpoints.sagemaker import SageMakerEndpoints

    mv = _push(config, tmp_path)
    eps = SageMakerEndpoints(config)
    eps.poll_seconds = 0.01
    options = eps.prepare_deploy(mv, check_options(DeployOptions(), remote=True, default_instance_type=config.instance_type))
    eps.deploy(mv, name="iris-ep", owner="tester", options=options, fetch=None)
    names = [c.params["ModelName"] for c in recorded.calls if c.operation == "CreateModel"]
    assert names and all(n.startswith("tester-") for n in names), names


def test_a_push_survives_abac_hiding_a_missing_package_group(aws, config, tmp_path):
    """Under ABAC, describing a group that does not exist is AccessDenied (it has no owner tag)."""
    from aws_helpers import Faults

    from jupyter_smops.core.aws import clients_for

    Faults(clients_for(config).client("sagemaker")).fail("DescribeModelPackageGroup", "AccessDeniedException",
                                                         "not authorized", status=400, times=1)
    assert _push(config, tmp_path).version == 1
