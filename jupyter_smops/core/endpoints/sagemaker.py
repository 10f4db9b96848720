"""SageMaker endpoints: the seed's create-model / create-endpoint-config / create-endpoint, done
for the user, tagged for ABAC, rolled back when a step fails, and deleted in the right order.

Resource names: the model and the endpoint config are ``<endpoint>-<UTC timestamp>`` (names in
each namespace stay unique when an endpoint is re-created), the endpoint is the name asked for.
Every resource carries the owner tag plus ``smops:model``, ``smops:version`` and
``smops:endpoint``; listings and cleanup only ever touch resources with a ``smops:model`` tag.
"""
from __future__ import annotations

import logging
import re
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from typing import Any, Optional

from .. import cost
from ..aws import aws_errors, clients_for, error_code, serving_environment, tag_dict, tag_list
from ..errors import (BadRequest, Conflict, ModelError, NotFound, SmopsError, Timeout,
                      UpstreamError)
from ..types import Progress, no_progress
from ..types import CleanupResult, Endpoint, InvokeResult, ModelVersion
from .base import INVOKE_TIMEOUT_SECONDS, ArtifactFetcher, DeployOptions, Endpoints, check_payload_size

log = logging.getLogger("jupyter_smops")

VARIANT = "AllTraffic"
SCALABLE_DIMENSION = "sagemaker:variant:DesiredInstanceCount"
# Invocations per instance per minute that trigger scale-out. Conservative for scikit-learn
# models (one ml.t2.medium serves far more); tune it after a load test.
TARGET_INVOCATIONS_PER_INSTANCE = 600.0
SERVERLESS_MEMORY_MB = (1024, 2048, 3072, 4096, 5120, 6144)
_STATUS = {"Creating": "Creating", "InService": "InService", "Failed": "Failed", "Deleting": "Deleting",
           "Updating": "Updating", "SystemUpdating": "Updating", "RollingBack": "Updating",
           "UpdateRollbackFailed": "Failed", "OutOfService": "Failed"}


