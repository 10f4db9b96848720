"""Deleting, cleaning up and reading logs of SageMaker endpoints (split from sagemaker.py).

Deletion follows the seed's order — scaling target, endpoint, endpoint config, model — and
treats "already gone" as done, so it can be repeated after any partial failure.
"""
from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone

from ..aws import aws_errors, tag_dict
from ..errors import AccessDenied, NotFound, SmopsError
from ..types import Progress
from ..types import CleanupResult

log = logging.getLogger("jupyter_smops")


def delete_one(endpoints, kind: str, resource: str) -> bool:
    """Delete one resource (``scaling``, ``endpoint``, ``endpoint_config``, ``model``); False if gone."""
    sm = endpoints.sm
    try:
        if kind == "scaling":
            return _deregister(endpoints, resource)
        with aws_errors(f"deleting {kind.replace('_', ' ')} {resource}", "sagemaker"):
            if kind == "endpoint":
                sm.delete_endpoint(EndpointName=resource)
            elif kind == "endpoint_config":
                sm.delete_endpoint_config(EndpointConfigName=resource)
            elif kind == "model":
                sm.delete_model(ModelName=resource)
            else:
                raise ValueError(kind)
    except NotFound:
        return False
    return True


def _deregister(endpoints, name: str) -> bool:
    from .sagemaker import SCALABLE_DIMENSION, VARIANT

    aas = endpoints.clients.client("application-autoscaling")
    try:
        with aws_errors(f"removing the autoscaling of {name}", "application-autoscaling"):
            aas.deregister_scalable_target(ServiceNamespace="sagemaker", ResourceId=f"endpoint/{name}/variant/{VARIANT}",
                                           ScalableDimension=SCALABLE_DIMENSION)
    except NotFound:
        return False
    return True


def resources_of(endpoints, name: str) -> list[tuple[str, str]]:
    """What delete removes for endpoint ``name``, in deletion order."""
    desc = endpoints._describe_raw(name)
    # Only autoscaled endpoints touch Application Auto Scaling: others need no rights there.
    scaled = "smops:max-count" in tags_or_empty(endpoints.sm, desc["EndpointArn"])
    items = ([("scaling", name)] if scaled else []) + [("endpoint", name)]
    config_name = desc.get("EndpointConfigName")
    if config_name:
        try:
            with aws_errors(f"describing endpoint config {config_name}", "sagemaker"):
                config = endpoints.sm.describe_endpoint_config(EndpointConfigName=config_name)
            models = [v["ModelName"] for v in config.get("ProductionVariants", []) if v.get("ModelName")]
        except NotFound:
            models = []
        items.append(("endpoint_config", config_name))
        items += [("model", m) for m in models]
    return items


def delete_endpoint(endpoints, name: str, progress: Progress) -> None:
    """Delete endpoint ``name`` and its config and model(s); NotFound when no such endpoint."""
    items = resources_of(endpoints, name)
    for step, (kind, resource) in enumerate(items, start=1):
        progress(f"deleting-{kind.replace('_', '-')}", step, len(items))
        delete_one(endpoints, kind, resource)


def tags_or_empty(sm, arn: str) -> dict:
    """A resource's tags; {} when it is gone or ABAC hides it (another owner's resource)."""
    try:
        with aws_errors("reading tags", "sagemaker"):
            return tag_dict(sm.list_tags(ResourceArn=arn).get("Tags", []))
    except (NotFound, AccessDenied):
        return {}


def _tagged(endpoints, kind: str, owner: str) -> list[str]:
    """Names of ``kind`` (models / endpoint configs) tagged as smops resources of ``owner``."""
    sm = endpoints.sm
    op, key, name_key, arn_key = {
        "model": ("list_models", "Models", "ModelName", "ModelArn"),
        "endpoint_config": ("list_endpoint_configs", "EndpointConfigs", "EndpointConfigName", "EndpointConfigArn"),
    }[kind]
    items = []
    with aws_errors(f"listing {kind.replace('_', ' ')}s", "sagemaker"):
        for page in sm.get_paginator(op).paginate():
            items += page.get(key, [])

    with ThreadPoolExecutor(max_workers=8) as pool:
        all_tags = list(pool.map(lambda arn: tags_or_empty(sm, arn), [i[arn_key] for i in items]))
    return sorted(i[name_key] for i, t in zip(items, all_tags) if endpoints._ours(t, owner))


def cleanup(endpoints, owner: str, dry_run: bool) -> CleanupResult:
    """Delete (or on a dry run, list) every smops endpoint, config and model of ``owner``."""
    result = CleanupResult(dry_run=dry_run)
    listed = endpoints.list(owner)
    eps = [e.name for e in listed]
    configs = _tagged(endpoints, "endpoint_config", owner)
    models = _tagged(endpoints, "model", owner)
    result.endpoints.extend(eps)
    result.endpoint_configs.extend(configs)
    result.models.extend(models)
    if dry_run:
        return result
    plan = [("scaling", e.name) for e in listed if e.max_count] + [("endpoint", e) for e in eps]
    plan += [("endpoint_config", c) for c in configs] + [("model", m) for m in models]
    for kind, resource in plan:
        try:
            delete_one(endpoints, kind, resource)
        except SmopsError as exc:
            result.errors.append(f"{kind.replace('_', ' ')} {resource}: {exc.message}")
    return result


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
