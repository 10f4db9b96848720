"""Every AWS call the product makes in a test, recorded from botocore's ``before-parameter-build``
event, checked against the service model constraints the client does not enforce, and turned
into the IAM requests it needs (iam_requests.py) for evaluation against the ABAC policy.

botocore validates required members, types and *minimum* lengths client-side; AWS also refuses
what breaks a shape's ``max`` (length, size or value), its ``pattern``, its ``enum``, or a
list's/map's ``max`` entries. ``violations(shape, params)`` checks those; patterns are the
service's (Java) regular expressions, matched against the whole value (the models leave most
unanchored, AWS validates the whole string) with the ``regex`` module, which knows ``\p{L}``.
"""
from __future__ import annotations

import copy
import io
import traceback
import os
from dataclasses import dataclass, field
from typing import Any, Optional

try:
    import regex as _rx  # knows \p{...} classes that the service models use
except ImportError:  # pragma: no cover
    import re as _rx

_PATTERNS: dict[str, Any] = {}


def _pattern(text: str):
    if text not in _PATTERNS:
        # Java spells the supplementary planes as a surrogate-pair range; Python needs code points.
        python = text.replace("\\uD800\\uDC00-\\uDBFF\\uDFFF", "\\U00010000-\\U0010FFFF")
        try:
            _PATTERNS[text] = _rx.compile(python)
        except Exception:  # noqa: BLE001 - a pattern neither engine reads is reported, not skipped silently
            _PATTERNS[text] = None
    return _PATTERNS[text]


def violations(shape, value, path: str = "") -> list[str]:
    """What AWS would refuse in ``value`` (a request or part of one) for ``shape``."""
    if shape is None or value is None:
        return []
    meta, kind, out = shape.metadata, shape.type_name, []
    where = path or shape.name
    if kind == "structure":
        for name, member in shape.members.items():
            if isinstance(value, dict) and name in value:
                out += violations(member, value[name], f"{path}.{name}" if path else name)
    elif kind == "list":
        if "max" in meta and len(value) > meta["max"]:
            out.append(f"{where}: {len(value)} items, the maximum is {meta['max']}")
        for i, item in enumerate(value):
            out += violations(shape.member, item, f"{where}[{i}]")
    elif kind == "map":
        if "max" in meta and len(value) > meta["max"]:
            out.append(f"{where}: {len(value)} entries, the maximum is {meta['max']}")
        for k, v in value.items():
            out += violations(shape.key, k, f"{where}.<key {k!r}>")
            out += violations(shape.value, v, f"{where}[{k!r}]")
    elif kind == "string":
        if not isinstance(value, str):
            return out
        if "max" in meta and len(value) > meta["max"]:
            out.append(f"{where}: {value!r} has {len(value)} characters, the maximum is {meta['max']}")
        if "enum" in meta and value not in meta["enum"]:
            out.append(f"{where}: {value!r} is not one of {meta['enum']}")
        if "pattern" in meta:
            rx = _pattern(meta["pattern"])
            if rx is None:
                out.append(f"{where}: the model's pattern {meta['pattern']!r} could not be compiled to check {value!r}")
            elif not rx.fullmatch(value):  # AWS matches the whole value (Java's matches())
                out.append(f"{where}: {value!r} does not match the pattern {meta['pattern']!r}")
    elif kind in ("integer", "long", "float", "double"):
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            if "max" in meta and value > meta["max"]:
                out.append(f"{where}: {value} is above the maximum {meta['max']}")
            if "min" in meta and value < meta["min"]:
                out.append(f"{where}: {value} is below the minimum {meta['min']}")
    elif kind == "blob":
        if isinstance(value, (bytes, bytearray)) and "max" in meta and len(value) > meta["max"]:
            out.append(f"{where}: {len(value)} bytes, the maximum is {meta['max']}")
    return out


def _snapshot(params: dict) -> dict:
    """The request without its streamed body (which must not be read or copied)."""
    out = {}
    for k, v in params.items():
        if isinstance(v, (io.IOBase,)) or hasattr(v, "read"):
            out[k] = "<stream>"
        elif isinstance(v, (bytes, bytearray)):
            out[k] = f"<{len(v)} bytes>"
        else:
            out[k] = copy.deepcopy(v)
    return out


