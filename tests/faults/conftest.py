"""Fixtures of the fault-injection suite (the harness is in ``fault_harness``)."""
from __future__ import annotations

import os
from typing import Optional

import pytest

from fault_harness import Server


@pytest.fixture
def fault_env(tmp_path, monkeypatch):
    """A fresh SMOPS_HOME (local backend) for the server and for the in-process checks."""
    home = tmp_path / "home"
    for key, value in {"SMOPS_HOME": str(home), "SMOPS_BACKEND": "local", "SMOPS_OWNER": "tester",
                       "SMOPS_STUDIO_METADATA": str(tmp_path / "no-studio.json"),
                       "SMOPS_ZYGOTE_GRACE": "2"}.items():
        monkeypatch.setenv(key, value)
    return home


@pytest.fixture
def server_root(tmp_path, iris_model):
    """The server's root folder with the seed's model file in it."""
    import joblib

    root = tmp_path / "root"
    (root / "models").mkdir(parents=True)
    joblib.dump(iris_model, root / "models" / "iris.joblib")
    return root


@pytest.fixture
def servers(fault_env, server_root):
    """``servers(kill_at=None)`` starts a server on the test's home; all are stopped at the end."""
    started: list[Server] = []

    def start(kill_at: Optional[str] = None, env: Optional[dict] = None) -> Server:
        server = Server(server_root, dict(os.environ, **(env or {})), kill_at)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()
