"""An endpoint's container log, read from CloudWatch Logs."""
from __future__ import annotations

from datetime import datetime, timezone

from ...aws import aws_errors
from ...errors import NotFound


def tail_logs(logs, name: str, tail: int) -> str:
    """Newest ``tail`` events across the streams of ``/aws/sagemaker/Endpoints/<name>``."""
    group = f"/aws/sagemaker/Endpoints/{name}"
    tail = max(1, min(int(tail), 10000))
    try:
        with aws_errors(f"reading the log streams of {name}", "logs"):
            streams = logs.describe_log_streams(logGroupName=group, orderBy="LastEventTime", descending=True,
                                                limit=20).get("logStreams", [])
    except NotFound:
        return (f"No logs yet for {name}: SageMaker writes them to CloudWatch ({group}) once the container "
                f"starts, a few minutes after the endpoint is created.")
    events = []
    for stream in streams:
        with aws_errors(f"reading log stream {stream['logStreamName']}", "logs"):
            answer = logs.get_log_events(logGroupName=group, logStreamName=stream["logStreamName"],
                                         limit=tail, startFromHead=False)
        short = stream["logStreamName"].split("/")[-1]
        events += [(e["timestamp"], short, e["message"].rstrip("\n")) for e in answer.get("events", [])]
    events.sort(key=lambda e: e[0])
    lines = [f"{_ts(ts)} [{short}] {msg}" for ts, short, msg in events[-tail:]]
    return "\n".join(lines) if lines else f"The log group {group} has no events yet."


def _ts(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000.0, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")[:-4] + "Z"
