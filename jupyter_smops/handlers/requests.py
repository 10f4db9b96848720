"""Typed request bodies of the REST API and the one small validator that builds them.

Each request is a dataclass; ``parse(Cls, body)`` checks presence, JSON type and range of
every field and answers 400 naming the field, the expected type and an example, so a client
never has to guess. Unknown fields are refused too: a typo (``instance-type``) must not be
silently ignored and deploy the default instead.
"""
from __future__ import annotations

import dataclasses
import typing
from dataclasses import dataclass, field
from typing import Any, Optional

from ..core.errors import BadRequest
from ..core.types import APPROVAL_STATUSES

_JSON_NAMES = {str: "a string", int: "an integer", bool: "a boolean (true or false)", float: "a number"}


def _meta(example: Any = None, minimum: Optional[int] = None, maximum: Optional[int] = None,
          choices: Optional[tuple] = None, sample: bool = False) -> dict:
    return {"example": example, "minimum": minimum, "maximum": maximum, "choices": choices, "sample": sample}


def opt(default: Any = None, **meta: Any) -> Any:
    return field(default=default, metadata=_meta(**meta))


def req(**meta: Any) -> Any:
    return field(metadata=_meta(**meta))


@dataclass(frozen=True)
class PushRequest:
    """POST /smops/api/models: push a model file (or an existing model.tar.gz) under the root."""

    path: str = req(example="iris.joblib")
    name: str = req(example="iris")
    inference: Optional[str] = opt(example="inference.py")
    requirements: Optional[str] = opt(example="requirements.txt")
    sample: Any = opt(example=[[5.1, 3.5, 1.4, 0.2]], sample=True)


@dataclass(frozen=True)
class PackageRequest:
    """POST /smops/api/packages: build and validate (or validate an existing ``*.tar.gz``)."""

    path: str = req(example="iris.joblib")
    inference: Optional[str] = opt(example="inference.py")
    requirements: Optional[str] = opt(example="requirements.txt")
    sample: Any = opt(example=[[5.1, 3.5, 1.4, 0.2]], sample=True)
    out: Optional[str] = opt(example="model.tar.gz")


@dataclass(frozen=True)
class DeployRequest:
    """POST /smops/api/endpoints: deploy a registry version to a new endpoint."""

    model: str = req(example="iris")
    version: Optional[int] = opt(minimum=1, example=2)
    name: Optional[str] = opt(example="iris-endpoint")
    instance_type: Optional[str] = opt(example="ml.t2.medium")
    count: Optional[int] = opt(minimum=1, maximum=100, example=1)
    max_count: Optional[int] = opt(minimum=1, maximum=100, example=4)
    serverless_memory_mb: Optional[int] = opt(minimum=1024, maximum=6144, example=2048)
    local: bool = opt(False, example=True)
    framework_version: Optional[str] = opt(example="1.2-1")
    image_uri: Optional[str] = opt(example="683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3")
    expires_in: Optional[str] = opt(example="2h")
    no_expiry: bool = opt(False, example=False)


@dataclass(frozen=True)
class ExtendRequest:
    """POST /smops/api/endpoints/{name}/expiry: exactly one of the three."""

    by: Optional[str] = opt(example="2h")
    expires_in: Optional[str] = opt(example="30m")
    no_expiry: bool = opt(False, example=False)


@dataclass(frozen=True)
class ExposeRequest:
    """POST /smops/api/endpoints/{name}/public: the usage plan's limits."""

    rate_limit: float = opt(10.0, example=10.0)
    burst_limit: int = opt(20, minimum=1, example=20)
    quota_per_day: int = opt(10000, minimum=1, example=10000)


@dataclass(frozen=True)
class CleanupRequest:
    """POST /smops/api/cleanup: ``dry_run`` is required so nothing is deleted by accident."""

    dry_run: bool = req(example=True)
    include_registry: bool = opt(False, example=False)


