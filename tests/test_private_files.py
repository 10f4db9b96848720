"""Private files (issue 15 item 2): what the project writes under SMOPS_HOME is its user's only
(0700 folders, 0600 files, whatever the umask), a home left open by an older release is closed
with a log line, and local endpoints start without the deployer's secrets."""
from __future__ import annotations

import json
import logging
import os
import stat
from pathlib import Path

import pytest

from jupyter_smops.core.config import SmopsConfig
from jupyter_smops.core.endpoints.local import LocalEndpoints
from jupyter_smops.core.files import private_dir
from jupyter_smops.core.registry.local import LocalRegistry
from jupyter_smops.core.serving.environment import endpoint_environment
from test_serving_support import DEFAULT_HANDLERS, deploy, iris_tree, teardown_endpoints  # noqa: F401

SECRETS = {"AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI/K7MDENG", "AWS_SESSION_TOKEN": "FwoGZXIvYXdzE",
           "AWS_ACCESS_KEY_ID": "AKIAIOSFODNN7EXAMPLE", "JUPYTER_TOKEN": "abc123", "GITHUB_TOKEN": "ghp_x",
           "DATABASE_URL": "postgres://u:p@h/db"}
ENV_HANDLERS = DEFAULT_HANDLERS + '''

def predict_fn(data, model):
    return sorted(os.environ)
'''


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture(scope="module")
def iris_package(iris_model, tmp_path_factory):
    from jupyter_smops.core.packaging import build_package

    return build_package(iris_model, sample=[[5.1, 3.5, 1.4, 0.2]],
                         out=tmp_path_factory.mktemp("pkg") / "model.tar.gz")


@pytest.fixture
def open_umask():
    old = os.umask(0o022)  # the usual umask: what made 0755/0644 before
    yield
    os.umask(old)


def test_private_dir_ignores_the_umask_and_closes_an_open_home(tmp_path, open_umask, caplog):
    home = tmp_path / "home"
    home.mkdir(mode=0o755)
    os.chmod(home, 0o755)
    with caplog.at_level(logging.WARNING, logger="jupyter_smops"):
        made = private_dir(home / "a" / "b", home=home)
    assert mode(home) == 0o700 and mode(home / "a") == 0o700 and mode(made) == 0o700
    assert any("made it private (0700)" in r.getMessage() and str(home) in r.getMessage() for r in caplog.records)


def test_registry_versions_are_private(tmp_path, open_umask, iris_package):
    home = tmp_path / "home"
    home.mkdir(mode=0o755)
    os.chmod(home, 0o755)
    registry = LocalRegistry(SmopsConfig(home=str(home)))
    mv = registry.push(iris_package, name="iris", owner="me")
    vdir = Path(mv.uri).parent
    assert mode(home) == 0o700
    for folder in (home / "registry", vdir.parent, vdir):
        assert mode(folder) == 0o700, folder
    for leaf in ("model.tar.gz", "smops.json"):
        assert mode(vdir / leaf) == 0o600, leaf
    fetched = registry.fetch(mv, home / "cache" / "x")
    assert mode(fetched) == 0o600 and mode(fetched.parent) == 0o700


def test_endpoint_state_and_logs_are_private_and_secrets_stay_behind(tmp_path, open_umask, monkeypatch, iris_tree):
    for key, value in SECRETS.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("SMOPS_SOME_SETTING", "kept")
    home = tmp_path / "home"
    le = LocalEndpoints(SmopsConfig(home=str(home)))
    try:
        ep = deploy(le, tmp_path, "env-probe", {"model.joblib": iris_tree, "code/inference.py": ENV_HANDLERS})
        assert ep.status == "InService", ep.failure_reason
        names = json.loads(le.invoke("env-probe", b"[[5.1, 3.5, 1.4, 0.2]]",
                                     content_type="application/json").body)
        assert not set(SECRETS) & set(names), names
        assert {"PATH", "SMOPS_SOME_SETTING", "SAGEMAKER_PROGRAM"} <= set(names)
        d = le.root / "env-probe"
        for folder in (home, le.root, d, d / "model", le.root / ".locks"):
            assert mode(folder) == 0o700, folder
        for leaf in ("state.json", "runtime.json", "spec.json", "endpoint.log"):
            assert mode(d / leaf) == 0o600, leaf
    finally:
        teardown_endpoints(le)


def test_the_allowlist():
    env = dict(SECRETS, PATH="/bin", HOME="/h", LC_ALL="C", PYTHONPATH="/p", SAGEMAKER_PROGRAM="x.py",
               SM_MODEL_DIR="/m", OMP_NUM_THREADS="1", PIP_INDEX_URL="https://pypi", AWS_REGION="eu-west-1",
               AWS_PROFILE="admin", KRB5CCNAME="/tmp/k", SSH_AUTH_SOCK="/tmp/s")
    kept = endpoint_environment(env)
    assert set(kept) == {"PATH", "HOME", "LC_ALL", "PYTHONPATH", "SAGEMAKER_PROGRAM", "SM_MODEL_DIR",
                         "OMP_NUM_THREADS", "PIP_INDEX_URL", "AWS_REGION"}
