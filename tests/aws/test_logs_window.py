"""SageMaker endpoint logs from CloudWatch (moto): a --since window and following new events,
with only the calls the admin policy grants (DescribeLogStreams, GetLogEvents)."""
from __future__ import annotations

import threading
import time

import pytest

from jupyter_smops.core.endpoints.sagemaker import SageMakerEndpoints

GROUP = "/aws/sagemaker/Endpoints/iris-ep"


@pytest.fixture
def eps(config):
    return SageMakerEndpoints(config)


def _put(logs, stream, events):
    logs.put_log_events(logGroupName=GROUP, logStreamName=stream,
                        logEvents=[{"timestamp": ts, "message": msg} for ts, msg in events])


def test_since_window_across_streams(eps, raw):
    logs = raw["logs"]
    logs.create_log_group(logGroupName=GROUP)
    now = int(time.time() * 1000)
    logs.create_log_stream(logGroupName=GROUP, logStreamName="AllTraffic/i-aaa")
    logs.create_log_stream(logGroupName=GROUP, logStreamName="AllTraffic/i-bbb")
    _put(logs, "AllTraffic/i-aaa", [(now - 3_600_000, "old start"), (now - 60_000, "recent a")])
    _put(logs, "AllTraffic/i-bbb", [(now - 30_000, "recent b")])
    lines = eps.logs("iris-ep", tail=100, since=time.time() - 600).splitlines()
    assert [line.split("] ", 1)[1] for line in lines] == ["recent a", "recent b"]
    assert "[i-bbb]" in lines[-1]
    assert eps.logs("iris-ep", tail=1, since=time.time() - 600).endswith("recent b")
    assert eps.logs("iris-ep", tail=100, since=time.time() + 60) == ""
    assert "old start" in eps.logs("iris-ep", tail=100)


def test_following_yields_new_events_as_they_arrive_then_stops(eps, raw, monkeypatch):
    logs = raw["logs"]
    logs.create_log_group(logGroupName=GROUP)
    logs.create_log_stream(logGroupName=GROUP, logStreamName="AllTraffic/i-aaa")
    _put(logs, "AllTraffic/i-aaa", [(int(time.time() * 1000) - 60_000, "before following")])
    monkeypatch.setattr(eps, "exists", lambda name: True)

    def later():
        time.sleep(0.5)
        _put(logs, "AllTraffic/i-aaa", [(int(time.time() * 1000), "new line 1")])
        logs.create_log_stream(logGroupName=GROUP, logStreamName="AllTraffic/i-bbb")  # an instance starts
        _put(logs, "AllTraffic/i-bbb", [(int(time.time() * 1000), "new line 2")])

    writer = threading.Thread(target=later)
    since = time.time()  # what "from now" means for a follow started here
    writer.start()
    start = time.monotonic()
    lines = list(eps.follow_logs("iris-ep", since=since, until=time.time() + 2.5, poll=0.2))
    writer.join()
    assert [line.split("] ", 1)[1] for line in lines] == ["new line 1", "new line 2"]
    assert time.monotonic() - start < 10
    # with since, the window's events come first; a deleted endpoint ends the follow by itself
    monkeypatch.setattr(eps, "exists", lambda name: False)
    lines = list(eps.follow_logs("iris-ep", since=time.time() - 600, poll=0.1))
    assert [line.split("] ", 1)[1] for line in lines] == ["before following", "new line 1", "new line 2"]
