"""Process titles that tell the serving processes apart in ``ps`` and ``top``.

The fork server, every endpoint's supervisor and its workers are forks of one interpreter, so
they would all show the fork server's command line. Each sets its own title: the short name
(``/proc/PID/comm``, what ``ps -e`` and ``top`` show, 15 bytes) and the command line
(``/proc/PID/cmdline``, what ``ps aux`` shows). Linux gets ``prctl(PR_SET_NAME)`` and the command
line rewritten in place (the kernel's argv area, whose address ``/proc/self/stat`` gives), so a
title is cut to the length of the command that started the process. ``setproctitle``, when
installed (it is in no extra), sets both on every platform, and is the only way elsewhere (macOS).
It runs with ``SPT_NOENV``: its extra room on Linux comes from overwriting the environment block,
which would empty ``/proc/PID/environ``, where a home's processes are found by ``SMOPS_HOME``.
"""
from __future__ import annotations

import ctypes
import os
import sys

_PR_SET_NAME = 15


def set_title(short: str, title: str) -> None:
    """Name this process ``short`` (15 bytes at most are kept) with command line ``title``."""
    try:
        os.environ.setdefault("SPT_NOENV", "1")  # read when setproctitle is set up (module docstring)
        import setproctitle

        setproctitle.setproctitle(title)
        setproctitle.setthreadtitle(short[:15])
        return
    except ImportError:
        pass
    if not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_NAME, ctypes.c_char_p(short.encode()[:15]), 0, 0, 0)
        _rewrite_cmdline(title)
    except (OSError, AttributeError, ValueError):
        pass  # a title is a convenience: never fail a process over it


def _rewrite_cmdline(title: str) -> None:
    """Overwrite the argv strings the kernel shows as /proc/self/cmdline (CPython copied them at
    startup and never reads them again). The title is cut to the area's size."""
    with open("/proc/self/stat") as fh:
        fields = fh.read().rsplit(")", 1)[1].split()
    start, end = int(fields[45]), int(fields[46])  # arg_start, arg_end (fields 48, 49)
    size = end - start
    if size <= 1:
        return
    data = title.encode("utf-8", "replace")[:size - 1]
    ctypes.memmove(start, data + b"\0" * (size - len(data)), size)
