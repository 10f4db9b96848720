"""The on-start script of the Studio JupyterLab lifecycle configuration (LCC).

What it must do, and why it looks the way it does:
- SageMaker stops an LCC that runs over 5 minutes and fails the app, while ``pip install`` can
  take longer: the first start writes small files and runs the install with ``nohup ... &``, so
  the foreground ends in about a second.
- It never changes a package the image ships: pip installs with the image's own versions as
  constraints (it may add packages, never replace one; ``pip list --format=freeze``, as ``pip
  freeze`` writes conda's packages as ``name @ file://...``, which constrains nothing) and with
  ``--prefix`` into ``~/.smops/lcc/installs/VERSION-IMAGE`` on the persistent home volume.
- A space's image environment (``/opt/conda``) is fresh on every start while ``$HOME`` persists:
  every start links the install into the image with three small files (a ``.pth`` file, the lab
  extension folder link and the server extension's config) and the ``jupyter-smops`` command; a
  second start with the same version and the same image does only that, in the foreground, with
  no network and no server restart. IMAGE is a hash of the image's installed distributions, so a
  new image version is installed for afresh (its own versions as constraints).
- The Jupyter server is restarted only after an install, and only if one already runs.
- Studio ships the LCC's stdout/stderr to CloudWatch Logs; a ``nohup``-ed process must not hold
  that pipe open, so the background part logs to ``~/.smops/lcc/on-start.log`` (the foreground
  lines go to both).
"""
from __future__ import annotations

import base64
import re
import shlex
from typing import Optional

from ..errors import BadRequest, PayloadTooLarge

MAX_CONTENT = 16384  # SageMaker's limit on the base64 StudioLifecycleConfigContent
PACKAGE = "jupyter_smops"
LAB_EXTENSION = "jupyter-smops"
_VERSION = re.compile(r"^[0-9]+(\.[0-9]+)*([a-z0-9.+-]*)$", re.I)
_WHEEL = re.compile(r"^s3://([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])/(.+/)?(jupyter[_-]smops-([^-/]+)-[^/]+\.whl)$")

STARTUP_FILE = '''# Written by the jupyter-smops lifecycle configuration: %smops in every IPython kernel.
try:
    get_ipython().run_line_magic("load_ext", "jupyter_smops")  # noqa: F821 (IPython defines it)
except Exception as exc:  # still installing in the background, most likely
    print(f"jupyter_smops: %smops is not loaded yet ({exc}); run %load_ext jupyter_smops later.")
'''

