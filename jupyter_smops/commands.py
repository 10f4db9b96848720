"""The verbs shared by ``%smops`` and ``jupyter smops``: one argparse grammar, one dispatcher.

No IPython or Jupyter imports here: the magics and the CLI each supply how to resolve a name
(a notebook variable or a path), how to print, and how to ask for confirmation.
"""
from __future__ import annotations

import argparse
import dataclasses
import html
import json
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

from .core.durations import parse_duration
from .core.errors import BadRequest, SmopsError, UpstreamError
from .views import CleanupView, EndpointsView, LogView, ModelsView, plural

VERBS_HELP = {
    "push": "package, validate and store a model (or store a model.tar.gz) as the next registry version",
    "package": "build and validate model.tar.gz only",
    "validate": "validate an existing model.tar.gz",
    "models": "list registry models and versions",
    "approve": "approve a version (NAME:V)",
    "reject": "reject a version (NAME:V)",
    "deploy": "deploy a registry version to an endpoint",
    "predict": "send data to an endpoint and return the predictions",
    "endpoints": "list endpoints",
    "describe": "describe one endpoint",
    "logs": "show an endpoint's log",
    "delete": "delete an endpoint",
    "extend": "move an endpoint's expiry (--by 2h, --expires-in 30m, or --no-expiry)",
    "expose": "give an endpoint a public HTTPS URL behind an API key (API Gateway; local: what it would be)",
    "unexpose": "remove an endpoint's public URL and key",
    "cleanup": "delete all of your endpoints",
    "config": "show or set settings",
    "status": "backend, owner, bucket and versions",
    "prices": "the on-demand prices costs are computed with (--refresh reads your region's from AWS)",
}


class UsageError(SmopsError):
    """Bad command-line usage; the message includes the usage line."""

    status = 400
    code = "Usage"


class HelpShown(Exception):
    """``--help`` was asked for; ``text`` is the help to print."""

    def __init__(self, text: str):
        super().__init__(text)
        self.text = text


class _Parser(argparse.ArgumentParser):
    """argparse that raises instead of exiting (a magic must never kill the kernel)."""

    def error(self, message: str):
        usage = self.format_usage().strip()
        # A usage block of many lines buries the message; --help has it all.
        usage = usage + "\n" if usage.count("\n") < 2 else ""
        raise UsageError(f"{message}\n{usage}Try {self.prog} --help.")

    def exit(self, status: int = 0, message: Optional[str] = None):
        if status:
            raise UsageError((message or "").strip() or "invalid usage")
        raise HelpShown("")

    def print_help(self, file=None):
        raise HelpShown(self.format_help())


