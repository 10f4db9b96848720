"""Every rule a deploy must pass, checked once before anything is created.

``Smops.plan_deploy`` resolves the version, the endpoint name and the options with the rules
below, then asks the target backend to complete the options with what only it knows (the
image for its region); ``Smops.deploy`` carries the resulting ``DeployPlan`` out. Every face
plans first and synchronously, so a refused deploy is an immediate 4xx or error message, never
a failed job; the backends no longer re-check any of it.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Optional

from .types import DeployOptions
from .errors import BadRequest, Conflict
from .types import ModelVersion

# SageMaker serverless memory sizes (MemorySizeInMB) and MaxConcurrency range.
SERVERLESS_MEMORY_MB = (1024, 2048, 3072, 4096, 5120, 6144)
SERVERLESS_MAX_CONCURRENCY = 200
DEFAULT_INSTANCE_TYPE = "ml.t2.medium"


@dataclass(frozen=True)
class DeployPlan:
    """A deploy that passed every check: what ``Smops.deploy`` creates, and where."""

    version: ModelVersion
    endpoint: str
    owner: str
    local: bool  # on this machine (local endpoints), else on the configured remote backend
    options: DeployOptions  # complete: instance type and image chosen for a remote target
    # What the endpoint will run (``serving_plan``): image, scikit-learn, installs, notes.
    serving: dict = dataclasses.field(default_factory=dict)

    def to_dict(self) -> dict:
        return {"model": self.version.name, "version": self.version.version, "endpoint": self.endpoint,
                "owner": self.owner, "local": self.local, "options": dataclasses.asdict(self.options),
                "serving": self.serving}

    def summary(self) -> str:
        """The plan's serving choice in words, for the faces to show before the deploy runs."""
        s = self.serving
        if not s:
            return ""
        where = "this machine (your environment)" if self.local else (s.get("image_uri") or "a custom image")
        lines = [f"{self.endpoint}: {self.version.ref} on {where}, scikit-learn {s.get('sklearn') or 'unknown'}"
                 + (" (installed at start)" if s.get("installs_at_start") else "")]
        return "\n".join(lines + [f"  note: {n}" for n in s.get("notes", [])])


def approval_required(config, *, local: bool) -> bool:
    """Whether a deploy needs an Approved version: ``require_approval`` on, and not a local test
    endpoint (those never leave the machine, so they are exempt). ``core/rules.py`` sends it
    to the panel."""
    return bool(config.require_approval) and not local


def check_approval(config, mv: ModelVersion, *, local: bool) -> None:
    """Conflict when the approval policy (``require_approval``) refuses ``mv``; deploys with
    ``local`` (the quick test on this machine) are exempt."""
    if approval_required(config, local=local) and mv.approval_status != "Approved":
        raise Conflict(f"{mv.ref} is {mv.approval_status}; this deployment requires Approved versions. "
                       f"Approve it first (%smops approve {mv.ref}).")


def check_options(options: DeployOptions, *, remote: bool, default_instance_type: Optional[str]) -> DeployOptions:
    """Refuse impossible option combinations; for a ``remote`` target, return the options with
    the instance type chosen (None for serverless)."""
    if options.count < 1:
        raise BadRequest("The instance count must be at least 1.")
    if options.serverless_memory_mb:
        if options.serverless_memory_mb not in SERVERLESS_MEMORY_MB:
            raise BadRequest(f"Serverless memory must be one of {', '.join(map(str, SERVERLESS_MEMORY_MB))} "
                             f"MB (SageMaker's sizes), not {options.serverless_memory_mb}.")
        if not 1 <= options.serverless_max_concurrency <= SERVERLESS_MAX_CONCURRENCY:
            raise BadRequest(f"Serverless max concurrency must be between 1 and {SERVERLESS_MAX_CONCURRENCY}.")
        # An instance type equal to the configured default may have been filled in by a face.
        if options.max_count or options.instance_type not in (None, "", default_instance_type):
            raise BadRequest("A serverless endpoint scales by itself: drop the maximum count / instance type "
                             "(--max-count, --instance-type), or drop --serverless.")
        return dataclasses.replace(options, instance_type=None) if remote else options
    if options.max_count is not None and options.max_count < options.count:
        raise BadRequest(f"The maximum instance count (max_count: {options.max_count}) must be at least the "
                         f"instance count (count: {options.count}).")
    if not remote:
        return options  # a local endpoint is one process: instance options do not apply
    if options.max_count is not None and not options.wait:
        raise BadRequest("Autoscaling is registered once the endpoint is InService: use --wait with --max-count.")
    instance_type = options.instance_type or default_instance_type or DEFAULT_INSTANCE_TYPE
    if not instance_type.startswith("ml."):
        raise BadRequest(f"Instance type {instance_type!r} is not a SageMaker type; use e.g. ml.t2.medium, "
                         f"ml.m5.large or ml.c5.large.")
    return dataclasses.replace(options, instance_type=instance_type)


def combine_ref(ref: str, version: Optional[int]) -> str:
    """``ref`` with ``version`` given apart (the REST body's ``version`` field); BadRequest when
    both name a version and they differ."""
    from .names import parse_ref

    name, in_ref = parse_ref(ref)
    if version is None:
        return ref
    if in_ref is not None and in_ref != version:
        raise BadRequest(f"{ref!r} names version {in_ref} but version {version} was given too; give one.")
    return f"{name}:{version}"


