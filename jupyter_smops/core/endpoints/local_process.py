"""A local endpoint's process and model folder, seen from the processes that manage it.

``LocalEndpoints`` (``local.py``) keeps the state files; this module unpacks the model where the
endpoint process reads it, tells whether a recorded process still runs, pings it, and stops it.
"""
from __future__ import annotations

import contextlib
import http.client
import os
import signal
import time
from pathlib import Path
from typing import Optional

from ..errors import InvalidArtifact
from ..files import private_dir
from ..procs import start_time


def alive(pid: Optional[int], start: Optional[str]) -> bool:
    """True while ``pid`` runs and is the process recorded with ``start`` (not a reused pid)."""
    if not pid:
        return False
    now = start_time(pid)
    return now is not None and (start in (None, "?") or now == "?" or now == start)


def extract(tarball: Path, dest: Path, limits=None) -> None:
    """Unpack as SageMaker does into /opt/ml/model, with the registry's own safe extraction
    (no absolute paths, ``..``, links or devices; the archive limits of the settings)."""
    from ..packaging import safe_extract

    private_dir(dest)
    try:
        safe_extract(tarball, dest, limits)
    except OSError as exc:
        raise InvalidArtifact(f"Cannot unpack {tarball.name}: {exc}. Rebuild it with %smops package.") from None


def note_requirements(model_dir: Path, log: Path) -> None:
    """A local endpoint serves with this environment's packages and installs nothing: when they do
    not satisfy code/requirements.txt, the endpoint's log says so first (the deploy plan did too)."""
    from ..packaging.requirements import environment_note

    try:
        text = (model_dir / "code" / "requirements.txt").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return
    note = environment_note(text)
    if note:
        fd = os.open(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)  # as the endpoint process opens it
        with os.fdopen(fd, "a", encoding="utf-8") as fh:
            fh.write(f"jupyter_smops: warning: {note}\n")


def ping(url: str) -> bool:
    """True when the endpoint at ``url`` answers ``GET /ping`` with 200."""
    try:
        conn = http.client.HTTPConnection(url.split("//", 1)[1], timeout=2)
        conn.request("GET", "/ping")
        ok = conn.getresponse().status == 200
        conn.close()
        return ok
    except OSError:
        return False


def terminate(pid: Optional[int], start: Optional[str], grace: float) -> None:
    """SIGTERM the endpoint's process group, then SIGKILL it if it outlives ``grace``."""
    if not pid or not alive(pid, start):
        return
    for sig in (signal.SIGTERM, signal.SIGKILL):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, sig)  # the supervisor leads its own session: this reaches the workers too
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, sig)
        deadline = time.monotonic() + (grace if sig == signal.SIGTERM else 5.0)
        while time.monotonic() < deadline:
            if not alive(pid, start):
                return
            time.sleep(0.01)
