"""Reading a local endpoint's log file: the last lines, a time window, and following it.

The endpoint's supervisor and workers append to ``<root>/<name>/endpoint.log`` (stamped lines, see
``logtime``); these read it from any process without holding it open between calls.
"""
from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Callable, Iterator, Optional

from . import logtime


def tail(path: Path, lines: int) -> str:
    """The last ``lines`` lines of ``path`` ("" when it does not exist yet), read from the end so
    a long log costs what the tail costs."""
    try:
        with open(path, "rb") as fh:
            fh.seek(0, os.SEEK_END)
            size = fh.tell()
            block, data = 65536, b""
            while size > 0 and data.count(b"\n") <= lines:
                step = min(block, size)
                size -= step
                fh.seek(size)
                data = fh.read(step) + data
    except FileNotFoundError:
        return ""
    text = data.decode("utf-8", "replace")
    return "\n".join(text.splitlines()[-lines:]) if lines > 0 else ""


def since(path: Path, lines: int, when: Optional[float]) -> str:
    """The last ``lines`` lines of ``path``, of those stamped at or after ``when`` when given
    (unstamped lines go with the line before)."""
    if when is None:
        return tail(path, lines)
    kept = list(logtime.lines_since(tail(path, logtime.MAX_LOG_LINES).splitlines(), when))
    return "\n".join(kept[-lines:]) if lines > 0 else ""


def follow(path: Path, exists: Callable[[], bool], *, since_time: Optional[float] = None,
           until: Optional[float] = None, poll: float = 0.25) -> Iterator[str]:
    """New lines of ``path`` as they are written (after the ``since_time`` window's lines when
    given); ends at ``until`` (epoch seconds) or once ``exists()`` says the endpoint is gone."""
    if since_time is not None:
        yield from since(path, logtime.MAX_LOG_LINES, since_time).splitlines()
    fh = None
    while fh is None:  # the process may not have written its first line yet
        try:
            fh = open(path, "rb")
        except FileNotFoundError:
            if not exists() or (until and time.time() >= until):
                return
            time.sleep(poll)
    with fh:
        fh.seek(0, os.SEEK_END)
        partial = b""
        while True:
            chunk = fh.read(65536)
            if chunk:
                *done, partial = (partial + chunk).split(b"\n")
                for line in done:
                    yield line.decode("utf-8", "replace")
                continue
            if not exists() or (until and time.time() >= until):
                return
            time.sleep(poll)
