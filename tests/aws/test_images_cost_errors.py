"""image_uri against the SageMaker SDK, the cost table, and the one AWS error translator."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError, NoCredentialsError

from jupyter_smops.core import cost
from jupyter_smops.core.aws import iam_action, translate
from jupyter_smops.core.errors import AccessDenied, BadRequest, Conflict, NotFound, UpstreamError
from jupyter_smops.core.images import image_uri, is_graviton, sklearn_image_config, sklearn_serving_versions

REGIONS = ("us-east-1", "eu-west-1", "ap-southeast-2", "cn-north-1", "us-gov-west-1", "us-iso-east-1",
           "us-isob-east-1")


@pytest.mark.slow
def test_image_uri_equals_the_sdk_for_every_version():
    from sagemaker.core import image_uris  # ~3 s import: the reason image_uri exists

    versions = sklearn_serving_versions()
    assert "1.9-0" in versions
    for region in REGIONS:
        for version in versions:
            for instance_type in (None, "ml.t2.medium", "ml.m5.large", "ml.c5.xlarge"):
                expected = image_uris.retrieve(framework="sklearn", region=region, version=version,
                                               instance_type=instance_type)
                assert image_uri(region, version, instance_type) == expected, (region, version, instance_type)
        # The one Graviton image is the SDK's answer for 1.0-1, and a refusal for anything else.
        assert image_uri(region, "1.0-1", "ml.m6g.large") == image_uris.retrieve(
            framework="sklearn", region=region, version="1.0-1", instance_type="ml.m6g.large")


def test_image_uri_refusals_spell_out_options():
    assert image_uri("us-east-1", "1.9-0") == \
        "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.9-0-cpu-py3"
    for graviton in ("ml.m6g.large", "ml.c7g.xlarge", "ml.r6gd.2xlarge", "ml.c6gn.large"):
        assert is_graviton(graviton)
        with pytest.raises(BadRequest, match="Graviton.*1.0-1.*ml.m5.large"):
            image_uri("us-east-1", "1.9-0", graviton)
    assert not is_graviton("ml.g5.xlarge") and not is_graviton("ml.m5.large")
    with pytest.raises(BadRequest, match="CPU-only"):
        image_uri("us-east-1", "1.9-0", "ml.g5.xlarge")
    with pytest.raises(BadRequest, match="the versions are 0.20.0"):
        image_uri("us-east-1", "1.5-1")
    with pytest.raises(BadRequest, match="not published in region 'mars-north-1'"):
        image_uri("mars-north-1", "1.9-0")
    assert set(sklearn_image_config()) >= {"inference", "inference_graviton"}


def test_cost_table_and_estimates():
    assert cost.PRICES_REGION == "us-east-1" and cost.PRICES_DATE
    assert cost.cost_per_hour("ml.t2.medium", 1) == pytest.approx(0.056)
    assert cost.cost_per_hour("ml.m5.large", 3) == pytest.approx(0.345)
    assert cost.cost_per_hour("ml.unknown.large") is None
    now = datetime(2026, 1, 1, 12, tzinfo=timezone.utc)
    start = (now - timedelta(hours=10)).isoformat().replace("+00:00", "Z")
    assert cost.cost_so_far("ml.t2.medium", 1, start, now=now) == pytest.approx(0.56)
    assert cost.cost_so_far("ml.t2.medium", 1, "", now=now) is None
    # 2 GB for an hour of compute, plus 1 GB of data.
    assert cost.serverless_cost(2048, 3600, 1.0) == pytest.approx(2 * 3600 * 0.00002 + 0.016)
    assert "serverless is billed by usage" in cost.price_note("eu-west-1")
    assert all(k.startswith("ml.") and 0 < v < 50 for k, v in cost.HOURLY_USD.items())


def test_every_priced_type_can_host_an_endpoint_and_sizes_cost_in_proportion():
    """The table was typed without access to AWS's price list, so check what can be checked here:
    every type is one SageMaker accepts for a real-time endpoint (botocore's service model), and
    within a family price doubles with size (large -> xlarge -> 2xlarge ...), within 2 %."""
    import re

    import botocore.session

    hostable = set(botocore.session.get_session().get_service_model("sagemaker")
                   .shape_for("ProductionVariantInstanceType").enum)
    assert sorted(set(cost.HOURLY_USD) - hostable) == []
    units = {"medium": 0.5, "large": 1, "xlarge": 2}
    families: dict[str, dict[float, float]] = {}
    for name, price in cost.HOURLY_USD.items():
        family, size = name.rsplit(".", 1)
        m = re.fullmatch(r"(\d+)xlarge", size)
        units_of = int(m.group(1)) * 2 if m else units[size]
        families.setdefault(family, {})[units_of] = price
    for family, prices in families.items():
        per_unit = {u: p / u for u, p in prices.items() if u >= 1}
        if len(per_unit) > 1:
            low, high = min(per_unit.values()), max(per_unit.values())
            assert high / low < 1.02, (family, prices)


def _client_error(code, message="", op="PutObject", status=400):
    return ClientError({"Error": {"Code": code, "Message": message},
                        "ResponseMetadata": {"HTTPStatusCode": status, "RetryAttempts": 7}}, op)


@pytest.mark.parametrize("code,op,service,cls,words", [
    ("AccessDenied", "UploadPart", "s3", AccessDenied, "allow s3:PutObject"),
    ("AccessDeniedException", "CreateModel", "sagemaker", AccessDenied, "allow sagemaker:CreateModel"),
    ("AccessDeniedException", "FilterLogEvents", "logs", AccessDenied, "allow logs:FilterLogEvents"),
    ("ExpiredToken", "GetObject", "s3", AccessDenied, "refresh them"),
    ("ThrottlingException", "CreateEndpoint", "sagemaker", UpstreamError, "after 8 attempt(s)"),
    ("SlowDown", "PutObject", "s3", UpstreamError, "Wait a minute"),
    ("ResourceLimitExceeded", "CreateEndpoint", "sagemaker", Conflict, "Service Quotas"),
    ("ValidationException", "CreateEndpointConfig", "sagemaker", BadRequest, "rejected"),
    ("NoSuchBucket", "PutObject", "s3", NotFound, "SMOPS_BUCKET"),
    ("ValidationException", "DescribeEndpoint", "sagemaker", NotFound, "Could not find"),
    ("InternalFailure", "CreateModel", "sagemaker", UpstreamError, "Try again"),
])
def test_translate_client_errors(code, op, service, cls, words):
    message = "Could not find endpoint x" if op == "DescribeEndpoint" else "details"
    err = translate(_client_error(code, message, op), "the step", service)
    assert isinstance(err, cls) and words in err.message and "the step" in err.message


def test_translate_other_failures():
    assert isinstance(translate(NoCredentialsError()), AccessDenied)
    assert "SMOPS_BACKEND=local" in translate(NoCredentialsError()).message
    err = translate(EndpointConnectionError(endpoint_url="http://x"), "pushing")
    assert isinstance(err, UpstreamError) and "Cannot reach AWS during pushing" in err.message
    html = translate(_client_error("500", "<!doctype html><h1>Internal Server Error</h1>", status=500))
    assert "<" not in html.message
    assert iam_action("s3", "HeadObject") == "s3:GetObject"
    assert iam_action("sagemaker-runtime", "InvokeEndpoint") == "sagemaker:InvokeEndpoint"
