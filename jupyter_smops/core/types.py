"""Typed results shared by every face. Names follow AWS where AWS has one."""
from __future__ import annotations

import dataclasses
import html
import json
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

# progress(phase, done, total): phases such as "uploading"; done/total in bytes or steps. Every
# long operation of the core takes one; faces turn it into a bar, a job's state or nothing.
Progress = Callable[[str, Optional[int], Optional[int]], None]


def no_progress(phase: str, done: Optional[int] = None, total: Optional[int] = None) -> None:
    """A progress callback that ignores everything."""


ENDPOINT_STATUSES = ("Creating", "InService", "Failed", "Deleting", "Updating")
APPROVAL_STATUSES = ("PendingManualApproval", "Approved", "Rejected")


class _Result:
    """Mixin: ``to_dict`` for JSON, readable text and HTML displays for notebooks."""

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)  # type: ignore[arg-type]

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), default=str)

    def __repr__(self) -> str:
        # Defined here (dataclasses use repr=False) so IPython finds _repr_pretty_ below first.
        fields = ", ".join(f"{f.name}={getattr(self, f.name)!r}" for f in dataclasses.fields(self))  # type: ignore[arg-type]
        return f"{type(self).__name__}({fields})"

    def _repr_pretty_(self, printer, cycle: bool) -> None:
        """IPython's text display: the same short summary the CLI prints."""
        printer.text(str(self))

    def _repr_html_(self) -> str:
        rows = "".join(
            f"<tr><th style='text-align:left'>{html.escape(k)}</th><td style='text-align:left'>{html.escape(_short(v))}</td></tr>"
            for k, v in self.to_dict().items() if v not in (None, "", [], {})
        )
        return f"<table><caption style='text-align:left'><b>{html.escape(type(self).__name__)}</b></caption>{rows}</table>"


def _short(v: Any) -> str:
    s = v if isinstance(v, str) else json.dumps(v, default=str)
    return s if len(s) <= 200 else s[:197] + "..."


@dataclass(frozen=True)
class DeployOptions:
    """How to deploy a version; unset fields take the backend's defaults."""

    instance_type: Optional[str] = None
    count: int = 1
    max_count: Optional[int] = None
    serverless_memory_mb: Optional[int] = None
    serverless_max_concurrency: int = 5
    framework_version: Optional[str] = None
    image_uri: Optional[str] = None
    wait: bool = True
    timeout: float = 1800.0
    # Seconds from creation until the endpoint is deleted (a plan fills in the default); None
    # after planning means no expiry, which ``no_expiry`` asks for.
    expires_in: Optional[float] = None
    no_expiry: bool = False


@dataclass(frozen=True, repr=False)
class Check(_Result):
    """One named validation check of an artifact."""

    name: str
    ok: bool
    message: str = ""
    # "error" fails the artifact; "warning" is reported but does not block.
    severity: str = "error"

    def __str__(self) -> str:
        mark = "ok" if self.ok else ("WARN" if self.severity == "warning" else "FAIL")
        return f"[{mark}] {self.name}: {self.message}" if self.message else f"[{mark}] {self.name}"


@dataclass(frozen=True, repr=False)
class PackageResult(_Result):
    """A built and validated model.tar.gz."""

    path: str
    sha256: str
    size: int
    model_file: str
    framework: str
    framework_version: Optional[str]
    serving_version: Optional[str]
    checks: list = field(default_factory=list)
    sample_input: Any = None
    # What code/requirements.txt asks the container to install at start; the exact scikit-learn
    # it pins (the user's or the one packaging added because no image has the trained version).
    requirements: list = field(default_factory=list)
    requirements_pin: Optional[str] = None
    pin_added: bool = False
    # Content types code/inference.py reads (request) and writes (response), from its source
    # (packaging.content_types); None when it cannot tell, so every type is offered.
    accepts: Optional[list] = None
    produces: Optional[list] = None

    @property
    def ok(self) -> bool:
        return all(c.ok or c.severity != "error" for c in self.checks)

    def to_dict(self) -> dict:
        d = dataclasses.asdict(self)
        d["ok"] = self.ok
        return d

    def __str__(self) -> str:
        lines = [f"model.tar.gz: {self.path} ({human_size(self.size)}, sha256 {self.sha256[:12]})",
                 f"framework: {self.framework} {self.framework_version or '?'} -> serving {self.serving_version or 'none'}"
                 + (f" + scikit-learn=={self.requirements_pin} installed at start" if self.requirements_pin else "")]
        lines += [f"  {c}" for c in self.checks]
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        # The checks as a table saying ok / warning / error (a passing check's severity is moot).
        rows = "".join(f"<tr><td style='text-align:left'>{html.escape(c.name)}</td>"
                       f"<td style='text-align:left'>{'ok' if c.ok else c.severity}</td>"
                       f"<td style='text-align:left'>{html.escape(c.message)}</td></tr>" for c in self.checks)
        head = "".join(f"<div>{html.escape(line)}</div>" for line in str(self).splitlines()[:2])
        return (f"{head}<table><thead><tr><th style='text-align:left'>check</th><th style='text-align:left'>"
                f"result</th><th style='text-align:left'>message</th></tr></thead><tbody>{rows}</tbody></table>")


