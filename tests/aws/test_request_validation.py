"""The request validator (recorder.py) that every aws test runs through: what botocore lets
through and AWS refuses, and the product's requests that once broke it."""
from __future__ import annotations

import botocore.session
import pytest

from aws_helpers import make_package
from recorder import violations

pytestmark = pytest.mark.aws
SM = botocore.session.get_session().get_service_model("sagemaker")


def _input(op):
    return SM.operation_model(op).input_shape


def test_what_botocore_accepts_and_aws_refuses_is_found():
    from botocore.validate import ParamValidator

    params = {"ModelPackageGroupName": "iris", "ModelApprovalStatus": "Maybe",
              "InferenceSpecification": {"Containers": [{"Image": "img", "Framework": "SKLEARN",
                                                         "FrameworkVersion": "1.4-2-py312"}],
                                         "SupportedContentTypes": ["application/json"],
                                         "SupportedResponseMIMETypes": ["application/json"]},
              "ModelPackageDescription": "x" * 1025,
              "Tags": [{"Key": f"k{i}", "Value": "v"} for i in range(51)]}
    assert not ParamValidator().validate(params, _input("CreateModelPackage")).has_errors()  # botocore: fine
    found = "\n".join(violations(_input("CreateModelPackage"), params))
    assert "FrameworkVersion: '1.4-2-py312' has 11 characters, the maximum is 10" in found
    assert "ModelApprovalStatus: 'Maybe' is not one of" in found
    assert "ModelPackageDescription" in found and "Tags: 51 items, the maximum is 50" in found


def test_patterns_ranges_and_java_classes():
    bad = {"EndpointName": "my_endpoint", "EndpointConfigName": "ok-config"}
    assert [v.split(":")[0] for v in violations(_input("CreateEndpoint"), bad)] == ["EndpointName"]
    variant = {"EndpointConfigName": "c", "ProductionVariants": [{"VariantName": "AllTraffic", "ModelName": "m",
                                                                 "ServerlessConfig": {"MemorySizeInMB": 7000,
                                                                                      "MaxConcurrency": 201}}]}
    found = violations(_input("CreateEndpointConfig"), variant)
    assert any("MemorySizeInMB: 7000 is above the maximum 6144" in v for v in found)
    assert any("MaxConcurrency: 201 is above the maximum 200" in v for v in found)
    # \p{...} classes (Java) are understood: a tag value with letters of any script passes.
    assert violations(_input("AddTags"), {"ResourceArn": "arn:aws:sagemaker:us-east-1:123456789012:model/m",
                                          "Tags": [{"Key": "owner", "Value": "Zoë"}]}) == []


def test_the_model_package_of_a_1_4_2_py312_model_is_valid(aws, recorded, tmp_path):
    """ModelPackage FrameworkVersion is at most 10 characters: '1.4-2-py312' (the serving
    version) is 11 and AWS refuses the push; the package records the scikit-learn version."""
    from jupyter_smops.core.config import SmopsConfig
    from jupyter_smops.core.registry.s3 import S3Registry

    S3Registry(SmopsConfig()).push(make_package(tmp_path, serving_version="1.4-2-py312"), name="iris", owner="tester")
    # The package is made first (its number is the version's) and gets its specification once
    # the artifact is stored.
    calls = [c for c in recorded.calls if c.operation in ("CreateModelPackage", "UpdateModelPackage")]
    assert calls and all(c.violations == [] for c in calls)
    [spec] = [c.params["InferenceSpecification"] for c in calls if "InferenceSpecification" in c.params]
    container = spec["Containers"][0]
    assert container["FrameworkVersion"] == "1.4-2" and container["Image"].endswith(":1.4-2-py312-cpu-py3")
