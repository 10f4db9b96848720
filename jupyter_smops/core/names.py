"""Name rules shared by both backends (SageMaker's, so a local name is always valid on AWS)."""
from __future__ import annotations

import re
from typing import Iterable, Optional

from .errors import BadRequest, Conflict

# SageMaker: EndpointName / ModelName / ModelPackageGroupName pattern, at most 63 characters.
# Also valid JavaScript: the panel checks names with this very pattern (core/rules.py sends it).
NAME_PATTERN = r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$"
NAME_MAX_LENGTH = 63
# The default endpoint name for a version (before cutting to NAME_MAX_LENGTH); sent to the panel.
ENDPOINT_NAME_TEMPLATE = "{model}-v{version}"
NAME_RULE = "1-63 letters, digits and hyphens, starting and ending with a letter or digit"
_SAGEMAKER_NAME = re.compile(NAME_PATTERN)


def validate_model_name(name: object) -> str:
    """A registry model name: SageMaker's rule (letters, digits, hyphens; 1-63 characters)."""
    return _validate(name, "model name", "iris or churn-model-2")


def validate_endpoint_name(name: object) -> str:
    """An endpoint name: SageMaker's rule (letters, digits, hyphens; 1-63 characters)."""
    return _validate(name, "endpoint name", "iris-endpoint")


def _validate(name: object, what: str, example: str) -> str:
    if not isinstance(name, str) or not name:
        raise BadRequest(f"A {what} is required (letters, digits and hyphens, e.g. {example}).")
    if not _SAGEMAKER_NAME.match(name):
        raise BadRequest(
            f"Invalid {what} {name!r}: use {NAME_RULE} (SageMaker's rule), e.g. {example}.")
    return name


def check_case_unique(name: str, existing: Iterable[str], what: str, hint: str) -> None:
    """Conflict when ``existing`` holds ``name`` in another case: SageMaker treats endpoint, model
    and model package group names case-insensitively, so ``iris-v1`` and ``IRIS-V1`` (or models
    ``iris`` and ``Iris``, whose S3 keys would differ but whose package group would not) cannot
    both exist on any backend. ``hint`` says what to do instead."""
    folded = name.lower()
    for other in existing:
        if other != name and other.lower() == folded:
            raise Conflict(f"A {what} named {other!r} already exists, and {what} names are unique whatever "
                           f"their case (as on SageMaker): {hint.format(other=other)}.")


def parse_ref(ref: str) -> tuple[str, Optional[int]]:
    """``NAME`` or ``NAME:VERSION`` (``latest`` allowed) -> (name, version or None)."""
    if not isinstance(ref, str) or not ref:
        raise BadRequest("A model reference is required: NAME or NAME:VERSION, e.g. iris:2.")
    name, sep, version = ref.partition(":")
    validate_model_name(name)
    if not sep or version in ("", "latest"):
        return name, None
    if not version.isdigit() or int(version) < 1:
        raise BadRequest(f"Invalid version {version!r} in {ref!r}: versions are 1, 2, 3..., e.g. {name}:1.")
    return name, int(version)


def suggest_endpoint_name(model: str, version: int) -> str:
    """A valid endpoint name for a model version, e.g. ``iris-v3``."""
    base = ENDPOINT_NAME_TEMPLATE.format(model=model, version=version)
    return base[:NAME_MAX_LENGTH].rstrip("-")
