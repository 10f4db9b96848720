"""Bad requests get the right status and a message that says what to do; the server keeps
serving afterwards (unexpected failures: test_handlers_internal_errors.py)."""
from __future__ import annotations

import os

import pytest

from jupyter_smops.core.config import SmopsConfig
from smops_testing.fakes import FakeEndpoints
from jupyter_smops.core.registry.local import LocalRegistry

J = {"Content-Type": "application/json"}
RAW = {"Content-Type": "application/json"}
SIX_MIB = 6 * 1024 * 1024

# (id, method, route, json body or raw bytes, extra headers, status, code, words in the message)
CASES = [
    ("malformed-json", "POST", "models", b"{not json", J, 400, "BadRequest", "not valid JSON"),
    ("json-array-body", "POST", "models", b"[1, 2]", J, 400, "BadRequest", "must be a JSON object"),
    ("not-utf8", "POST", "models", b"\xff\xfe\x00", J, 400, "BadRequest", "UTF-8"),
    ("missing-path", "POST", "models", {}, J, 400, "BadRequest", "Missing required field 'path'"),
    ("missing-name", "POST", "models", {"path": "iris.joblib"}, J, 400, "BadRequest", "'name'"),
    ("path-wrong-type", "POST", "models", {"path": 5, "name": "iris"}, J, 400, "BadRequest", "'path' must be a string"),
    ("unknown-field", "POST", "models", {"path": "iris.joblib", "name": "iris", "nmae": "x"}, J, 400, "BadRequest", "Unknown field 'nmae'"),
    ("bad-model-name", "POST", "models", {"path": "iris.joblib", "name": "my model!"}, J, 400, "BadRequest", "Invalid model name"),
    ("path-dotdot", "POST", "models", {"path": "../outside.joblib", "name": "iris"}, J, 403, "AccessDenied", "outside the Jupyter server's root"),
    ("path-absolute", "POST", "models", {"path": "/etc/passwd", "name": "iris"}, J, 400, "BadRequest", "absolute path"),
    ("path-symlink-out", "POST", "models", {"path": "link-out.joblib", "name": "iris"}, J, 403, "AccessDenied", "outside"),
    ("path-missing", "POST", "models", {"path": "missing.joblib", "name": "iris"}, J, 404, "NotFound", "No file 'missing.joblib'"),
    ("path-is-folder", "POST", "models", {"path": "sub", "name": "iris"}, J, 400, "BadRequest", "is a folder"),
    ("out-is-folder", "POST", "packages", {"path": "iris.joblib", "out": "sub.tar.gz"}, J, 400, "BadRequest", "is a folder"),
    ("inference-outside", "POST", "models", {"path": "iris.joblib", "name": "iris", "inference": "../inference.py"}, J, 403, "AccessDenied", "'inference'"),
    ("form-content-type", "POST", "models", b"path=iris.joblib&name=iris", {"Content-Type": "application/x-www-form-urlencoded"}, 415, "UnsupportedMediaType", "application/json"),
    ("push-archive-with-extras", "POST", "models", {"path": "model.tar.gz", "name": "iris", "requirements": "r.txt"}, J, 400, "BadRequest", "already carries its code/"),
    ("archive-with-extras", "POST", "packages", {"path": "model.tar.gz", "out": "x.tar.gz"}, J, 400, "BadRequest", "takes only 'path'"),
    ("package-out-outside", "POST", "packages", {"path": "iris.joblib", "out": "../x.tar.gz"}, J, 403, "AccessDenied", "'out'"),
    ("package-out-suffix", "POST", "packages", {"path": "iris.joblib", "out": "x.zip"}, J, 400, "BadRequest", ".tar.gz"),
    ("deploy-unknown-model", "POST", "endpoints", {"model": "nope"}, J, 404, "NotFound", "nope"),
    ("deploy-unknown-version", "POST", "endpoints", {"model": "iris:9"}, J, 404, "NotFound", "9"),
    ("deploy-bad-version", "POST", "endpoints", {"model": "iris:x"}, J, 400, "BadRequest", "Invalid version"),
    ("deploy-count-zero", "POST", "endpoints", {"model": "iris", "count": 0}, J, 400, "BadRequest", "'count' must be between 1 and 100"),
    ("deploy-count-string", "POST", "endpoints", {"model": "iris", "count": "2"}, J, 400, "BadRequest", "'count' must be an integer"),
    ("deploy-count-bool", "POST", "endpoints", {"model": "iris", "count": True}, J, 400, "BadRequest", "got a boolean"),
    ("deploy-local-string", "POST", "endpoints", {"model": "iris", "local": "yes"}, J, 400, "BadRequest", "'local' must be a boolean"),
    ("deploy-duplicate-name", "POST", "endpoints", {"model": "iris", "name": "iris-ep-0000"}, J, 409, "Conflict", "already exists"),
    ("deploy-bad-endpoint-name", "POST", "endpoints", {"model": "iris", "name": "-bad-"}, J, 400, "BadRequest", "Invalid endpoint name"),
    ("deploy-version-mismatch", "POST", "endpoints", {"model": "iris:1", "version": 2}, J, 400, "BadRequest", "give one"),
    ("deploy-max-below-count", "POST", "endpoints", {"model": "iris", "count": 3, "max_count": 2}, J, 400, "BadRequest", "max_count: 2"),
    ("deploy-serverless-size", "POST", "endpoints", {"model": "iris", "serverless_memory_mb": 1500}, J, 400, "BadRequest", "1024"),
    ("describe-unknown", "GET", "endpoints/nope", None, {}, 404, "NotFound", "No endpoint named 'nope'"),
    ("describe-bad-name", "GET", "endpoints/bad_name", None, {}, 400, "BadRequest", "Invalid endpoint name"),
    ("delete-unknown", "DELETE", "endpoints/nope", None, {}, 404, "NotFound", "nope"),
    ("invoke-unknown", "POST", "endpoints/nope/invocations", b'{"instances": [[1, 2, 3, 4]]}', RAW, 404, "NotFound", "nope"),
    ("invoke-oversize", "POST", "endpoints/nope/invocations", b"x" * (SIX_MIB + 1), RAW, 413, "PayloadTooLarge", "6 MiB"),
    ("invoke-empty", "POST", "endpoints/iris-ep-0000/invocations", b"", RAW, 400, "BadRequest", "empty"),
    ("logs-tail-text", "GET", "endpoints/iris-ep-0000/logs?tail=abc", None, {}, 400, "BadRequest", "'tail'"),
    ("logs-tail-zero", "GET", "endpoints/iris-ep-0000/logs?tail=0", None, {}, 400, "BadRequest", "'tail'"),
    ("job-unknown", "GET", "jobs/0123456789ab", None, {}, 404, "NotFound", "GET /smops/api/jobs"),
    ("job-bad-id", "GET", "jobs/..%2F..", None, {}, 404, "NotFound", "job"),
    ("cleanup-missing-dry-run", "POST", "cleanup", {}, J, 400, "BadRequest", "'dry_run'"),
    ("cleanup-dry-run-string", "POST", "cleanup", {"dry_run": "yes"}, J, 400, "BadRequest", "boolean"),
    ("approval-bad-status", "POST", "models/iris/versions/1/approval", {"status": "Maybe"}, J, 400, "BadRequest", "Approved"),
    ("approval-bad-version", "POST", "models/iris/versions/0/approval", {"status": "Approved"}, J, 400, "BadRequest", "versions are 1, 2, 3"),
    ("approval-unknown-version", "POST", "models/iris/versions/7/approval", {"status": "Approved"}, J, 404, "NotFound", "7"),
    ("model-unknown", "GET", "models/nope", None, {}, 404, "NotFound", "No model named 'nope'"),
    ("method-not-allowed", "PUT", "status", b"{}", J, 405, "MethodNotAllowed", "openapi"),
]