def build_parser(prog: str = "%smops", extra: Optional[Callable[[Any], None]] = None) -> argparse.ArgumentParser:
    """The grammar of every verb; ``extra(subparsers)`` may add more (the CLI's admin verbs)."""
    parser = _Parser(prog=prog, description="SageMaker MLOps from JupyterLab: push, deploy, test and clean up models.")
    sub = parser.add_subparsers(dest="verb", metavar="VERB", parser_class=_Parser)

    def add(verb: str) -> argparse.ArgumentParser:
        return sub.add_parser(verb, help=VERBS_HELP[verb], description=VERBS_HELP[verb])

    for verb in ("push", "package"):
        p = add(verb)
        p.add_argument("model", help="a notebook variable holding a fitted estimator, or a model file (.joblib, .pkl, "
                                     ".skops)" + (", or a model.tar.gz (validated, then stored as it is)"
                                                 if verb == "push" else ""))
        if verb == "push":
            p.add_argument("--name", required=True, help="registry model name, e.g. iris")
        p.add_argument("--inference", help="your inference.py (default: a generated one)")
        p.add_argument("--requirements", help="a requirements.txt for the endpoint")
        p.add_argument("--sample", help="sample input as JSON (or a variable), stored with the version")
        p.add_argument("--framework-version", help="serve on this scikit-learn image (e.g. 1.4-2-py312) with its own "
                                                   "scikit-learn, installing nothing: only from an environment with "
                                                   "that scikit-learn (the default pins the model's own version "
                                                   "when no image has it)")
        if verb == "package":
            p.add_argument("--out", default="model.tar.gz", help="where to write the archive (default model.tar.gz)")
    add("validate").add_argument("path", help="a model.tar.gz")
    add("models").add_argument("name", nargs="?", help="only this model")
    for verb in ("approve", "reject"):
        add(verb).add_argument("ref", help="NAME:VERSION")
    p = add("deploy")
    p.add_argument("ref", help="NAME or NAME:VERSION (latest when omitted)")
    p.add_argument("--endpoint", help="endpoint name (default NAME-vVERSION)")
    p.add_argument("--instance-type", help="e.g. ml.t2.medium (the default)")
    p.add_argument("--count", type=int, default=1, help="initial instance count")
    p.add_argument("--max-count", type=int, help="enable autoscaling up to this many instances")
    p.add_argument("--serverless", type=int, metavar="MEMORY_MB", help="serverless endpoint with this memory")
    p.add_argument("--serverless-max-concurrency", type=int, default=5)
    p.add_argument("--framework-version", help="scikit-learn serving version, e.g. 1.2-1")
    p.add_argument("--image-uri", help="serving image to use instead of the scikit-learn one")
    p.add_argument("--local", action="store_true", help="deploy to a local endpoint on 127.0.0.1")
    p.add_argument("--expires-in", metavar="DURATION", help="delete the endpoint after this long: 90s, 30m, 2h, 1d "
                                                             "(default: the default_expires_in setting, 4h)")
    p.add_argument("--no-expiry", action="store_true", help="keep the endpoint until deleted (refused when your "
                                                            "administrator caps endpoint lifetimes)")
    p.add_argument("--wait", dest="wait", action="store_true", default=True, help="wait until InService (default)")
    p.add_argument("--no-wait", dest="wait", action="store_false", help="return while Creating")
    p = add("predict")
    p.add_argument("endpoint")
    p.add_argument("data", nargs="?", help="a variable, JSON text, or @file")
    p.add_argument("--content-type", help="default: chosen from the data (JSON; JSON rows for pandas frames; "
                                          "npy for arrays); text/csv sends a frame as headerless CSV")
    p.add_argument("--accept", default="application/json")
    p = add("endpoints")
    p.add_argument("--all", action="store_true", help="every owner's endpoints")
    add("describe").add_argument("endpoint")
    p = add("logs")
    p.add_argument("endpoint")
    p.add_argument("--tail", type=int, help="at most this many lines (default 100; with --since, all in the window)")
    p.add_argument("--since", metavar="WHEN", help="only lines written since WHEN: 30s, 10m, 2h, 1d ago, or an ISO "
                                                   "time such as 2025-06-01T12:00:00Z")
    p.add_argument("--follow", "-f", action="store_true",
                   help="keep printing new lines until interrupted (Ctrl-C, or the notebook's stop button)")
    p.add_argument("--timeout", type=float, metavar="SECONDS", help="with --follow: stop after this many seconds")
    add("delete").add_argument("endpoint")
    p = add("extend")
    p.add_argument("endpoint")
    p.add_argument("--by", metavar="DURATION", help="later than now planned, e.g. 2h")
    p.add_argument("--expires-in", metavar="DURATION", help="from now, e.g. 30m")
    p.add_argument("--no-expiry", action="store_true", help="never expire (refused under an admin cap)")
    p = add("expose")
    p.add_argument("endpoint")
    p.add_argument("--rate", type=float, default=10.0, help="requests per second (steady; default 10)")
    p.add_argument("--burst", type=int, default=20, help="burst of requests (default 20)")
    p.add_argument("--quota", type=int, default=10_000, help="requests per day (default 10000)")
    add("unexpose").add_argument("endpoint")
    p = add("cleanup")
    p.add_argument("--dry-run", action="store_true", help="only list what would be deleted")
    p.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    p.add_argument("--include-registry", action="store_true", help="also delete your registry versions")
    add("config").add_argument("settings", nargs="*", metavar="KEY=VALUE")
    add("status")
    p = add("prices")
    p.add_argument("--refresh", action="store_true",
                   help="read the region's SageMaker hosting prices from the AWS Price List API first "
                        "(needs pricing:GetProducts) and keep them for costs and the deploy form")
    p.add_argument("--region", help="another region than the configured one")
    if extra:
        extra(sub)
    return parser


