"""Reading, listing, deleting and cleaning up the SageMaker resources behind an endpoint.

Deletion follows the seed's order — scaling target, endpoint, endpoint config, model — and
treats "already gone" as done, so it can be repeated after any partial failure. Listings and
cleanup only ever touch resources with a ``smops:model`` tag (``Account.ours``).
"""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from typing import Any, Optional

from ... import cost
from ...aws import aws_errors, tag_dict
from ...errors import AccessDenied, NotFound, SmopsError
from ...types import CleanupResult, Endpoint, Progress, expiry_fields
from . import expiry, front
from .account import SCALABLE_DIMENSION, VARIANT, Account

_STATUS = {"Creating": "Creating", "InService": "InService", "Failed": "Failed", "Deleting": "Deleting",
           "Updating": "Updating", "SystemUpdating": "Updating", "RollingBack": "Updating",
           "UpdateRollbackFailed": "Failed", "OutOfService": "Failed"}


# -- read -------------------------------------------------------------------------------------
def describe_raw(account: Account, name: str) -> dict:
    """DescribeEndpoint's answer; NotFound naming the region when there is no such endpoint."""
    try:
        with aws_errors(f"describing endpoint {name}", "sagemaker"):
            return account.sm.describe_endpoint(EndpointName=name)
    except NotFound:
        raise NotFound(account.missing(name)) from None


def exists(account: Account, name: str) -> bool:
    """Whether the caller has an endpoint ``name``. Under the ABAC policy an endpoint that does not
    exist carries no owner tag, so describing it is AccessDenied, not NotFound: that is absent too
    (and so is another owner's endpoint, which the caller may not touch anyway)."""
    try:
        describe_raw(account, name)
    except NotFound:
        return False
    except AccessDenied as exc:
        if exc.code != "AccessDenied":  # rejected credentials are not an answer about the endpoint
            raise
        return False
    return True


def describe(account: Account, name: str) -> Endpoint:
    """One endpoint with its instance type, image, cost and (if Failed) FailureReason."""
    desc = describe_raw(account, name)
    with aws_errors(f"reading the tags of {name}", "sagemaker"):
        tags = tag_dict(account.sm.list_tags(ResourceArn=desc["EndpointArn"]).get("Tags", []))
    return _endpoint(account, desc, tags, with_image=True)


def _endpoint(account: Account, desc: dict, tags: dict, *, with_image: bool = False) -> Endpoint:
    sm = account.sm
    variant: dict = {}
    image = None
    try:
        with aws_errors("describing the endpoint config", "sagemaker"):
            config = sm.describe_endpoint_config(EndpointConfigName=desc["EndpointConfigName"])
        variant = (config.get("ProductionVariants") or [{}])[0]
        if with_image and variant.get("ModelName"):
            with aws_errors("describing the model", "sagemaker"):
                image = sm.describe_model(ModelName=variant["ModelName"])["PrimaryContainer"].get("Image")
    except SmopsError as exc:
        # The config or model deleted under a live endpoint: show what is left. Under the ABAC
        # policy what is gone has no owner tag, so that is AccessDenied rather than NotFound.
        if not isinstance(exc, NotFound) and exc.code != "AccessDenied":
            raise
    live = (desc.get("ProductionVariants") or [{}])[0]
    count = live.get("CurrentInstanceCount") or variant.get("InitialInstanceCount")
    serverless = (variant.get("ServerlessConfig") or {}).get("MemorySizeInMB")
    created = _iso(desc.get("CreationTime"))
    instance_type = variant.get("InstanceType")
    prices = account.prices
    status = _STATUS.get(desc.get("EndpointStatus", ""), desc.get("EndpointStatus", "Updating"))
    running = status not in ("Failed", "Deleting")
    max_count = tags.get("smops:max-count")
    hourly = cost.cost_per_hour(instance_type, count, prices) if running and not serverless else None
    return Endpoint(
        name=desc["EndpointName"], status=status, backend="sagemaker", model=tags.get("smops:model", ""),
        version=int(tags.get("smops:version") or 0), created_at=created,
        owner=tags.get(account.owner_key, ""), instance_type=instance_type,
        instance_count=None if serverless else count, max_count=int(max_count) if max_count else None,
        serverless_memory_mb=serverless, failure_reason=desc.get("FailureReason"),
        cost_per_hour=hourly,
        cost_so_far=cost.cost_so_far(instance_type, count, created, table=prices) if running and not serverless
        else None,
        image_uri=image, arn=desc.get("EndpointArn"), public_url=tags.get(front.URL_TAG),
        **expiry_fields(tags.get(expiry.EXPIRES_TAG), hourly))


def list_endpoints(account: Account, owner: Optional[str] = None) -> list[Endpoint]:
    """jupyter_smops endpoints (of ``owner`` when given), newest first."""
    summaries = []
    with aws_errors("listing endpoints", "sagemaker"):
        for page in account.sm.get_paginator("list_endpoints").paginate():
            summaries += page.get("Endpoints", [])
    owned = [(s, tags) for s, tags in zip(summaries, _tags_of(account, [s["EndpointArn"] for s in summaries]))
             if account.ours(tags, owner)]

    def build(item):
        summary, tags = item
        try:
            return _endpoint(account, describe_raw(account, summary["EndpointName"]), tags)
        except NotFound:
            return None  # deleted meanwhile

    with ThreadPoolExecutor(max_workers=8) as pool:
        found = [e for e in pool.map(build, owned) if e is not None]
    return sorted(found, key=lambda e: e.created_at, reverse=True)


