"""The SageMaker scikit-learn serving images, read from the SageMaker SDK's own image config.

Either SDK line works, whichever is installed (SageMaker Distribution 3.x ships v2, 4.x ships v3):
v3 keeps the data in ``sagemaker/core/image_uri_config/sklearn.json`` (package sagemaker-core 2.x),
v2 in ``sagemaker/image_uri_config/sklearn.json``. Importing either SDK costs seconds (v3's
``image_uris`` ~3 s, v2's ``sagemaker`` package more), while reading the JSON costs ~20 ms, so the
file is located on ``sys.path`` without importing anything. The SDK stays the source of truth.

With neither SDK installed the serving *versions* fall back to a built-in list (enough for the
version check and its advice), but no image URI is guessed: a deploy says to install one
(``pip install sagemaker-core``, or ``sagemaker``) or to pass ``--image-uri``.
"""
from __future__ import annotations

import functools
import importlib.util
import json
import re
from pathlib import Path
from typing import Optional

# Used only when no SDK is installed (the core must still work without it).
_FALLBACK_VERSIONS = ("0.20.0", "0.23-1", "1.0-1", "1.2-1", "1.4-2-py312", "1.9-0")
# Where each SDK line keeps the file, relative to a ``sagemaker`` package directory; v3 first.
_CONFIG_PATHS = (("v3", ("core", "image_uri_config", "sklearn.json")),
                 ("v2", ("image_uri_config", "sklearn.json")))


@functools.lru_cache(maxsize=1)
def sklearn_image_source() -> tuple[str, Optional[Path]]:
    """(``"v3"``, ``"v2"`` or ``"none"``, the JSON file) for the installed SDK's scikit-learn data."""
    try:  # finding a top-level package does not import it
        spec = importlib.util.find_spec("sagemaker")
    except (ImportError, ValueError):
        spec = None
    locations = list(spec.submodule_search_locations or []) if spec else []
    for line, parts in _CONFIG_PATHS:
        for location in locations:
            path = Path(location).joinpath(*parts)
            if path.is_file():
                return line, path
    return "none", None


@functools.lru_cache(maxsize=1)
def sklearn_image_config() -> dict:
    """The SDK's ``image_uri_config/sklearn.json`` (empty dict when no SDK is installed)."""
    _, path = sklearn_image_source()
    if path is None:
        return {}
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):  # a broken install: behave as without the SDK
        return {}


def sklearn_serving_versions() -> list[str]:
    """Serving (``inference`` scope) framework versions the SDK knows, in its order (built-in without an SDK)."""
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


# The Python of the images whose tag does not name it, from aws/sagemaker-scikit-learn-container's
# docker/<version>/base/Dockerfile.cpu (1.0-1: 3.7.10; 1.2-1: 3.9). Unlisted ones count as recent.
_IMAGE_PYTHON = {"0.20.0": (3, 6), "0.23-1": (3, 7), "1.0-1": (3, 7), "1.2-1": (3, 9)}
# The oldest Python each scikit-learn minor installs on (its Requires-Python), from that minor on.
_SKLEARN_PYTHON = (((1, 0), (3, 7)), ((1, 1), (3, 8)), ((1, 4), (3, 9)), ((1, 7), (3, 10)), ((1, 8), (3, 11)))


def image_python(serving_version: str) -> Optional[tuple[int, int]]:
    """The Python an image runs (``-py312`` in its tag, else the table above); None if unknown."""
    m = re.search(r"-py3(\d+)$", serving_version)
    return (3, int(m.group(1))) if m else _IMAGE_PYTHON.get(serving_version)


def _python_needed(mm: tuple[int, int]) -> tuple[int, int]:
    needed = (3, 0)
    for since, python in _SKLEARN_PYTHON:
        if mm >= since:
            needed = python
    return needed


def can_install(serving_version: str, sklearn_version: str) -> bool:
    """Whether ``sklearn_version`` installs on the image's Python (True when either is unknown)."""
    mm = _major_minor(sklearn_version or "")
    return mm is None or (image_python(serving_version) or (9, 99)) >= _python_needed(mm)


def nearest_serving_version(sklearn_version: str) -> Optional[str]:
    """The image a model pickled with ``sklearn_version`` is served on when no image has its minor
    (``code/requirements.txt`` then pins the exact version, which the container installs at start).

    The newest image whose scikit-learn is older and whose Python that version installs on:
    installing a newer scikit-learn only moves forward, and pip upgrades numpy/scipy wherever
    scikit-learn's declared minimums need it, while going down onto a newer image's numpy/scipy is
    checked by nothing (scikit-learn declares no upper bounds). For 1.5-1.8 that is 1.4-2-py312
    (Python 3.12). Older than every image: the oldest. None when no listed image can install it
    (SDK 2.245's list ends at 1.2-1, Python 3.9, below what 1.7 needs) or the version is unreadable.
    """
    local = _major_minor(sklearn_version or "")
    if local is None:
        return None
    ranked = sorted((mm, v) for v in sklearn_serving_versions() if (mm := _major_minor(v)))
    usable = [(mm, v) for mm, v in ranked if can_install(v, sklearn_version)]
    older = [v for mm, v in usable if mm <= local]
    if older:
        return older[-1]
    return usable[0][1] if usable else None


