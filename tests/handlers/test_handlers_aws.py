"""The seed's workflow over HTTP on the aws backend (S3 registry + SageMaker on a moto server)."""
from __future__ import annotations

import json
import urllib.request

import pytest

SEED_REQUEST = {"instances": [[5.1, 3.5, 1.4, 0.2]]}
pytestmark = pytest.mark.aws


@pytest.fixture
def smops_backend(aws_env, monkeypatch):
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    monkeypatch.setenv("SMOPS_ROLE_ARN", "arn:aws:iam::123456789012:role/SageMakerDemoExecutionRole")
    return "aws"


def _queue_invoke_result(moto_url: str, body: dict) -> None:
    # moto's InvokeEndpoint answers placeholders unless results are queued.
    payload = {"account_id": "123456789012", "region": "us-east-1",
               "results": [{"Body": json.dumps(body), "ContentType": "application/json"}]}
    req = urllib.request.Request(f"{moto_url}/moto-api/static/sagemaker/endpoint-results",
                                 data=json.dumps(payload).encode(), method="POST",
                                 headers={"Content-Type": "application/json"})
    urllib.request.urlopen(req).read()


async def test_seed_workflow_aws_backend(api, wait_job, jp_root_dir, iris_model, smops_backend, aws_env):
    import joblib

    joblib.dump(iris_model, jp_root_dir / "iris.joblib")
    code, status, _ = await api("GET", "status")
    assert code == 200 and status["backend"] == "aws" and status["region"] == "us-east-1"
    code, accepted, _ = await api("POST", "models", {"path": "iris.joblib", "name": "iris", "sample": SEED_REQUEST})
    assert code == 202, accepted
    push = await wait_job(accepted["job"]["id"])
    assert push["state"] == "succeeded", push
    assert push["result"]["uri"].startswith("s3://") and push["result"]["version"] == 1
    code, models, _ = await api("GET", "models")
    assert [(m["name"], len(m["versions"])) for m in models["models"]] == [("iris", 1)]

    code, accepted, _ = await api("POST", "endpoints", {"model": "iris:1", "name": "iris-endpoint",
                                                        "instance_type": "ml.t2.medium"})
    assert code == 202, accepted
    deploy = await wait_job(accepted["job"]["id"])
    assert deploy["state"] == "succeeded", deploy
    code, endpoint, _ = await api("GET", "endpoints/iris-endpoint")
    assert code == 200 and endpoint["status"] == "InService" and endpoint["instance_type"] == "ml.t2.medium"
    code, dup, _ = await api("POST", "endpoints", {"model": "iris", "name": "iris-endpoint"})
    assert code == 409, dup
    # What only SageMaker's side knows (the image for a type, the type's form) is planned too:
    # refused by the POST itself, with no job started.
    jobs_before = (await api("GET", "jobs"))[1]["jobs"]
    for body, match in (({"instance_type": "ml.m6g.large"}, "Graviton"), ({"instance_type": "t2.medium"}, "not a SageMaker type"),
                        ({"framework_version": "0.1-0"}, "No scikit-learn serving image")):
        code, refused, _ = await api("POST", "endpoints", {"model": "iris", "name": "refused", **body})
        assert code == 400 and match in refused["error"]["message"], refused
    assert (await api("GET", "jobs"))[1]["jobs"] == jobs_before

    _queue_invoke_result(aws_env, {"predictions": [0]})
    code, body, headers = await api("POST", "endpoints/iris-endpoint/invocations",
                                    raw=json.dumps(SEED_REQUEST).encode(),
                                    headers={"Content-Type": "application/json", "Accept": "application/json"})
    assert code == 200, body
    assert body == {"predictions": [0]} and float(headers["X-Smops-Latency-Ms"]) > 0

    code, accepted, _ = await api("DELETE", "endpoints/iris-endpoint")
    assert code == 202
    deleted = await wait_job(accepted["job"]["id"])
    assert deleted["state"] == "succeeded", deleted
    code, _, _ = await api("GET", "endpoints/iris-endpoint")
    assert code == 404
    code, again, _ = await api("DELETE", "endpoints/iris-endpoint")
    assert code == 404, again
    code, dry, _ = await api("POST", "cleanup", {"dry_run": True, "include_registry": True})
    assert code == 200 and dry["registry_versions"] == ["iris:1"] and dry["endpoints"] == []
    code, accepted, _ = await api("POST", "cleanup", {"dry_run": False, "include_registry": True})
    assert code == 202
    cleaned = await wait_job(accepted["job"]["id"])
    assert cleaned["state"] == "succeeded" and cleaned["result"]["registry_versions"] == ["iris:1"], cleaned
    code, models, _ = await api("GET", "models")
    assert code == 200 and all(not m["versions"] for m in models["models"])


