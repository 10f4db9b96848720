"""Fixtures of the aws backend tests (helpers live in aws_helpers.py)."""
from __future__ import annotations

import pytest


@pytest.fixture
def aws(aws_env, monkeypatch):
    """aws_env plus fast failure: one attempt per call (moto answers unimplemented calls with 500)."""
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
