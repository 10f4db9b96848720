"""Unexpected failures: 500 with a generic message, details only in the server log."""
from __future__ import annotations

import pytest

from jupyter_smops.core.config import SmopsConfig
from jupyter_smops.core.api import Smops
from jupyter_smops.core.registry.local import LocalRegistry
from jupyter_smops.handlers import setup_handlers


class ExplodingRegistry(LocalRegistry):
    def list_models(self, name=None):
        raise RuntimeError("boom with AKIAABCDEFGHIJKLMNOP and secret_access_key=abc123")


@pytest.fixture
def jp_server_config(smops_backend):
    # Services are injected by the test itself (setup_handlers with a fake registry).
    return {"ServerApp": {"jpserver_extensions": {"jupyter_smops": False}}}


async def test_unexpected_errors_are_500_with_a_generic_message(api, jp_serverapp, smops_home, caplog):
    code, _, _ = await api("GET", "status", check=False)
    assert code == 404  # the extension is not loaded in this module; the test wires it up
    smops = Smops(SmopsConfig(), registry=ExplodingRegistry(SmopsConfig()))
    setup_handlers(jp_serverapp, smops=smops)
    code, data, _ = await api("GET", "models")
    assert code == 500
    assert data["error"]["code"] == "InternalError"
    assert "server log" in data["error"]["message"]
    text = repr(data)
    assert "boom" not in text and "AKIA" not in text and "abc123" not in text and "Traceback" not in text
    # The details are where an operator looks: the server log, with the traceback.
    assert "boom" in caplog.text and "Traceback" in caplog.text
    code, _, _ = await api("GET", "jobs")
    assert code == 200


