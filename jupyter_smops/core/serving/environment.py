"""The environment a local endpoint (and the validation probe) starts with: an allowlist.

A SageMaker container gets its own environment, not the deployer's; a local endpoint must not
inherit the notebook's either: it runs the model's code for as long as it lives, and its log
holds what that code prints. So AWS keys and session tokens, tokens of other services, Jupyter's
own token and anything else not listed here stay behind. What is kept: what the interpreter and
native libraries need to start and find their files (PATH, HOME, locale, time zone, temp
folder, PYTHON*, virtualenv/conda paths, the dynamic loader's path), the thread limits of
numeric libraries, what pip needs to install ``code/requirements.txt`` (its configuration,
proxy and CA bundle variables), the container's own variables (SAGEMAKER_*, SM_*) and this
project's settings (SMOPS_*). Standard library only: the fork server imports it.
"""
from __future__ import annotations

import os
from typing import Mapping, Optional

_NAMES = frozenset({
    "PATH", "HOME", "USER", "LOGNAME", "SHELL", "LANG", "LANGUAGE", "TZ", "TMPDIR", "TEMP", "TMP",
    "VIRTUAL_ENV", "CONDA_PREFIX", "CONDA_DEFAULT_ENV", "LD_LIBRARY_PATH", "DYLD_LIBRARY_PATH",
    "SSL_CERT_FILE", "SSL_CERT_DIR", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE",
    "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "no_proxy",
    "AWS_REGION", "AWS_DEFAULT_REGION",  # a container knows its region; never the credentials
    "COVERAGE_PROCESS_START",
})
_PREFIXES = ("LC_", "PYTHON", "SMOPS_", "SAGEMAKER_", "SM_", "PIP_", "OMP_", "OPENBLAS_", "MKL_",
             "NUMEXPR_", "VECLIB_", "JOBLIB_", "KMP_", "XDG_")


def allowed(name: str) -> bool:
    """Whether a variable of this name is passed on to endpoint processes."""
    return name in _NAMES or name.startswith(_PREFIXES)


def endpoint_environment(env: Optional[Mapping[str, str]] = None) -> dict:
    """``env`` (default: this process's) reduced to the allowlist (see the module docstring)."""
    source = os.environ if env is None else env
    return {k: v for k, v in source.items() if allowed(k)}
