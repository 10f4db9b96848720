"""docs/openapi.yaml is the one description of the API: the panel's types are generated from it
(src/generated/api.ts, checked by jest), and these tests hold the server's side to it — the
request dataclasses the handlers parse and the rules ``status`` publishes."""
from __future__ import annotations

import dataclasses
import typing
from pathlib import Path
from typing import Any

import pytest
import yaml

from jupyter_smops.core import deploy_plan, images, names, rules
from jupyter_smops.core.config import SmopsConfig
from jupyter_smops.core.endpoints.base import MAX_PAYLOAD_BYTES
from jupyter_smops.core.types import APPROVAL_STATUSES
from jupyter_smops.handlers import requests

SPEC = yaml.safe_load((Path(__file__).resolve().parents[1] / "docs" / "openapi.yaml").read_text())
SCHEMAS = SPEC["components"]["schemas"]
REQUESTS = [requests.PushRequest, requests.PackageRequest, requests.DeployRequest,
            requests.CleanupRequest, requests.ApprovalRequest, requests.ExtendRequest, requests.ExposeRequest]
_JSON_TYPES = {str: "string", int: "integer", bool: "boolean", float: "number"}


def _resolved(prop: dict) -> dict:
    """A property with its ``$ref`` and ``allOf`` parts merged in (shared schemas such as Name,
    RelativePath or Duration), its own keys winning."""
    if "$ref" in prop:
        return _resolved({**SCHEMAS[prop["$ref"].rsplit("/", 1)[1]], **{k: v for k, v in prop.items() if k != "$ref"}})
    merged: dict = {}
    for part in prop.get("allOf", []):
        merged.update(_resolved(part))
    merged.update({k: v for k, v in prop.items() if k != "allOf"})
    return merged


def _required(f: dataclasses.Field) -> bool:
    return f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING


def _request_bodies() -> set[str]:
    """Schema names of every documented JSON request body."""
    found = set()
    for ops in SPEC["paths"].values():
        for op in ops.values():
            ref = (op.get("requestBody", {}) if isinstance(op, dict) else {}).get("content", {}) \
                .get("application/json", {}).get("schema", {}).get("$ref", "")
            if ref.startswith("#/components/schemas/"):
                found.add(ref.rsplit("/", 1)[1])
    return found


def test_every_documented_request_body_has_a_dataclass_and_back():
    assert {cls.__name__ for cls in REQUESTS} == _request_bodies()


@pytest.mark.parametrize("cls", REQUESTS, ids=lambda c: c.__name__)
def test_request_dataclass_matches_its_openapi_schema(cls):
    schema = SCHEMAS[cls.__name__]
    fields = {f.name: f for f in dataclasses.fields(cls)}
    hints = typing.get_type_hints(cls)
    props = schema["properties"]
    assert set(fields) == set(props), f"{cls.__name__}: fields differ from the OpenAPI properties"
    assert {n for n, f in fields.items() if _required(f)} == set(schema.get("required", [])), \
        f"{cls.__name__}: required fields differ"
    # The parser refuses unknown fields; the spec must say so too.
    assert schema.get("additionalProperties") is False
    for name, f in fields.items():
        prop, tp = _resolved(props[name]), hints[name]
        args = typing.get_args(tp)
        optional = type(None) in args
        base = next((a for a in args if a is not type(None)), tp)
        if tp is Any:
            assert "type" not in prop, f"{cls.__name__}.{name} takes any JSON"
            continue
        assert prop.get("type") == _JSON_TYPES[base], f"{cls.__name__}.{name}: type"
        assert bool(prop.get("nullable")) == optional, f"{cls.__name__}.{name}: nullable"
        meta = f.metadata
        if meta.get("choices"):
            assert tuple(prop["enum"]) == tuple(meta["choices"]), f"{cls.__name__}.{name}: enum"
        for key in ("minimum", "maximum"):
            if meta.get(key) is not None and "enum" not in prop:
                assert prop.get(key) == meta[key], f"{cls.__name__}.{name}: {key}"
        if not _required(f) and f.default is not None:
            assert prop.get("default") == f.default, f"{cls.__name__}.{name}: default"