def tags_or_empty(sm, arn: str) -> dict:
    """A resource's tags; {} when it is gone or ABAC hides it (another owner's resource)."""
    try:
        with aws_errors("reading tags", "sagemaker"):
            return tag_dict(sm.list_tags(ResourceArn=arn).get("Tags", []))
    except (NotFound, AccessDenied):
        return {}


def _tags_of(account: Account, arns: list[str]) -> list[dict]:
    sm = account.sm
    with ThreadPoolExecutor(max_workers=8) as pool:
        return list(pool.map(lambda arn: tags_or_empty(sm, arn), arns))


# -- delete -----------------------------------------------------------------------------------
def delete_one(account: Account, kind: str, resource: str) -> bool:
    """Delete one resource (``front``, ``schedule``, ``scaling``, ``endpoint``, ``endpoint_config``,
    ``model``; a front or schedule is named ``<owner>/<endpoint>``); False if gone."""
    sm = account.sm
    try:
        if kind in ("front", "schedule"):
            owner, _, endpoint = resource.partition("/")
            return (front.delete if kind == "front" else expiry.delete)(account, endpoint, owner)
        if kind == "scaling":
            return _deregister(account, resource)
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


def _deregister(account: Account, name: str) -> bool:
    aas = account.clients.client("application-autoscaling")
    try:
        with aws_errors(f"removing the autoscaling of {name}", "application-autoscaling"):
            aas.deregister_scalable_target(ServiceNamespace="sagemaker", ResourceId=f"endpoint/{name}/variant/{VARIANT}",
                                           ScalableDimension=SCALABLE_DIMENSION)
    except NotFound:
        return False
    return True


def _resources_of(account: Account, name: str) -> list[tuple[str, str]]:
    """What delete removes for endpoint ``name``, in deletion order."""
    desc = describe_raw(account, name)
    tags = tags_or_empty(account.sm, desc["EndpointArn"])
    owner = tags.get(account.owner_key, "")
    # The front before the endpoint it calls, and the schedule before the endpoint it would
    # delete; only autoscaled endpoints touch Application Auto Scaling (others need no rights there).
    items = [("front", f"{owner}/{name}")] if front.URL_TAG in tags else []
    items += [("schedule", f"{owner}/{name}")] if expiry.EXPIRES_TAG in tags else []
    items += ([("scaling", name)] if "smops:max-count" in tags else []) + [("endpoint", name)]
    config_name = desc.get("EndpointConfigName")
    if config_name:
        try:
            with aws_errors(f"describing endpoint config {config_name}", "sagemaker"):
                config = account.sm.describe_endpoint_config(EndpointConfigName=config_name)
            models = [v["ModelName"] for v in config.get("ProductionVariants", []) if v.get("ModelName")]
        except NotFound:
            models = []
        items.append(("endpoint_config", config_name))
        items += [("model", m) for m in models]
    return items


def delete_endpoint(account: Account, name: str, progress: Progress) -> None:
    """Delete endpoint ``name`` and its config and model(s); NotFound when no such endpoint."""
    items = _resources_of(account, name)
    for step, (kind, resource) in enumerate(items, start=1):
        progress(f"deleting-{kind.replace('_', '-')}", step, len(items))
        delete_one(account, kind, resource)


def _tagged(account: Account, kind: str, owner: str) -> list[str]:
    """Names of ``kind`` (models / endpoint configs) tagged as smops resources of ``owner``."""
    op, key, name_key, arn_key = {
        "model": ("list_models", "Models", "ModelName", "ModelArn"),
        "endpoint_config": ("list_endpoint_configs", "EndpointConfigs", "EndpointConfigName", "EndpointConfigArn"),
    }[kind]
    items = []
    with aws_errors(f"listing {kind.replace('_', ' ')}s", "sagemaker"):
        for page in account.sm.get_paginator(op).paginate():
            items += page.get(key, [])
    all_tags = _tags_of(account, [i[arn_key] for i in items])
    return sorted(i[name_key] for i, t in zip(items, all_tags) if account.ours(t, owner))


def cleanup(account: Account, owner: str, dry_run: bool) -> CleanupResult:
    """Delete (or on a dry run, list) every smops endpoint, config and model of ``owner``."""
    result = CleanupResult(dry_run=dry_run)
    listed = list_endpoints(account, owner)
    eps = [e.name for e in listed]
    configs = _tagged(account, "endpoint_config", owner)
    models = _tagged(account, "model", owner)
    # Fronts and schedules outlive an endpoint the schedule deleted: found by their own listings.
    fronts = _listed(result, "public fronts", lambda: front.list_fronts(account, owner))
    schedules = _listed(result, "expiry schedules", lambda: expiry.list_names(account, owner))
    result.public_fronts.extend(fronts)
    result.schedules.extend(schedules)
    result.endpoints.extend(eps)
    result.endpoint_configs.extend(configs)
    result.models.extend(models)
    if dry_run:
        return result
    plan = [("front", f"{owner}/{e}") for e in fronts] + [("schedule", f"{owner}/{e}") for e in schedules]
    plan += [("scaling", e.name) for e in listed if e.max_count] + [("endpoint", e) for e in eps]
    plan += [("endpoint_config", c) for c in configs] + [("model", m) for m in models]
    for kind, resource in plan:
        try:
            delete_one(account, kind, resource)
        except SmopsError as exc:
            result.errors.append(f"{kind.replace('_', ' ')} {resource}: {exc.message}")
    return result


def _listed(result: CleanupResult, what: str, listing) -> list[str]:
    """A listing that may be refused (a policy from before expiry and fronts): an error line, not a stop."""
    try:
        return listing()
    except AccessDenied as exc:
        result.errors.append(f"could not list {what}: {exc.message}")
        return []


def _iso(value: Any) -> str:
    if isinstance(value, datetime):
        value = value if value.tzinfo else value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")
    return str(value or "")