WORKER = r'''#!/bin/bash
# jupyter-smops LCC helper (rewritten on every start): install or link.
set -euo pipefail
log() { printf '%s jupyter-smops[%s]: %s\n' "$(date -u '+%Y-%m-%dT%H:%M:%SZ')" "${1}" "${*:2}"; }
trap 'log error "failed at line ${LINENO}: see the lines above"' ERR

link() {  # the install -> the image environment (reset on every start); files only, no package
  local lib
  lib="$(find "${SMOPS_PREFIX}/lib" -maxdepth 2 -type d -name site-packages | head -n 1)"
  printf '%s\n' "${lib}" > "${SMOPS_SITE}/jupyter_smops_lcc.pth"
  mkdir -p "${SMOPS_DATA}/share/jupyter/labextensions" "${SMOPS_DATA}/etc/jupyter/jupyter_server_config.d"
  ln -sfn "${SMOPS_PREFIX}/share/jupyter/labextensions/${SMOPS_LAB_EXTENSION}" \
    "${SMOPS_DATA}/share/jupyter/labextensions/${SMOPS_LAB_EXTENSION}"
  cp "${SMOPS_PREFIX}/etc/jupyter/jupyter_server_config.d/${SMOPS_PACKAGE}.json" \
    "${SMOPS_DATA}/etc/jupyter/jupyter_server_config.d/"
  if [ ! -e "${SMOPS_BIN}/jupyter-smops" ] || [ -L "${SMOPS_BIN}/jupyter-smops" ]; then
    ln -sfn "${SMOPS_PREFIX}/bin/jupyter-smops" "${SMOPS_BIN}/jupyter-smops"
  fi
}

if [ "${1:-}" = link ]; then link; exit 0; fi

# One install at a time: a start while a previous install still runs leaves it to finish.
exec 9>"${SMOPS_LCC_DIR}/install.lock"
if command -v flock >/dev/null 2>&1 && ! flock -n 9; then
  log install "another install is running; leaving it to finish"
  exit 0
fi
if [ ! -f "${SMOPS_PREFIX}/.installed" ]; then
  log install "installing ${SMOPS_PACKAGE} ${SMOPS_VERSION} into ${SMOPS_PREFIX}"
  tmp="$(mktemp -d)"
  target="${SMOPS_PACKAGE}==${SMOPS_VERSION}"
  if [ -n "${SMOPS_WHEEL}" ]; then
    target="${tmp}/${SMOPS_WHEEL##*/}"
    if command -v aws >/dev/null 2>&1; then
      aws s3 cp --only-show-errors "${SMOPS_WHEEL}" "${target}"
    else
      "${SMOPS_PY}" -c 'import sys, boto3; b, _, k = sys.argv[1][5:].partition("/"); boto3.client("s3").download_file(b, k, sys.argv[2])' "${SMOPS_WHEEL}" "${target}"
    fi
  fi
  # The image's own versions as constraints: pip may add packages, never replace one.
  "${SMOPS_PY}" -m pip list --format=freeze --disable-pip-version-check > "${tmp}/image.txt"
  rm -rf "${SMOPS_PREFIX}.partial"
  "${SMOPS_PY}" -m pip install --no-input --disable-pip-version-check --quiet --no-warn-script-location \
    --prefix "${SMOPS_PREFIX}.partial" -c "${tmp}/image.txt" "${target}"
  rm -rf "${tmp}" "${SMOPS_PREFIX}"
  mv "${SMOPS_PREFIX}.partial" "${SMOPS_PREFIX}"
  touch "${SMOPS_PREFIX}/.installed"
  find "${SMOPS_LCC_DIR}/installs" -mindepth 1 -maxdepth 1 ! -path "${SMOPS_PREFIX}" -exec rm -rf {} +
  link
  # A server started before this install has not loaded the extension: restart one that runs.
  if [ -n "$(jupyter server list --json 2>/dev/null || true)" ]; then
    if command -v restart-jupyter-server >/dev/null 2>&1; then
      log install "restarting the running Jupyter server to load the extension"
      restart-jupyter-server
    else
      log install "the Jupyter server is running: stop and start the JupyterLab space to load the extension"
    fi
  fi
fi
log install "done"
'''

FOREGROUND = r'''#!/bin/bash
# jupyter-smops @@VERSION@@: on-start lifecycle configuration for SageMaker Studio JupyterLab.
# Generated by `jupyter smops lifecycle-config print`; safe to run again.
# Logs: Studio sends this script's output to CloudWatch Logs, log group /aws/sagemaker/studio,
# stream <domain-id>/<space-name>/JupyterLab/default/LifecycleConfigOnStart; these lines and the
# background install's also go to ~/.smops/lcc/on-start.log.
# It installs under ~/.smops/lcc (persistent) and links; it never changes the image's packages.
set -euo pipefail

SMOPS_PACKAGE=@@PACKAGE@@
SMOPS_LAB_EXTENSION=@@LAB@@
SMOPS_VERSION=@@VERSION_Q@@
SMOPS_WHEEL=@@WHEEL_Q@@
SMOPS_LCC_DIR="${HOME}/.smops/lcc"
SMOPS_LOG="${SMOPS_LCC_DIR}/on-start.log"
mkdir -p "${SMOPS_LCC_DIR}/installs"
log() { printf '%s jupyter-smops: %s\n' "$(date -u '+%Y-%m-%dT%H:%M:%SZ')" "$*" | tee -a "${SMOPS_LOG}"; }
log "on-start: ${SMOPS_PACKAGE} ${SMOPS_VERSION}${SMOPS_WHEEL:+ from ${SMOPS_WHEEL}}"

# SageMaker Distribution runs Jupyter from /opt/conda: use its Python and jupyter, not another one.
if [ -d /opt/conda/bin ] && [[ ":${PATH}:" != *":/opt/conda/bin:"* ]]; then
  PATH="/opt/conda/bin:${PATH}"
  export PATH
fi
SMOPS_PY="$(command -v python3)"
SMOPS_BIN="$(dirname "${SMOPS_PY}")"
SMOPS_SITE="$("${SMOPS_PY}" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
SMOPS_DATA="$("${SMOPS_PY}" -c 'import sys; print(sys.prefix)')"
# The image, by its installed distributions: another image gets its own install.
image="$(find "${SMOPS_SITE}" -maxdepth 1 -name '*.dist-info' -printf '%f\n' | sort | sha256sum | cut -c1-12)"
SMOPS_PREFIX="${SMOPS_LCC_DIR}/installs/${SMOPS_VERSION}-${image}"
export SMOPS_PACKAGE SMOPS_LAB_EXTENSION SMOPS_VERSION SMOPS_WHEEL SMOPS_LCC_DIR SMOPS_PY SMOPS_BIN SMOPS_SITE \
  SMOPS_DATA SMOPS_PREFIX

# 1. %smops in every IPython kernel (a small file: done in the foreground).
startup_dir="${HOME}/.ipython/profile_default/startup"
mkdir -p "${startup_dir}"
cat > "${startup_dir}/50-jupyter-smops.py" <<'SMOPS_PY'
@@STARTUP@@SMOPS_PY
log "IPython startup file written: ${startup_dir}/50-jupyter-smops.py"

# 2. Installed before for this version and image: link it now (no network, no restart).
#    Otherwise install in the background: pip may take minutes and an LCC must end within 5.
worker="${SMOPS_LCC_DIR}/install.sh"
cat > "${worker}" <<'SMOPS_WORKER'
@@WORKER@@SMOPS_WORKER
if [ -f "${SMOPS_PREFIX}/.installed" ]; then
  bash "${worker}" link
  log "${SMOPS_PACKAGE} ${SMOPS_VERSION} is already installed for this image (${SMOPS_PREFIX}): linked"
else
  nohup bash "${worker}" install >>"${SMOPS_LOG}" 2>&1 </dev/null &
  log "installing in the background (pid $!); follow it in ${SMOPS_LOG}"
fi
'''