async def test_large_push_to_s3_reports_upload_progress(api, jp_root_dir, iris_model, smops_backend):
    """A 24 MB model through the real S3 registry (multipart to moto): the bar only goes forward."""
    import asyncio
    import copy
    import os

    import joblib

    big = copy.deepcopy(iris_model)
    big.padding_ = os.urandom(24 * 1024 * 1024)  # incompressible, still a working estimator
    joblib.dump(big, jp_root_dir / "big.joblib")
    code, accepted, _ = await api("POST", "models", {"path": "big.joblib", "name": "big"})
    assert code == 202, accepted
    uploads, phases = [], []
    while True:
        code, job, _ = await api("GET", f"jobs/{accepted['job']['id']}")
        if not phases or phases[-1] != job["phase"]:
            phases.append(job["phase"])
        if job["phase"] == "uploading":
            uploads.append((job["progress"]["done"], job["progress"]["total"]))
        if job["state"] != "running":
            break
        await asyncio.sleep(0.01)
    assert job["state"] == "succeeded", job
    size = job["result"]["size"]
    assert size > 24 * 1024 * 1024
    assert job["progress"] == {"done": size, "total": size}
    assert "packaging" in phases and phases[-1] == "done", phases
    print(f"phases {phases}; {len(uploads)} upload observations")
    assert uploads, phases
    # Streamed: the archive's size is unknown while it uploads, so the bar counts the model's
    # bytes (one fixed total), and only ever moves forward.
    dones, totals = [d for d, _ in uploads], {t for _, t in uploads}
    assert len(totals) == 1 and dones == sorted(dones) and dones[-1] <= totals.pop(), uploads


async def test_local_deploy_beside_the_aws_backend(api, wait_job, jp_root_dir, iris_model, smops_backend):
    """``"local": true`` serves an S3 registry version on 127.0.0.1: the quick test before paying."""
    import joblib

    joblib.dump(iris_model, jp_root_dir / "iris.joblib")
    code, accepted, _ = await api("POST", "models", {"path": "iris.joblib", "name": "iris"})
    assert (await wait_job(accepted["job"]["id"]))["state"] == "succeeded"
    code, accepted, _ = await api("POST", "endpoints", {"model": "iris", "local": True})
    assert code == 202 and accepted["endpoint"] == "iris-v1", accepted
    job = await wait_job(accepted["job"]["id"])
    assert job["state"] == "succeeded", job
    assert job["result"]["backend"] == "local" and job["result"]["url"].startswith("http://127.0.0.1:")
    code, body, _ = await api("POST", "endpoints/iris-v1/invocations", raw=json.dumps(SEED_REQUEST).encode(),
                              headers={"Content-Type": "application/json"})
    assert (code, body) == (200, {"predictions": [0]})
    code, listing, _ = await api("GET", "endpoints")
    assert [(e["name"], e["backend"]) for e in listing["endpoints"]] == [("iris-v1", "local")]
    code, accepted, _ = await api("DELETE", "endpoints/iris-v1")
    assert code == 202 and (await wait_job(accepted["job"]["id"]))["state"] == "succeeded"
