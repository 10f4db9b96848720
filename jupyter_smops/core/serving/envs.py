"""Per-endpoint environments for ``code/requirements.txt``, cached by the file's hash.

The environment is layered on the serving interpreter's: a venv (no pip of its own) whose
``site-packages`` holds a ``.pth`` naming the current ``site-packages`` folders, so pip sees what
is already installed and adds only what is missing. The endpoint process puts that venv's
``site-packages`` first on ``sys.path``. Built in a temporary folder and renamed into place, so a
half-built environment is never used; a lock keeps two endpoints from building the same one.
"""
from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import site
import subprocess
import sys
import sysconfig
import uuid
from pathlib import Path
from typing import Callable

PIP_TIMEOUT = 900.0


class EnvironmentError_(Exception):
    """pip could not build the environment; the message carries pip's reason."""


def env_key(requirements: Path) -> str:
    """The cache key: the file's bytes and the interpreter they are installed for."""
    digest = hashlib.sha256(requirements.read_bytes())
    digest.update(f"{sys.executable}|{sys.version}".encode())
    return digest.hexdigest()[:24]


def site_packages(env_dir: Path) -> Path:
    """The venv's site-packages folder."""
    rel = Path(sysconfig.get_path("purelib")).relative_to(sysconfig.get_path("data"))
    return env_dir / rel


def prepare(requirements: Path, cache_root: Path, log: Callable[[str], None]) -> Path:
    """Build (or reuse) the environment for ``requirements``; returns its site-packages."""
    key = env_key(requirements)
    env_dir = cache_root / key
    if (env_dir / ".complete").exists():
        log(f"requirements.txt: reusing environment {env_dir}")
        return site_packages(env_dir)
    cache_root.mkdir(parents=True, exist_ok=True)
    with open(cache_root / f".{key}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if (env_dir / ".complete").exists():
            return site_packages(env_dir)
        tmp = cache_root / f".{key}.tmp-{uuid.uuid4().hex[:8]}"
        try:
            _build(requirements, tmp, log)
            (tmp / ".complete").write_text(requirements.read_text())
            shutil.rmtree(env_dir, ignore_errors=True)
            os.rename(tmp, env_dir)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    # the venv's scripts name its path; site-packages does not, so the rename is safe for imports
    return site_packages(env_dir)


def _build(requirements: Path, env_dir: Path, log: Callable[[str], None]) -> None:
    log(f"requirements.txt: installing into {env_dir.name} ...")
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(env_dir)], check=True,
                   capture_output=True, timeout=120)
    target = site_packages(env_dir)
    target.mkdir(parents=True, exist_ok=True)
    base = [p for p in site.getsitepackages() + [site.getusersitepackages()] if os.path.isdir(p)]
    base += [p for p in sys.path if p.endswith("site-packages") and os.path.isdir(p) and p not in base]
    (target / "_smops_base.pth").write_text("".join(f"{p}\n" for p in base))
    python = env_dir / "bin" / "python"
    cmd = [sys.executable, "-m", "pip", "--python", str(python), "install", "--disable-pip-version-check",
           "--no-input", "--progress-bar", "off", "-r", str(requirements)]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=PIP_TIMEOUT,
                              cwd=str(requirements.parent))
    except subprocess.TimeoutExpired:
        raise EnvironmentError_(f"pip install -r requirements.txt took over {PIP_TIMEOUT:.0f} s") from None
    for line in (proc.stdout + proc.stderr).splitlines():
        log(f"pip: {line}")
    if proc.returncode != 0:
        errors = [ln for ln in proc.stderr.splitlines() if ln.startswith("ERROR")] or proc.stderr.splitlines()[-5:]
        raise EnvironmentError_("pip could not install code/requirements.txt: " + " ".join(errors).strip()
                                + " (check the package names and versions, and that PyPI or your "
                                  "index is reachable)")