@dataclass(frozen=True)
class ApprovalRequest:
    """POST /smops/api/models/{name}/versions/{version}/approval."""

    status: str = req(choices=APPROVAL_STATUSES, example="Approved")


def _describe(tp: Any) -> str:
    args = [a for a in typing.get_args(tp) if a is not type(None)]
    if tp is Any:
        return "any JSON value"
    if args:
        return _describe(args[0]) + " or null"
    return _JSON_NAMES.get(tp, getattr(tp, "__name__", str(tp)))


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"


def _check_sample(name: str, value: Any) -> Any:
    """A sample is the JSON body the validation sends the model: rows (a non-empty array) or, for
    an input_fn of your own, a non-empty object. Anything else could only fail later, in the job."""
    if value is None:
        return None
    if isinstance(value, list) and value or isinstance(value, dict) and value:
        return value
    what = "an empty array" if value == [] else "an empty object" if value == {} else _json_type(value)
    hint = " (a JSON text in a string is not parsed here: send the array itself)" if isinstance(value, str) else ""
    raise BadRequest(f"Field {name!r} must be the model's input as JSON: rows such as [[5.1, 3.5, 1.4, 0.2]], "
                     f"or an object your input_fn reads such as {{\"instances\": [[5.1, 3.5, 1.4, 0.2]]}}; "
                     f"got {what}{hint}.")


def _check(name: str, tp: Any, value: Any, meta: dict) -> Any:
    if meta.get("sample"):
        return _check_sample(name, value)
    if tp is Any:
        return value
    optional = type(None) in typing.get_args(tp)
    base = next((a for a in typing.get_args(tp) if a is not type(None)), tp)
    example = f" e.g. {meta['example']!r}" if meta.get("example") is not None else ""
    if value is None:
        if optional:
            return None
        raise BadRequest(f"Field {name!r} must be {_describe(tp)}, not null;{example}.")
    # bool is a subclass of int in Python, never in JSON.
    ok = isinstance(value, base) and not (base is int and isinstance(value, bool))
    if base is float and isinstance(value, int) and not isinstance(value, bool):
        value, ok = float(value), True  # a JSON number: 5 is as good as 5.0
    if not ok:
        raise BadRequest(f"Field {name!r} must be {_describe(tp)}, got {_json_type(value)};{example}.")
    if base is int:
        lo, hi = meta.get("minimum"), meta.get("maximum")
        if (lo is not None and value < lo) or (hi is not None and value > hi):
            raise BadRequest(f"Field {name!r} must be between {lo} and {hi}, got {value}.")
    choices = meta.get("choices")
    if choices and value not in choices:
        raise BadRequest(f"Field {name!r} must be one of {', '.join(choices)}; got {value!r}.")
    if base is str and not value.strip():
        raise BadRequest(f"Field {name!r} must not be empty;{example}.")
    return value


T = typing.TypeVar("T")


def parse(cls: type[T], body: Any) -> T:
    """Build ``cls`` from a decoded JSON body, or raise BadRequest naming the first bad field."""
    if not isinstance(body, dict):
        raise BadRequest(f"The request body must be a JSON object (got {_json_type(body)}), "
                         f"e.g. {example_body(cls)}.")
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    unknown = sorted(set(body) - set(fields))
    if unknown:
        raise BadRequest(f"Unknown field{'s' if len(unknown) > 1 else ''} {', '.join(map(repr, unknown))}; "
                         f"accepted: {', '.join(fields)}.")
    values = {}
    for name, f in fields.items():
        required = f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
        if name not in body:
            if required:
                raise BadRequest(f"Missing required field {name!r} ({_describe(hints[name])}), "
                                 f"e.g. {example_body(cls)}.")
            continue
        values[name] = _check(name, hints[name], body[name], dict(f.metadata))
    return cls(**values)


def example_body(cls: type) -> str:
    """The required fields with their examples, as JSON-ish text for messages."""
    import json

    parts = {f.name: f.metadata.get("example") for f in dataclasses.fields(cls)
             if f.default is dataclasses.MISSING}
    return json.dumps(parts)
