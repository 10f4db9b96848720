"""`jupyter smops` in a subprocess, as a user runs it in a terminal."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

BIN = Path(sys.executable).parent


def smops(*args, cwd=None, env=None):
    exe = BIN / "jupyter-smops"
    cmd = [str(exe), *args] if exe.exists() else [sys.executable, "-m", "jupyter_smops.cli", *args]
    return subprocess.run(cmd, capture_output=True, text=True, cwd=cwd, env={**os.environ, **(env or {})}, timeout=180)


def test_help_and_unknown_verb(smops_home):
    out = smops("--help")
    assert out.returncode == 0 and "deploy" in out.stdout and "cleanup" in out.stdout
    out = smops("frobnicate")
    assert out.returncode == 2 and "invalid choice" in out.stderr and "Traceback" not in out.stderr


def test_jupyter_dispatches_to_smops(smops_home):
    jupyter = BIN / "jupyter"
    if not jupyter.exists():
        pytest.skip("jupyter command not installed next to this Python")
    out = subprocess.run([str(jupyter), "smops", "status", "--json"], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    status = json.loads(out.stdout)
    assert status["backend"] == "local" and status["owner"] == "tester"


def test_models_on_empty_registry_and_unknown_model(smops_home):
    out = smops("models")
    assert out.returncode == 0 and "registry is empty" in out.stdout
    out = smops("models", "nosuch")
    assert out.returncode == 1 and "No model named 'nosuch'" in out.stderr


def test_push_a_model_file_from_the_terminal(smops_home, iris_model, tmp_path):
    pytest.importorskip("jupyter_smops.core.packaging")
    import joblib

    joblib.dump(iris_model, tmp_path / "iris-model.joblib")
    out = smops("push", "iris-model.joblib", "--name", "iris", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert "pushed iris:1" in out.stderr and "iris:1" in out.stdout
    out = smops("models", "iris", "--json")
    versions = json.loads(out.stdout)[0]["versions"]
    assert [v["version"] for v in versions] == [1] and versions[0]["created_by"] == "tester"
    out = smops("push", "missing.joblib", "--name", "iris", cwd=tmp_path)
    assert out.returncode != 0 and "Traceback" not in out.stderr
    # A failed check is said once, with what to do; no version appears.
    (tmp_path / "bad.py").write_text("def model_fn(model_dir):\n    return (\n")
    out = smops("push", "iris-model.joblib", "--name", "iris", "--inference", "bad.py", cwd=tmp_path)
    assert out.returncode != 0 and "Traceback" not in out.stderr
    assert out.stderr.count("inference-syntax") == 1 and "Fix it and package again" in out.stderr, out.stderr
    out = smops("models", "iris", "--json")
    assert [v["version"] for v in json.loads(out.stdout)[0]["versions"]] == [1]


def test_json_shapes_and_wording_of_a_whole_session(smops_home, iris_model, tmp_path):
    """The shapes docs/cli.md documents, from a push to a cleanup, with words that match counts."""
    pytest.importorskip("jupyter_smops.core.packaging")
    import signal

    import joblib

    joblib.dump(iris_model, tmp_path / "iris-model.joblib")
    for _ in range(2):
        assert smops("push", "iris-model.joblib", "--name", "iris", cwd=tmp_path).returncode == 0
    models = json.loads(smops("models", "--json").stdout)
    assert [m["name"] for m in models] == ["iris"]
    assert [(v["version"], v["identical_to"]) for v in models[0]["versions"]] == [(1, None), (2, "iris:1")]
    text = smops("models").stdout.splitlines()
    assert text[0].split()[:4] == ["name", "version", "size", "sha256"] and text[-1] == "1 model, 2 versions"

    checks = json.loads(smops("validate", str(smops_home / "registry/iris/v1/model.tar.gz"), "--json").stdout)["checks"]
    assert checks and all(set(c) == {"name", "ok", "result", "message"} for c in checks)
    assert all(c["result"] == "ok" for c in checks if c["ok"])

    out = smops("deploy", "iris:1", "--endpoint", "iris-cli", "--local", "--json")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["status"] == "InService"
    assert smops("predict", "iris-cli", '{"instances": [[5.1, 3.5, 1.4, 0.2]]}').stdout.strip() == '{"predictions": [0]}'
    endpoints = json.loads(smops("endpoints", "--json").stdout)
    assert len(endpoints) == 1 and endpoints[0]["name"] == "iris-cli"
    assert {"status", "backend", "model", "version", "url", "invocation_url", "age_seconds", "cost", "cost_per_hour",
            "cost_so_far", "created_at"} <= set(endpoints[0])
    assert endpoints[0]["cost"] == "$0 · local" and endpoints[0]["invocation_url"] == endpoints[0]["url"]
    assert smops("endpoints").stdout.splitlines()[-1] == "1 endpoint"

    log = json.loads(smops("logs", "iris-cli", "--since", "10m", "--json").stdout)
    assert set(log) == {"endpoint", "tail", "since", "lines"} and log["since"].endswith("Z")
    assert any("POST /invocations 200" in line for line in log["lines"])
    out = smops("logs", "iris-cli", "--tail", "2")
    assert out.returncode == 0 and len(out.stdout.splitlines()) == 2  # real lines, not a repr
    out = smops("logs", "iris-cli", "--since", "whenever")
    assert out.returncode == 2 and "is not a duration or a time" in out.stderr
    out = smops("logs", "iris-cli", "--follow", "--timeout", "1", "--tail", "1")
    assert out.returncode == 0 and len(out.stdout.splitlines()) == 1
    assert "stopped following iris-cli (after 1 s; 0 new lines)" in out.stderr
    # Ctrl-C is how a follow ends in a terminal: no "Interrupted", exit 0
    exe = BIN / "jupyter-smops"
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "jupyter_smops.cli"]
    follow = subprocess.Popen(cmd + ["logs", "iris-cli", "--follow", "--tail", "1"], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
    assert follow.stdout.readline().strip()  # the tail line: it is following now
    smops("predict", "iris-cli", '{"instances": [[5.1, 3.5, 1.4, 0.2]]}')
    assert "POST /invocations 200" in follow.stdout.readline()  # a new line as it is written
    follow.send_signal(signal.SIGINT)
    rest, err = follow.communicate(timeout=30)
    assert follow.returncode == 0 and "stopped following iris-cli (interrupted; 1 new line)" in err, err

    out = smops("cleanup", "--yes")
    assert out.returncode == 0 and out.stdout.splitlines() == [
        "deleted 1 endpoint: iris-cli",
        "Kept in the registry: iris:1, iris:2 (add --include-registry to delete them too)."]
    done = json.loads(smops("cleanup", "--yes", "--json").stdout)
    assert {k: done[k] for k in ("dry_run", "endpoints", "endpoint_configs", "models", "registry_versions", "errors",
                                 "kept_registry_versions")} == {
        "dry_run": False, "endpoints": [], "endpoint_configs": [], "models": [], "registry_versions": [], "errors": [],
        "kept_registry_versions": ["iris:1", "iris:2"]}
    assert smops("cleanup").stdout.startswith("Nothing to clean up: you have no endpoints.")
