"""The rules a client must know before it asks: sent once in ``status()`` so faces never copy them.

The panel used to keep its own serving-version list, name pattern and approval switch; they
drifted from the core. Everything here is read from the module that enforces the rule, and is
cheap: no scikit-learn or SageMaker SDK import (metadata and JSON files only).
"""
from __future__ import annotations

from importlib import metadata
from typing import Any, Optional

from . import images, names
from .deploy_plan import SERVERLESS_MEMORY_MB, approval_required
from .limits import MAX_PAYLOAD_BYTES


def local_sklearn_version() -> Optional[str]:
    """The installed scikit-learn version (what local endpoints run), without importing it."""
    try:
        return metadata.version("scikit-learn")
    except metadata.PackageNotFoundError:
        return None


def public_rules(config: Any) -> dict:
    """What a face needs to check input the way the core will: serving versions, the local
    scikit-learn version, the name rule, the approval policy, the serverless memory sizes and
    the invoke payload limit."""
    local = local_sklearn_version()
    return {
        "serving_versions": images.sklearn_serving_versions(),
        "framework_version": local,
        "serving_version": images.serving_version_for(local) if local else None,
        "names": {
            "pattern": names.NAME_PATTERN,
            "max_length": names.NAME_MAX_LENGTH,
            "description": names.NAME_RULE,
            "endpoint_default": names.ENDPOINT_NAME_TEMPLATE,
        },
        "approval": {
            "required": approval_required(config, local=False),
            "local_exempt": not approval_required(config, local=True),
        },
        "serverless_memory_mb": list(SERVERLESS_MEMORY_MB),
        "max_payload_bytes": MAX_PAYLOAD_BYTES,
        "expiry": _expiry(config),
    }


def _expiry(config: Any) -> dict:
    """The default expiry (cut to the cap, as a deploy applies it) and the admin's cap."""
    from .deploy_plan import expiry_limits

    default, cap = expiry_limits(config)
    if cap is not None:
        default = min(default, cap) if default is not None else cap
    return {"default_seconds": default, "max_seconds": cap, "no_expiry_allowed": cap is None}
