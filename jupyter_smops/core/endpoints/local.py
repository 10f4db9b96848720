"""Local endpoints: one detached serving process per endpoint, state in files under ``root``.

``root`` is ``$SMOPS_HOME/endpoints``; ``root/<name>/`` holds ``state.json`` (written by this
class: model, version, owner, pid...), ``runtime.json`` (written by the endpoint process:
port, url, InService/Failed and why), ``endpoint.log`` and the unpacked ``model/``. Any process
(kernel, Jupyter server, CLI) reads the same files, so every face sees every endpoint and an
endpoint outlives the kernel that deployed it. A name is claimed by ``os.mkdir`` (atomic), and a
per-name ``flock`` orders deploy against delete so a process is never started for a name that is
being deleted (or the reverse). A process that died shows ``Failed``, never ``InService``.
"""
from __future__ import annotations

import contextlib
import fcntl
import http.client
import os
import shutil
import socket
import threading
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator, Optional

from ..errors import BadRequest, Conflict, ModelError, NotFound, SmopsError, Timeout, UpstreamError
from ..names import validate_endpoint_name
from ..files import private_dir, read_json, write_json
from ..serving import leases, zygote
from ..durations import iso_utc, parse_iso
from ..types import (CleanupResult, Endpoint, InvokeResult, ModelVersion, Progress, PublicFront, expiry_fields,
                     no_progress)
from ..procs import start_time
from . import local_logs
from .base import INVOKE_TIMEOUT_SECONDS, ArtifactFetcher, DeployOptions, Endpoints
from .local_process import alive, extract, note_requirements, ping, terminate