@dataclass(frozen=True, repr=False)
class ModelVersion(_Result):
    """One immutable registry version."""

    name: str
    version: int
    sha256: str
    size: int
    framework: str
    framework_version: Optional[str]
    serving_version: Optional[str]
    model_file: str
    created_at: str
    created_by: str
    source: Optional[str] = None
    approval_status: str = "PendingManualApproval"
    sample_input: Any = None
    uri: str = ""
    model_package_arn: Optional[str] = None
    requirements: list = field(default_factory=list)  # as PackageResult's three fields
    requirements_pin: Optional[str] = None
    pin_added: bool = False
    # As PackageResult's: recorded at push; None when unknown or pushed before they were recorded.
    accepts: Optional[list] = None
    produces: Optional[list] = None

    @property
    def ref(self) -> str:
        return f"{self.name}:{self.version}"

    def __str__(self) -> str:
        return (f"{self.ref}  {human_size(self.size)}  sha256 {self.sha256[:12]}  "
                f"sklearn {self.framework_version or '?'}  {self.approval_status}  {self.created_at}")


@dataclass(frozen=True, repr=False)
class Model(_Result):
    """A registry name and its versions, oldest first."""

    name: str
    versions: list = field(default_factory=list)

    @property
    def latest(self) -> Optional[ModelVersion]:
        return self.versions[-1] if self.versions else None

    def __str__(self) -> str:
        return "\n".join([f"{self.name} ({len(self.versions)} version{'s' if len(self.versions) != 1 else ''})"]
                         + [f"  {v}" for v in self.versions])


@dataclass(frozen=True, repr=False)
class Endpoint(_Result):
    """An endpoint on either backend; ``url`` is set for local endpoints."""

    name: str
    status: str
    backend: str
    model: str
    version: int
    created_at: str
    owner: str = ""
    instance_type: Optional[str] = None
    instance_count: Optional[int] = None
    max_count: Optional[int] = None
    serverless_memory_mb: Optional[int] = None
    url: Optional[str] = None
    failure_reason: Optional[str] = None
    cost_per_hour: Optional[float] = None
    cost_so_far: Optional[float] = None
    image_uri: Optional[str] = None
    arn: Optional[str] = None
    # When the endpoint is deleted by itself (ISO UTC; None: never), the whole seconds left then
    # (at the time of this answer) and what it costs until then (None when free or unknown).
    expires_at: Optional[str] = None
    seconds_left: Optional[int] = None
    cost_until_expiry: Optional[float] = None
    public_url: Optional[str] = None  # the API Gateway front (``expose``), None when not exposed

    def __str__(self) -> str:
        where = self.url or self.instance_type or ""
        cost = f"  ${self.cost_per_hour:.3f}/h (${self.cost_so_far or 0:.2f} so far)" if self.cost_per_hour else ""
        reason = f"\n    reason: {self.failure_reason}" if self.failure_reason else ""
        return f"{self.name}  {self.status}  {self.model}:{self.version}  {self.backend} {where}{cost}{reason}"


def expiry_fields(expires_at: Optional[str], cost_per_hour: Optional[float], *, now: Optional[float] = None) -> dict:
    """``expires_at``, ``seconds_left`` and ``cost_until_expiry`` for an Endpoint, from the expiry
    time and the hourly cost (backends call it when they build one)."""
    from .durations import seconds_left

    left = seconds_left(expires_at, now)
    cost = round(cost_per_hour * left / 3600.0, 4) if cost_per_hour and left is not None else None
    return {"expires_at": expires_at, "seconds_left": left, "cost_until_expiry": cost}


