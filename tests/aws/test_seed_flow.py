"""The seed's whole workflow on the aws backend, through ``Smops`` (what every face calls)."""
from __future__ import annotations

import pytest

from aws_helpers import queue_endpoint_results
from jupyter_smops.core import DeployOptions, Smops
from jupyter_smops.core.aws import REQUIRED_ACTIONS, clients_for, iam_action
from jupyter_smops.core.endpoints.sagemaker import SageMakerEndpoints
from jupyter_smops.core.registry.s3 import S3Registry

pytestmark = pytest.mark.aws
OWNER_TAG = {"Key": "studiouserid", "Value": "tester"}


def _owned(raw, op, key, arn_key):
    sm = raw["sagemaker"]
    items = getattr(sm, op)()[key]
    return [i for i in items if OWNER_TAG in sm.list_tags(ResourceArn=i[arn_key])["Tags"]]


def test_seed_flow_push_deploy_predict_delete_cleanup(aws, raw, iris_model, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    smops = Smops()
    assert smops.backend == "aws" and smops.owner == "tester"
    assert isinstance(smops.registry, S3Registry) and isinstance(smops.endpoints, SageMakerEndpoints)
    smops.endpoints.poll_seconds = 0.01
    called = set()
    clients_for(smops.config).session.events.register(
        "before-call", lambda model, **kw: called.add((model.service_model.service_name, model.name)))

    mv = smops.push(iris_model, name="iris", sample={"instances": [[5.1, 3.5, 1.4, 0.2]]})
    assert mv.ref == "iris:1" and mv.uri.startswith("s3://sagemaker-us-east-1-123456789012/model-artifacts/tester/iris/v1/")
    assert mv.serving_version and mv.model_package_arn
    status = smops.status()
    assert (status["backend"], status["bucket"], status["account"]) == (
        "aws", "sagemaker-us-east-1-123456789012", "123456789012")

    ep = smops.deploy("iris", endpoint="iris-endpoint", options=DeployOptions(instance_type="ml.t2.medium"))
    assert (ep.status, ep.instance_type, ep.instance_count, ep.model, ep.version) == (
        "InService", "ml.t2.medium", 1, "iris", 1)
    # Exactly what the seed's CLI steps create: one model, one endpoint config, one endpoint.
    assert [len(_owned(raw, *a)) for a in (("list_models", "Models", "ModelArn"),
                                           ("list_endpoint_configs", "EndpointConfigs", "EndpointConfigArn"),
                                           ("list_endpoints", "Endpoints", "EndpointArn"))] == [1, 1, 1]
    assert [e.name for e in smops.list_endpoints()] == ["iris-endpoint"]

    queue_endpoint_results(aws, [{"Body": '{"predictions": [0]}', "ContentType": "application/json"}])
    result = smops.predict("iris-endpoint", {"instances": [[5.1, 3.5, 1.4, 0.2]]})
    assert result.decoded() == {"predictions": [0]}

    smops.delete("iris-endpoint")
    assert smops.list_endpoints() == []
    smops.deploy("iris:1", endpoint="second")  # left for cleanup to find
    dry = smops.cleanup(dry_run=True)
    assert dry.endpoints == ["second"] and len(dry.endpoint_configs) == 1 and len(dry.models) == 1
    done = smops.cleanup()
    assert done.errors == [] and done.endpoints == ["second"]
    for args in (("list_models", "Models", "ModelArn"),
                 ("list_endpoint_configs", "EndpointConfigs", "EndpointConfigArn"),
                 ("list_endpoints", "Endpoints", "EndpointArn")):
        assert _owned(raw, *args) == []
    # Every call the workflow made is in the list the admin's IAM policies are built from.
    missing = {(s, op) for s, op in called if iam_action(s, op) not in REQUIRED_ACTIONS}
    assert not missing and len(called) > 20


def test_invoking_again_costs_no_describe_endpoint_until_the_endpoint_is_gone(aws, raw, iris_model, tmp_path,
                                                                              monkeypatch):
    from aws_helpers import Faults
    from jupyter_smops.core.errors import NotFound

    monkeypatch.chdir(tmp_path)
    smops = Smops()
    smops.endpoints.poll_seconds = 0.01
    smops.push(iris_model, name="iris")
    smops.deploy("iris", endpoint="iris-endpoint")
    calls: list[str] = []
    runtime = smops.endpoints.clients.client("sagemaker-runtime", read_timeout=int(smops.config.invoke_timeout) + 5,
                                             connect_timeout=10)  # the client invoke uses
    for client in (smops.endpoints.sm, runtime):
        client.meta.events.register("before-call", lambda model, **kw: calls.append(model.name))
    answer = {"Body": '{"predictions": [0]}', "ContentType": "application/json"}
    queue_endpoint_results(aws, [answer] * 5)
    for _ in range(5):
        assert smops.predict("iris-endpoint", {"instances": [[5.1, 3.5, 1.4, 0.2]]}).decoded() == {"predictions": [0]}
    assert calls.count("InvokeEndpoint") == 5 and calls.count("DescribeEndpoint") == 1, calls

    # Deleted behind our back: SageMaker answers InvokeEndpoint with a ValidationError ("not found").
    raw["sagemaker"].delete_endpoint(EndpointName="iris-endpoint")
    Faults(runtime).fail("InvokeEndpoint", "ValidationError",
                         "Endpoint iris-endpoint of account 123456789012 not found.", times=1)
    with pytest.raises(NotFound, match="No SageMaker endpoint named 'iris-endpoint'"):
        smops.predict("iris-endpoint", [[1, 2, 3, 4]])
    calls.clear()
    with pytest.raises(NotFound, match="No endpoint named 'iris-endpoint'"):  # looked up again, not cached
        smops.predict("iris-endpoint", [[1, 2, 3, 4]])
    assert "DescribeEndpoint" in calls and "InvokeEndpoint" not in calls
