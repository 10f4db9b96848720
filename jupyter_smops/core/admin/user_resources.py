"""What a domain's users created with jupyter_smops, what it costs per hour, and deleting it.

Users' SageMaker resources carry their owner tag (``studiouserid=<tag>``) and ``smops:model``;
their registry objects live in the bucket under ``<prefix>/``. ``find`` lists those of the given
owner tags (the domain's user profiles'), with the hourly cost of each: a real-time endpoint is
billed per instance-hour, S3 per GB-month; configs, models and model packages cost nothing but
are deleted too. ``delete`` removes them in the only order AWS accepts: scaling targets, then
endpoints (waited until gone), endpoint configs, models, model packages, their groups, objects.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from .. import cost
from ..errors import NotFound, SmopsError
from .calls import Caller, state_of

S3_USD_PER_GB_MONTH = 0.023  # S3 Standard, first 50 TB, us-east-1
HOURS_PER_MONTH = 730.0
_ORDER = ("scaling target", "endpoint", "endpoint config", "model", "model package", "model package group",
          "registry objects")


@dataclass
class UserResource:
    """One resource a user made; ``usd_per_hour`` is None when billed per use (serverless)."""

    kind: str
    name: str
    owner: str
    usd_per_hour: Optional[float] = 0.0
    detail: str = ""
    arn: str = ""
    keys: tuple = ()

    @property
    def billed(self) -> bool:
        return self.kind in ("endpoint", "registry objects")

    def describe(self) -> str:
        rate = "billed per request" if self.usd_per_hour is None else f"${self.usd_per_hour:.4f}/h"
        return f"owner {self.owner}, {rate}" + (f", {self.detail}" if self.detail else "")


def _tags(caller: Caller, arn: str) -> dict:
    try:
        return {t["Key"]: t["Value"] for t in caller.call("sagemaker", "ListTags", ResourceArn=arn).get("Tags", [])}
    except NotFound:
        return {}


def find(caller: Caller, owners: set, *, tag_key: str, bucket: Optional[str], prefix: str,
         prices: Optional[cost.PriceTable] = None) -> list[UserResource]:
    """Every jupyter_smops resource of ``owners`` (owner tag values), in deletion order."""
    found: list[UserResource] = []
    listings = (("endpoint", "ListEndpoints", "Endpoints", "EndpointName", "EndpointArn"),
                ("endpoint config", "ListEndpointConfigs", "EndpointConfigs", "EndpointConfigName", "EndpointConfigArn"),
                ("model", "ListModels", "Models", "ModelName", "ModelArn"),
                ("model package group", "ListModelPackageGroups", "ModelPackageGroupSummaryList",
                 "ModelPackageGroupName", "ModelPackageGroupArn"))
    for kind, op, key, name_key, arn_key in listings:
        for item in list(caller.pages("sagemaker", op, key)):
            tags = _tags(caller, item[arn_key])
            owner = tags.get(tag_key)
            if owner not in owners or "smops:model" not in tags:
                continue
            resource = UserResource(kind, item[name_key], owner, arn=item[arn_key])
            if kind == "endpoint":
                found += _endpoint(caller, resource, tags, prices)
            elif kind == "model package group":
                found += _packages(caller, resource)
            found.append(resource)
    if bucket:
        found += _objects(caller, bucket, prefix, owners)
    return sorted(found, key=lambda r: _ORDER.index(r.kind))


def _endpoint(caller: Caller, resource: UserResource, tags: dict, prices) -> list[UserResource]:
    """Price the endpoint from its config; an autoscaled one also has a scaling target."""
    desc = caller.find("sagemaker", "DescribeEndpoint", EndpointName=resource.name) or {}
    config = caller.find("sagemaker", "DescribeEndpointConfig", EndpointConfigName=desc.get("EndpointConfigName", "")) \
        if desc.get("EndpointConfigName") else None
    variant = ((config or {}).get("ProductionVariants") or [{}])[0]
    live = (desc.get("ProductionVariants") or [{}])[0]
    if variant.get("ServerlessConfig"):
        resource.usd_per_hour, resource.detail = None, f"serverless {variant['ServerlessConfig'].get('MemorySizeInMB')} MB"
    else:
        count = live.get("CurrentInstanceCount") or variant.get("InitialInstanceCount") or 1
        resource.usd_per_hour = cost.cost_per_hour(variant.get("InstanceType"), count, prices) or 0.0
        resource.detail = f"{count} x {variant.get('InstanceType')}, {desc.get('EndpointStatus', '?')}"
    if "smops:max-count" in tags:
        return [UserResource("scaling target", resource.name, resource.owner,
                             detail=f"endpoint/{resource.name}/variant/AllTraffic")]
    return []


def _packages(caller: Caller, group: UserResource) -> list[UserResource]:
    return [UserResource("model package", p["ModelPackageArn"].rsplit("/", 2)[-2] + "/" + str(p.get("ModelPackageVersion", "")),
                         group.owner, arn=p["ModelPackageArn"])
            for p in caller.pages("sagemaker", "ListModelPackages", "ModelPackageSummaryList",
                                  ModelPackageGroupName=group.name)]


def _objects(caller: Caller, bucket: str, prefix: str, owners: set) -> list[UserResource]:
    """The registry's objects per owner folder (``<prefix>/<owner>/``), with their storage cost."""
    base = f"{prefix.strip('/')}/" if prefix.strip("/") else ""
    out = []
    for owner in sorted(owners):
        keys, size, params = [], 0, {"Bucket": bucket, "Prefix": f"{base}{owner}/"}
        try:
            while True:
                page = caller.call("s3", "ListObjectsV2", **params)
                for obj in page.get("Contents", []) or []:
                    keys.append(obj["Key"])
                    size += int(obj.get("Size", 0))
                if not page.get("IsTruncated"):
                    break
                params["ContinuationToken"] = page["NextContinuationToken"]
        except NotFound:  # no bucket: nothing stored
            return out
        if keys:
            usd = size / 1e9 * S3_USD_PER_GB_MONTH / HOURS_PER_MONTH
            out.append(UserResource("registry objects", f"s3://{bucket}/{base}{owner}/", owner, usd_per_hour=usd,
                                    detail=f"{len(keys)} objects, {size / 1e6:.1f} MB", keys=tuple(keys)))
    return out


