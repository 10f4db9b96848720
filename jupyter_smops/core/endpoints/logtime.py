"""Time windows of endpoint logs: ``--since`` parsing and the line stamps both backends write.

Kept apart from the backends so the faces (magics, CLI, REST) and both backends read "10m" or an
ISO time the same way.
"""
from __future__ import annotations

import math
import re
import time
from datetime import datetime, timezone
from typing import Iterable, Iterator, Optional

from ..errors import BadRequest

# Most lines of a local endpoint's log start with the stamp the supervisor and the workers write
# (``2025-06-01T12:00:00Z`` or with milliseconds); CloudWatch lines are formatted with one too.
_STAMP = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?)Z\b")
_AGO = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|sec|secs|m|min|mins|h|hr|hrs|d|day|days)\s*$", re.I)
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}

# How many lines a ``since`` window reads at most when no tail is given.
MAX_LOG_LINES = 10000


def parse_since(text: Optional[str], *, now: Optional[float] = None) -> Optional[float]:
    """``"10m"``, ``"2h"``, ``"30s"``, ``"1d"`` ago, or an ISO 8601 time (UTC unless it says
    otherwise), as epoch seconds; None for None or empty. BadRequest for anything else."""
    if text is None or not str(text).strip():
        return None
    text = str(text).strip()
    match = _AGO.match(text)
    if match:
        seconds = float(match.group(1)) * _UNIT_SECONDS[match.group(2)[0].lower()]
        return (time.time() if now is None else now) - seconds
    try:
        when = datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith(("Z", "z")) else text)
    except ValueError:
        raise BadRequest(f"--since {text!r} is not a duration or a time. Use e.g. 30s, 10m, 2h, 1d, or an ISO "
                         f"time such as 2025-06-01T12:00:00Z.") from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return when.timestamp()


def line_time(line: str) -> Optional[float]:
    """The epoch seconds a log line is stamped with, or None for an unstamped line (a print, a
    traceback's continuation)."""
    match = _STAMP.match(line)
    if not match:
        return None
    return datetime.fromisoformat(match.group(1)).replace(tzinfo=timezone.utc).timestamp()


def lines_since(lines: Iterable[str], since: Optional[float]) -> Iterator[str]:
    """The lines stamped at or after ``since``, with the unstamped lines that follow a kept one
    (a traceback belongs to the stamped line before it). All lines when ``since`` is None."""
    keep = since is None
    for line in lines:
        stamp = line_time(line)
        if stamp is not None and since is not None:
            keep = stamp >= since - 0.001  # stamps are rounded to the millisecond
        if keep:
            yield line


def iso(seconds: float) -> str:
    """Epoch seconds as the ISO UTC stamp the logs use, to the millisecond."""
    return datetime.fromtimestamp(seconds, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


# -- following a log through a REST route: a cursor the client passes back as ``since`` --------
# ``<the last stamp read>~<lines at or after it already delivered>``: stamps are to the millisecond
# and several lines can share one, so the stamp alone would repeat or lose lines.
_CURSOR = re.compile(r"^(?P<stamp>.+)~(?P<skip>\d{1,6})$")


def parse_cursor(text: Optional[str], *, now: Optional[float] = None) -> tuple[Optional[float], int]:
    """``since`` as a REST query gives it: what ``parse_since`` reads, or a ``next_since`` cursor
    of an earlier answer; (epoch seconds or None, lines at or after them to skip)."""
    match = _CURSOR.match(str(text).strip()) if text else None
    if match:
        return parse_since(match.group("stamp"), now=now), int(match.group("skip"))
    return parse_since(text, now=now), 0


def page(text: str, since: Optional[float], skip: int, tail: int) -> tuple[str, str, bool]:
    """One answer of a followed log: (the new lines, at most the last ``tail`` of them; the cursor
    that fetches only what comes after them; whether new lines were left out by ``tail``).

    ``text`` is the backend's log: read with ``since`` (the whole window) when a cursor or time was
    given, else its last lines. A log only grows, so the lines at or after the cursor's stamp of the
    next read begin with the ``skip`` lines this one had. Both are counted in whole milliseconds
    here: ``lines_since``'s allowance of one (a local read) would count the millisecond before the
    stamp too, which CloudWatch's ``startTime`` (the SageMaker backend) does not give back."""
    lines = text.splitlines()
    fresh = _at_or_after(lines, _ms(since))[skip:] if since is not None else lines
    last = next((m for m in (_STAMP.match(line) for line in reversed(lines)) if m), None)
    if last is not None:
        stamp = line_time(last.group(0))
        cursor = f"{last.group(1)}Z~{len(_at_or_after(lines, _ms(stamp)))}"
    elif since is not None:
        cursor = f"{_exact_iso(since)}~{skip}"
    else:
        cursor = f"{_exact_iso(0)}~0"  # nothing stamped yet: everything stamped from now on is new
    return "\n".join(fresh[-tail:]) if tail > 0 else "", cursor, len(fresh) > tail


def _ms(seconds: float) -> int:
    """Epoch seconds as whole milliseconds: a stamp read from a line comes back exact (as a float,
    12:00:00.112 may sit just below .112), an ISO time's fraction of a millisecond is dropped."""
    return math.floor(seconds * 1000 + 0.01)


def _at_or_after(lines: list[str], ms: int) -> list[str]:
    """``lines_since`` to the millisecond, without its allowance: the lines stamped at or after
    ``ms`` with the unstamped lines that follow a kept one."""
    kept, keep = [], False
    for line in lines:
        stamp = line_time(line)
        if stamp is not None:
            keep = _ms(stamp) >= ms
        if keep:
            kept.append(line)
    return kept


def _exact_iso(seconds: float) -> str:
    """``iso`` rounded to the nearest millisecond, so a stamp read from a line comes back the same
    (``iso`` truncates, and 12:00:00.123 as a float may sit just below .123)."""
    ms = round(seconds * 1000)
    return datetime.fromtimestamp(ms // 1000, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S") + f".{ms % 1000:03d}Z"
