"""The S3 registry keeps what a version's inference.py reads (``accepts``) in its smops.json."""
from __future__ import annotations

import json

import pytest

from jupyter_smops.core.api import Smops

pytestmark = pytest.mark.aws
BUCKET = "sagemaker-us-east-1-123456789012"
JSON_ONLY = '''import os, json, joblib
import numpy as np
def model_fn(model_dir):
    return joblib.load(os.path.join(model_dir, "model.joblib"))
def input_fn(body, content_type):
    if content_type != "application/json":
        raise ValueError("JSON only, not %s" % content_type)
    return np.array(json.loads(body)["instances"])
'''


def test_s3_smops_json_records_accepts_and_reads_it_back(config, raw, iris_model, tmp_path):
    inference = tmp_path / "inference.py"
    inference.write_text(JSON_ONLY)
    smops = Smops(config)
    mv = smops.push(iris_model, name="iris", inference=str(inference), sample={"instances": [[5.1, 3.5, 1.4, 0.2]]})
    assert mv.accepts == ["application/json"]
    body = raw["s3"].get_object(Bucket=BUCKET, Key="model-artifacts/tester/iris/v1/smops.json")["Body"].read()
    meta = json.loads(body)
    assert meta["accepts"] == ["application/json"]
    assert meta["produces"] == ["application/json", "text/csv", "application/x-npy"]
    assert smops.models("iris")[0].versions[0].accepts == ["application/json"]


def test_the_model_package_offers_the_content_types_the_version_reads(config, raw, iris_model, tmp_path):
    inference = tmp_path / "inference.py"
    inference.write_text(JSON_ONLY)
    mv = Smops(config).push(iris_model, name="iris", inference=str(inference),
                            sample={"instances": [[5.1, 3.5, 1.4, 0.2]]})
    spec = raw["sagemaker"].describe_model_package(ModelPackageName=mv.model_package_arn)["InferenceSpecification"]
    # What Studio's Model Registry shows: JSON in, the container's encoders out.
    assert spec["SupportedContentTypes"] == ["application/json"]
    assert spec["SupportedResponseMIMETypes"] == ["application/json", "text/csv", "application/x-npy"]