@dataclass
class Call:
    service: str
    operation: str
    params: dict
    violations: list
    requests: list = field(default_factory=list)
    principal: str = ""
    error: Optional[str] = None  # no IAM mapping known
    callers: tuple = ()  # the product functions on the stack (iam_gaps tells existence checks apart)


class Recorder:
    """Hooks product clients (``attach``); ``calls`` holds what they sent, in order."""

    def __init__(self, world=None, owner_tag_key: str = "studiouserid"):
        self.calls: list[Call] = []
        self.world = world
        self.tag_key = owner_tag_key

    def attach(self, client) -> None:
        if getattr(client, "_smops_recorded", None) is self:
            return
        client._smops_recorded = self
        service = client.meta.service_model.service_name
        client.meta.events.register("before-parameter-build", lambda params, model, **kw: self._record(service, model, params))
        client.meta.events.register("after-call", lambda parsed, model, **kw: self._created(model, parsed))

    def _created(self, model, parsed) -> None:
        """A model package's ARN (an API Gateway REST API's, key's, plan's) is known only from the
        answer: remember its tags under it."""
        if self.world is None or not isinstance(parsed, dict):
            return
        made_under = {"CreateRestApi": "/restapis/", "CreateApiKey": "/apikeys/", "CreateUsagePlan": "/usageplans/"}
        if model.name in made_under and parsed.get("id"):
            from iam_requests import apigw_arn

            self.world.tags[apigw_arn(made_under[model.name] + parsed["id"])] = dict(parsed.get("tags") or {})
            return
        if model.name != "CreateModelPackage":
            return
        arn = parsed.get("ModelPackageArn")
        made = next((c for c in reversed(self.calls) if c.operation == "CreateModelPackage"), None)
        if arn and made is not None:
            tags = made.params.get("Tags") or []
            self.world.tags[arn] = {t["Key"]: t["Value"] for t in tags}

    def _record(self, service: str, model, params: dict) -> None:
        found = violations(model.input_shape, params)
        call = Call(service, model.name, _snapshot(params), found,
                    callers=tuple(f.name for f in traceback.extract_stack() if "jupyter_smops" in f.filename))
        self.calls.append(call)
        if self.world is not None:
            from iam_requests import authorizations

            call.principal = self._principal(service, model.name, params)
            try:
                call.requests = authorizations(service, model.name, params, self.world,
                                               {f"aws:PrincipalTag/{self.tag_key}": call.principal} if call.principal else {})
            except KeyError as exc:
                call.error = str(exc)

    def _principal(self, service: str, op: str, params: dict) -> str:
        """Who acts: the owner a create tags with, else the owner of the resource touched, else
        the owner last seen tagging, else SMOPS_OWNER. (Cross-owner refusals are proved by the
        matrix test, not here.)"""
        import urllib.parse

        tags = params.get("Tags")
        if isinstance(tags, list):
            tags = {t["Key"]: t["Value"] for t in tags}
        if isinstance(params.get("Tagging"), str):
            tags = dict(urllib.parse.parse_qsl(params["Tagging"]))
        if isinstance(tags, dict) and tags.get(self.tag_key):
            self.last_owner = tags[self.tag_key]
            return tags[self.tag_key]
        for arn in self._touched(service, params):
            owner = self.world.tags_of(arn).get(self.tag_key)
            if owner:
                return owner
        # A resource not there (yet): the test's acting owner, as last seen tagging something.
        return getattr(self, "last_owner", "") or os.environ.get("SMOPS_OWNER", "")

    @staticmethod
    def _touched(service: str, params: dict) -> list[str]:
        from iam_requests import sm_arn

        if service == "s3" and "Key" in params:
            return [f"s3://{params['Bucket']}/{params['Key']}"]
        if service == "s3" and "Delete" in params:
            return [f"s3://{params['Bucket']}/{o['Key']}" for o in params["Delete"]["Objects"]]
        out = [params[k] for k in ("ResourceArn", "ModelPackageArn", "ModelPackageName") if k in params]
        for member, kind in (("EndpointName", "endpoint"), ("EndpointConfigName", "endpoint-config"),
                             ("ModelName", "model"), ("ModelPackageGroupName", "model-package-group")):
            if member in params:
                out.append(sm_arn(kind, params[member]))
        if "ResourceId" in params:
            out.append(f"aas:{params['ResourceId']}")
        return out
