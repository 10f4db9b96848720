"""Endpoint logs: ``--since`` windows and following a local endpoint's log file."""
from __future__ import annotations

import json
import threading
import time
from datetime import datetime, timezone

import pytest

from jupyter_smops.core.config import SmopsConfig
from jupyter_smops.core.endpoints import logtime
from jupyter_smops.core.errors import BadRequest, NotFound

NOW = datetime(2025, 6, 1, 12, 0, 0, tzinfo=timezone.utc).timestamp()


@pytest.mark.parametrize("text, expected", [
    ("30s", NOW - 30), ("10m", NOW - 600), ("2h", NOW - 7200), ("1d", NOW - 86400), ("1.5h", NOW - 5400),
    ("2025-06-01T11:00:00Z", NOW - 3600), ("2025-06-01T11:00:00", NOW - 3600),
    ("2025-06-01T13:00:00+02:00", NOW - 3600), (None, None), ("", None),
])
def test_since_reads_durations_and_iso_times(text, expected):
    assert logtime.parse_since(text, now=NOW) == expected


@pytest.mark.parametrize("text", ["yesterday", "10 parsecs", "-5m", "2025-13-01"])
def test_since_refuses_what_it_cannot_read_and_says_what_works(text):
    with pytest.raises(BadRequest, match="30s, 10m, 2h, 1d"):
        logtime.parse_since(text, now=NOW)


LOG = """2025-06-01T11:00:00Z [smops] starting endpoint ep (iris:1), pid 1
2025-06-01T11:00:01.250Z [w7] POST /invocations 500 3.000ms 10B->0B
Traceback (most recent call last):
ValueError: bad input
2025-06-01T11:55:00Z [smops] InService
print from the model
2025-06-01T11:59:30.500Z [w7] POST /invocations 200 1.000ms 10B->20B
"""


def test_a_window_keeps_stamped_lines_and_what_follows_them():
    lines = LOG.splitlines()
    assert list(logtime.lines_since(lines, None)) == lines
    assert list(logtime.lines_since(lines, NOW - 600)) == lines[4:]
    assert list(logtime.lines_since(lines, NOW - 3599)) == lines[1:]  # the traceback goes with its line
    assert list(logtime.lines_since(lines, NOW)) == []


@pytest.fixture
def local_log(smops_home):
    """A local endpoint's state folder with a log, without a process (logs read only the file)."""
    from jupyter_smops.core.endpoints.local import LocalEndpoints

    endpoints = LocalEndpoints(SmopsConfig())
    folder = endpoints.root / "ep"
    folder.mkdir(parents=True)
    (folder / "state.json").write_text(json.dumps({"name": "ep", "status": "InService"}))
    (folder / "endpoint.log").write_text(LOG)
    return endpoints, folder


def test_local_logs_tail_and_since(local_log):
    endpoints, _ = local_log
    assert endpoints.logs("ep", tail=2).splitlines() == LOG.splitlines()[-2:]
    assert endpoints.logs("ep", tail=100, since=NOW - 600).splitlines() == LOG.splitlines()[4:]
    assert endpoints.logs("ep", tail=1, since=NOW - 600).splitlines() == LOG.splitlines()[-1:]
    assert endpoints.logs("ep", tail=100, since=NOW + 1) == ""
    with pytest.raises(NotFound, match="No local endpoint named 'nosuch'"):
        endpoints.logs("nosuch")


def test_following_a_local_log_yields_new_lines_until_deleted_or_until(local_log):
    endpoints, folder = local_log

    def write_later():
        time.sleep(0.3)
        with open(folder / "endpoint.log", "a") as fh:
            fh.write("2025-06-01T12:00:01Z [smops] one\npartial ")
            fh.flush()
            time.sleep(0.3)
            fh.write("line\n")
        time.sleep(0.3)
        (folder / "state.json").unlink()  # deleted: following ends by itself

    writer = threading.Thread(target=write_later)
    writer.start()
    start = time.monotonic()
    lines = list(endpoints.follow_logs("ep", poll=0.05))
    writer.join()
    assert lines == ["2025-06-01T12:00:01Z [smops] one", "partial line"]  # only new, whole lines
    assert time.monotonic() - start < 5

    (folder / "state.json").write_text(json.dumps({"name": "ep", "status": "InService"}))
    start = time.monotonic()
    assert list(endpoints.follow_logs("ep", until=time.time() + 0.4, poll=0.05)) == []
    assert 0.3 < time.monotonic() - start < 3
    # with since: the window first, then new lines
    window = list(endpoints.follow_logs("ep", since=NOW - 600, until=time.time() + 0.2, poll=0.05))
    assert window == LOG.splitlines()[4:] + ["2025-06-01T12:00:01Z [smops] one", "partial line"]


def test_fakes_and_other_backends_say_they_cannot_follow(smops_home):
    from smops_testing.fakes import FakeEndpoints

    with pytest.raises(BadRequest, match="Following the log is not available"):
        next(iter(FakeEndpoints(SmopsConfig()).follow_logs("x")))