def serving_plan(mv: ModelVersion, options: DeployOptions, *, local: bool, custom_image: bool = False) -> dict:
    """What an endpoint of ``mv`` will run, said before it is created: the image (remote), the
    scikit-learn (``sklearn``), whether the container installs code/requirements.txt at start,
    and ``notes`` on the trade-offs (a package index needed; a version chosen by hand; this
    environment not matching the requirements, for a local endpoint). ``custom_image``: the user
    gave ``--image-uri``, whose scikit-learn is unknown unless pinned.

    Local endpoints run in this environment and install nothing, so they are told what in
    ``code/requirements.txt`` it lacks (``requirements.environment_note``)."""
    from . import images
    from .packaging import requirements as pins

    pinned = mv.requirements_pin
    trained = mv.framework_version or "?"
    if local:
        note = pins.environment_note("\n".join(mv.requirements)) if mv.requirements else None
        return {"image_uri": None, "serving_version": None, "sklearn": pins.installed_version("scikit-learn"),
                "installs_at_start": False, "notes": [f"The local endpoint runs in your environment, and {note}"]
                if note else []}
    serving = options.framework_version or mv.serving_version
    sklearn = pinned or (None if custom_image else images.image_sklearn(serving or ""))
    notes = []
    if mv.requirements:
        notes.append(f"The container pip-installs code/requirements.txt ({', '.join(mv.requirements)}) when it "
                     f"starts: the endpoint must reach a package index (PyPI, or a mirror named by an --index-url "
                     f"line in your requirements.txt), which adds to its start time. An endpoint without internet "
                     f"access (network isolation, a VPC without egress) cannot start.")
    if pinned and mv.pin_added and serving:
        notes.append(f"scikit-learn {trained} has no serving image, so {pinned} is installed on the {serving} image. "
                     f"For an endpoint without internet access, push the model again with --framework-version "
                     f"{mv.serving_version} from an environment with scikit-learn {images.image_sklearn(serving)}: "
                     f"validation then checks it under the image's own version, and nothing is installed.")
    if options.framework_version and options.framework_version != mv.serving_version:
        if pinned:
            notes.append(f"--framework-version {options.framework_version} changes the image only: code/"
                         f"requirements.txt still installs scikit-learn=={pinned} at start.")
            if not images.can_install(options.framework_version, pinned):
                notes.append(f"The {options.framework_version} image's Python is older than scikit-learn {pinned} "
                             f"supports: the install fails and the endpoint does not start. Choose a newer image.")
        elif images.image_sklearn(options.framework_version) != images.image_sklearn(trained):
            notes.append(f"{mv.ref} was pickled with scikit-learn {trained}; the {options.framework_version} image "
                         f"runs scikit-learn {images.image_sklearn(options.framework_version)}, under which it was "
                         f"not validated. Check it in an environment with that version first.")
    return {"image_uri": options.image_uri, "serving_version": None if custom_image else serving, "sklearn": sklearn,
            "installs_at_start": bool(mv.requirements), "notes": notes}


def expiry_limits(config) -> tuple[Optional[float], Optional[float]]:
    """(default, cap) in seconds from the settings: ``default_expires_in`` ('never' or empty: no
    default expiry) and the admin's ``max_expires_in`` (empty: no cap). BadRequest names the
    setting when either is unreadable."""
    from .durations import NO_EXPIRY_WORDS, parse_duration

    raw = (config.default_expires_in or "").strip().lower()
    default = None if raw in ("", *NO_EXPIRY_WORDS) else \
        parse_duration(raw, what="The setting default_expires_in (SMOPS_DEFAULT_EXPIRES_IN)")
    cap = parse_duration(config.max_expires_in or None, what="The setting max_expires_in (SMOPS_MAX_EXPIRES_IN)")
    return default, cap


def check_lifetime(config, seconds: Optional[float], *, local: bool, asked: str = "--expires-in") -> Optional[float]:
    """``seconds`` from now, within the admin's cap (``max_expires_in``); None (no expiry) only
    without a cap. Local endpoints cost nothing, so the cap does not apply to them."""
    from .durations import human

    _, cap = expiry_limits(config)
    if cap is None or local:
        return seconds
    if seconds is None:
        raise BadRequest(f"Endpoints here must expire: your administrator allows at most {human(cap)} "
                         f"(max_expires_in). Drop --no-expiry, or give --expires-in up to {human(cap)}.")
    if seconds > cap + 0.5:
        raise BadRequest(f"{asked} {human(seconds)} is longer than the {human(cap)} your administrator allows "
                         f"(max_expires_in). Ask for {human(cap)} or less; extend it later if you need to.")
    return seconds


def check_expiry(config, options: DeployOptions, *, local: bool) -> DeployOptions:
    """The options with ``expires_in`` resolved: the one asked for, else the configured default
    (cut to the cap), or None for ``no_expiry``; BadRequest when the cap refuses it."""
    if options.no_expiry and options.expires_in is not None:
        raise BadRequest("Give either --expires-in or --no-expiry, not both.")
    default, cap = expiry_limits(config)
    if options.no_expiry:
        seconds = None
    elif options.expires_in is not None:
        seconds = float(options.expires_in)
        if seconds <= 0:
            raise BadRequest("--expires-in must be longer than zero.")
    else:
        seconds = default if cap is None or local or default is None else min(default, cap)
        if seconds is None and cap is not None and not local:
            seconds = cap
    return dataclasses.replace(options, expires_in=check_lifetime(config, seconds, local=local))
