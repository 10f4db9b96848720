"""Who still needs the fork server of an endpoints folder (``zygote``): leases and live endpoints.

A lease is an empty file ``<root>/.zygote-leases/<pid>-<start time>``: the Jupyter server
extension and a kernel with the magics take one for their lifetime (``hold``). The start time makes
a lease die with its holder even when the pid is reused, so a killed holder never keeps the fork
server (and its ~200 MB) alive. A live local endpoint (``<root>/<name>/state.json`` naming a
running pid) needs it too. The fork server asks ``needed`` every few seconds.
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Optional

from ..procs import start_time as _start_time

_LEASES = ".zygote-leases"


def hold(root: Path, pid: Optional[int] = None) -> Path:
    """Keep the fork server of ``root`` while process ``pid`` (this one) lives: a lease file the
    fork server checks every few seconds (a killed holder's lease dies with it). Starts nothing."""
    pid = pid or os.getpid()
    leases = Path(root) / _LEASES
    leases.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = leases / f"{pid}-{_start_time(pid) or 0}"
    path.touch(mode=0o600)
    return path


def release(root: Path, pid: Optional[int] = None) -> None:
    """Drop the leases of ``pid`` (this process); the fork server exits after its grace if
    nothing else needs it."""
    pid = pid or os.getpid()
    for path in (Path(root) / _LEASES).glob(f"{pid}-*"):
        path.unlink(missing_ok=True)


def needed(root: Path) -> bool:
    """True while a lease holder or a local endpoint of ``root`` is alive."""
    return _live_leases(Path(root)) or _live_endpoints(Path(root))


def _is_alive(pid: int, start: Optional[str]) -> bool:
    now = _start_time(pid)
    return now is not None and (start in (None, "?", "0") or now == "?" or now == start)


def _live_leases(root: Path) -> bool:
    live = False
    for path in (root / _LEASES).glob("*-*"):
        pid, _, start = path.name.partition("-")
        if pid.isdigit() and _is_alive(int(pid), start):
            live = True
        else:
            path.unlink(missing_ok=True)  # its holder is gone (killed, or exited without release)
    return live


def _live_endpoints(root: Path) -> bool:
    for state_path in root.glob("*/state.json"):
        if state_path.parent.name.startswith("."):
            continue
        try:
            state = json.loads(state_path.read_text())
        except (OSError, ValueError):
            continue
        pid = state.get("pid")
        if pid and _is_alive(int(pid), state.get("pid_start")):
            return True
    return False