@pytest.fixture
def world(smops_home, fake_endpoints, jp_root_dir, tmp_path, iris_model, store_version):
    """A root with a model file, an archive and a symlink pointing out; iris:1 in the registry;
    one existing endpoint ``iris-ep-0000``."""
    import joblib

    joblib.dump(iris_model, jp_root_dir / "iris.joblib")
    (jp_root_dir / "model.tar.gz").write_bytes(b"placeholder")
    (jp_root_dir / "sub").mkdir()
    (jp_root_dir / "sub.tar.gz").mkdir()
    outside = tmp_path / "outside.joblib"
    outside.write_bytes(b"secret")
    os.symlink(outside, jp_root_dir / "link-out.joblib")
    store_version("iris")
    FakeEndpoints(SmopsConfig()).seed(1, "iris", 1, "tester")
    return jp_root_dir


async def test_bad_requests_each_get_status_and_a_useful_message(api, world):
    assert len(CASES) >= 25
    for case_id, method, route, body, headers, status, code, words in CASES:
        route, _, query = route.partition("?")
        params = dict([query.split("=")]) if query else None
        kw = {"raw": body} if isinstance(body, bytes) else {"body": body}
        got, data, resp_headers = await api(method, route, headers=headers, params=params, **kw)
        assert got == status, (case_id, got, data)
        assert resp_headers["Content-Type"].startswith("application/json"), case_id
        error = data["error"]
        assert error["code"] == code, (case_id, error)
        assert words.lower() in error["message"].lower(), (case_id, error["message"])
        if status == 405:  # the methods the route takes, as RFC 9110 asks
            assert resp_headers["Allow"] == "GET", (case_id, resp_headers.get("Allow"))
        assert "Traceback" not in error["message"], case_id
    # Nothing was pushed, deployed or broken by all that: the server still answers.
    code, status_body, _ = await api("GET", "status")
    assert code == 200 and status_body["backend"] == "local"
    code, jobs, _ = await api("GET", "jobs")
    assert (code, jobs) == (200, {"jobs": []})
    assert [v.version for m in LocalRegistry(SmopsConfig(home=str(world.parent / "smops-home"))).list_models()
            for v in m.versions] == [1]


def test_redact_removes_key_material():
    from jupyter_smops.handlers.base import redact

    out = redact("AccessDenied for AKIAABCDEFGHIJKLMNOP, aws_secret_access_key = wJalrXUtnFEMI/K7MDENG and session token: FQoG")
    assert "AKIA" not in out and "wJalr" not in out and "FQoG" not in out
