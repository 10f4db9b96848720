"""The route table is the contract: documented in docs/openapi.yaml, closed to anonymous and
unauthorized callers, and its request models match the documented schemas."""
from __future__ import annotations

import dataclasses
import typing
from pathlib import Path

import pytest
import yaml
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
            assert _type_of(doc["properties"][name]) == json_types[base], name


def _type_of(prop: dict):
    """The JSON type of a property, through the shared schemas it names ($ref, allOf)."""
    if "type" in prop:
        return prop["type"]
    refs = [prop] if "$ref" in prop else prop.get("allOf", [])
    for ref in refs:
        if "$ref" in ref:
            return _type_of(_spec()["components"]["schemas"][ref["$ref"].rsplit("/", 1)[1]])
    return None


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
    # Control: the same request with the server's token gets past authentication.
    resp = await jp_fetch(*_url_parts(template), method=method, body=body, raise_error=False,
                          headers={"Content-Type": "application/json"}, allow_nonstandard_methods=True)
    assert resp.code != 403, (method, template, resp.body)


def _cookies(resp) -> dict:
    jar = {}
    for header in resp.headers.get_list("Set-Cookie"):
        name, _, rest = header.partition("=")
        jar[name] = rest.split(";")[0]
    return jar


async def test_cookie_sessions_need_xsrf_on_mutating_calls(jp_fetch, jp_serverapp):
    # Log in the way a browser does (token once in the URL), then use only the cookies.
    login = await jp_fetch("lab", headers={"Authorization": ""}, raise_error=False, follow_redirects=False,
                           params={"token": jp_serverapp.identity_provider.token})
    jar = _cookies(login)
    assert "_xsrf" in jar and any(k.startswith("username-") for k in jar), jar
    cookie = "; ".join(f"{k}={v}" for k, v in jar.items())
    body = b'{"dry_run": true}'
    read = await jp_fetch("smops", "api", "status", headers={"Authorization": "", "Cookie": cookie})
    assert read.code == 200
    with pytest.raises(HTTPClientError) as info:
        await jp_fetch("smops", "api", "cleanup", method="POST", body=body,
                       headers={"Authorization": "", "Cookie": cookie, "Content-Type": "application/json"})
    assert info.value.code == 403 and b"xsrf" in info.value.response.body.lower()
    ok = await jp_fetch("smops", "api", "cleanup", method="POST", body=body,
                        headers={"Authorization": "", "Cookie": cookie, "Content-Type": "application/json",
                                 "X-XSRFToken": jar["_xsrf"]})
    assert ok.code == 200




async def test_unknown_api_paths_are_json_404_behind_auth(api, jp_fetch):
    code, data, _ = await api("GET", "no/such/route")
    assert code == 404 and "docs/openapi.yaml" in data["error"]["message"]
    code, data, _ = await api("POST", "modelz", {})
    assert code == 404 and data["error"]["code"] == "NotFound"
    with pytest.raises(HTTPClientError) as info:
        await jp_fetch("smops", "api", "no", "such", "route", headers={"Authorization": ""})
    assert info.value.code == 403


def test_openapi_refs_resolve_and_every_component_is_used():
    spec = _spec()
    refs: list[str] = []

    def walk(node):
        if isinstance(node, dict):
            if "$ref" in node:
                refs.append(node["$ref"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(spec)
    for ref in refs:
        target = spec
        for part in ref.lstrip("#/").split("/"):
            assert part in target, f"unresolved $ref {ref}"
            target = target[part]
    used = {r.split("/")[-1] for r in refs}
    for section in ("schemas", "responses", "parameters"):
        unused = set(spec["components"][section]) - used
        assert not unused, f"unused components/{section}: {unused}"
    assert spec["openapi"].startswith("3.0") and spec["info"]["version"] == "1"
