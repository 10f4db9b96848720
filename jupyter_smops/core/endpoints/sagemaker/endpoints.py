"""``SageMakerEndpoints``: the endpoints interface over SageMaker AI real-time hosting (instance
or serverless), composed from this package's modules: ``deploy`` (create, wait, autoscale, roll
back), ``resources`` (describe, list, delete, clean up), ``runtime`` (invoke) and ``logs``."""
from __future__ import annotations

from typing import Iterator, Optional

from ... import cost
from ...aws import clients_for
from ...errors import Conflict
from ...types import CleanupResult, Endpoint, InvokeResult, ModelVersion, Progress, PublicFront, no_progress
from ..base import INVOKE_TIMEOUT_SECONDS, ArtifactFetcher, DeployOptions, Endpoints
from . import deploy, expiry, front, logs, resources, runtime
from .account import Account


class SageMakerEndpoints(Endpoints):
    """Endpoints on SageMaker AI real-time (instance or serverless) hosting."""

    kind = "sagemaker"
    poll_seconds = 15.0  # DescribeEndpoint's waiter interval; tests make it shorter

    def __init__(self, config, *, clients=None):
        self.config = config
        self.clients = clients or clients_for(config)
        self.account = Account(self.clients, config)

    @property
    def sm(self):
        return self.account.sm

    @property
    def region(self) -> str:
        return self.account.region

    @property
    def prices(self) -> "cost.PriceTable":
        """The region's prices read from the Price List API (%smops prices --refresh), else built in."""
        return self.account.prices

    def describe_backend(self) -> dict:
        return {"kind": self.kind, "region": self.region, "prices": cost.price_note(self.region, self.prices)}

    def prepare_deploy(self, mv: ModelVersion, options: DeployOptions) -> DeployOptions:
        """The artifact is in S3 and a serving image exists for it here (chosen into the options)."""
        return deploy.prepare(self.account, mv, options)

    def deploy(self, mv: ModelVersion, *, name: str, owner: str, options: DeployOptions,
               fetch: ArtifactFetcher, progress: Progress = no_progress) -> Endpoint:
        """CreateModel -> CreateEndpointConfig -> CreateEndpoint (-> wait -> autoscaling), rolled
        back on failure. SageMaker reads the artifact from S3 itself, so ``fetch`` is not used."""
        deploy.create(self.account, mv, name, owner, options, progress, self.poll_seconds)
        if options.wait:
            progress("done", None, None)
        return self.describe(name)

    def execution_role(self) -> str:
        """The role SageMaker endpoints run as (configured, else found through Studio)."""
        return deploy.execution_role(self.account)

    def exists(self, name: str) -> bool:
        return resources.exists(self.account, name)

    def describe(self, name: str) -> Endpoint:
        """One endpoint with its instance type, image, cost and (if Failed) FailureReason."""
        return resources.describe(self.account, name)

    def list(self, owner: Optional[str] = None) -> list[Endpoint]:
        """jupyter_smops endpoints (of ``owner`` when given), newest first."""
        return resources.list_endpoints(self.account, owner)

    def invoke(self, name: str, body: bytes, *, content_type: Optional[str] = None,
               accept: Optional[str] = None, timeout: float = INVOKE_TIMEOUT_SECONDS) -> InvokeResult:
        """InvokeEndpoint; the container's errors become ModelError (424) with its status and log."""
        return runtime.invoke(self.account, name, body, content_type=content_type, accept=accept, timeout=timeout)

    def logs(self, name: str, tail: int = 200, since: Optional[float] = None) -> str:
        """The newest ``tail`` lines across the endpoint's CloudWatch log streams (from ``since``)."""
        return logs.tail_logs(self.clients.client("logs"), name, tail, since)

    def follow_logs(self, name: str, *, since: Optional[float] = None, until: Optional[float] = None,
                    poll: float = 2.0) -> Iterator[str]:
        """CloudWatch events as they arrive, until ``until`` or the endpoint is deleted."""
        return logs.follow_logs(self.clients.client("logs"), name, since=since, until=until, poll=poll,
                                exists=lambda: self.exists(name))

    def set_expiry(self, name: str, expires_at: Optional[float], owner: str) -> Endpoint:
        """Move the endpoint's EventBridge schedule (created when it had none) and its
        ``smops:expires-at`` tag; None deletes both (the endpoint then never expires)."""
        desc = resources.describe_raw(self.account, name)
        tags = resources.tags_or_empty(self.sm, desc["EndpointArn"])
        owner = tags.get(self.account.owner_key) or owner  # the schedule lives in its owner's group
        if expires_at:
            expiry.update(self.account, name, owner, expires_at)
        else:
            expiry.delete(self.account, name, owner)
        expiry.set_tag(self.account, desc["EndpointArn"], expires_at, owner)
        return self.describe(name)

    def expose(self, name: str, owner: str, *, rate_limit: float, burst_limit: int,
               quota_per_day: int) -> PublicFront:
        """API Gateway REST API + key + usage plan in front of the endpoint (``front.py``)."""
        status = resources.describe_raw(self.account, name).get("EndpointStatus")  # NotFound first
        if status in ("Failed", "Deleting"):
            # A front would only ever answer errors: nothing is created.
            raise Conflict(f"Endpoint {name} is {status}: it cannot serve, so a public URL would only answer "
                           f"errors. {'Delete it and deploy again' if status == 'Failed' else 'Deploy again'}, "
                           f"then expose the new endpoint.")
        return front.create(self.account, name, owner, rate_limit=rate_limit, burst_limit=burst_limit,
                            quota_per_day=quota_per_day)

    def unexpose(self, name: str) -> bool:
        """Delete the endpoint's front (plan keys, plan, key, REST API) and its URL tag."""
        desc = resources.describe_raw(self.account, name)
        tags = resources.tags_or_empty(self.sm, desc["EndpointArn"])
        removed = front.delete(self.account, name, tags.get(self.account.owner_key))
        if front.URL_TAG in tags:
            from ...aws import aws_errors

            with aws_errors("removing the public URL from the endpoint", "sagemaker"):
                self.sm.delete_tags(ResourceArn=desc["EndpointArn"], TagKeys=[front.URL_TAG])
        return removed

    def delete(self, name: str, progress: Progress = no_progress) -> None:
        """Front -> schedule -> scaling target -> endpoint -> endpoint config -> model; what is
        already gone is skipped."""
        resources.delete_endpoint(self.account, name, progress)

    def cleanup(self, owner: str, dry_run: bool = False) -> CleanupResult:
        """Every smops endpoint, config and model tagged with ``owner`` (listed only on a dry run)."""
        return resources.cleanup(self.account, owner, dry_run)