@dataclass
class Face:
    """What a face supplies to the dispatcher."""

    resolve: Callable[[str], Any] = lambda text: text  # variable name -> object
    echo: Callable[[str], None] = print
    confirm: Callable[[str], bool] = lambda question: False
    config_target: Any = None  # the SmopsConfig that ``config KEY=VALUE`` changes
    on_config_change: Callable[[], None] = lambda: None
    source: Optional[str] = None
    # Where followed log lines go as they arrive (the CLI: stdout, unlike ``echo``'s stderr).
    stream: Callable[[str], None] = lambda line: print(line, flush=True)


def error_lines(exc: SmopsError) -> list[str]:
    """What a face prints for an error: its message, then the failed checks it does not already
    name (an InvalidArtifact's message lists its failed checks; its warnings come after)."""
    lines = [f"Error: {exc}"]
    for check in getattr(exc, "checks", None) or []:
        if not check.ok and f"- {check.name}: {check.message}" not in str(exc):
            lines.append(f"  {check}")
    return lines


@dataclass
class Settings:
    """Displayable settings (``config``)."""

    values: dict = field(default_factory=dict)

    def __str__(self) -> str:
        width = max(len(k) for k in self.values)
        return "\n".join(f"{k.ljust(width)}  {v}" for k, v in self.values.items())

    def to_dict(self) -> dict:
        return dict(self.values)

    def _repr_pretty_(self, printer, cycle: bool) -> None:
        printer.text(str(self))

    def _repr_html_(self) -> str:
        rows = "".join(f"<tr><th style='text-align:left'>{html.escape(k)}</th>"
                       f"<td style='text-align:left'>{html.escape(str(v))}</td></tr>" for k, v in self.values.items())
        return f"<table>{rows}</table>"


def parse_json_arg(text: Optional[str], face: Face) -> Any:
    """A JSON literal, ``@file``, or a variable name resolved by the face."""
    if text is None:
        return None
    if text.startswith("@"):
        with open(text[1:], "rb") as fh:
            return fh.read()
    try:
        return json.loads(text)
    except ValueError:
        pass
    value = face.resolve(text)
    if value is text:
        raise BadRequest(f"{text!r} is neither JSON nor a known variable. Pass JSON such as "
                         '{"instances": [[5.1, 3.5, 1.4, 0.2]]} or the name of a variable.')
    return value


def run(args: argparse.Namespace, smops, face: Face) -> Any:
    """Carry out one parsed verb against a ``Smops`` and return its result object."""
    if not args.verb:
        raise HelpShown(build_parser().format_help())
    handler = _HANDLERS.get(args.verb)
    if handler is None:  # a verb added by ``extra`` carries its own function
        return args.func(args)
    return handler(args, smops, face)


def _push(args, smops, face):
    model = face.resolve(args.model)
    sample = parse_json_arg(args.sample, face)
    mv = smops.push(model, name=args.name, inference=args.inference, requirements=args.requirements,
                    sample=sample, source=face.source or (args.model if isinstance(model, str) else None),
                    progress=_phase_printer(face), framework_version=args.framework_version)
    face.echo(f"pushed {mv.ref} ({mv.sha256[:12]}, {mv.uri})")
    if mv.pin_added:
        face.echo(f"  scikit-learn {mv.framework_version} has no SageMaker serving image: code/requirements.txt pins "
                  f"scikit-learn=={mv.requirements_pin}, which the {mv.serving_version} image installs at start")
    return mv


def _package(args, smops, face):
    result = smops.package(face.resolve(args.model), inference=args.inference, requirements=args.requirements,
                           sample=parse_json_arg(args.sample, face), out=args.out,
                           framework_version=args.framework_version)
    return result


