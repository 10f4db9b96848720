"""Downloads a deploy keeps under ``$SMOPS_HOME/cache`` while it unpacks them, and sweeping the
ones a killed deploy left behind.

A deploy fetches the artifact into a fresh folder there and removes it when the backend has
unpacked (or uploaded) it; a process killed in between (the Jupyter server, a kernel) cannot, and
the artifact (hundreds of MB) would stay forever. Each folder therefore carries ``owner.json``
(pid and the kernel's start time of that pid) and is stale once that process is gone, or, without
a readable marker, once it is older than ``UNMARKED_STALE_SECONDS``. The next deploy sweeps stale
folders, and cleanup lists (dry run) or removes them.
"""
from __future__ import annotations

import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Optional

from .files import private_dir, read_json, write_json
from .procs import start_time as _start_time

MARKER = "owner.json"
# A folder whose marker is missing or unreadable (written by an older release, or the deploy was
# killed between creating it and writing the marker) is left this long: no live deploy is that slow
# to write a 100-byte file.
UNMARKED_STALE_SECONDS = 600.0


def new_fetch_folder(cache: Path, prefix: str, home: Optional[Path] = None) -> Path:
    """A private folder under ``cache`` marked as this process's (see the module docstring)."""
    private_dir(cache, home=home)
    folder = Path(tempfile.mkdtemp(prefix=prefix, dir=cache))
    write_json(folder / MARKER, {"pid": os.getpid(), "start": _start_time(os.getpid())})
    return folder


def stale_folders(cache: Path, *, now: Optional[float] = None) -> list[Path]:
    """Folders under ``cache`` whose deploy is gone (none of a live process)."""
    now = time.time() if now is None else now
    try:
        entries = sorted(cache.iterdir())
    except FileNotFoundError:
        return []
    stale = []
    for folder in entries:
        if not folder.is_dir():
            continue
        marker = read_json(folder / MARKER)
        if isinstance(marker, dict) and isinstance(marker.get("pid"), int):
            start = _start_time(marker["pid"])
            if start is None or (marker.get("start") not in (None, "?") and start not in ("?", marker["start"])):
                stale.append(folder)
            continue
        try:
            if now - folder.stat().st_mtime > UNMARKED_STALE_SECONDS:
                stale.append(folder)
        except FileNotFoundError:
            pass
    return stale


def describe(folder: Path) -> str:
    """``cache/<folder> (<size>)`` for cleanup's listing."""
    size = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())
    return f"cache/{folder.name} ({size / 1e6:.1f} MB)"


def sweep(cache: Path, *, dry_run: bool = False) -> list[str]:
    """Remove the stale folders (list them only on a ``dry_run``); returns their descriptions."""
    out = []
    for folder in stale_folders(cache):
        try:
            out.append(describe(folder))
        except FileNotFoundError:
            continue  # a concurrent sweep removed it
        if not dry_run:
            shutil.rmtree(folder, ignore_errors=True)
    return out
