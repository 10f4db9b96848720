"""Durations as users type them (``90s``, ``30m``, ``2h``, ``1d``, ``1h30m``) and endpoint expiry.

One parser for every face: ``deploy --expires-in``, ``extend --by``, the settings
``default_expires_in``/``max_expires_in`` and the REST body's ``expires_in`` all read the same text.
"""
from __future__ import annotations

import re
import time
from datetime import datetime, timezone
from typing import Optional, Union

from .errors import BadRequest

_PART = re.compile(r"(\d+(?:\.\d+)?)\s*(seconds?|secs?|s|minutes?|mins?|m|hours?|hrs?|h|days?|d)", re.I)
_UNIT = {"s": 1, "m": 60, "h": 3600, "d": 86400}
NO_EXPIRY_WORDS = ("never", "none", "off", "no")


def parse_duration(text: Union[str, int, float, None], *, what: str = "--expires-in") -> Optional[float]:
    """``"90s"``, ``"30m"``, ``"2h"``, ``"1d"``, ``"1h30m"`` or a number of seconds -> seconds;
    None for None or empty text. BadRequest (naming ``what``) for anything else or for zero."""
    if text is None:
        return None
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        seconds = float(text)
    else:
        raw = str(text).strip().lower().replace(" ", "")
        if not raw:
            return None
        if re.fullmatch(r"\d+(\.\d+)?", raw):
            seconds = float(raw)
        else:
            parts = _PART.findall(raw)
            if not parts or "".join(f"{n}{u}" for n, u in parts) != raw:
                raise BadRequest(f"{what} {text!r} is not a duration. Use e.g. 90s, 30m, 2h, 1d or 1h30m.")
            seconds = sum(float(n) * _UNIT[u[0]] for n, u in parts)
    if seconds <= 0:
        raise BadRequest(f"{what} must be longer than zero, not {text!r}.")
    return seconds


def human(seconds: Optional[float]) -> str:
    """``45 s``, ``12 min``, ``3 h 5 min``, ``2 d 4 h`` (an empty string for None)."""
    if seconds is None:
        return ""
    s = max(0, int(round(seconds)))
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} min"
    if s < 86400:
        return f"{s // 3600} h {s % 3600 // 60} min" if s % 3600 >= 60 else f"{s // 3600} h"
    return f"{s // 86400} d {s % 86400 // 3600} h" if s % 86400 >= 3600 else f"{s // 86400} d"


def iso_utc(epoch: float) -> str:
    """Epoch seconds as ``2025-06-01T12:00:00Z`` (whole seconds: what schedules and tags hold)."""
    return datetime.fromtimestamp(int(epoch), timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_iso(text: Optional[str]) -> Optional[float]:
    """An ISO UTC time (``...Z`` or with an offset) -> epoch seconds; None when absent or unreadable."""
    if not text:
        return None
    try:
        when = datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    except ValueError:
        return None
    return (when if when.tzinfo else when.replace(tzinfo=timezone.utc)).timestamp()


def seconds_left(expires_at: Optional[str], now: Optional[float] = None) -> Optional[int]:
    """Whole seconds until ``expires_at`` (0 once past); None without an expiry."""
    at = parse_iso(expires_at)
    if at is None:
        return None
    return max(0, int(at - (time.time() if now is None else now)))
