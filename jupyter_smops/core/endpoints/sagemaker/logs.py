"""An endpoint's container log, read from CloudWatch Logs.

Only DescribeLogStreams and GetLogEvents are used (GetLogEvents takes ``startTime`` and a forward
token), so reading, ``--since`` and following need no more IAM than the admin policy grants.
"""
from __future__ import annotations

import time
from datetime import datetime, timezone
from typing import Callable, Iterator, Optional

from ...aws import aws_errors
from ...errors import NotFound
from ..logtime import MAX_LOG_LINES


def _group(name: str) -> str:
    return f"/aws/sagemaker/Endpoints/{name}"


def _streams(logs, name: str) -> Optional[list]:
    """The newest streams of the endpoint's group, or None when the group does not exist yet."""
    try:
        with aws_errors(f"reading the log streams of {name}", "logs"):
            return logs.describe_log_streams(logGroupName=_group(name), orderBy="LastEventTime", descending=True,
                                             limit=20).get("logStreams", [])
    except NotFound:
        return None


def tail_logs(logs, name: str, tail: int, since: Optional[float] = None) -> str:
    """Newest ``tail`` events across the streams of ``/aws/sagemaker/Endpoints/<name>`` (of those
    at or after ``since``, epoch seconds, when given)."""
    group = _group(name)
    tail = max(1, min(int(tail), MAX_LOG_LINES))
    streams = _streams(logs, name)
    if streams is None:
        return (f"No logs yet for {name}: SageMaker writes them to CloudWatch ({group}) once the container "
                f"starts, a few minutes after the endpoint is created.")
    start_ms = None if since is None else int(since * 1000)
    events = []
    for stream in streams:
        if start_ms is not None and stream.get("lastEventTimestamp", start_ms) < start_ms:
            continue  # nothing in the window: save the call
        if start_ms is None:
            with aws_errors(f"reading log stream {stream['logStreamName']}", "logs"):
                answer = logs.get_log_events(logGroupName=group, logStreamName=stream["logStreamName"],
                                             limit=tail, startFromHead=False)
            found = answer.get("events", [])
        else:
            found = _Seen(start_ms).new(_forward(logs, group, stream["logStreamName"], {"startTime": start_ms},
                                                 MAX_LOG_LINES)[0])
        short = stream["logStreamName"].split("/")[-1]
        events += [(e["timestamp"], short, e["message"].rstrip("\n")) for e in found]
    events.sort(key=lambda e: e[0])
    lines = [f"{_ts(ts)} [{short}] {msg}" for ts, short, msg in events[-tail:]]
    if lines:
        return "\n".join(lines)
    return f"The log group {group} has no events yet." if since is None else ""


def _forward(logs, group: str, stream: str, start: dict, limit: int) -> tuple[list, Optional[str]]:
    """Events of one stream read forward from ``start`` (startTime or nextToken) until CloudWatch
    gives back the same token (no more events yet); returns them and the token to go on from."""
    found: list = []
    token = start.get("nextToken")
    kwargs = {"logGroupName": group, "logStreamName": stream, "startFromHead": True, **start}
    while len(found) < limit:
        with aws_errors(f"reading log stream {stream}", "logs"):
            answer = logs.get_log_events(**kwargs)
        batch = answer.get("events", [])
        found += batch
        following = answer.get("nextForwardToken")
        if not batch or not following or following == token:
            return found, following or token
        token = following
        kwargs = {"logGroupName": group, "logStreamName": stream, "startFromHead": True, "nextToken": token}
    return found, token


class _Seen:
    """What a reader has returned of one stream. Forward tokens are opaque and, after a startTime
    read, not every implementation resumes exactly after the events returned (moto restarts the
    count); events before ``floor`` or already returned are dropped, so none is shown twice."""

    def __init__(self, floor: int):
        self.floor = floor
        self.last: tuple = (floor, -1)
        self.at_last: set = set()

    def new(self, events: list) -> list:
        fresh = []
        for e in events:
            key = (e["timestamp"], e.get("ingestionTime", 0))
            if e["timestamp"] < self.floor or key < self.last or (key == self.last and e["message"] in self.at_last):
                continue
            if key != self.last:
                self.last, self.at_last = key, set()
            self.at_last.add(e["message"])
            fresh.append(e)
        return fresh


def follow_logs(logs, name: str, *, since: Optional[float], until: Optional[float], poll: float,
                exists: Callable[[], bool]) -> Iterator[str]:
    """New events across the endpoint's streams as they arrive (from ``since``, else from now),
    oldest first per poll; new streams (instances starting) join; ends at ``until`` (epoch
    seconds) or once ``exists()`` is false."""
    group = _group(name)
    start_ms = int((time.time() if since is None else since) * 1000)
    tokens: dict[str, Optional[str]] = {}
    seen: dict[str, _Seen] = {}
    while True:
        events = []
        for stream in _streams(logs, name) or []:
            stream_name = stream["logStreamName"]
            token = tokens.get(stream_name)
            start = {"nextToken": token} if token else {"startTime": start_ms}
            found, tokens[stream_name] = _forward(logs, group, stream_name, start, MAX_LOG_LINES)
            found = seen.setdefault(stream_name, _Seen(start_ms)).new(found)
            short = stream_name.split("/")[-1]
            events += [(e["timestamp"], short, e["message"].rstrip("\n")) for e in found]
        events.sort(key=lambda e: e[0])
        for ts, short, msg in events:
            yield f"{_ts(ts)} [{short}] {msg}"
        if (until and time.time() >= until) or (not events and not exists()):
            return
        time.sleep(poll if until is None else max(0.0, min(poll, until - time.time())))


def _ts(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000.0, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")[:-4] + "Z"
