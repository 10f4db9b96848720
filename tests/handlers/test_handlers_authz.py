"""Jupyter Server's authorizer decides on our own resource name, ``smops``."""
from __future__ import annotations

import json

import pytest
from jupyter_server.auth import Authorizer
from tornado.httpclient import HTTPClientError

from jupyter_smops.handlers import ROUTES, route_methods

SAMPLE_ARGS = {"name": "iris", "version": "1", "id": "0123abcd"}
CALLS = [(template, method.upper()) for template, cls in ROUTES for method in route_methods(cls)]


def _url_parts(template: str) -> list[str]:
    return [SAMPLE_ARGS.get(p[1:-1], p) if p.startswith("{") else p for p in template.strip("/").split("/")]


class DenySmops(Authorizer):
    """Authenticated users may use Jupyter, but not the ``smops`` resource."""

    def is_authorized(self, handler, user, action, resource):
        return resource != "smops"


@pytest.fixture
def jp_server_config(smops_backend):
    return {"ServerApp": {"jpserver_extensions": {"jupyter_smops": True},
                          "authorizer_class": DenySmops}}


async def test_authorizer_is_consulted_with_the_smops_resource(jp_fetch):
    # The same token reaches Jupyter's own API but none of ours: @authorized is on every route.
    ok = await jp_fetch("api", "status")
    assert ok.code == 200
    for template, method in CALLS:
        body = b"{}" if method == "POST" else None
        with pytest.raises(HTTPClientError) as info:
            await jp_fetch(*_url_parts(template), method=method, body=body,
                           headers={"Content-Type": "application/json"}, allow_nonstandard_methods=True)
        assert info.value.code == 403, (method, template)
        error = json.loads(info.value.response.body)["error"]
        assert error["code"] == "Forbidden" and "smops" in error["message"], error
