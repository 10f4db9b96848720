"""Issue 11 item 3 on the aws backend (moto): a model whose scikit-learn has no serving image is
deployed on the nearest image, and the archive SageMaker reads pins the version the endpoint runs.

Simulated as in tests/test_serving_choice.py: the SDK image data is SDK 3.12's (what SageMaker
Distribution 4.6.0 ships), which has no image for this environment's scikit-learn.
"""
from __future__ import annotations

import copy
import io
import tarfile
from importlib import metadata

import pytest

from jupyter_smops.core import DeployOptions, images
from jupyter_smops.core.api import Smops

pytestmark = pytest.mark.aws
LOCAL = metadata.version("scikit-learn")
IMAGE_1_4 = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.4-2-py312-cpu-py3"


@pytest.fixture
def sdk_3_12(monkeypatch):
    data = copy.deepcopy(images.sklearn_image_config())
    data["inference"]["versions"].pop("1.9-0", None)
    monkeypatch.setattr(images, "sklearn_image_config", lambda: data)


def _s3_requirements(raw, uri: str) -> list[str]:
    bucket, key = uri[len("s3://"):].split("/", 1)
    body = raw["s3"].get_object(Bucket=bucket, Key=key)["Body"].read()
    with tarfile.open(fileobj=io.BytesIO(body)) as tar:
        text = tar.extractfile("code/requirements.txt").read().decode()
    return [line for line in text.splitlines() if line and not line.startswith("#")]


def test_deployed_archive_pins_what_the_endpoint_runs(config, raw, iris_model, sdk_3_12):
    smops = Smops(config)
    smops.endpoints.poll_seconds = 0.01
    mv = smops.push(iris_model, name="iris", sample={"instances": [[5.1, 3.5, 1.4, 0.2]]})
    assert (mv.serving_version, mv.requirements_pin, mv.pin_added) == ("1.4-2-py312", LOCAL, True)

    plan = smops.plan_deploy("iris:1", endpoint="iris-ep", options=DeployOptions(instance_type="ml.t2.medium"))
    assert plan.options.image_uri == IMAGE_1_4
    assert plan.serving["sklearn"] == LOCAL and plan.serving["installs_at_start"]
    assert f"scikit-learn {LOCAL} (installed at start)" in plan.summary() and "package index" in plan.summary()
    ep = smops.deploy(plan)
    assert ep.status == "InService"

    # What SageMaker was told to run: the nearest image, and the artifact that pins the version.
    models = [m["ModelName"] for m in raw["sagemaker"].list_models()["Models"]]
    container = raw["sagemaker"].describe_model(ModelName=models[0])["PrimaryContainer"]
    assert container["Image"] == IMAGE_1_4 and container["ModelDataUrl"] == mv.uri
    assert _s3_requirements(raw, container["ModelDataUrl"]) == [f"scikit-learn=={LOCAL}"]
    assert plan.serving["sklearn"] == mv.requirements_pin  # the endpoint runs what the archive pins
    smops.delete("iris-ep")
