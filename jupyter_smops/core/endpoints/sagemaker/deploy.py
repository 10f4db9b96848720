"""Creating a SageMaker endpoint: the seed's create-model / create-endpoint-config /
create-endpoint, done for the user, tagged for ABAC, waited for, autoscaled, and rolled back
when a step fails.

Resource names: the model and the endpoint config are ``<owner>-<endpoint>-<UTC timestamp>``
(``resource_name``: the ABAC policy lets a config serve only models named after its caller, and
names stay unique when an endpoint is re-created), the endpoint is the name asked for.
Every resource carries the owner tag plus ``smops:model``, ``smops:version`` and
``smops:endpoint``. The option rules were checked by the core's plan (core/deploy_plan.py);
what is left here is what only SageMaker can say.
"""
from __future__ import annotations

import dataclasses
import logging
import re
import time
from datetime import datetime, timezone
from typing import Any

from ...aws import aws_errors, serving_environment, tag_list
from ...errors import BadRequest, Conflict, SmopsError, Timeout, UpstreamError
from ...types import ModelVersion, Progress
from ..base import DeployOptions
from ...durations import iso_utc
from . import expiry, resources
from .account import SCALABLE_DIMENSION, VARIANT, Account

log = logging.getLogger("jupyter_smops")

# Invocations per instance per minute that trigger scale-out. Conservative for scikit-learn
# models (one ml.t2.medium serves far more); tune it after a load test.
TARGET_INVOCATIONS_PER_INSTANCE = 600.0


def prepare(account: Account, mv: ModelVersion, options: DeployOptions) -> DeployOptions:
    """The artifact must be in S3 (SageMaker reads it there); choose the serving image for this
    region, version and instance type (BadRequest/Conflict when there is none)."""
    if not mv.uri.startswith("s3://"):
        raise BadRequest(f"{mv.ref} is not in S3 ({mv.uri}); push it with the aws backend first.")
    if options.image_uri:
        return options
    from ...images import image_uri, mismatch_advice, sklearn_serving_versions

    version = options.framework_version or mv.serving_version
    if not version:
        raise Conflict(f"{mv.ref} was built with {mismatch_advice(mv.framework_version or 'an unknown version')} "
                       f"Known framework versions: {', '.join(sklearn_serving_versions())}.")
    return dataclasses.replace(options, image_uri=image_uri(account.region, version, options.instance_type))


def create(account: Account, mv: ModelVersion, name: str, owner: str, options: DeployOptions,
           progress: Progress, poll_seconds: float) -> None:
    """CreateModel -> CreateEndpointConfig -> CreateEndpoint (-> wait -> autoscaling).

    On any failure what was created is deleted again and the error names the step; an interrupt
    (or a progress callback raising, which is how a job is cancelled) rolls back the same way.
    Only a timeout while waiting leaves the endpoint, since SageMaker is still creating it.
    """
    if not options.image_uri or not (options.instance_type or options.serverless_memory_mb):
        raise ValueError("SageMaker deploys take planned options: use Smops.plan_deploy first")
    if resources.exists(account, name):  # moto, unlike SageMaker, would accept a duplicate
        raise Conflict(f"A SageMaker endpoint named {name!r} already exists. Choose another name "
                       f"(--endpoint) or delete it first (%smops delete {name}).")
    role = execution_role(account)
    expires_at = time.time() + options.expires_in if options.expires_in else None
    tags = tag_list(account.owner_key, owner, model=mv.name, version=mv.version, endpoint=name,
                    max_count=options.max_count, expires_at=iso_utc(expires_at) if expires_at else None)
    resource = resource_name(owner, name, datetime.now(timezone.utc))
    created: list[tuple[str, str]] = []
    try:
        _create(account, mv, name, resource, role, tags, options, created, progress, (owner, expires_at))
        if not options.wait:
            return
        _wait(account, name, options.timeout, progress, poll_seconds)
        if options.max_count:
            progress("configuring-autoscaling", None, None)
            _autoscale(account, name, options, owner, mv)
            created.append(("scaling", name))
    except Timeout:
        raise  # still Creating on SageMaker: leave it, the message says how to follow or delete it
    except BaseException:
        _undo(account, created)
        raise