class SageMakerEndpoints(Endpoints):
    """Endpoints on SageMaker AI real-time (instance or serverless) hosting."""

    kind = "sagemaker"
    poll_seconds = 15.0  # DescribeEndpoint's waiter interval; tests make it shorter

    def __init__(self, config, clients=None):
        self.config = config
        self.clients = clients or clients_for(config)

    @property
    def sm(self):
        return self.clients.client("sagemaker")

    @property
    def region(self) -> str:
        return self.clients.region_name

    @property
    def prices(self) -> "cost.PriceTable":
        """The region's prices read from the Price List API (%smops prices --refresh), else built in."""
        return cost.load_prices(self.config.home_path, self.region)

    def describe_backend(self) -> dict:
        return {"kind": self.kind, "region": self.region, "prices": cost.price_note(self.region, self.prices)}

    def _tags(self, owner: str, mv: ModelVersion, name: str, options: DeployOptions) -> list[dict]:
        return tag_list(self.config.owner_tag_key, owner, model=mv.name, version=mv.version, endpoint=name,
                        max_count=options.max_count)

    # -- deploy ---------------------------------------------------------------------------
    def deploy(self, mv: ModelVersion, *, name: str, owner: str, options: DeployOptions,
               fetch: ArtifactFetcher, progress: Progress = no_progress) -> Endpoint:
        """CreateModel -> CreateEndpointConfig -> CreateEndpoint (-> wait -> autoscaling).

        SageMaker reads the artifact from S3 itself, so ``fetch`` is not used. On any failure
        what was created is deleted again and the error names the step; an interrupt (or a
        progress callback raising, which is how a job is cancelled) rolls back the same way.
        Only a timeout while waiting leaves the endpoint, since SageMaker is still creating it.
        """
        instance_type = self._check_options(options)
        if not mv.uri.startswith("s3://"):
            raise BadRequest(f"{mv.ref} is not in S3 ({mv.uri}); push it with the aws backend first.")
        if self.exists(name):
            raise Conflict(f"A SageMaker endpoint named {name!r} already exists. Choose another name "
                           f"(--endpoint) or delete it first (%smops delete {name}).")
        image = self._image(mv, options, instance_type)
        role = self._role()
        tags = self._tags(owner, mv, name, options)
        resource = f"{name[:47]}-{datetime.now(timezone.utc).strftime('%Y%m%d-%H%M%S')}"
        created: list[tuple[str, str]] = []
        try:
            self._create(mv, name, resource, image, role, tags, options, instance_type, created, progress)
            if not options.wait:
                return self.describe(name)
            self._wait(name, options.timeout, progress)
            if options.max_count:
                progress("configuring-autoscaling", None, None)
                self._autoscale(name, options, owner, mv)
                created.append(("scaling", name))
        except Timeout:
            raise  # still Creating on SageMaker: leave it, the message says how to follow or delete it
        except BaseException:
            self._undo(created)
            raise
        progress("done", None, None)
        return self.describe(name)

    def _create(self, mv, name, resource, image, role, tags, options, instance_type, created, progress) -> None:
        progress("creating-model", None, None)
        with aws_errors(f"step 1/3 CreateModel {resource}", "sagemaker"):
            self.sm.create_model(ModelName=resource, ExecutionRoleArn=role, Tags=tags, PrimaryContainer={
                "Image": image, "ModelDataUrl": mv.uri, "Environment": serving_environment(self.region)})
        created.append(("model", resource))
        progress("creating-endpoint-config", None, None)
        variant: dict[str, Any] = {"VariantName": VARIANT, "ModelName": resource}
        if options.serverless_memory_mb:
            variant["ServerlessConfig"] = {"MemorySizeInMB": options.serverless_memory_mb,
                                           "MaxConcurrency": options.serverless_max_concurrency}
        else:
            variant.update(InstanceType=instance_type, InitialInstanceCount=options.count, InitialVariantWeight=1.0)
        with aws_errors(f"step 2/3 CreateEndpointConfig {resource}", "sagemaker"):
            self.sm.create_endpoint_config(EndpointConfigName=resource, ProductionVariants=[variant], Tags=tags)
        created.append(("endpoint_config", resource))
        progress("creating-endpoint", 0, None)
        with aws_errors(f"step 3/3 CreateEndpoint {name}", "sagemaker"):
            self.sm.create_endpoint(EndpointName=name, EndpointConfigName=resource, Tags=tags)
        created.append(("endpoint", name))

    def _check_options(self, options: DeployOptions) -> Optional[str]:
        """Refuse impossible option combinations before anything is created."""
        if options.serverless_memory_mb:
            if options.serverless_memory_mb not in SERVERLESS_MEMORY_MB:
                raise BadRequest(f"Serverless memory must be one of {', '.join(map(str, SERVERLESS_MEMORY_MB))} "
                                 f"MB, not {options.serverless_memory_mb}.")
            if not 1 <= options.serverless_max_concurrency <= 200:
                raise BadRequest("Serverless max concurrency must be between 1 and 200.")
            # An instance type equal to the configured default may have been filled in by a face.
            if options.max_count or options.instance_type not in (None, "", self.config.instance_type):
                raise BadRequest("A serverless endpoint scales by itself: drop --max-count / --instance-type, "
                                 "or drop --serverless.")
            return None
        instance_type = options.instance_type or self.config.instance_type or "ml.t2.medium"
        if not instance_type.startswith("ml."):
            raise BadRequest(f"Instance type {instance_type!r} is not a SageMaker type; use e.g. ml.t2.medium, "
                             f"ml.m5.large or ml.c5.large.")
        if options.count < 1:
            raise BadRequest("The instance count must be at least 1.")
        if options.max_count is not None:
            if options.max_count < options.count:
                raise BadRequest(f"--max-count ({options.max_count}) must be at least --count ({options.count}).")
            if not options.wait:
                raise BadRequest("Autoscaling is registered once the endpoint is InService: use --wait with "
                                 "--max-count.")
        return instance_type

    def _image(self, mv: ModelVersion, options: DeployOptions, instance_type: Optional[str]) -> str:
        from ..images import image_uri, mismatch_advice, sklearn_serving_versions

        if options.image_uri:
            return options.image_uri
        version = options.framework_version or mv.serving_version
        if not version:
            raise Conflict(f"{mv.ref} was built with {mismatch_advice(mv.framework_version or 'an unknown version')} "
                           f"Known framework versions: {', '.join(sklearn_serving_versions())}.")
        return image_uri(self.region, version, instance_type)

    def _role(self) -> str:
        role = self.config.role_arn or self._studio_role()
        if not role:
            raise BadRequest(
                "No SageMaker execution role is configured. Set SMOPS_ROLE_ARN to a role SageMaker can "
                "assume (trust sagemaker.amazonaws.com, AmazonSageMakerFullAccess and read access to the "
                "registry bucket), e.g. arn:aws:iam::<account>:role/SageMakerDemoExecutionRole, or "
                "c.SmopsConfig.role_arn; `jupyter smops admin` can create one. In SageMaker Studio the "
                "space's execution role is used automatically.")
        return role

    def _studio_role(self) -> str:
        """In Studio without ExecutionRoleArn in its metadata: the profile's role, else the domain's,
        else the role this app runs as (what the SageMaker SDK's get_execution_role answers)."""
        studio = self.config.studio
        if not studio.detected:
            return ""
        try:
            with aws_errors("finding the Studio execution role", "sagemaker"):
                if studio.user_profile_name:
                    profile = self.sm.describe_user_profile(DomainId=studio.domain_id,
                                                            UserProfileName=studio.user_profile_name)
                    if profile.get("UserSettings", {}).get("ExecutionRole"):
                        return profile["UserSettings"]["ExecutionRole"]
                domain = self.sm.describe_domain(DomainId=studio.domain_id)
                if domain.get("DefaultUserSettings", {}).get("ExecutionRole"):
                    return domain["DefaultUserSettings"]["ExecutionRole"]
            with aws_errors("finding the Studio execution role", "sts"):
                arn = self.clients.client("sts").get_caller_identity()["Arn"]
        except SmopsError as exc:
            log.info("jupyter_smops: no Studio execution role found: %s", exc)
            return ""
        m = re.match(r"^arn:(aws[a-z-]*):sts::(\d{12}):assumed-role/([^/]+)/", arn)
        return f"arn:{m.group(1)}:iam::{m.group(2)}:role/{m.group(3)}" if m else ""

    def _wait(self, name: str, timeout: float, progress: Progress) -> None:
        """Poll until InService; Failed raises with SageMaker's FailureReason."""
        start = time.monotonic()
        while True:
            with aws_errors(f"waiting for endpoint {name}", "sagemaker"):
                desc = self.sm.describe_endpoint(EndpointName=name)
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
            time.sleep(self.poll_seconds)

    def _autoscale(self, name: str, options: DeployOptions, owner: str, mv: ModelVersion) -> None:
        aas = self.clients.client("application-autoscaling")
        resource_id = f"endpoint/{name}/variant/{VARIANT}"
        with aws_errors(f"registering autoscaling for {name} (RegisterScalableTarget)", "application-autoscaling"):
            aas.register_scalable_target(
                ServiceNamespace="sagemaker", ResourceId=resource_id, ScalableDimension=SCALABLE_DIMENSION,
                MinCapacity=options.count, MaxCapacity=options.max_count,
                Tags={t["Key"]: t["Value"] for t in tag_list(self.config.owner_tag_key, owner, model=mv.name,
                                                             version=mv.version, endpoint=name)})
        with aws_errors(f"adding the scaling policy of {name} (PutScalingPolicy)", "application-autoscaling"):
            aas.put_scaling_policy(
                PolicyName=f"{name}-invocations-per-instance", ServiceNamespace="sagemaker",
                ResourceId=resource_id, ScalableDimension=SCALABLE_DIMENSION, PolicyType="TargetTrackingScaling",
                TargetTrackingScalingPolicyConfiguration={
                    "TargetValue": TARGET_INVOCATIONS_PER_INSTANCE,
                    "PredefinedMetricSpecification": {"PredefinedMetricType": "SageMakerVariantInvocationsPerInstance"},
                    "ScaleInCooldown": 300, "ScaleOutCooldown": 60})

    def _undo(self, created: list[tuple[str, str]]) -> None:
        """Delete what a failed deploy created, newest first; report what could not be deleted."""
        for kind, resource in reversed(created):
            try:
                self._delete_one(kind, resource)
            except Exception as exc:  # noqa: BLE001 - keep undoing; the original error is what matters
                log.warning("jupyter_smops: could not delete %s %s after a failed deploy: %s", kind, resource, exc)

    # -- read -----------------------------------------------------------------------------
    def exists(self, name: str) -> bool:
        try:
            self._describe_raw(name)
        except NotFound:
            return False
        return True

    def _describe_raw(self, name: str) -> dict:
        try:
            with aws_errors(f"describing endpoint {name}", "sagemaker"):
                return self.sm.describe_endpoint(EndpointName=name)
        except NotFound:
            raise NotFound(f"No SageMaker endpoint named {name!r} in {self.region}. List them with "
                           f"%smops endpoints.") from None

    def describe(self, name: str) -> Endpoint:
        """One endpoint with its instance type, image, cost and (if Failed) FailureReason."""
        desc = self._describe_raw(name)
        with aws_errors(f"reading the tags of {name}", "sagemaker"):
            tags = tag_dict(self.sm.list_tags(ResourceArn=desc["EndpointArn"]).get("Tags", []))
        return self._endpoint(desc, tags, with_image=True)

    def _endpoint(self, desc: dict, tags: dict, *, with_image: bool = False) -> Endpoint:
        variant: dict = {}
        image = None
        try:
            with aws_errors("describing the endpoint config", "sagemaker"):
                config = self.sm.describe_endpoint_config(EndpointConfigName=desc["EndpointConfigName"])
            variant = (config.get("ProductionVariants") or [{}])[0]
            if with_image and variant.get("ModelName"):
                with aws_errors("describing the model", "sagemaker"):
                    image = self.sm.describe_model(ModelName=variant["ModelName"])["PrimaryContainer"].get("Image")
        except NotFound:
            pass  # config or model deleted under a live endpoint: show what is left
        live = (desc.get("ProductionVariants") or [{}])[0]
        count = live.get("CurrentInstanceCount") or variant.get("InitialInstanceCount")
        serverless = (variant.get("ServerlessConfig") or {}).get("MemorySizeInMB")
        created = _iso(desc.get("CreationTime"))
        instance_type = variant.get("InstanceType")
        prices = self.prices
        status = _STATUS.get(desc.get("EndpointStatus", ""), desc.get("EndpointStatus", "Updating"))
        running = status not in ("Failed", "Deleting")
        max_count = tags.get("smops:max-count")
        return Endpoint(
            name=desc["EndpointName"], status=status, backend=self.kind, model=tags.get("smops:model", ""),
            version=int(tags.get("smops:version") or 0), created_at=created,
            owner=tags.get(self.config.owner_tag_key, ""), instance_type=instance_type,
            instance_count=None if serverless else count, max_count=int(max_count) if max_count else None,
            serverless_memory_mb=serverless, failure_reason=desc.get("FailureReason"),
            cost_per_hour=cost.cost_per_hour(instance_type, count, prices) if running and not serverless else None,
            cost_so_far=cost.cost_so_far(instance_type, count, created, table=prices) if running and not serverless
            else None,
            image_uri=image, arn=desc.get("EndpointArn"))

    def list(self, owner: Optional[str] = None) -> list[Endpoint]:
        """jupyter_smops endpoints (of ``owner`` when given), newest first."""
        summaries = []
        with aws_errors("listing endpoints", "sagemaker"):
            for page in self.sm.get_paginator("list_endpoints").paginate():
                summaries += page.get("Endpoints", [])
        owned = [(s, tags) for s, tags in zip(summaries, self._tags_of([s["EndpointArn"] for s in summaries]))
                 if self._ours(tags, owner)]

        def build(item):
            summary, tags = item
            try:
                return self._endpoint(self._describe_raw(summary["EndpointName"]), tags)
            except NotFound:
                return None  # deleted meanwhile

        with ThreadPoolExecutor(max_workers=8) as pool:
            found = [e for e in pool.map(build, owned) if e is not None]
        return sorted(found, key=lambda e: e.created_at, reverse=True)

    def _tags_of(self, arns: list[str]) -> list[dict]:
        from .sagemaker_ops import tags_or_empty

        with ThreadPoolExecutor(max_workers=8) as pool:
            return list(pool.map(lambda arn: tags_or_empty(self.sm, arn), arns))

    def _ours(self, tags: dict, owner: Optional[str]) -> bool:
        return "smops:model" in tags and (owner is None or tags.get(self.config.owner_tag_key) == owner)

    # -- invoke and logs ------------------------------------------------------------------
    def invoke(self, name: str, body: bytes, *, content_type: Optional[str] = None,
               accept: Optional[str] = None, timeout: float = INVOKE_TIMEOUT_SECONDS) -> InvokeResult:
        """InvokeEndpoint; the container's errors become ModelError (424) with its status and log."""
        check_payload_size(len(body))
        runtime = self.clients.client("sagemaker-runtime", read_timeout=int(timeout) + 5, connect_timeout=10)
        args = {"EndpointName": name, "Body": body, "ContentType": content_type or "application/json"}
        if accept:
            args["Accept"] = accept
        start = time.perf_counter()
        try:
            answer = runtime.invoke_endpoint(**args)
            data = answer["Body"].read()
        except Exception as exc:  # noqa: BLE001 - ModelError is special, the rest is translated
            if error_code(exc) == "ModelError":
                raise _model_error(name, exc) from exc
            if error_code(exc) in ("ValidationError", "ValidationException") and "not found" in str(exc):
                # SageMaker's answer for a missing endpoint: "Endpoint X of account N not found."
                raise NotFound(f"No SageMaker endpoint named {name!r} in {self.region}. List them with "
                               f"%smops endpoints.") from None
            with aws_errors(f"InvokeEndpoint {name}", "sagemaker-runtime"):
                raise
        return InvokeResult(endpoint=name, status=200, body=data,
                            content_type=answer.get("ContentType", "application/octet-stream"),
                            latency_ms=(time.perf_counter() - start) * 1000.0)

    def logs(self, name: str, tail: int = 200) -> str:
        """The newest ``tail`` lines across the endpoint's CloudWatch log streams."""
        from .sagemaker_ops import tail_logs

        return tail_logs(self.clients.client("logs"), name, tail)

    # -- delete ---------------------------------------------------------------------------
    def delete(self, name: str, progress: Progress = no_progress) -> None:
        """Scaling target -> endpoint -> endpoint config -> model; what is already gone is skipped."""
        from .sagemaker_ops import delete_endpoint

        delete_endpoint(self, name, progress)

    def _delete_one(self, kind: str, resource: str) -> bool:
        """Delete one resource; False when it was already gone."""
        from .sagemaker_ops import delete_one

        return delete_one(self, kind, resource)

    def cleanup(self, owner: str, dry_run: bool = False) -> CleanupResult:
        """Every smops endpoint, config and model tagged with ``owner`` (listed only on a dry run)."""
        from .sagemaker_ops import cleanup

        return cleanup(self, owner, dry_run)


def _model_error(name: str, exc: Any) -> ModelError:
    response = exc.response
    status = int(response.get("OriginalStatusCode") or 500)
    original = response.get("OriginalMessage") or response.get("Error", {}).get("Message") or ""
    stream = response.get("LogStreamArn")
    return ModelError(f"The model in endpoint {name} answered {status}: {original.strip()[:1000]} "
                      f"(see %smops logs {name}).", original_status=status, log_stream=stream)


def _iso(value: Any) -> str:
    if isinstance(value, datetime):
        value = value if value.tzinfo else value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")
    return str(value or "")

