"""The operations every face calls: one ``Smops`` object over a registry and endpoints.

A face parses input, calls one method here, renders the result. Backends are built lazily so
that creating a ``Smops`` costs nothing (no boto3 client, no sklearn import).
"""
from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Any, Iterator, Optional

from .config import SmopsConfig
from .deploy_plan import DeployPlan, check_approval, check_expiry, check_options, combine_ref, serving_plan
from .endpoints import logtime
from .endpoints.base import Endpoints
from .limits import check_payload_size
from .errors import BadRequest, Conflict, NotFound
from .names import parse_ref, suggest_endpoint_name, validate_endpoint_name, validate_model_name
from .payload import encode_payload
from .registry.base import Registry
from .types import (CleanupResult, DeployOptions, Endpoint, InvokeResult, Model, ModelVersion, PackageResult, Progress,
                    PublicFront, no_progress)

ARCHIVE_SUFFIXES = (".tar.gz", ".tgz")


def is_archive(model: Any) -> bool:
    """True when ``model`` is the path of a packaged model (``*.tar.gz``/``*.tgz``), not a model
    file or a fitted estimator."""
    return isinstance(model, (str, os.PathLike)) and os.fspath(model).lower().endswith(ARCHIVE_SUFFIXES)


class Smops:
    """jupyter_smops' core service. Pass ``registry``/``endpoints`` to inject fakes in tests."""

    def __init__(self, config: Optional[SmopsConfig] = None, *, registry: Optional[Registry] = None,
                 endpoints: Optional[Endpoints] = None, local_endpoints: Optional[Endpoints] = None):
        self.config = config or SmopsConfig()
        self._registry = registry
        self._endpoints = endpoints
        self._local_endpoints = local_endpoints
        self._backend: Optional[str] = None
        self._owner: Optional[str] = None
        # Endpoints seen on the remote backend: invoking them again needs no DescribeEndpoint.
        self._remote_names: set[str] = set()

    # -- wiring -------------------------------------------------------------------------
    @property
    def backend(self) -> str:
        if self._backend is None:
            self._backend = self.config.resolved_backend()
        return self._backend

    @property
    def registry(self) -> Registry:
        if self._registry is None:
            from .registry import make_registry

            self._registry = make_registry(self.config, self.backend)
        return self._registry

    @property
    def local_endpoints(self) -> Endpoints:
        if self._local_endpoints is None:
            if self.backend == "local" and self._endpoints is not None:
                self._local_endpoints = self._endpoints
            else:
                from .endpoints import make_endpoints

                self._local_endpoints = make_endpoints(self.config, "local", allow_override=self.backend == "local")
        return self._local_endpoints

    @property
    def endpoints(self) -> Endpoints:
        if self._endpoints is None:
            if self.backend == "local":
                self._endpoints = self.local_endpoints
            else:
                from .endpoints import make_endpoints

                self._endpoints = make_endpoints(self.config, self.backend)
        return self._endpoints

    def _all_endpoint_backends(self) -> list[Endpoints]:
        backends = [self.local_endpoints]
        if self.endpoints is not self.local_endpoints:
            backends.append(self.endpoints)
        return backends

    def _backend_of(self, name: str) -> Endpoints:
        """Local endpoints are looked up first: their state is a file, a cheap check. A remote
        endpoint found once is remembered (one DescribeEndpoint per name, not one per invoke)
        until it is deleted here or a call finds it gone."""
        validate_endpoint_name(name)
        local = self.local_endpoints
        if local.exists(name):
            return local
        remote = self.endpoints
        if remote is not local and (name in self._remote_names or remote.exists(name)):
            self._remote_names.add(name)
            return remote
        raise NotFound(f"No endpoint named {name!r}. List them with %smops endpoints "
                       f"(or jupyter smops endpoints).")

    @property
    def owner(self) -> str:
        if self._owner is None:
            owner = self.config.owner
            if not owner and self.backend == "aws":
                # The S3 registry's folder owner (the Studio owner tag, else the user name): one answer.
                owner = getattr(self.registry, "owner", "")
            self._owner = owner or self.config.default_owner()
        return self._owner

    # -- status -------------------------------------------------------------------------
    def status(self) -> dict:
        """Backend, region, bucket, owner, Studio info and versions, for the header and CLI."""
        from .version import __version__

        studio = self.config.studio
        info: dict[str, Any] = {
            "version": __version__,
            "backend": self.backend,
            "configured_backend": self.config.backend,
            "owner": self.owner,
            "owner_tag_key": self.config.owner_tag_key,
            "region": self.config.region if self.backend == "aws" else None,
            "bucket": None,
            "prefix": self.config.prefix,
            "home": str(self.config.home_path),
            "instance_type": self.config.instance_type,
            "require_approval": self.config.require_approval,
            "studio": {"detected": studio.detected, "domain_id": studio.domain_id,
                       "user_profile_name": studio.user_profile_name, "space_name": studio.space_name},
            "registry": self.registry.describe(),
        }
        info["bucket"] = info["registry"].get("bucket")
        # boto3's sagemaker-runtime client reaches the local endpoints here (endpoint_url=...).
        try:
            info["runtime_url"] = self.local_endpoints.runtime_url()
        except OSError:
            info["runtime_url"] = None
        info["account"] = info["registry"].get("account")
        # For the panel's deploy form: the scikit-learn local endpoints run (its framework-version
        # warning) and the on-demand prices next to each instance type. Metadata only: no import.
        from importlib import metadata

        from . import cost

        try:
            info["framework_version"] = metadata.version("scikit-learn")
        except metadata.PackageNotFoundError:
            info["framework_version"] = None
        table = self.prices()
        # The common types (the built-in list) at the region's fetched prices when there are
        # some; a type the region's price list lacks is not offered there, so it is left out.
        info["instance_types"] = [{"instance_type": t, "hourly_usd": table.hourly_usd[t]}
                                  for t in cost.HOURLY_USD if t in table.hourly_usd]
        info["prices"] = {"region": table.region, "date": table.date, "source": table.source,
                          "fetched": table.fetched, "note": cost.price_note(self.config.region, table)}
        from . import rules

        info["rules"] = rules.public_rules(self.config)
        return info

    def prices(self, *, refresh: bool = False, region: Optional[str] = None):
        """The price table deploys and endpoint costs use; ``refresh`` reads the region's from the
        AWS Price List API first (pricing:GetProducts) and keeps it under $SMOPS_HOME/prices."""
        from . import cost

        region = region or self.config.region
        if refresh:
            from .aws import aws_errors, clients_for

            # The Price List API answers in us-east-1 for every region's prices.
            client = clients_for(self.config).client("pricing", region_name="us-east-1")
            with aws_errors(f"reading SageMaker prices for {region}", "pricing"):
                table = cost.fetch_prices(client, region)
            cost.save_prices(table, self.config.home_path)
            return table
        return cost.load_prices(self.config.home_path, region)

    def hold_warm_server(self) -> None:
        """Keep the local endpoints' warm fork server (once started) while this process lives;
        the Jupyter server holds it for its lifetime. Builds no backend (endpoints_class is read
        lazily, at the first operation)."""
        from .serving import leases

        leases.hold(self.config.home_path / "endpoints")

    def release_warm_server(self) -> None:
        """Drop this process's hold: the fork server exits soon when nothing else needs it."""
        from .serving import leases

        leases.release(self.config.home_path / "endpoints")

    def _warm_root(self) -> Optional[Path]:
        """Where the local endpoints' warm fork server lives: validation forks its probe from
        it (scikit-learn already imported) instead of starting a fresh interpreter."""
        root = getattr(self.local_endpoints, "root", None)
        return Path(root) if root else None

    # -- artifacts and registry ---------------------------------------------------------
    def package(self, model: Any, *, inference: Optional[str] = None, requirements: Optional[str] = None,
                sample: Any = None, out: Optional[str] = None, progress: Progress = no_progress,
                framework_version: Optional[str] = None) -> PackageResult:
        """Build and validate a model.tar.gz (raises InvalidArtifact with every failed check);
        ``framework_version``: serve on that image without pinning (``requirements.check_accept``)."""
        from . import packaging

        progress("packaging", None, None)
        target = Path(out) if out else Path.cwd() / "model.tar.gz"
        return packaging.build_package(model, inference=inference, requirements=requirements, sample=sample,
                                       out=target, timeout=self.config.validate_timeout, warm_root=self._warm_root(),
                                       accept=framework_version)

    def validate(self, path: str, *, framework_version: Optional[str] = None) -> PackageResult:
        """Validate an existing model.tar.gz without storing it."""
        from . import packaging

        return packaging.validate_package(Path(path), timeout=self.config.validate_timeout,
                                          warm_root=self._warm_root(), limits=self.config.archive_limits(),
                                          accept=framework_version)

    def push(self, model: Any, *, name: str, inference: Optional[str] = None, requirements: Optional[str] = None,
             sample: Any = None, source: Optional[str] = None, progress: Progress = no_progress,
             framework_version: Optional[str] = None) -> ModelVersion:
        """Store ``model`` as the next version of ``name``: a fitted estimator or a model file is
        packaged, validated and stored all at once (``core/push.py``), a failed check leaving no
        version; an existing ``model.tar.gz`` is validated, given the scikit-learn pin it lacks
        (``push.pinned_archive``), then stored. ``framework_version``: see ``package``."""
        self.check_push(model, name=name, inference=inference, requirements=requirements, sample=sample)
        if is_archive(model):
            from .push import pinned_archive

            if framework_version:
                from .packaging.requirements import check_accept
                from .packaging.trained import local_sklearn

                check_accept(framework_version, local_sklearn())
            # Called without the keyword when it is not given: subclasses (tests) override validate(path).
            package = (self.validate(str(model), framework_version=framework_version) if framework_version
                       else self.validate(str(model)))
            if framework_version and package.requirements_pin:
                raise BadRequest(f"{Path(str(model)).name} pins scikit-learn=={package.requirements_pin} in "
                                 f"code/requirements.txt; --framework-version {framework_version} asks for the "
                                 f"image's own scikit-learn instead. Drop one of them.")
            with tempfile.TemporaryDirectory(prefix="smops-pin-") as tmp:
                package = pinned_archive(package, Path(tmp), self.config.archive_limits())
                return self.registry.push(package, name=name, owner=self.owner, source=source, progress=progress)
        from .push import push_streamed

        return push_streamed(self.registry, model, name=name, owner=self.owner, inference=inference,
                             requirements=requirements, sample=sample, source=source, progress=progress,
                             timeout=self.config.validate_timeout, warm_root=self._warm_root(),
                             accept=framework_version)

    def check_push(self, model: Any, *, name: str, inference: Optional[str] = None,
                   requirements: Optional[str] = None, sample: Any = None) -> None:
        """The checks ``push`` makes before any work (fast: faces that push in the background call
        it first, so bad arguments are an immediate error): the name, and no code options with a
        ``model.tar.gz`` (it carries its own code/ folder)."""
        validate_model_name(name)
        if is_archive(model) and (inference or requirements or sample is not None):
            raise BadRequest("A model.tar.gz already carries its code/ folder: inference, requirements "
                             "and sample apply only when pushing a model file or a fitted estimator.")

    def models(self, name: Optional[str] = None) -> list[Model]:
        """Registry listing (all models, or one)."""
        return self.registry.list_models(name)

    def model_version(self, ref: str) -> ModelVersion:
        name, version = parse_ref(ref)
        return self.registry.get(name, version)

    def set_approval(self, ref: str, status: str) -> ModelVersion:
        name, version = parse_ref(ref)
        if version is None:
            raise BadRequest(f"Say which version to {'approve' if status == 'Approved' else 'reject'}: {name}:N.")
        return self.registry.set_approval(name, version, status)

    # -- endpoints ----------------------------------------------------------------------
    def plan_deploy(self, ref: str, *, version: Optional[int] = None, endpoint: Optional[str] = None,
                    local: bool = False, options: Optional[DeployOptions] = None) -> DeployPlan:
        """Check a deploy of ``ref`` (``NAME`` or ``NAME:V``; ``version`` given apart) before anything
        is created: the version, the endpoint name (suggested when not given) and that no backend
        has it, the approval policy (``local`` is exempt), the options and what the target backend
        must check (image, S3 artifact). Fast and synchronous: every face calls it first, so a
        refused deploy is an immediate error. Returns the plan ``deploy`` carries out."""
        mv = self.model_version(combine_ref(ref, version))
        name = validate_endpoint_name(endpoint or suggest_endpoint_name(mv.name, mv.version))
        check_approval(self.config, mv, local=local)
        target = self._deploy_target(local)
        on_this_machine = target is self.local_endpoints
        options = check_options(options or DeployOptions(), remote=not on_this_machine,
                                default_instance_type=self.config.instance_type)
        options = check_expiry(self.config, options, local=on_this_machine)
        custom_image = bool(options.image_uri)
        options = target.prepare_deploy(mv, options)
        for backend in self._all_endpoint_backends():
            if backend.exists(name):
                raise Conflict(f"An endpoint named {name!r} already exists ({backend.kind}). Choose another "
                               f"name or delete it first (%smops delete {name}).")
        serving = serving_plan(mv, options, local=on_this_machine, custom_image=custom_image)
        return DeployPlan(version=mv, endpoint=name, owner=self.owner, local=on_this_machine, options=options,
                          serving=serving)

    def deploy(self, plan: DeployPlan | str, *, endpoint: Optional[str] = None, local: bool = False,
               options: Optional[DeployOptions] = None, progress: Progress = no_progress) -> Endpoint:
        """Carry out a ``plan_deploy`` plan: create the endpoint. Given a ref (``NAME`` or
        ``NAME:V``) instead, plans it first with ``endpoint``/``local``/``options``."""
        if not isinstance(plan, DeployPlan):
            plan = self.plan_deploy(plan, endpoint=endpoint, local=local, options=options)
        target = self.local_endpoints if plan.local else self.endpoints
        from . import cache

        workdir = self.config.home_path / "cache"
        cache.sweep(workdir)  # downloads of deploys killed before they could remove theirs
        fetched: list[Path] = []

        def fetch(version: ModelVersion) -> Path:
            dest = cache.new_fetch_folder(workdir, f"{version.name}-v{version.version}-", self.config.home_path)
            fetched.append(dest)
            return self.registry.fetch(version, dest)

        try:
            return target.deploy(plan.version, name=plan.endpoint, owner=plan.owner, options=plan.options,
                                 fetch=fetch, progress=progress)
        finally:  # the backend has unpacked (or uploaded) it by now: the download is not needed
            for folder in fetched:
                shutil.rmtree(folder, ignore_errors=True)

    def _deploy_target(self, local: bool) -> Endpoints:
        return self.local_endpoints if local or self.backend == "local" else self.endpoints

    def list_endpoints(self, all_owners: bool = False) -> list[Endpoint]:
        """Endpoints on every backend in use (this owner's unless ``all_owners``)."""
        owner = None if all_owners else self.owner
        result: list[Endpoint] = []
        for backend in self._all_endpoint_backends():
            result.extend(backend.list(owner))
        return sorted(result, key=lambda e: e.created_at, reverse=True)

    def describe_endpoint(self, name: str) -> Endpoint:
        return self._backend_of(name).describe(name)

    def invoke(self, name: str, body: bytes, *, content_type: Optional[str] = None,
               accept: Optional[str] = None) -> InvokeResult:
        """InvokeEndpoint with SageMaker's limits (6 MiB payload, 60 s)."""
        check_payload_size(len(body))
        backend = self._backend_of(name)
        try:
            return backend.invoke(name, body, content_type=content_type or "application/json",
                                  accept=accept, timeout=self.config.invoke_timeout)
        except NotFound:
            self._remote_names.discard(name)  # deleted elsewhere: look it up again next time
            raise

    def predict(self, name: str, data: Any, *, content_type: Optional[str] = None,
                accept: Optional[str] = None) -> InvokeResult:
        """Encode ``data`` as the container expects and invoke."""
        body, ctype = encode_payload(data, content_type)
        return self.invoke(name, body, content_type=ctype, accept=accept or "application/json")

    def changes(self) -> dict:
        """A stamp of the local registry and local endpoint folders that changes whenever a push,
        approval, deploy or delete made from any face lands there (see core.changes); ``covers``
        says what it watches (an S3 registry and SageMaker endpoints are not: poll their lists)."""
        from .changes import change_stamp

        roots = {"local_endpoints": (self.config.home_path / "endpoints", 1)}
        registry_root = getattr(self.registry, "root", None) if self.backend == "local" else None
        if registry_root is not None:
            roots["registry"] = (Path(registry_root), 2)
        return {"stamp": change_stamp(roots), "covers": sorted(roots)}

    def logs(self, name: str, tail: Optional[int] = None, since: Optional[float] = None) -> str:
        """The endpoint's last ``tail`` log lines (written at or after ``since``, epoch seconds);
        ``tail`` defaults to 100, or to the whole ``since`` window (up to 10,000 lines)."""
        if tail is None:
            tail = 100 if since is None else logtime.MAX_LOG_LINES
        return self._backend_of(name).logs(name, tail=tail, since=since)

    # "10m", "2h", an ISO time -> epoch seconds, for the faces' --since (BadRequest otherwise).
    parse_since = staticmethod(logtime.parse_since)

    def log_page(self, name: str, *, tail: int = 200, since: Optional[str] = None) -> dict:
        """The log as a client following it asks (the REST route): the last ``tail`` lines, or with
        ``since`` ("10m", an ISO time or the ``next_since`` of an earlier answer) the lines after it,
        at most ``tail`` of them; ``next_since`` fetches what comes next, ``truncated`` says new
        lines were left out."""
        try:
            start, skip = logtime.parse_cursor(since)
        except BadRequest:
            raise BadRequest(f"since={since!r} is not a duration, a time or a cursor: use e.g. 30s, 10m, 2h, 1d, an "
                             f"ISO time such as 2025-06-01T12:00:00Z, or the next_since of an earlier answer.") from None
        text = self.logs(name, tail=None if start is not None else tail, since=start)
        shown, cursor, truncated = logtime.page(text, start, skip, tail)
        return {"endpoint": name, "tail": tail, "logs": shown, "next_since": cursor, "truncated": truncated}

    def follow_logs(self, name: str, *, since: Optional[float] = None, until: Optional[float] = None) -> Iterator[str]:
        """New log lines as they are written, until the caller stops, ``until`` (epoch seconds) or
        the endpoint is deleted."""
        return self._backend_of(name).follow_logs(name, since=since, until=until)

    def extend(self, name: str, *, by: Optional[float] = None, expires_in: Optional[float] = None,
               no_expiry: bool = False) -> Endpoint:
        """Move an endpoint's expiry: ``by`` seconds later than now planned (or than now, when it
        had none), or ``expires_in`` seconds from now, or never (``no_expiry``). The admin's cap
        (``max_expires_in``) bounds the time left from now, as at deploy."""
        import time

        from .deploy_plan import check_lifetime
        from .durations import parse_iso

        if sum(x is not None and x is not False for x in (by, expires_in, no_expiry or None)) != 1:
            raise BadRequest("Say how: --by DURATION (later than planned), --expires-in DURATION (from now) "
                             "or --no-expiry.")
        backend = self._backend_of(name)
        local = backend is self.local_endpoints
        now = time.time()
        if no_expiry:
            check_lifetime(self.config, None, local=local, asked="--no-expiry")
            return backend.set_expiry(name, None, self.owner)
        if by is not None:
            current = parse_iso(backend.describe(name).expires_at)
            at = max(current or now, now) + float(by)
            asked = "--by"
        else:
            at = now + float(expires_in)
            asked = "--expires-in"
        check_lifetime(self.config, at - now, local=local, asked=f"{asked} (the time left from now)")
        return backend.set_expiry(name, at, self.owner)

    def expose(self, name: str, *, rate_limit: float = 10.0, burst_limit: int = 20,
               quota_per_day: int = 10_000) -> "PublicFront":
        """A public front for the endpoint: on SageMaker an API Gateway REST API (POST .../invocations
        into InvokeEndpoint), an API key and a usage plan with these limits, tagged with the owner;
        the result holds the key's value once. Local endpoints say what it would create and give
        their runtime URL instead."""
        if rate_limit <= 0 or burst_limit < 1 or quota_per_day < 1:
            raise BadRequest("The rate limit, the burst limit and the daily quota must all be positive.")
        return self._backend_of(name).expose(name, self.owner, rate_limit=float(rate_limit),
                                             burst_limit=int(burst_limit), quota_per_day=int(quota_per_day))

    def unexpose(self, name: str) -> bool:
        """Remove the endpoint's public front (URL and key stop working); False when it had none."""
        return self._backend_of(name).unexpose(name)

    def delete(self, name: str, progress: Progress = no_progress) -> None:
        """Delete an endpoint and what was created with it."""
        try:
            self._backend_of(name).delete(name, progress=progress)
        finally:
            self._remote_names.discard(name)

    def cleanup(self, *, dry_run: bool = False, include_registry: bool = False) -> CleanupResult:
        """Delete all of this owner's endpoints (and, if asked, registry versions), and what killed
        operations left behind (``leftovers``: downloads of interrupted deploys under $SMOPS_HOME/cache)."""
        from . import cache

        total = CleanupResult(dry_run=dry_run)
        total.leftovers.extend(cache.sweep(self.config.home_path / "cache", dry_run=dry_run))
        for backend in self._all_endpoint_backends():
            part = backend.cleanup(self.owner, dry_run=dry_run)
            total.endpoints.extend(part.endpoints)
            total.endpoint_configs.extend(part.endpoint_configs)
            total.models.extend(part.models)
            total.schedules.extend(part.schedules)
            total.public_fronts.extend(part.public_fronts)
            total.errors.extend(part.errors)
            if not dry_run:
                self._remote_names.difference_update(part.endpoints)
        if include_registry:
            total.leftovers.extend(self.registry.leftovers(self.owner, dry_run=dry_run))
            for model in self.registry.list_models():
                for mv in model.versions:
                    if mv.created_by == self.owner:
                        total.registry_versions.append(mv.ref)
                        if not dry_run:
                            self.registry.delete_version(mv.name, mv.version)
        return total

