"""The seed's workflow over HTTP only, as a client that knows just docs/openapi.yaml would run it."""
from __future__ import annotations

import json

import pytest

SEED_REQUEST = {"instances": [[5.1, 3.5, 1.4, 0.2]]}


@pytest.fixture
def iris_file(jp_root_dir, iris_model):
    import joblib

    (jp_root_dir / "models").mkdir()
    joblib.dump(iris_model, jp_root_dir / "models" / "iris.joblib")
    return "models/iris.joblib"


async def _push(api, wait_job, path: str, name: str) -> dict:
    code, accepted, _ = await api("POST", "models", {"path": path, "name": name, "sample": SEED_REQUEST})
    assert code == 202, accepted
    assert accepted["job"]["kind"] == "push" and accepted["job"]["state"] == "running"
    job = await wait_job(accepted["job"]["id"])
    assert job["state"] == "succeeded", job
    return job["result"]


async def _deploy(api, wait_job, body: dict) -> dict:
    code, accepted, _ = await api("POST", "endpoints", body)
    assert code == 202, accepted
    job = await wait_job(accepted["job"]["id"], timeout=180)
    assert job["state"] == "succeeded", job["error"]
    assert job["result"]["name"] == accepted["endpoint"]
    return job["result"]


async def _invoke_seed(api, name: str) -> None:
    code, body, headers = await api("POST", f"endpoints/{name}/invocations", raw=json.dumps(SEED_REQUEST).encode(),
                                    headers={"Content-Type": "application/json", "Accept": "application/json"})
    assert code == 200, body
    assert headers["Content-Type"].startswith("application/json")
    assert body == {"predictions": [0]}
    assert float(headers["X-Smops-Latency-Ms"]) > 0


async def _delete_and_cleanup(api, wait_job, name: str) -> None:
    code, accepted, _ = await api("DELETE", f"endpoints/{name}")
    assert code == 202, accepted
    job = await wait_job(accepted["job"]["id"])
    assert job["state"] == "succeeded", job
    code, error, _ = await api("GET", f"endpoints/{name}")
    assert code == 404, error
    code, error, _ = await api("DELETE", f"endpoints/{name}")  # deleting twice
    assert code == 404 and error["error"]["code"] == "NotFound"
    code, dry, _ = await api("POST", "cleanup", {"dry_run": True})
    assert code == 200 and dry["dry_run"] is True and name not in dry["endpoints"]
    code, accepted, _ = await api("POST", "cleanup", {"dry_run": False})
    assert code == 202
    job = await wait_job(accepted["job"]["id"])
    assert job["state"] == "succeeded" and job["result"]["dry_run"] is False, job
    code, listing, _ = await api("GET", "endpoints")
    assert (code, listing) == (200, {"endpoints": []})


async def test_workflow_with_fault_injecting_endpoints(api, wait_job, fake_endpoints, iris_file):
    """Real packaging and registry; the fake endpoints backend stands in for serving."""
    mv = await _push(api, wait_job, iris_file, "iris")
    assert (mv["name"], mv["version"], mv["source"]) == ("iris", 1, iris_file)
    code, models, _ = await api("GET", "models")
    assert [m["name"] for m in models["models"]] == ["iris"]
    code, approved, _ = await api("POST", "models/iris/versions/1/approval", {"status": "Approved"})
    assert code == 200 and approved["approval_status"] == "Approved"
    endpoint = await _deploy(api, wait_job, {"model": "iris", "name": "iris-ep", "instance_type": "ml.t2.medium"})
    assert (endpoint["status"], endpoint["model"], endpoint["version"]) == ("InService", "iris", 1)
    code, described, _ = await api("GET", "endpoints/iris-ep")
    assert code == 200 and described["status"] == "InService"
    code, dup, _ = await api("POST", "endpoints", {"model": "iris", "name": "iris-ep"})
    assert code == 409 and "already exists" in dup["error"]["message"]
    await _invoke_seed(api, "iris-ep")
    code, logs, _ = await api("GET", "endpoints/iris-ep/logs", params={"tail": "5"})
    assert code == 200 and "iris-ep" in logs["logs"]
    code, listing, _ = await api("GET", "endpoints")
    assert [e["name"] for e in listing["endpoints"]] == ["iris-ep"]
    await _delete_and_cleanup(api, wait_job, "iris-ep")
    code, jobs, _ = await api("GET", "jobs")
    assert [j["kind"] for j in jobs["jobs"]] == ["cleanup", "delete", "deploy", "push"]


async def test_model_errors_come_back_as_424(api, wait_job, fake_endpoints, store_version, monkeypatch):
    store_version("iris")
    # Read when the server first builds its endpoints backend (lazily, at this deploy).
    monkeypatch.setenv("SMOPS_FAKE_FAIL", "invoke")
    await _deploy(api, wait_job, {"model": "iris", "name": "flaky"})
    code, body, _ = await api("POST", "endpoints/flaky/invocations", raw=b'{"instances": [[1, 2, 3, 4]]}',
                              headers={"Content-Type": "application/json"})
    assert code == 424, body
    assert body["error"]["code"] == "ModelError"
    assert body["error"]["details"]["original_status"] == 500


