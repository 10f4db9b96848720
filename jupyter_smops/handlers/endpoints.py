"""Endpoint routes: deploy, list, describe, delete, invoke, logs, and cleanup.

The backends are the source of truth for endpoints: a describe or a listing always asks them,
never the job table, so after a server restart in the middle of a deploy the endpoint shows
the status SageMaker (or the local endpoint's state file) reports.
"""
from __future__ import annotations

import time

from jupyter_server.auth.decorator import authorized
from tornado import web

from ..core.durations import parse_duration
from ..core.limits import MAX_PAYLOAD_BYTES, check_payload_size
from ..core.types import DeployOptions
from ..core.errors import BadRequest, Conflict, PayloadTooLarge, SmopsError
from ..core.names import validate_endpoint_name
from .base import SmopsHandler
from .requests import CleanupRequest, DeployRequest, ExposeRequest, ExtendRequest

MAX_LOG_LINES = 10_000
# Longer durations would put an expiry past what dates can hold (year 9999) and fail the job later.
MAX_DURATION_DAYS = 1_000_000


def _duration(text, what: str):
    """``parse_duration`` with an upper bound checked now (400), not as a failed job."""
    seconds = parse_duration(text, what=what)
    if seconds is not None and seconds > MAX_DURATION_DAYS * 86400:
        raise BadRequest(f"{what} {text!r} is longer than {MAX_DURATION_DAYS:,} days; for an endpoint that stays "
                         f"until deleted, use no_expiry.")
    return seconds


def _target(name: str) -> str:
    return f"endpoint:{name}"


class EndpointsHandler(SmopsHandler):
    @web.authenticated
    @authorized
    async def get(self) -> None:
        """This owner's endpoints on every backend in use (``?all_owners=true`` for everyone's)."""
        raw = self.get_query_argument("all_owners", "false")
        if raw not in ("true", "false"):
            # A boolean, as the OpenAPI document says: null, 1 or "yes" must not pass as false or true.
            raise BadRequest(f"Query 'all_owners' must be true or false, got {raw!r}.")
        all_owners = raw == "true"
        endpoints = await self.call(self.smops.list_endpoints, all_owners)
        self.reply({"endpoints": [e.to_dict() for e in endpoints]})

    @web.authenticated
    @authorized
    async def post(self) -> None:
        """Deploy a registry version to a new endpoint, as a job (202 with the endpoint's name)."""
        req = self.body_as(DeployRequest)
        options = DeployOptions(instance_type=req.instance_type, count=req.count or 1, max_count=req.max_count,
                                serverless_memory_mb=req.serverless_memory_mb,
                                framework_version=req.framework_version, image_uri=req.image_uri, wait=True,
                                expires_in=_duration(req.expires_in, "expires_in"), no_expiry=req.no_expiry)
        # Every rule is checked now (a 4xx at once, never a failed job); the job only creates.
        plan = await self.call(self.smops.plan_deploy, req.model, version=req.version, endpoint=req.name,
                               local=req.local, options=options)
        running = self.jobs.running_for(_target(plan.endpoint))
        if running:
            raise Conflict(f"Endpoint {plan.endpoint!r} is being worked on by job {running.id} ({running.kind}); "
                           f"wait for it or choose another name.")
        smops = self.smops
        job = self.jobs.submit("deploy", lambda progress: smops.deploy(plan, progress=progress),
                               target=_target(plan.endpoint), exclusive=True)
        self.accepted(job, endpoint=plan.endpoint, model=plan.version.name, version=plan.version.version)


class EndpointHandler(SmopsHandler):
    @web.authenticated
    @authorized
    async def get(self, name: str) -> None:
        """One endpoint, as its backend describes it now."""
        name = validate_endpoint_name(name)
        endpoint = await self.call(self.smops.describe_endpoint, name)
        self.reply(endpoint.to_dict())

    @web.authenticated
    @authorized
    async def delete(self, name: str) -> None:
        """Delete the endpoint, its config and its model, as a job (202)."""
        name = validate_endpoint_name(name)
        running = self.jobs.running_for(_target(name))
        if running:
            raise Conflict(f"Endpoint {name!r} is being worked on by job {running.id} ({running.kind}); "
                           f"wait for it to finish, then delete.")
        await self.call(self.smops.describe_endpoint, name)  # 404 now rather than a failed job
        smops = self.smops

        def work(progress):
            progress("deleting", 0, 1)
            smops.delete(name, progress=progress)
            return {"deleted": name}

        job = self.jobs.submit("delete", work, target=_target(name), exclusive=True)
        self.accepted(job, endpoint=name)