def _deploy(args, smops, face):
    from .core.types import DeployOptions

    options = DeployOptions(instance_type=args.instance_type, count=args.count, max_count=args.max_count,
                            serverless_memory_mb=args.serverless,
                            serverless_max_concurrency=args.serverless_max_concurrency,
                            framework_version=args.framework_version, image_uri=args.image_uri, wait=args.wait,
                            expires_in=parse_duration(args.expires_in), no_expiry=args.no_expiry)
    start = time.perf_counter()
    plan = smops.plan_deploy(args.ref, endpoint=args.endpoint, local=args.local, options=options)
    if plan.summary():  # which image and scikit-learn, before the wait
        face.echo(plan.summary())
    endpoint = smops.deploy(plan, progress=_phase_printer(face))
    face.echo(f"{endpoint.name}: {endpoint.status} after {time.perf_counter() - start:.1f} s"
              + (f" at {endpoint.url}" if endpoint.url else ""))
    face.echo(f"  {expiry_line(endpoint)}")
    if endpoint.status == "Failed":  # a failure like any other: the notebook stops here
        raise UpstreamError(f"Endpoint {endpoint.name} failed: {(endpoint.failure_reason or 'no reason given').rstrip('.')}. "
                            f"Full log: %smops logs {endpoint.name}; remove it with %smops delete {endpoint.name}.")
    if endpoint.failure_reason:
        face.echo(f"  reason: {endpoint.failure_reason}\n  (full log: %smops logs {endpoint.name})")
    return endpoint


def _predict(args, smops, face):
    if args.data is None:
        raise BadRequest("Say what to send: %smops predict ENDPOINT <variable or JSON>, e.g. "
                         '%smops predict iris-v1 {"instances": [[5.1, 3.5, 1.4, 0.2]]}')
    data = parse_json_arg(args.data, face)
    if isinstance(data, (dict, list)) and not args.content_type and args.data.lstrip()[:1] in "[{":
        data = args.data  # send the user's JSON text exactly as typed
    result = smops.predict(args.endpoint, data, content_type=args.content_type, accept=args.accept)
    face.echo(f"{result.endpoint}: HTTP {result.status} in {result.latency_ms:.1f} ms")
    return result.decoded()


def _cleanup(args, smops, face):
    plan = smops.cleanup(dry_run=True, include_registry=args.include_registry)
    if not (args.dry_run or not (plan.endpoints or plan.registry_versions)):
        if not args.yes and not face.confirm(f"{plan}\nDelete all of this? [y/N] "):
            raise BadRequest("Nothing was deleted. Run with --yes to delete without asking, or --dry-run to list.")
        plan = smops.cleanup(dry_run=False, include_registry=args.include_registry)
    elif not args.dry_run:  # nothing to delete: the answer is not a dry run's
        plan = dataclasses.replace(plan, dry_run=False)
    # Say what stays, so "nothing to clean up" never sits unexplained next to listed versions.
    kept = [] if args.include_registry else [v.ref for m in smops.models() for v in m.versions
                                             if v.created_by == smops.owner]
    return CleanupView(plan, kept)


def _logs(args, smops, face):
    since = smops.parse_since(args.since)
    tail = 100 if args.tail is None and args.follow else args.tail  # None: the core's default
    log = LogView(smops.logs(args.endpoint, tail=tail, since=since), endpoint=args.endpoint, tail=tail, since=since)
    if not args.follow:
        return log
    for line in log.lines:
        face.stream(line)
    until = time.time() + args.timeout if args.timeout else None
    count = 0
    try:
        for line in smops.follow_logs(args.endpoint, until=until):
            face.stream(line)
            count += 1
    except KeyboardInterrupt:  # how a follow is meant to end
        why = "interrupted"
    else:
        why = f"after {args.timeout:g} s" if until and time.time() >= until else f"{args.endpoint} is gone"
    face.echo(f"stopped following {args.endpoint} ({why}; {plural(count, 'new line')})")
    return None


