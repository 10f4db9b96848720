"""Fixtures of the aws backend tests (helpers live in aws_helpers.py).

Every test here runs with ``recorded``: each AWS call the product makes (through
``core.aws.AwsClients``) is recorded, checked against the service model (a request AWS would
refuse fails the test), and evaluated against the generated ABAC user policy (a call of its
owner that the policy would deny fails the test, unless it is one of the ``iam_gaps.PENDING``
changes the code still has to make). The session's totals are printed at the end.
"""
from __future__ import annotations

import pytest

SUMMARY = {"tests": 0, "calls": 0, "iam_requests": 0, "allowed": 0, "pending": {}, "tolerated": {},
           "unknown_tags": 0, "operations": set(), "denied": {"pending": 0, "tolerated": 0, "unchecked": 0, "failing": 0}}


@pytest.fixture
def aws(aws_env, monkeypatch):
    """aws_env plus fast failure: one attempt per call (moto answers unimplemented calls with 500),
    and model packages numbered and deleted as SageMaker does (moto_packages.py)."""
    from moto_packages import aws_model_packages

    aws_model_packages(monkeypatch)
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    monkeypatch.setenv("SMOPS_ROLE_ARN", "arn:aws:iam::123456789012:role/SageMakerDemoExecutionRole")
    return aws_env


@pytest.fixture
def config(aws):
    from jupyter_smops.core.config import SmopsConfig

    return SmopsConfig()


@pytest.fixture
def raw(aws):
    """Plain boto3 clients on the moto server, to read back what the backend did."""
    import boto3
    from botocore.config import Config

    cfg = Config(retries={"total_max_attempts": 1})
    return {s: boto3.client(s, region_name="us-east-1", config=cfg)
            for s in ("s3", "sagemaker", "application-autoscaling", "logs", "sts")}


def _moto_tags(arn: str):
    """Tags of an existing resource, read from the moto server (None when unknown)."""
    import os

    import boto3
    from botocore.config import Config

    if not os.environ.get("AWS_ENDPOINT_URL"):
        return None
    cfg = Config(retries={"total_max_attempts": 1})
    try:
        if arn.startswith("s3://"):
            bucket, _, key = arn[5:].partition("/")
            tags = boto3.client("s3", region_name="us-east-1", config=cfg).get_object_tagging(Bucket=bucket, Key=key)
            return {t["Key"]: t["Value"] for t in tags.get("TagSet", [])}
        if arn.startswith("arn:aws:sagemaker:"):
            tags = boto3.client("sagemaker", region_name="us-east-1", config=cfg).list_tags(ResourceArn=arn)
            return {t["Key"]: t["Value"] for t in tags.get("Tags", [])}
    except Exception:  # noqa: BLE001 - absent, or moto cannot say (model packages)
        return None
    return None


@pytest.fixture(autouse=True)
def recorded(monkeypatch, request):
    """The Recorder of this test's product calls (module docstring)."""
    import os

    from iam_gaps import classify
    from iam_requests import World
    from recorder import Recorder

    from jupyter_smops.core import aws as core_aws
    from jupyter_smops.core.admin.policies import abac_policy

    recorder = Recorder(World(_moto_tags))
    original_client, original_set = core_aws.AwsClients.client, core_aws.AwsClients.set_client

    def client(self, service, **config):
        made = original_client(self, service, **config)
        recorder.attach(made)
        return made

    def set_client(self, service, made):
        recorder.attach(made)
        return original_set(self, service, made)

    monkeypatch.setattr(core_aws.AwsClients, "client", client)
    monkeypatch.setattr(core_aws.AwsClients, "set_client", set_client)
    yield recorder

    from iam_eval import evaluate

    invalid = [f"{c.service}.{c.operation}: {v}" for c in recorder.calls for v in c.violations]
    policy = abac_policy(account="123456789012", region="us-east-1",
                         bucket=os.environ.get("SMOPS_BUCKET") or "sagemaker-us-east-1-123456789012",
                         prefix=os.environ.get("SMOPS_PREFIX", "model-artifacts"),
                         role_arn=os.environ.get("SMOPS_ROLE_ARN"))
    denied = []
    SUMMARY["tests"] += 1
    for call in recorder.calls:
        SUMMARY["calls"] += 1
        SUMMARY["operations"].add(f"{call.service}.{call.operation}")
        if call.error:
            denied.append(call.error)
        for req in call.requests:
            SUMMARY["iam_requests"] += 1
            if evaluate(policy, req).allowed:
                SUMMARY["allowed"] += 1
                continue
            kind, reason = classify(call, req)
            unchecked = bool(request.node.get_closest_marker("iam_unchecked"))
            SUMMARY["denied"][kind or ("unchecked" if unchecked else "failing")] += 1
            if kind is None:
                denied.append(f"{call.service}.{call.operation} as {call.principal!r}: {req.action} on {req.resource} "
                              f"with {req.context}")
            else:
                bucket = SUMMARY[kind].setdefault(reason, set())
                bucket.add(f"{call.service}.{call.operation} -> {req.action}")
    SUMMARY["unknown_tags"] += len(recorder.world.unknown)
    # iam_unchecked excuses the policy only: a request AWS would refuse is wrong whoever sends it.
    problems = [f"request AWS would refuse: {v}" for v in invalid]
    if not request.node.get_closest_marker("iam_unchecked"):
        problems += [f"ABAC policy denies its owner: {d}" for d in denied]
    if problems:
        pytest.fail("\n".join(problems), pytrace=False)


def pytest_configure(config):
    config.addinivalue_line("markers", "iam_unchecked: the test makes calls as no real owner would (fault injection)")


def pytest_terminal_summary(terminalreporter):
    if not SUMMARY["tests"]:
        return
    tr = terminalreporter
    tr.section("AWS calls recorded by tests/aws (IAM + request validation)")
    tr.write_line(f"{SUMMARY['calls']} calls ({len(SUMMARY['operations'])} operations) in {SUMMARY['tests']} tests -> "
                  f"{SUMMARY['iam_requests']} IAM requests, {SUMMARY['allowed']} allowed by the ABAC policy; "
                  f"{SUMMARY['unknown_tags']} resource-tag look-ups unknown")
    tr.write_line("denied: " + ", ".join(f"{n} {kind}" for kind, n in SUMMARY["denied"].items())
                  + " (unchecked: in tests marked iam_unchecked, which act as no real owner would)")
    for kind in ("pending", "tolerated"):
        for reason, ops in SUMMARY[kind].items():
            tr.write_line(f"  {kind}: {reason}: {', '.join(sorted(ops))}")
