"""The route table is the contract: documented in docs/openapi.yaml, closed to anonymous and
unauthorized callers, and its request models match the documented schemas."""
from __future__ import annotations

import dataclasses
import typing
from pathlib import Path

import pytest
import yaml
from jupyter_server.auth import Authorizer
from tornado.httpclient import HTTPClientError

from jupyter_smops.handlers import ROUTES, route_methods
from jupyter_smops.handlers import requests as reqmodels

OPENAPI = Path(__file__).resolve().parents[2] / "docs" / "openapi.yaml"
SAMPLE_ARGS = {"name": "iris", "version": "1", "id": "0123abcd"}
CALLS = [(template, method.upper()) for template, cls in ROUTES for method in route_methods(cls)]


def _url_parts(template: str) -> list[str]:
    return [SAMPLE_ARGS.get(p[1:-1], p) if p.startswith("{") else p for p in template.strip("/").split("/")]


def _spec() -> dict:
    return yaml.safe_load(OPENAPI.read_text())


def test_openapi_lists_exactly_the_route_table():
    spec = _spec()
    documented = {(path, method.upper()) for path, ops in spec["paths"].items()
                  for method in ops if method in ("get", "post", "put", "patch", "delete")}
    assert documented == set(CALLS)
    assert len(CALLS) >= 15


def test_every_documented_operation_answers_403_and_has_an_id():
    spec = _spec()
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            if method == "parameters":
                continue
            assert op.get("operationId"), (path, method)
            assert "403" in op["responses"], (path, method)


@pytest.mark.parametrize("cls,schema", [
    (reqmodels.PushRequest, "PushRequest"), (reqmodels.PackageRequest, "PackageRequest"),
    (reqmodels.DeployRequest, "DeployRequest"), (reqmodels.CleanupRequest, "CleanupRequest"),
    (reqmodels.ApprovalRequest, "ApprovalRequest"),
])
def test_request_models_match_their_schemas(cls, schema):
    doc = _spec()["components"]["schemas"][schema]
    fields = {f.name: f for f in dataclasses.fields(cls)}
    assert set(doc["properties"]) == set(fields)
    required = {n for n, f in fields.items() if f.default is dataclasses.MISSING}
    assert set(doc.get("required", [])) == required
    hints = typing.get_type_hints(cls)
    json_types = {str: "string", int: "integer", bool: "boolean"}
    for name, tp in hints.items():
        base = next((a for a in typing.get_args(tp) if a is not type(None)), tp)
        if base in json_types:
            assert doc["properties"][name]["type"] == json_types[base], name


@pytest.mark.parametrize("template,method", CALLS, ids=[f"{m} {t}" for t, m in CALLS])
@pytest.mark.parametrize("auth", ["", "token not-the-token"], ids=["no-token", "wrong-token"])
async def test_every_route_refuses_unauthenticated_requests(jp_fetch, template, method, auth):
    body = b'{"dry_run": true}' if method in ("POST", "PUT", "PATCH") else None
    with pytest.raises(HTTPClientError) as info:
        await jp_fetch(*_url_parts(template), method=method, body=body,
                       headers={"Authorization": auth, "Content-Type": "application/json"},
                       allow_nonstandard_methods=True)
    assert info.value.code == 403
    assert b"Traceback" not in (info.value.response.body or b"")


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
        import json

        error = json.loads(info.value.response.body)["error"]
        assert error["code"] == "Forbidden" and "smops" in error["message"], error