def check_version(version: str) -> str:
    """A version pin pip accepts as ``==VERSION``."""
    if not isinstance(version, str) or not _VERSION.match(version):
        raise BadRequest(f"Invalid version {version!r}: give a release such as 0.1.0.")
    return version


def parse_wheel(url: str) -> tuple[str, str]:
    """``s3://bucket/path/jupyter_smops-V-py3-none-any.whl`` -> (url, version V)."""
    match = _WHEEL.match(url or "")
    if not match:
        raise BadRequest(f"Invalid wheel location {url!r}: give s3://BUCKET/KEY/jupyter_smops-VERSION-py3-none-any.whl "
                         "(build it with `python -m build --wheel` and upload it with `aws s3 cp`).")
    return url, match.group(4)


def render_script(version: Optional[str] = None, wheel: Optional[str] = None, append: Optional[str] = None) -> str:
    """The on-start script pinning ``version`` (default: this package's), from PyPI or ``wheel``.

    ``append`` is an administrator's own shell text, run after ours (it counts in the size limit).
    """
    if wheel:
        wheel, wheel_version = parse_wheel(wheel)
        if version and version != wheel_version:
            raise BadRequest(f"--version {version} does not match the wheel's version {wheel_version}: drop --version.")
        version = wheel_version
    if not version:
        from ..version import __version__ as version
    check_version(version)
    text = FOREGROUND
    for key, value in (("@@STARTUP@@", STARTUP_FILE), ("@@WORKER@@", WORKER),
                       ("@@PACKAGE@@", shlex.quote(PACKAGE)), ("@@LAB@@", shlex.quote(LAB_EXTENSION)),
                       ("@@VERSION_Q@@", shlex.quote(version)), ("@@WHEEL_Q@@", shlex.quote(wheel or "")),
                       ("@@VERSION@@", version)):
        text = text.replace(key, value)
    if append:
        text += "\n# --- appended by the administrator ---\n" + append.rstrip("\n") + "\n"
    return text


def encode(script: str) -> str:
    """The base64 ``StudioLifecycleConfigContent``; refuses a script over SageMaker's limit."""
    content = base64.b64encode(script.encode("utf-8")).decode("ascii")
    if len(content) > MAX_CONTENT:
        over = len(content) - MAX_CONTENT
        raise PayloadTooLarge(
            f"The lifecycle configuration is {len(content):,} characters in base64, {over:,} over SageMaker's "
            f"{MAX_CONTENT:,} limit. Shorten the appended script by at least {over * 3 // 4 + 1:,} bytes, or move "
            f"it to a file in S3 that the script downloads and runs.", details={"size": len(content), "over": over})
    return content


def default_name(version: Optional[str] = None) -> str:
    """``jupyter-smops-0-1-0``: LCCs cannot be changed, so each version gets its own name."""
    if not version:
        from ..version import __version__ as version
    return re.sub(r"[^a-zA-Z0-9]+", "-", f"jupyter-smops-{version}").strip("-")[:63]
