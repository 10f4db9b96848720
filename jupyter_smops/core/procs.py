"""Which process is which, from the kernel's own table (ground floor, standard library only).

A pid alone is not an identity: pids are reused. Leases, cache markers and endpoint states
record a pid with its start time, and a record whose pid now has another start time (or none)
belongs to a process that is gone.
"""
from __future__ import annotations

import os
from typing import Optional


def start_time(pid: int) -> Optional[str]:
    """The kernel's start time of ``pid`` (field 22 of /proc/PID/stat); None when the process is
    gone or a zombie; "?" without procfs (macOS) when the pid exists, which is all that can be
    checked there."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
        return None if fields[0] in ("Z", "X") else fields[19]
    except OSError:
        if os.path.isdir("/proc"):
            return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        pass
    return "?"