def delete(caller: Caller, resources: list[UserResource], report) -> None:
    """Delete ``resources`` (from ``find``) in dependency order, waiting for endpoints to go."""
    for r in sorted(resources, key=lambda r: _ORDER.index(r.kind)):
        try:
            _delete_one(caller, r)
        except NotFound:
            pass  # gone meanwhile
        except SmopsError as exc:
            report.add(r.kind, r.name, "kept", exc.message)
            continue
        report.add(r.kind, r.name, "deleted", r.describe())


def _delete_one(caller: Caller, r: UserResource) -> None:
    if r.kind == "scaling target":
        caller.call("application-autoscaling", "DeregisterScalableTarget", ServiceNamespace="sagemaker",
                    ResourceId=r.detail, ScalableDimension="sagemaker:variant:DesiredInstanceCount")
    elif r.kind == "endpoint":
        caller.call("sagemaker", "DeleteEndpoint", EndpointName=r.name)
        # Its config cannot be deleted while the endpoint is still Deleting.
        caller.wait(f"Endpoint {r.name}", "sagemaker", "DescribeEndpoint", {"EndpointName": r.name},
                    state=state_of("EndpointStatus"), done={"Deleted"}, failed={"Failed"}, timeout=1200, interval=10)
    elif r.kind == "endpoint config":
        caller.call("sagemaker", "DeleteEndpointConfig", EndpointConfigName=r.name)
    elif r.kind == "model":
        caller.call("sagemaker", "DeleteModel", ModelName=r.name)
    elif r.kind == "model package":
        caller.call("sagemaker", "DeleteModelPackage", ModelPackageName=r.arn)
    elif r.kind == "model package group":
        caller.call("sagemaker", "DeleteModelPackageGroup", ModelPackageGroupName=r.name)
    elif r.kind == "registry objects":
        bucket = r.name[5:].split("/", 1)[0]
        keys = list(r.keys)
        for start in range(0, len(keys), 1000):
            caller.call("s3", "DeleteObjects", Bucket=bucket,
                        Delete={"Objects": [{"Key": k} for k in keys[start:start + 1000]], "Quiet": True})


def summary(resources: list[UserResource]) -> str:
    """One line: how many, and the hourly total of what is billed by the hour."""
    hourly = sum(r.usd_per_hour or 0.0 for r in resources)
    per_use = sum(1 for r in resources if r.usd_per_hour is None)
    extra = f" plus {per_use} serverless endpoint(s) billed per request" if per_use else ""
    return f"{len(resources)} user resource(s), ${hourly:.4f}/h{extra}"