STATE, RUNTIME, LOG = "state.json", "runtime.json", "endpoint.log"


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class LocalEndpoints(Endpoints):
    """Endpoints served by local processes (see the module docstring)."""

    kind = "local"
    kill_grace = 30.0  # seconds between SIGTERM and SIGKILL on delete

    def __init__(self, config, *, workers: Optional[int] = None):
        """Every backend takes the settings (``SmopsConfig``); this one keeps ``$SMOPS_HOME/endpoints``."""
        self.home = config.home_path
        self.root = config.home_path / "endpoints"
        limits = getattr(config, "archive_limits", None)  # a bare settings object in some tests
        self.archive_limits = limits() if callable(limits) else None
        env_workers = os.environ.get("SAGEMAKER_MODEL_SERVER_WORKERS")
        self.workers = workers or (int(env_workers) if env_workers else min(2, os.cpu_count() or 1))
        self._local = threading.local()

    def describe_backend(self) -> dict:
        return {"kind": self.kind, "path": str(self.root), "workers": self.workers}

    def warm(self) -> bool:
        """Start the pre-imported fork server now so the next deploy is fast (non-essential), and
        keep it while this process (a kernel with the magics) lives."""
        leases.hold(self.root)
        private_dir(self.root, home=self.home)  # the fork server keeps its lock and log here
        return zygote.warm(self.root)

    def hold(self) -> None:
        """Keep the fork server (once started) while this process lives: the Jupyter server
        extension holds it for the server's lifetime."""
        leases.hold(self.root)

    def release(self) -> None:
        """Drop this process's hold; the fork server exits soon when nothing else needs it."""
        leases.release(self.root)

    def shutdown(self) -> None:
        """Stop the fork server (endpoints keep running)."""
        zygote.stop(self.root)

    def runtime_url(self) -> Optional[str]:
        """The SageMaker Runtime address serving these endpoints (``serving/runtime_gateway``),
        started if needed; None while there is no local endpoint (the gateway stops then)."""
        from ..serving import runtime_gateway

        if not runtime_gateway.has_endpoints(self.root):
            return None
        return runtime_gateway.ensure(self.root)

    def _start_runtime(self) -> None:
        # A deploy starts the runtime address too (a few ms: it binds and spawns, waits for
        # nothing), so boto3 code reaches the endpoint as soon as it is InService. Not fatal:
        # status() starts it again when asked for the address.
        try:
            self.runtime_url()
        except OSError:
            pass

    # -- deploy -----------------------------------------------------------------------
    def deploy(self, mv: ModelVersion, *, name: str, owner: str, options: DeployOptions,
               fetch: ArtifactFetcher, progress: Progress = no_progress) -> Endpoint:
        """Start a process serving ``mv``; Creating -> InService, or Failed with the reason."""
        validate_endpoint_name(name)
        d = self.root / name
        private_dir(self.root, home=self.home)
        with self._lock(name):
            same = self._same_name_other_case(name)
            if same:
                raise Conflict(f"An endpoint named {same!r} already exists, and endpoint names are unique "
                               f"whatever their case (as on SageMaker). Choose another name (--endpoint NAME) "
                               f"or delete {same} first (%smops delete {same}).")
            try:
                os.mkdir(d, 0o700)
                os.chmod(d, 0o700)  # not the umask's: the log holds request lines and the model's prints
            except FileExistsError:
                raise Conflict(f"An endpoint named {name!r} already exists. Choose another name "
                               f"(--endpoint NAME) or delete it first (%smops delete {name}).") from None
            try:
                self._launch(d, mv, name, owner, fetch, progress, options.expires_in)
            except BaseException as exc:
                shutil.rmtree(d, ignore_errors=True)
                if isinstance(exc, SmopsError) or not isinstance(exc, Exception):
                    raise
                raise UpstreamError(f"Could not start a local endpoint for {mv.ref}: {exc}") from exc
        if not options.wait:
            return self.describe(name)
        return self._wait(name, options.timeout, progress)

    def _launch(self, d: Path, mv: ModelVersion, name: str, owner: str, fetch: ArtifactFetcher,
                progress: Progress, expires_in: Optional[float] = None) -> None:
        uid = uuid.uuid4().hex
        # The supervisor stops itself at expires_at (serving/process.py); describe then removes it.
        expires_at = iso_utc(time.time() + expires_in) if expires_in else None
        state = {"name": name, "uid": uid, "model": mv.name, "version": mv.version, "owner": owner,
                 "status": "Creating", "created_at": _now(), "sha256": mv.sha256, "workers": self.workers,
                 "deployer_pid": os.getpid(), "deployer_start": start_time(os.getpid()),
                 "log": str(d / LOG), "expires_at": expires_at}
        write_json(d / STATE, state)
        progress("fetching", None, None)
        tarball = fetch(mv)
        progress("extracting", None, None)
        extract(Path(tarball), d / "model", self.archive_limits)
        note_requirements(d / "model", d / LOG)
        spec = {"name": name, "uid": uid, "model": mv.name, "version": mv.version, "dir": str(d),
                "model_dir": str(d / "model"), "log": str(d / LOG), "workers": self.workers,
                "host": "127.0.0.1", "port": 0, "envs_root": str(self.root / ".envs")}
        write_json(d / "spec.json", spec)
        progress("starting", None, None)
        pid = zygote.spawn(self.root, d / "spec.json")
        state.update(pid=pid, pid_start=start_time(pid))
        write_json(d / STATE, state)
        self._start_runtime()

    def _wait(self, name: str, timeout: float, progress: Progress) -> Endpoint:
        progress("waiting", None, None)
        deadline = time.monotonic() + timeout
        pause = 0.005
        while True:
            try:
                ep = self.describe(name)
            except NotFound:
                raise Conflict(f"Endpoint {name} was deleted while it was being created.") from None
            if ep.status == "Failed":
                return ep
            if ep.status == "InService" and ep.url and ping(ep.url):
                return ep
            if time.monotonic() > deadline:
                raise Timeout(f"Endpoint {name} is still {ep.status} after {timeout:g} s; it keeps starting "
                              f"in the background. Check %smops logs {name}, or delete it.")
            time.sleep(pause)
            pause = min(pause * 1.5, 0.1)

    # -- read -------------------------------------------------------------------------
    def describe(self, name: str) -> Endpoint:
        """One endpoint; a dead process is reported as Failed."""
        validate_endpoint_name(name)
        d = self.root / name
        state = read_json(d / STATE)
        if state is None:
            raise NotFound(f"No local endpoint named {name!r}. List them with %smops endpoints.")
        runtime = read_json(d / RUNTIME) or {}
        expiry = expiry_fields(state.get("expires_at"), None)
        at = parse_iso(state.get("expires_at"))
        if state.get("status") != "Deleting" and (runtime.get("status") == "Expired" or (at and time.time() >= at)):
            self._remove_expired(name)  # as SageMaker's schedule deletes an expired endpoint
            raise NotFound(f"Local endpoint {name!r} expired at {state.get('expires_at')} and was removed. "
                           f"Deploy it again (%smops deploy {state.get('model')}:{state.get('version')} --local).")
        status, reason = self._status(d, state, runtime)
        return Endpoint(name=name, status=status, backend=self.kind, model=state.get("model", ""),
                        version=int(state.get("version") or 0), created_at=state.get("created_at", ""),
                        owner=state.get("owner", ""), instance_type="local",
                        instance_count=state.get("workers"),
                        url=runtime.get("url") if status == "InService" else None, failure_reason=reason, **expiry)

    def _remove_expired(self, name: str) -> None:
        try:
            self.delete(name)
        except NotFound:
            pass  # removed meanwhile by another reader

    # -- expiry and the public front ------------------------------------------------------
    def set_expiry(self, name: str, expires_at: Optional[float], owner: str) -> Endpoint:
        """Move (or with None, remove) the endpoint's expiry; its supervisor reads it from the
        state file within a quarter of a second."""
        validate_endpoint_name(name)
        d = self.root / name
        with self._lock(name):
            state = read_json(d / STATE)
            if state is None or state.get("status") == "Deleting":
                raise NotFound(f"No local endpoint named {name!r}. List them with %smops endpoints.")
            state["expires_at"] = iso_utc(expires_at) if expires_at else None
            write_json(d / STATE, state)
        return self.describe(name)

    def expose(self, name: str, owner: str, *, rate_limit: float, burst_limit: int, quota_per_day: int) -> PublicFront:
        """Nothing is created for a local endpoint: what SageMaker would get, and the local
        SageMaker Runtime address to use instead (loopback only, so nothing here is public)."""
        self.describe(name)
        url = self.runtime_url()
        return PublicFront(
            endpoint=name, created=False, runtime_url=url, rate_limit=rate_limit, burst_limit=burst_limit,
            quota_per_day=quota_per_day,
            message=(f"{name} is a local endpoint: nothing is made public from this machine. On SageMaker, expose "
                     f"creates an API Gateway REST API (smops-{name}, POST /invocations into SageMaker Runtime "
                     f"InvokeEndpoint), a prod stage, an API key and a usage plan ({rate_limit:g} requests/s, "
                     f"bursts of {burst_limit}, {quota_per_day} requests/day), all tagged with your owner tag. "
                     f"Here, boto3's sagemaker-runtime client (endpoint_url={url}) or curl reach it:"))

    def unexpose(self, name: str) -> bool:
        """Local endpoints have no public front: nothing to remove (NotFound for an unknown name)."""
        self.describe(name)
        return False

    def _status(self, d: Path, state: dict, runtime: dict) -> tuple[str, Optional[str]]:
        if state.get("status") == "Deleting":
            return "Deleting", None
        if runtime.get("status") == "Failed":
            return "Failed", runtime.get("failure_reason") or "The endpoint process failed; see its log."
        pid = state.get("pid")
        if pid and not alive(pid, state.get("pid_start")):
            last = " | ".join(local_logs.tail(d / LOG, 5).splitlines()[-5:])
            return "Failed", (f"The endpoint process (pid {pid}) is no longer running: it crashed or was "
                              f"killed. Delete the endpoint and deploy again. Last log lines: {last}")
        if not pid and not alive(state.get("deployer_pid"), state.get("deployer_start")):
            return "Failed", "The deployment was interrupted before the process started. Delete and deploy again."
        if runtime.get("status") == "InService":
            return "InService", None
        return "Creating", None

    def list(self, owner: Optional[str] = None) -> list[Endpoint]:
        """Every local endpoint (of ``owner`` when given), newest first."""
        out = []
        try:
            names = sorted(os.listdir(self.root))
        except FileNotFoundError:
            return []
        for name in names:
            if name.startswith("."):
                continue
            try:
                ep = self.describe(name)
            except (NotFound, BadRequest):
                continue
            if owner is None or ep.owner == owner:
                out.append(ep)
        return sorted(out, key=lambda e: e.created_at, reverse=True)

    def logs(self, name: str, tail: int = 200, since: Optional[float] = None) -> str:
        """The last ``tail`` lines of the endpoint's log (requests, prints, tracebacks), of those
        stamped at or after ``since`` when given (unstamped lines go with the line before)."""
        return local_logs.since(self._log_path(name), tail, since)

    def follow_logs(self, name: str, *, since: Optional[float] = None, until: Optional[float] = None,
                    poll: float = 0.25) -> Iterator[str]:
        """New lines of the endpoint's log file as they are written (after the ``since`` window's
        lines when given); ends at ``until`` (epoch seconds) or when the endpoint is deleted."""
        state = self.root / name / STATE
        yield from local_logs.follow(self._log_path(name), state.exists, since_time=since, until=until, poll=poll)

    def _log_path(self, name: str) -> Path:
        validate_endpoint_name(name)
        d = self.root / name
        if not (d / STATE).exists():
            raise NotFound(f"No local endpoint named {name!r}. List them with %smops endpoints.")
        return d / LOG

    # -- invoke -----------------------------------------------------------------------
    def invoke(self, name: str, body: bytes, *, content_type: Optional[str] = None,
               accept: Optional[str] = None, timeout: float = INVOKE_TIMEOUT_SECONDS) -> InvokeResult:
        """POST /invocations; ModelError for the container's errors, Timeout past ``timeout``."""
        ep = self.describe(name)
        if ep.status != "InService" or not ep.url:
            why = f": {ep.failure_reason}" if ep.failure_reason else ""
            # A state, not a bad request: the same call succeeds once the endpoint is up (409, as the REST spec says).
            then = ("delete it and deploy again" if ep.status == "Failed"
                    else "invoke it once it is InService (GET its status)")
            raise Conflict(f"Endpoint {name} is {ep.status}, not InService{why}; {then}.")
        port = int(ep.url.rsplit(":", 1)[1])
        headers = {}
        if content_type:
            headers["Content-Type"] = content_type
        if accept:
            headers["Accept"] = accept
        start = time.perf_counter()
        status, ctype, data = self._post(name, port, body, headers, timeout)
        latency = (time.perf_counter() - start) * 1000.0
        if status != 200:
            text = data.decode("utf-8", "replace")[:2000]
            raise ModelError(f"Received server error ({status}) from the local endpoint {name} with message "
                             f"\"{text}\". See %smops logs {name}.", original_status=status,
                             log_stream=f"endpoints/{name}/{LOG}")  # under $SMOPS_HOME: no server path in answers
        return InvokeResult(endpoint=name, status=status, body=data, content_type=ctype, latency_ms=latency)

    def _post(self, name: str, port: int, body: bytes, headers: dict, timeout: float) -> tuple[int, str, bytes]:
        pool = self._local.__dict__.setdefault("conns", {})
        for attempt in range(2):
            conn = pool.pop(port, None) or http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
            conn.timeout = timeout
            if conn.sock is not None:
                conn.sock.settimeout(timeout)
            try:
                conn.request("POST", "/invocations", body=body, headers=headers)
                resp = conn.getresponse()
                data = resp.read()
            except (socket.timeout, TimeoutError):
                conn.close()
                raise Timeout(f"Endpoint {name} did not answer within {timeout:g} s (InvokeEndpoint's limit). "
                              f"The request may still be running; make the model faster or send fewer rows. "
                              f"See %smops logs {name}.") from None
            except (ConnectionError, http.client.HTTPException, OSError) as exc:
                conn.close()
                if attempt == 0:
                    continue  # a kept-alive connection to a restarted worker: retry once on a new one
                raise UpstreamError(f"Endpoint {name} is not answering ({exc}). Check %smops endpoints and "
                                    f"%smops logs {name}.") from None
            if not resp.will_close:
                pool[port] = conn
            else:
                conn.close()
            return resp.status, resp.getheader("Content-Type", ""), data
        raise AssertionError("unreachable")

    # -- delete -----------------------------------------------------------------------
    def delete(self, name: str, progress: Progress = no_progress) -> None:
        """SIGTERM the process group, SIGKILL after ``kill_grace`` s, then remove the state."""
        validate_endpoint_name(name)
        d = self.root / name
        with self._lock(name):
            state = read_json(d / STATE)
            if state is None:
                raise NotFound(f"No local endpoint named {name!r}. List them with %smops endpoints.")
            state["status"] = "Deleting"
            write_json(d / STATE, state)
        progress("stopping", None, None)
        terminate(state.get("pid"), state.get("pid_start"), self.kill_grace)
        progress("removing", None, None)
        with self._lock(name):
            current = read_json(d / STATE)
            if current is None or current.get("uid") != state.get("uid"):
                return  # a concurrent delete finished first
            tomb = self.root / f".deleted-{name}-{uuid.uuid4().hex[:8]}"
            os.rename(d, tomb)
        shutil.rmtree(tomb, ignore_errors=True)

    def cleanup(self, owner: str, dry_run: bool = False) -> CleanupResult:
        """Delete every local endpoint of ``owner`` (or list them on a dry run)."""
        names = [e.name for e in self.list(owner)]
        if dry_run:
            return CleanupResult(dry_run=True, endpoints=names)
        done, errors = [], []
        for name in names:
            try:
                self.delete(name)
                done.append(name)
            except NotFound:
                pass
            except SmopsError as exc:
                errors.append(f"{name}: {exc}")
        zygote.stop_if_unneeded(self.root)  # no endpoint and no lease left: free its ~200 MB now
        return CleanupResult(dry_run=False, endpoints=done, errors=errors)

    def _same_name_other_case(self, name: str) -> Optional[str]:
        """An existing endpoint whose name differs from ``name`` only in case (SageMaker refuses it)."""
        try:
            entries = os.listdir(self.root)
        except FileNotFoundError:
            return None
        return next((e for e in entries if e != name and e.lower() == name.lower() and (self.root / e / STATE).exists()),
                    None)

    @contextlib.contextmanager
    def _lock(self, name: str) -> Iterator[None]:
        locks = self.root / ".locks"
        private_dir(locks)
        # One lock for every spelling of a name: names are unique whatever their case.
        with open(locks / f"{name.lower()}.lock", "w") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            yield