def _config(args, smops, face):
    target = face.config_target or smops.config
    for item in args.settings:
        key, sep, value = item.partition("=")
        key = key.strip().replace("-", "_")
        if not sep or key not in target.public():
            raise BadRequest(f"Use KEY=VALUE with a KEY among: {', '.join(target.public())}.")
        trait = target.traits()[key]
        try:
            setattr(target, key, trait.from_string(value))
        except Exception as exc:  # traitlets' own message names the expected type
            raise BadRequest(f"Invalid value for {key}: {exc}") from None
    if args.settings:
        face.on_config_change()
    return Settings(target.public())


def _prices(args, smops, face):
    table = smops.prices(refresh=args.refresh, region=args.region)
    if args.refresh:
        face.echo(f"read {len(table.hourly_usd)} hosting prices for {table.region} from the AWS Price List API")
    values = {"region": table.region, "date": table.date, "source": table.source}
    values.update({t: f"${p:g}/h" for t, p in sorted(table.hourly_usd.items())})
    return Settings(values)


def expiry_line(ep) -> str:
    """``expires 2025-06-01T16:00:00Z (in 4 h; $0.22 until then)`` or that it never expires."""
    from .core.durations import human

    if not ep.expires_at:
        return f"never expires: delete it when done (%smops delete {ep.name}), or %smops extend {ep.name} --expires-in 2h"
    cost = f"; ${ep.cost_until_expiry:.2f} until then" if ep.cost_until_expiry is not None else ""
    return f"expires {ep.expires_at} (in {human(ep.seconds_left)}{cost}); %smops extend {ep.name} --by 2h to keep it longer"


def _extend(args, smops, face):
    endpoint = smops.extend(args.endpoint, by=parse_duration(args.by, what="--by"),
                            expires_in=parse_duration(args.expires_in), no_expiry=args.no_expiry)
    face.echo(f"{endpoint.name}: {expiry_line(endpoint)}")
    return endpoint


def _expose(args, smops, face):
    return smops.expose(args.endpoint, rate_limit=args.rate, burst_limit=args.burst, quota_per_day=args.quota)


def _unexpose(args, smops, face):
    removed = smops.unexpose(args.endpoint)
    face.echo(f"{args.endpoint}: public URL and key removed" if removed else f"{args.endpoint} had no public front")
    return None


def _deleted(args, smops, face):
    smops.delete(args.endpoint, progress=_phase_printer(face))
    face.echo(f"deleted {args.endpoint}")
    return None


_HANDLERS: dict[str, Callable] = {
    "push": _push,
    "package": _package,
    "validate": lambda a, s, f: s.validate(a.path),
    "models": lambda a, s, f: ModelsView(s.models(a.name)),
    "approve": lambda a, s, f: s.set_approval(a.ref, "Approved"),
    "reject": lambda a, s, f: s.set_approval(a.ref, "Rejected"),
    "deploy": _deploy,
    "predict": _predict,
    "endpoints": lambda a, s, f: EndpointsView(s.list_endpoints(all_owners=a.all)),
    "describe": lambda a, s, f: s.describe_endpoint(a.endpoint),
    "logs": _logs,
    "delete": _deleted,
    "extend": _extend,
    "expose": _expose,
    "unexpose": _unexpose,
    "cleanup": _cleanup,
    "config": _config,
    "status": lambda a, s, f: Settings(_flatten(s.status())),
    "prices": _prices,
}


def _flatten(d: dict, prefix: str = "") -> dict:
    out = {}
    for k, v in d.items():
        if isinstance(v, dict):
            out.update(_flatten(v, f"{prefix}{k}."))
        else:
            out[f"{prefix}{k}"] = v
    return out


def _phase_printer(face: Face) -> Callable:
    """Progress callback printing each new phase once (byte counts are for the panel)."""
    seen: list[str] = []

    def progress(phase: str, done=None, total=None) -> None:
        if phase != "done" and (not seen or seen[-1] != phase):  # the result line says it is done
            seen.append(phase)
            face.echo(f"  {phase}...")

    return progress