def _create(account, mv, name, resource, role, tags, options, created, progress, expiry_of) -> None:
    sm = account.sm
    progress("creating-model", None, None)
    with aws_errors(f"step 1/3 CreateModel {resource}", "sagemaker"):
        sm.create_model(ModelName=resource, ExecutionRoleArn=role, Tags=tags, PrimaryContainer={
            "Image": options.image_uri, "ModelDataUrl": mv.uri, "Environment": serving_environment(account.region)})
    created.append(("model", resource))
    progress("creating-endpoint-config", None, None)
    variant: dict[str, Any] = {"VariantName": VARIANT, "ModelName": resource}
    if options.serverless_memory_mb:
        variant["ServerlessConfig"] = {"MemorySizeInMB": options.serverless_memory_mb,
                                       "MaxConcurrency": options.serverless_max_concurrency}
    else:
        variant.update(InstanceType=options.instance_type, InitialInstanceCount=options.count,
                       InitialVariantWeight=1.0)
    with aws_errors(f"step 2/3 CreateEndpointConfig {resource}", "sagemaker"):
        sm.create_endpoint_config(EndpointConfigName=resource, ProductionVariants=[variant], Tags=tags)
    created.append(("endpoint_config", resource))
    owner, expires_at = expiry_of
    if expires_at:  # before the endpoint: an endpoint never exists without its expiry
        progress("creating-expiry-schedule", None, None)
        expiry.create(account, name, owner, expires_at)
        created.append(("schedule", f"{owner}/{name}"))
    progress("creating-endpoint", 0, None)
    with aws_errors(f"step 3/3 CreateEndpoint {name}", "sagemaker"):
        sm.create_endpoint(EndpointName=name, EndpointConfigName=resource, Tags=tags)
    created.append(("endpoint", name))


def resource_name(owner: str, endpoint: str, when: datetime) -> str:
    """The model's and endpoint config's name: ``<owner>-<endpoint>-<YYYYmmdd-HHMMSS>``, at most 63
    characters, the endpoint cut to fit. The ABAC policy matches ``model/<owner tag>-*``, so the
    owner is kept whole; an owner that cannot start a SageMaker name (a login name with dots,
    more than 45 characters; bootstrap's owner tags never are) is made name-safe and cut instead,
    which works wherever the policy is not in force."""
    stamp = when.strftime("%Y%m%d-%H%M%S")
    lead = owner
    if not (re.fullmatch(r"[a-zA-Z0-9](-*[a-zA-Z0-9])*", owner) and len(owner) <= 45):
        lead = re.sub(r"-+", "-", re.sub(r"[^a-zA-Z0-9]", "-", owner)).strip("-")[:45].rstrip("-") or "smops"
    room = 63 - len(lead) - len(stamp) - 2
    return f"{lead}-{endpoint[:room].rstrip('-')}-{stamp}"


def execution_role(account: Account) -> str:
    """The role SageMaker runs the model as: the configured one, else (in Studio) the space's."""
    role = account.config.role_arn or _studio_role(account)
    if not role:
        raise BadRequest(
            "No SageMaker execution role is configured. Set SMOPS_ROLE_ARN to a role SageMaker can "
            "assume (trust sagemaker.amazonaws.com, AmazonSageMakerFullAccess and read access to the "
            "registry bucket), e.g. arn:aws:iam::<account>:role/SageMakerDemoExecutionRole, or "
            "c.SmopsConfig.role_arn; `jupyter smops admin` can create one. In SageMaker Studio the "
            "space's execution role is used automatically.")
    return role