def image_sklearn(serving_version: str) -> str:
    """The scikit-learn an image runs by itself, as ``1.4.x`` (tags name the minor, not the patch)."""
    mm = _major_minor(serving_version or "")
    return f"{mm[0]}.{mm[1]}.x" if mm else "unknown"


def mismatch_advice(sklearn_version: str) -> str:
    """What to do with a version whose model has no serving image and no pin (pushed before
    jupyter_smops pinned, or an archive validated as it is)."""
    versions = sklearn_serving_versions()
    nearest = nearest_serving_version(sklearn_version)
    if nearest is None and _major_minor(sklearn_version or ""):
        python = ".".join(map(str, _python_needed(_major_minor(sklearn_version))))
        return (f"scikit-learn {sklearn_version} has no SageMaker serving image, and none that the installed "
                f"SageMaker SDK lists ({', '.join(versions)}) runs the Python {python}+ it installs on. Deploy with "
                f"--image-uri naming a newer scikit-learn image (e.g. <account>.dkr.ecr.<region>.amazonaws.com/"
                f"sagemaker-scikit-learn:1.4-2-py312-cpu-py3; code/requirements.txt pins scikit-learn=="
                f"{sklearn_version}, which it installs at start), or install newer image data "
                f"(pip install sagemaker-core).")
    pin = (f"Push it again (push adds scikit-learn=={sklearn_version} to code/requirements.txt and deploys on "
           f"the {nearest} image, which installs it at start), or deploy" if nearest else "Deploy")
    return (f"scikit-learn {sklearn_version} has no SageMaker serving image (images exist for "
            f"{', '.join(versions)}). {pin} with an explicit --framework-version or --image-uri that can load "
            f"this model.")


# ECR's DNS suffix per partition (the SDK derives the same from botocore's partition data).
_ECR_DOMAINS = (("cn-", "amazonaws.com.cn"), ("us-isob-", "sc2s.sgov.gov"), ("us-isof-", "csp.hci.ic.gov"),
                ("us-iso-", "c2s.ic.gov"), ("eu-isoe-", "cloud.adc-e.uk"))
# Graviton (arm64) instance families: ml.m6g, ml.c7g, ml.r6gd, ml.c6gn, ...
_GRAVITON = re.compile(r"^ml\.[a-z]+\d+g[a-z]*\.")
# GPU and accelerator families: the scikit-learn images are CPU-only.
_ACCELERATED = re.compile(r"^ml\.(p\d|g\d|inf\d|trn\d|dl\d)")


def is_graviton(instance_type: Optional[str]) -> bool:
    """True for arm64 (Graviton) instance types such as ``ml.m6g.large`` or ``ml.c7g.xlarge``."""
    return bool(instance_type and _GRAVITON.match(instance_type))


def image_uri(region: str, framework_version: str, instance_type: Optional[str] = None) -> str:
    """The scikit-learn serving image for a region, serving version and instance type.

    Equals ``sagemaker.core.image_uris.retrieve(framework="sklearn", ...)`` wherever that answer is
    right, without the SDK's ~3 s import. Where the SDK would silently answer something else (a
    Graviton type gets an arm64 ``1.0-1`` image whatever was asked) this raises ``BadRequest``
    with the choices spelled out; so do unknown regions, versions and GPU types.
    """
    from .errors import BadRequest

    scope = "inference"
    if is_graviton(instance_type):
        graviton = sklearn_image_config().get("inference_graviton", {}).get("versions", {})
        if framework_version not in graviton:
            raise BadRequest(
                f"{instance_type} is a Graviton (arm64) type; the only scikit-learn image for it is "
                f"{', '.join(graviton) or '1.0-1'} (arm64), which cannot serve a model built for "
                f"{framework_version}. Choose an x86 type (e.g. ml.m5.large, ml.c5.large, ml.t2.medium), "
                f"or pass --image-uri with an arm64 image that has this scikit-learn version.")
        scope = "inference_graviton"
    if instance_type and _ACCELERATED.match(instance_type):
        raise BadRequest(f"The scikit-learn serving images are CPU-only, so {instance_type} cannot run them. "
                         f"Choose a CPU type (e.g. ml.m5.large, ml.c5.large, ml.t2.medium) or pass --image-uri.")
    versions = sklearn_image_config().get(scope, {}).get("versions", {})
    if not versions:
        raise BadRequest("No SageMaker SDK is installed, so the scikit-learn serving images are unknown here: "
                         "pip install sagemaker-core (or sagemaker, v2 or v3), or pass --image-uri.")
    if framework_version not in versions:
        raise BadRequest(f"No scikit-learn serving image {framework_version!r}: the versions are "
                         f"{', '.join(versions)}. Pass one of them as --framework-version, or --image-uri.")
    entry = versions[framework_version]
    account = entry.get("registries", {}).get(region)
    if not account:
        raise BadRequest(f"The scikit-learn serving image is not published in region {region!r}. Use one of "
                         f"{', '.join(sorted(entry.get('registries', {})))}, or pass --image-uri.")
    domain = next((d for p, d in _ECR_DOMAINS if region.startswith(p)), "amazonaws.com")
    processor = "cpu"
    arch = "arm64-" if scope == "inference_graviton" else ""
    py = (entry.get("py_versions") or ["py3"])[0]
    return (f"{account}.dkr.ecr.{region}.{domain}/{entry.get('repository', 'sagemaker-scikit-learn')}:"
            f"{framework_version}-{arch}{processor}-{py}")
