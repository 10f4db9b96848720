"""Shared fixtures: an isolated SMOPS_HOME, the seed's iris model, and a moto server."""
from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

# The test scaffolding (smops_testing/: fake backends, seeders) sits beside the package, outside
# the wheel; the editable install already has the checkout on sys.path, a plain one does not.
_CHECKOUT = str(Path(__file__).resolve().parents[1])
if _CHECKOUT not in sys.path:
    sys.path.insert(0, _CHECKOUT)

# Tests must never reach real AWS or pick up a developer's credentials.
for _var in ("AWS_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL"):
    os.environ.pop(_var, None)
os.environ["AWS_CONFIG_FILE"] = os.devnull
os.environ["AWS_SHARED_CREDENTIALS_FILE"] = os.devnull
os.environ.setdefault("AWS_EC2_METADATA_DISABLED", "true")


@pytest.fixture
def smops_home(tmp_path, monkeypatch):
    """A fresh local backend: SMOPS_HOME in tmp, owner ``tester``, no Studio metadata."""
    home = tmp_path / "smops-home"
    monkeypatch.setenv("SMOPS_HOME", str(home))
    monkeypatch.setenv("SMOPS_BACKEND", "local")
    monkeypatch.setenv("SMOPS_OWNER", "tester")
    monkeypatch.setenv("SMOPS_STUDIO_METADATA", str(tmp_path / "no-studio.json"))
    return home


@pytest.fixture(scope="session")
def iris_model():
    """The seed's model: a DecisionTreeClassifier fitted on iris."""
    from sklearn.datasets import load_iris
    from sklearn.tree import DecisionTreeClassifier

    iris = load_iris()
    return DecisionTreeClassifier(random_state=0).fit(iris.data, iris.target)


@pytest.fixture(scope="session")
def moto_server():
    """A moto server on 127.0.0.1 for the whole session; yields its endpoint URL."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def aws_env(moto_server, monkeypatch, tmp_path):
    """boto3 pointed at a freshly reset moto server, with dummy credentials and the aws backend."""
    import urllib.request

    urllib.request.urlopen(urllib.request.Request(f"{moto_server}/moto-api/reset", method="POST")).read()
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_server)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    monkeypatch.setenv("SMOPS_BACKEND", "aws")
    monkeypatch.setenv("SMOPS_OWNER", "tester")
    monkeypatch.setenv("SMOPS_HOME", str(tmp_path / "smops-home"))
    monkeypatch.setenv("SMOPS_STUDIO_METADATA", str(tmp_path / "no-studio.json"))
    return moto_server


def pytest_sessionfinish(session, exitstatus):
    """Stop the local endpoints' fork servers this session started under its temp folders (they
    would otherwise idle for 30 minutes, ~230 MB each)."""
    import signal
    from pathlib import Path

    base = str(session.config._tmp_path_factory.getbasetemp()) if hasattr(session.config, "_tmp_path_factory") else None
    if not base:
        return
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            argv = (proc / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"jupyter_smops.core.serving" in argv and b"zygote" in argv and any(a.decode(errors="ignore").startswith(base) for a in argv):
            try:
                os.kill(int(proc.name), signal.SIGTERM)
            except OSError:
                pass