def _studio_role(account: Account) -> str:
    """In Studio without ExecutionRoleArn in its metadata: the profile's role, else the domain's,
    else the role this app runs as (what the SageMaker SDK's get_execution_role answers)."""
    studio = account.config.studio
    if not studio.detected:
        return ""
    sm = account.sm
    try:
        with aws_errors("finding the Studio execution role", "sagemaker"):
            if studio.user_profile_name:
                profile = sm.describe_user_profile(DomainId=studio.domain_id, UserProfileName=studio.user_profile_name)
                if profile.get("UserSettings", {}).get("ExecutionRole"):
                    return profile["UserSettings"]["ExecutionRole"]
            domain = sm.describe_domain(DomainId=studio.domain_id)
            if domain.get("DefaultUserSettings", {}).get("ExecutionRole"):
                return domain["DefaultUserSettings"]["ExecutionRole"]
        with aws_errors("finding the Studio execution role", "sts"):
            arn = account.clients.client("sts").get_caller_identity()["Arn"]
    except SmopsError as exc:
        log.info("jupyter_smops: no Studio execution role found: %s", exc)
        return ""
    m = re.match(r"^arn:(aws[a-z-]*):sts::(\d{12}):assumed-role/([^/]+)/", arn)
    return f"arn:{m.group(1)}:iam::{m.group(2)}:role/{m.group(3)}" if m else ""


def _wait(account: Account, name: str, timeout: float, progress: Progress, poll_seconds: float) -> None:
    """Poll until InService; Failed raises with SageMaker's FailureReason."""
    start = time.monotonic()
    while True:
        with aws_errors(f"waiting for endpoint {name}", "sagemaker"):
            desc = account.sm.describe_endpoint(EndpointName=name)
        status = desc["EndpointStatus"]
        elapsed = time.monotonic() - start
        if status == "InService":
            progress("creating-endpoint", int(elapsed), None)
            return
        if status in ("Failed", "OutOfService", "UpdateRollbackFailed"):
            reason = desc.get("FailureReason") or "SageMaker gave no reason"
            raise UpstreamError(
                f"Endpoint {name} failed while being created (step 3/3 CreateEndpoint): {reason}. What "
                f"was created has been deleted. Read the container log in CloudWatch "
                f"(/aws/sagemaker/Endpoints/{name}); a model that loads locally (%smops deploy --local) "
                f"usually points at the instance type, the role's S3 access or the image version.",
                code="EndpointFailed")
        if elapsed > timeout:
            raise Timeout(f"Endpoint {name} is still {status} after {int(elapsed)} s. It keeps being created "
                          f"on SageMaker: follow it with %smops endpoints, or delete it (%smops delete {name}).")
        progress("creating-endpoint", int(elapsed), None)
        time.sleep(poll_seconds)


def _autoscale(account: Account, name: str, options: DeployOptions, owner: str, mv: ModelVersion) -> None:
    aas = account.clients.client("application-autoscaling")
    resource_id = f"endpoint/{name}/variant/{VARIANT}"
    with aws_errors(f"registering autoscaling for {name} (RegisterScalableTarget)", "application-autoscaling"):
        aas.register_scalable_target(
            ServiceNamespace="sagemaker", ResourceId=resource_id, ScalableDimension=SCALABLE_DIMENSION,
            MinCapacity=options.count, MaxCapacity=options.max_count,
            Tags={t["Key"]: t["Value"] for t in tag_list(account.owner_key, owner, model=mv.name,
                                                         version=mv.version, endpoint=name)})
    with aws_errors(f"adding the scaling policy of {name} (PutScalingPolicy)", "application-autoscaling"):
        aas.put_scaling_policy(
            PolicyName=f"{name}-invocations-per-instance", ServiceNamespace="sagemaker",
            ResourceId=resource_id, ScalableDimension=SCALABLE_DIMENSION, PolicyType="TargetTrackingScaling",
            TargetTrackingScalingPolicyConfiguration={
                "TargetValue": TARGET_INVOCATIONS_PER_INSTANCE,
                "PredefinedMetricSpecification": {"PredefinedMetricType": "SageMakerVariantInvocationsPerInstance"},
                "ScaleInCooldown": 300, "ScaleOutCooldown": 60})


def _undo(account: Account, created: list[tuple[str, str]]) -> None:
    """Delete what a failed deploy created, newest first; report what could not be deleted."""
    for kind, resource in reversed(created):
        try:
            resources.delete_one(account, kind, resource)
        except Exception as exc:  # noqa: BLE001 - keep undoing; the original error is what matters
            log.warning("jupyter_smops: could not delete %s %s after a failed deploy: %s", kind, resource, exc)
