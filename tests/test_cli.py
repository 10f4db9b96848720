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