class InvocationsHandler(SmopsHandler):
    """The body streams in (as on every route, see ``SmopsHandler``) with InvokeEndpoint's own
    6 MiB limit: a larger Content-Length is 413 from the headers, a chunked body as soon as what
    has arrived passes it."""

    max_body = MAX_PAYLOAD_BYTES

    def too_large(self, size: int, *, so_far: bool) -> SmopsError:
        try:
            check_payload_size(size, so_far=so_far)
        except PayloadTooLarge as exc:
            return exc
        raise AssertionError("not too large")  # pragma: no cover - only called past the limit

    @web.authenticated
    @authorized
    async def post(self, name: str) -> None:
        """InvokeEndpoint: raw body in, the model's body and Content-Type out (424 ModelError)."""
        name = validate_endpoint_name(name)
        body = self.body
        self._body = bytearray()
        if not body:
            raise BadRequest('The request body is empty; send the model\'s input, e.g. '
                             '{"instances": [[5.1, 3.5, 1.4, 0.2]]}.')
        content_type = self.request.headers.get("Content-Type") or "application/json"
        _check_declared_type(body, content_type)
        accept = self.request.headers.get("Accept")
        if accept in ("", "*/*"):
            accept = None
        start = time.perf_counter()
        result = await self.call(self.smops.invoke, name, body, content_type=content_type, accept=accept)
        latency = getattr(result, "latency_ms", None) or (time.perf_counter() - start) * 1000.0
        self.set_header("X-Smops-Latency-Ms", f"{latency:.2f}")
        self.set_status(200)
        self.finish(result.body, set_content_type=result.content_type or "application/octet-stream")


def _check_declared_type(body: bytes, content_type: str) -> None:
    """The body is forwarded with the type the client declares (as InvokeEndpoint does: CSV that
    happens to look like JSON is the model's to read). Only a body that cannot be what its own
    Content-Type says is refused here, as the client's mistake: JSON that does not parse, and
    text (CSV) that is not UTF-8. What the model makes of a well-formed body is its answer."""
    import json

    media = content_type.split(";")[0].strip().lower()
    if media == "application/json" or media.endswith("+json"):
        try:
            json.loads(body)
        except ValueError as exc:
            detail = f"{exc.msg} at line {exc.lineno} column {exc.colno}" if isinstance(exc, json.JSONDecodeError) \
                else "not UTF-8 text"
            raise BadRequest(f"The body is not valid JSON ({detail}), though its Content-Type says {media}; "
                             f"fix the body, or send it with the Content-Type it has (e.g. text/csv).") from None
    elif media.startswith("text/"):
        try:
            body.decode("utf-8")
        except UnicodeDecodeError:
            raise BadRequest(f"The body is not UTF-8 text, though its Content-Type says {media}; send UTF-8 text, "
                             f"or binary data as application/x-npy or application/octet-stream.") from None


class LogsHandler(SmopsHandler):
    @web.authenticated
    @authorized
    async def get(self, name: str) -> None:
        """The last ``tail`` lines (default 200) of the endpoint's log, or those after ``since``
        (a duration, an ISO time or the ``next_since`` of an earlier answer, to follow it)."""
        name = validate_endpoint_name(name)
        raw = self.get_query_argument("tail", "200")
        if not raw.isdigit() or not 1 <= int(raw) <= MAX_LOG_LINES:
            raise BadRequest(f"Query 'tail' must be an integer from 1 to {MAX_LOG_LINES}, got {raw!r}.")
        since = self.get_query_argument("since", None)
        self.reply(await self.call(self.smops.log_page, name, tail=int(raw), since=since))


class CleanupHandler(SmopsHandler):
    @web.authenticated
    @authorized
    async def post(self) -> None:
        """Delete this owner's endpoints (and registry versions if asked); a dry run answers at once."""
        req = self.body_as(CleanupRequest)
        if req.dry_run:
            result = await self.call(self.smops.cleanup, dry_run=True, include_registry=req.include_registry)
            self.reply(result.to_dict())
            return
        smops, include = self.smops, req.include_registry

        def work(progress):
            progress("deleting", None, None)
            return smops.cleanup(dry_run=False, include_registry=include)

        job = self.jobs.submit("cleanup", work, target="cleanup", exclusive=True)
        self.accepted(job)


class ExpiryHandler(SmopsHandler):
    @web.authenticated
    @authorized
    async def post(self, name: str) -> None:
        """Move the endpoint's expiry (``by``, ``expires_in`` or ``no_expiry``); the endpoint as it is now."""
        name = validate_endpoint_name(name)
        req = self.body_as(ExtendRequest)
        by, expires_in = _duration(req.by, "by"), _duration(req.expires_in, "expires_in")
        endpoint = await self.call(self.smops.extend, name, by=by, expires_in=expires_in, no_expiry=req.no_expiry)
        self.reply(endpoint.to_dict())


class PublicFrontHandler(SmopsHandler):
    @web.authenticated
    @authorized
    async def post(self, name: str) -> None:
        """Expose the endpoint (API Gateway); the answer carries the API key's value, once."""
        name = validate_endpoint_name(name)
        req = self.body_as(ExposeRequest)
        front = await self.call(self.smops.expose, name, rate_limit=req.rate_limit, burst_limit=req.burst_limit,
                                quota_per_day=req.quota_per_day)
        self.set_header("Cache-Control", "no-store")  # the key is in the body
        self.reply(front.to_dict(), status=201 if front.created else 200)

    @web.authenticated
    @authorized
    async def delete(self, name: str) -> None:
        """Remove the endpoint's public front."""
        name = validate_endpoint_name(name)
        removed = await self.call(self.smops.unexpose, name)
        self.reply({"endpoint": name, "removed": removed})