def test_enums_in_the_spec_are_the_cores():
    deploy = SCHEMAS["DeployRequest"]["properties"]
    assert tuple(deploy["serverless_memory_mb"]["enum"]) == deploy_plan.SERVERLESS_MEMORY_MB
    assert tuple(SCHEMAS["ApprovalRequest"]["properties"]["status"]["enum"]) == APPROVAL_STATUSES
    assert tuple(SCHEMAS["ModelVersion"]["properties"]["approval_status"]["enum"]) == APPROVAL_STATUSES
    for parameter in ("ModelName", "EndpointName"):
        assert _resolved(SPEC["components"]["parameters"][parameter]["schema"])["pattern"] == names.NAME_PATTERN
    # Every name a body carries follows the same rule (PushRequest.name, DeployRequest.name).
    assert SCHEMAS["Name"]["pattern"] == names.NAME_PATTERN
    assert SCHEMAS["ModelRef"]["pattern"].startswith(names.NAME_PATTERN.rstrip("$"))
    for schema, field in (("PushRequest", "name"), ("DeployRequest", "name")):
        assert _resolved(SCHEMAS[schema]["properties"][field])["pattern"] == names.NAME_PATTERN, (schema, field)


def _fits(value: Any, schema: dict) -> None:
    """Every property present, no other, recursively for objects: what the panel's types say."""
    if schema.get("type") == "object" and "properties" in schema:
        assert set(value) == set(schema["properties"]) == set(schema["required"])
        for key, sub in schema["properties"].items():
            _fits(value[key], sub)


def test_public_rules_are_the_enforcing_modules_values_and_fit_the_schema():
    got = rules.public_rules(SmopsConfig())
    _fits(got, SCHEMAS["Rules"])
    assert got["serving_versions"] == images.sklearn_serving_versions()
    assert got["names"]["pattern"] == names.NAME_PATTERN
    assert got["names"]["max_length"] == names.NAME_MAX_LENGTH
    model, version = "iris", 3
    assert got["names"]["endpoint_default"].format(model=model, version=version) == \
        names.suggest_endpoint_name(model, version)
    assert got["serverless_memory_mb"] == list(deploy_plan.SERVERLESS_MEMORY_MB)
    assert got["max_payload_bytes"] == MAX_PAYLOAD_BYTES


def test_public_rules_follow_the_approval_setting():
    assert rules.public_rules(SmopsConfig(require_approval=False))["approval"] == \
        {"required": False, "local_exempt": True}
    on = rules.public_rules(SmopsConfig(require_approval=True))["approval"]
    assert on["required"] is True
    # local_exempt is what plan_deploy does with a local deploy, not a promise of its own.
    assert on["local_exempt"] is (not deploy_plan.approval_required(SmopsConfig(require_approval=True), local=True))


def test_local_scikit_learn_version_is_read_without_importing_it():
    import subprocess
    import sys

    code = ("import sys; from jupyter_smops.core import rules; from jupyter_smops.core.config import SmopsConfig; "
            "r = rules.public_rules(SmopsConfig()); "
            "print(r['framework_version'], 'sklearn' in sys.modules, 'numpy' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    from importlib import metadata

    assert out == [metadata.version("scikit-learn"), "False", "False"]


def test_the_name_pattern_means_the_same_in_javascript():
    # The panel runs the pattern with JavaScript's RegExp: keep it to the shared subset.
    assert names.NAME_PATTERN.startswith("^") and names.NAME_PATTERN.endswith("$")
    assert not any(token in names.NAME_PATTERN for token in ("(?P", "\\A", "\\Z", "(?<", "(?#"))


def test_the_logs_since_pattern_takes_every_real_date_and_the_servers_cursors():
    """A client validating against the spec must accept every next_since the server gives: the
    pattern once refused days 29-31 (a cursor from 30 November failed client-side validation)."""
    import datetime
    import re

    from jupyter_smops.core.endpoints import logtime

    since = [p for p in SPEC["paths"]["/smops/api/endpoints/{name}/logs"]["get"]["parameters"]
             if p["name"] == "since"][0]["schema"]["pattern"]
    pattern = re.compile(since)
    day, wrong = datetime.date(2024, 1, 1), []
    while day.year < 2030:  # six years, two of them leap years
        stamp = datetime.datetime(day.year, day.month, day.day, 23, 59, 59, 999000, tzinfo=datetime.timezone.utc)
        cursor = logtime.page(f"{logtime.iso(stamp.timestamp())} GET /ping 200", None, 0, 10)[1]
        assert cursor.endswith("~1"), cursor
        for text in (day.isoformat(), f"{day.isoformat()}T12:00:00Z", cursor):
            if not pattern.match(text):
                wrong.append(text)
        day += datetime.timedelta(days=1)
    assert wrong == []
    assert not pattern.match("2026-02-29") and not pattern.match("2026-04-31") and pattern.match("2400-02-29")