@dataclass(frozen=True, repr=False)
class PublicFront(_Result):
    """An endpoint's public front (API Gateway REST API + API key + usage plan), or on the local
    backend what it would be (``created`` False and ``runtime_url`` offered instead)."""

    endpoint: str
    created: bool
    url: Optional[str] = None
    api_key: Optional[str] = None  # the key's value: given once by expose, never stored here
    api_key_id: Optional[str] = None
    rest_api_id: Optional[str] = None
    usage_plan_id: Optional[str] = None
    rate_limit: Optional[float] = None
    burst_limit: Optional[int] = None
    quota_per_day: Optional[int] = None
    runtime_url: Optional[str] = None
    message: str = ""

    def curl(self) -> str:
        """A curl command calling the front (or the local runtime address)."""
        body = "'{\"instances\": [[5.1, 3.5, 1.4, 0.2]]}'"
        if self.created and self.url:
            return (f"curl -X POST {self.url} -H 'x-api-key: {self.api_key or '<your key>'}' "
                    f"-H 'Content-Type: application/json' -d {body}")
        if self.runtime_url:
            # The local runtime address refuses unsigned requests (any SigV4 signature will do).
            return (f"curl -X POST {self.runtime_url}/endpoints/{self.endpoint}/invocations "
                    f"--aws-sigv4 'aws:amz:us-east-1:sagemaker' --user 'local:local' "
                    f"-H 'Content-Type: application/json' -d {body}")
        return ""

    def to_dict(self) -> dict:
        d = dataclasses.asdict(self)
        d["curl"] = self.curl()
        return d

    def __str__(self) -> str:
        lines = [self.message] if self.message else []
        if self.created:
            lines += [f"URL:     {self.url}", f"API key: {self.api_key or '(shown once, when exposed)'}",
                      f"limits:  {self.rate_limit:g} requests/s (bursts of {self.burst_limit}), "
                      f"{self.quota_per_day} requests/day"]
        if self.curl():
            lines += ["try it:", f"  {self.curl()}"]
        return "\n".join(lines)


@dataclass(frozen=True, repr=False)
class InvokeResult(_Result):
    """What InvokeEndpoint gave back."""

    endpoint: str
    status: int
    body: bytes
    content_type: str
    latency_ms: float

    def decoded(self) -> Any:
        """JSON bodies decoded, CSV as text, anything else as bytes."""
        ct = (self.content_type or "").split(";")[0].strip()
        if ct == "application/json":
            return json.loads(self.body)
        if ct.startswith("text/"):
            return self.body.decode("utf-8")
        if ct == "application/x-npy":
            import io

            import numpy as np

            return np.load(io.BytesIO(self.body), allow_pickle=False)
        return self.body

    def to_dict(self) -> dict:
        d = dataclasses.asdict(self)
        d["body"] = self.body.decode("utf-8", "replace")
        return d


@dataclass(frozen=True, repr=False)
class CleanupResult(_Result):
    """What cleanup removed (or would remove, on a dry run)."""

    dry_run: bool
    endpoints: list = field(default_factory=list)
    endpoint_configs: list = field(default_factory=list)
    models: list = field(default_factory=list)
    registry_versions: list = field(default_factory=list)
    schedules: list = field(default_factory=list)  # expiry schedules (EventBridge Scheduler)
    public_fronts: list = field(default_factory=list)  # API Gateway fronts, by endpoint name
    errors: list = field(default_factory=list)
    leftovers: list = field(default_factory=list)  # debris of killed operations (cache folders, claims, uploads)

    def __str__(self) -> str:
        verb = "would delete" if self.dry_run else "deleted"
        parts = []
        for label, items in (("public front", self.public_fronts), ("expiry schedule", self.schedules),
                             ("endpoint", self.endpoints), ("endpoint config", self.endpoint_configs),
                             ("SageMaker model", self.models), ("registry version", self.registry_versions),
                             ("leftover", self.leftovers)):
            if items:
                parts.append(f"{verb} {len(items)} {label}{'' if len(items) == 1 else 's'}: "
                             f"{', '.join(map(str, items))}")
        parts += [f"error: {e}" for e in self.errors]
        return "\n".join(parts) or "Nothing to clean up: you have no endpoints."


def human_size(n: int) -> str:
    """1536 -> '1.5 KB': the one way every face writes a size."""
    size = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{n} B"