async def test_packages_builds_validates_and_reports_invalid_artifacts(api, wait_job, jp_root_dir, iris_file):
    code, pkg, _ = await api("POST", "packages", {"path": iris_file, "sample": SEED_REQUEST})
    assert code == 200, pkg
    assert pkg["path"] == "models/model.tar.gz" and (jp_root_dir / pkg["path"]).is_file()
    assert pkg["ok"] is True and len(pkg["sha256"]) == 64 and pkg["size"] > 0
    assert {c["name"] for c in pkg["checks"]} >= {"handlers", "model-loads"}
    code, again, _ = await api("POST", "packages", {"path": pkg["path"]})
    assert code == 200 and again["sha256"] == pkg["sha256"]

    import joblib

    joblib.dump({"not": "a model"}, jp_root_dir / "dict.joblib")
    code, bad, _ = await api("POST", "packages", {"path": "dict.joblib", "out": "bad.tar.gz"})
    assert code == 422, bad
    assert bad["error"]["code"] == "InvalidArtifact"
    failed = [c for c in bad["error"]["details"]["checks"] if not c["ok"]]
    assert failed and all(c["message"] for c in failed)
    assert not (jp_root_dir / "bad.tar.gz").exists()
    # The same artifact pushed: the job fails with the same checks, and nothing is stored.
    code, accepted, _ = await api("POST", "models", {"path": "dict.joblib", "name": "dict"})
    job = await wait_job(accepted["job"]["id"])
    assert job["state"] == "failed" and job["error"]["code"] == "InvalidArtifact"
    assert job["error"]["details"]["checks"]
    code, models, _ = await api("GET", "models")
    assert models == {"models": []}


async def test_seed_workflow_local_backend(api, wait_job, iris_file):
    mv = await _push(api, wait_job, iris_file, "iris")
    endpoint = await _deploy(api, wait_job, {"model": f"iris:{mv['version']}", "name": "iris-local"})
    assert endpoint["status"] == "InService" and endpoint["url"].startswith("http://127.0.0.1:")
    await _invoke_seed(api, "iris-local")
    # What the container refuses comes back as SageMaker's ModelError, with its own status.
    code, error, _ = await api("POST", "endpoints/iris-local/invocations", raw=b"<rows/>",
                               headers={"Content-Type": "application/xml"})
    assert code == 424, error
    assert error["error"]["code"] == "ModelError" and error["error"]["details"]["original_status"] >= 400
    assert "application/xml" in error["error"]["message"], error
    code, error, _ = await api("POST", "endpoints/iris-local/invocations", raw=b'{"instances": "oops"}',
                               headers={"Content-Type": "application/json"})
    assert code == 424 and error["error"]["details"]["original_status"] >= 400, error
    code, csv, headers = await api("POST", "endpoints/iris-local/invocations", raw=b"5.1,3.5,1.4,0.2\n",
                                   headers={"Content-Type": "text/csv", "Accept": "text/csv"})
    assert code == 200 and headers["Content-Type"].startswith("text/csv") and csv.strip() == b"0", csv
    code, logs, _ = await api("GET", "endpoints/iris-local/logs")
    assert code == 200 and isinstance(logs["logs"], str)
    await _delete_and_cleanup(api, wait_job, "iris-local")


async def test_endpoint_status_comes_from_the_backend_not_the_job_table(api, wait_job, fake_endpoints,
                                                                        store_version, monkeypatch):
    """A deploy the server never saw as a job (started by a magic, or by this server before a
    restart) shows the backend's status; a finished job does not freeze it either."""
    monkeypatch.setenv("SMOPS_FAKE_DEPLOY_SECONDS", "1.0")
    store_version("iris")
    from jupyter_smops.core.config import SmopsConfig
    from jupyter_smops.core.api import Smops
    from jupyter_smops.core.endpoints.base import DeployOptions

    # Another face deploys without waiting, as a server killed mid-deploy would leave it.
    Smops(SmopsConfig()).deploy("iris:1", endpoint="elsewhere", options=DeployOptions(wait=False))
    code, jobs, _ = await api("GET", "jobs")
    assert jobs == {"jobs": []}
    code, endpoint, _ = await api("GET", "endpoints/elsewhere")
    assert (code, endpoint["status"]) == (200, "Creating")
    code, accepted, _ = await api("DELETE", "endpoints/elsewhere")
    assert code == 202  # the server can act on it although it never had a job for it
    job = await wait_job(accepted["job"]["id"])
    assert job["state"] == "succeeded"
    code, gone, _ = await api("GET", "endpoints/elsewhere")
    assert code == 404
