"""The SageMaker scikit-learn serving images, read from the SageMaker SDK's own image config.

Importing ``sagemaker.core.image_uris`` costs ~3 s; reading the JSON file it ships costs ~20 ms,
so the file is located with ``find_spec`` and read directly. The SDK stays the source of truth.
"""
from __future__ import annotations

import functools
import importlib.util
import json
import re
from pathlib import Path
from typing import Optional

# Used only when the SDK is not installed (the core must still work without it).
_FALLBACK_VERSIONS = ("0.20.0", "0.23-1", "1.0-1", "1.2-1", "1.4-2-py312", "1.9-0")


@functools.lru_cache(maxsize=1)
def sklearn_image_config() -> dict:
    """The SDK's ``image_uri_config/sklearn.json`` (empty dict when the SDK is absent)."""
    try:
        spec = importlib.util.find_spec("sagemaker.core")
    except (ImportError, ValueError):
        spec = None
    for location in (spec.submodule_search_locations or []) if spec else []:
        path = Path(location) / "image_uri_config" / "sklearn.json"
        if path.is_file():
            return json.loads(path.read_text())
    return {}


def sklearn_serving_versions() -> list[str]:
    """Serving (``inference`` scope) framework versions the SDK knows, in its order."""
    versions = sklearn_image_config().get("inference", {}).get("versions", {})
    return list(versions) or list(_FALLBACK_VERSIONS)


def _major_minor(version: str) -> Optional[tuple[int, int]]:
    m = re.match(r"^(\d+)\.(\d+)", version)
    return (int(m.group(1)), int(m.group(2))) if m else None


def serving_version_for(sklearn_version: str) -> Optional[str]:
    """The serving framework version matching a local scikit-learn version, or None.

    ``1.9.1`` -> ``1.9-0``; ``1.4.2`` -> ``1.4-2-py312``; ``1.5.0`` -> None (no such image).
    """
    local = _major_minor(sklearn_version or "")
    if local is None:
        return None
    for candidate in sklearn_serving_versions():
        if _major_minor(candidate) == local:
            return candidate
    return None


def mismatch_advice(sklearn_version: str) -> str:
    """What to do when a local scikit-learn version has no serving image."""
    versions = sklearn_serving_versions()
    pins = ", ".join(f"scikit-learn=={_pin(v)}" for v in versions if _major_minor(v) and _major_minor(v) >= (1, 0))
    return (f"scikit-learn {sklearn_version} has no SageMaker serving image (images exist for "
            f"{', '.join(versions)}). Retrain with a matching version ({pins}), or deploy with an "
            f"explicit --framework-version or --image-uri that can load this model.")


def _pin(serving_version: str) -> str:
    mm = _major_minor(serving_version)
    return f"{mm[0]}.{mm[1]}.*" if mm else serving_version
