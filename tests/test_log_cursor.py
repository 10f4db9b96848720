"""Following a log by cursor: each answer's next_since fetches exactly the lines written after it."""
from __future__ import annotations

import pytest

from jupyter_smops.core.endpoints import logtime
from jupyter_smops.core.errors import BadRequest


class GrowingLog:
    """A log that only grows, read the way the backends read one (``tail``, ``since``)."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def write(self, *lines: str) -> None:
        self.lines += lines

    def read(self, tail: int, since):
        kept = self.lines if since is None else list(logtime.lines_since(self.lines, since))
        return "\n".join(kept[-tail:])

    def follow(self, cursor, tail: int = 1000):
        since, skip = logtime.parse_cursor(cursor)
        text = self.read(tail if since is None else logtime.MAX_LOG_LINES, since)
        return logtime.page(text, since, skip, tail)


def test_a_follower_sees_every_line_once_even_when_lines_share_a_stamp():
    log = GrowingLog()
    log.write("2025-06-01T12:00:00.100Z start", "2025-06-01T12:00:00.200Z a")
    shown, cursor, truncated = log.follow(None)
    assert shown.splitlines() == ["2025-06-01T12:00:00.100Z start", "2025-06-01T12:00:00.200Z a"]
    assert cursor == "2025-06-01T12:00:00.200Z~1" and not truncated
    # Two more lines in the same millisecond as the last one read, and a traceback (unstamped).
    log.write("2025-06-01T12:00:00.200Z b", "2025-06-01T12:00:00.200Z c", "Traceback (most recent call last):",
              '  File "x.py"')
    shown, cursor, _ = log.follow(cursor)
    assert shown.splitlines() == ["2025-06-01T12:00:00.200Z b", "2025-06-01T12:00:00.200Z c",
                                  "Traceback (most recent call last):", '  File "x.py"']
    assert cursor == "2025-06-01T12:00:00.200Z~5"
    shown, same, _ = log.follow(cursor)  # nothing new
    assert (shown, same) == ("", cursor)
    log.write("2025-06-01T12:00:01.000Z d")
    shown, cursor, _ = log.follow(cursor)
    assert shown == "2025-06-01T12:00:01.000Z d" and cursor == "2025-06-01T12:00:01.000Z~1"


def test_more_new_lines_than_tail_keeps_the_newest_and_says_so():
    log = GrowingLog()
    log.write("2025-06-01T12:00:00.000Z first")
    _, cursor, _ = log.follow(None)
    log.write(*[f"2025-06-01T12:00:{i:02d}.000Z line {i}" for i in range(1, 11)])
    shown, cursor, truncated = log.follow(cursor, tail=3)
    assert truncated and shown.splitlines()[0].endswith("line 8") and len(shown.splitlines()) == 3
    log.write("2025-06-01T12:00:11.000Z after")
    assert log.follow(cursor, tail=3)[0] == "2025-06-01T12:00:11.000Z after"


def test_an_empty_log_then_its_first_lines():
    log = GrowingLog()
    shown, cursor, _ = log.follow(None)
    assert shown == "" and cursor == "1970-01-01T00:00:00.000Z~0"
    log.write("2025-06-01T12:00:00.001Z hello")
    assert log.follow(cursor)[0] == "2025-06-01T12:00:00.001Z hello"


def test_since_a_time_and_bad_values():
    log = GrowingLog()
    log.write("2025-06-01T12:00:00.000Z old", "2025-06-01T12:05:00.000Z new")
    assert log.follow("2025-06-01T12:01:00Z")[0] == "2025-06-01T12:05:00.000Z new"
    assert logtime.parse_cursor("2025-06-01T12:00:00.123Z~4")[1] == 4
    # A millisecond stamp survives the round trip (a float just below .123 must not print as .122).
    stamp = logtime.line_time("2025-06-01T12:00:00.123Z x")
    assert logtime.page("", stamp, 2, 10)[1] == "2025-06-01T12:00:00.123Z~2"
    for bad in ("yesterday", "2025-06-01T12:00:00Z~x", "~3"):
        with pytest.raises(BadRequest):
            logtime.parse_cursor(bad)


class CloudWatchLog(GrowingLog):
    """A log read as the SageMaker backend reads CloudWatch: ``startTime`` in whole milliseconds,
    so no line of the millisecond before the cursor's stamp comes back."""

    def read(self, tail: int, since):
        if since is None:
            return super().read(tail, since)
        start_ms = int(since * 1000)
        kept = [line for line in self.lines if round(logtime.line_time(line) * 1000) >= start_ms]
        return "\n".join(kept[-tail:])


@pytest.mark.parametrize("log_class", [GrowingLog, CloudWatchLog])
def test_a_line_a_millisecond_before_the_last_one_is_not_counted_in_the_cursor(log_class):
    log = log_class()
    # 12:00:00.111 and .112: the cursor's "lines at or after .112" is one line, not two (as a
    # float, .112 - 0.001 lies below .111 itself).
    log.write("2025-06-01T12:00:00.111Z request", "2025-06-01T12:00:00.112Z response")
    _, cursor, _ = log.follow(None)
    assert cursor == "2025-06-01T12:00:00.112Z~1"
    log.write("2025-06-01T12:00:00.300Z next request")
    assert log.follow(cursor)[0] == "2025-06-01T12:00:00.300Z next request"


def test_a_backends_note_in_place_of_a_log_is_not_repeated_by_each_poll():
    # The SageMaker backend answers a note while the log group does not exist yet, whatever the since.
    note = "No logs yet for iris-ep: SageMaker writes them to CloudWatch once the container starts."
    shown, cursor, _ = logtime.page(note, None, 0, 200)
    assert shown == note and cursor == "1970-01-01T00:00:00.000Z~0"
    since, skip = logtime.parse_cursor(cursor)
    assert logtime.page(note, since, skip, 200)[:2] == ("", cursor)
