"""A fault-injecting endpoints backend and a registry seeder, for UI work, tests and benches.

Select it with ``SMOPS_ENDPOINTS_CLASS=smops_testing.fakes.FakeEndpoints``. Its state is a
JSON file under ``$SMOPS_HOME/fake-endpoints/`` (so the panel, magics and CLI all see it), and
its behaviour is set by environment variables:

- ``SMOPS_FAKE_DEPLOY_SECONDS`` (default 3): how long an endpoint stays ``Creating``;
- ``SMOPS_FAKE_FAIL``: comma list of ``deploy``, ``invoke``, ``delete`` to fail;
- ``SMOPS_FAKE_THROTTLE``: probability (0-1) that a call is throttled.
"""
from __future__ import annotations

import contextlib
import fcntl
import json
import os
import random
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator, Optional

from jupyter_smops.core.endpoints.base import INVOKE_TIMEOUT_SECONDS, ArtifactFetcher, DeployOptions, Endpoints
from jupyter_smops.core.errors import Conflict, ModelError, NotFound, UpstreamError
from jupyter_smops.core.names import validate_endpoint_name
from jupyter_smops.core.types import Progress, no_progress
from jupyter_smops.core.types import CleanupResult, Endpoint, InvokeResult, ModelVersion

_REASON = ("The primary container for production variant AllTraffic did not pass the ping health check "
           "(injected by SMOPS_FAKE_FAIL=deploy). Check the endpoint's logs.")


class FakeEndpoints(Endpoints):
    """Endpoints that only pretend, with injectable slowness and failures."""

    kind = "fake"

    def __init__(self, config):
        self.config = config
        self.root = config.home_path / "fake-endpoints"
        self.delay = float(os.environ.get("SMOPS_FAKE_DEPLOY_SECONDS", "3"))
        self.fail = {x.strip() for x in os.environ.get("SMOPS_FAKE_FAIL", "").split(",") if x.strip()}
        self.throttle = float(os.environ.get("SMOPS_FAKE_THROTTLE", "0") or 0)

    @contextlib.contextmanager
    def _state(self) -> Iterator[dict]:
        """The state file, locked for the block and written back after it."""
        self.root.mkdir(parents=True, exist_ok=True)
        path = self.root / "state.json"
        with open(self.root / ".lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            state = json.loads(path.read_text()) if path.exists() else {}
            yield state
            from jupyter_smops.core.files import write_json

            write_json(path, state)

    def _maybe_throttle(self) -> None:
        if self.throttle and random.random() < self.throttle:
            raise UpstreamError("Rate exceeded (ThrottlingException, injected by SMOPS_FAKE_THROTTLE). "
                                "Wait a few seconds and try again.", code="Throttling")

    def _view(self, rec: dict) -> Endpoint:
        status = rec["status"]
        if status == "Creating" and time.time() - rec["t0"] >= self.delay:
            status = "Failed" if rec.get("will_fail") else "InService"
        hours = max(0.0, time.time() - rec["t0"]) / 3600
        price = rec.get("price")
        return Endpoint(name=rec["name"], status=status, backend=self.kind, model=rec["model"],
                        version=rec["version"], created_at=rec["created_at"], owner=rec["owner"],
                        instance_type=rec.get("instance_type"), instance_count=rec.get("count"),
                        failure_reason=_REASON if status == "Failed" else None,
                        cost_per_hour=price, cost_so_far=round(price * hours, 4) if price else None)

    def deploy(self, mv: ModelVersion, *, name: str, owner: str, options: DeployOptions,
               fetch: ArtifactFetcher, progress: Progress = no_progress) -> Endpoint:
        validate_endpoint_name(name)
        self._maybe_throttle()
        instance_type = options.instance_type or self.config.instance_type
        with self._state() as state:
            if name in state:
                raise Conflict(f"An endpoint named {name!r} already exists. Choose another name or delete it first.")
            state[name] = {"name": name, "status": "Creating", "t0": time.time(), "model": mv.name,
                           "version": mv.version, "owner": owner, "instance_type": instance_type,
                           "count": options.count, "price": _price(instance_type),
                           "created_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                           "will_fail": "deploy" in self.fail}
        if not options.wait:
            return self.describe(name)
        deadline = time.time() + self.delay + 5
        while time.time() < deadline:
            endpoint = self.describe(name)
            progress("creating-endpoint", None, None)
            if endpoint.status != "Creating":
                break
            time.sleep(min(0.2, self.delay or 0.01))
        if endpoint.status == "Failed":
            raise UpstreamError(f"Endpoint {name} failed: {endpoint.failure_reason}")
        return endpoint

    def list(self, owner: Optional[str] = None) -> list[Endpoint]:
        with self._state() as state:
            records = list(state.values())
        return [self._view(r) for r in records if owner is None or r["owner"] == owner]

    def describe(self, name: str) -> Endpoint:
        with self._state() as state:
            rec = state.get(name)
        if rec is None:
            raise NotFound(f"No endpoint named {name!r}.")
        return self._view(rec)

    def invoke(self, name: str, body: bytes, *, content_type: Optional[str] = None,
               accept: Optional[str] = None, timeout: float = INVOKE_TIMEOUT_SECONDS) -> InvokeResult:
        self._maybe_throttle()
        endpoint = self.describe(name)
        if endpoint.status != "InService":
            raise Conflict(f"Endpoint {name} is {endpoint.status}; invoke it once it is InService.")
        if "invoke" in self.fail:
            raise ModelError("Received server error (500) from primary: injected by SMOPS_FAKE_FAIL=invoke",
                             original_status=500)
        try:
            rows = json.loads(body).get("instances", [])
        except (ValueError, AttributeError):
            rows = [None]
        out = json.dumps({"predictions": [0 for _ in rows]}).encode()
        return InvokeResult(endpoint=name, status=200, body=out, content_type="application/json",
                            latency_ms=random.uniform(5, 40))

    def logs(self, name: str, tail: int = 200, since: Optional[float] = None) -> str:
        endpoint = self.describe(name)
        return f"[fake] {endpoint.name} serving {endpoint.model}:{endpoint.version}: {endpoint.status}\n"

    def delete(self, name: str, progress: Progress = no_progress) -> None:
        if "delete" in self.fail:
            raise UpstreamError(f"Could not delete {name} (injected by SMOPS_FAKE_FAIL=delete).")
        with self._state() as state:
            if state.pop(name, None) is None:
                raise NotFound(f"No endpoint named {name!r}.")

    def cleanup(self, owner: str, dry_run: bool = False) -> CleanupResult:
        names = [e.name for e in self.list(owner)]
        if not dry_run:
            with self._state() as state:
                for n in names:
                    state.pop(n, None)
        return CleanupResult(dry_run=dry_run, endpoints=names)

    def seed(self, count: int, model: str, version: int, owner: str) -> None:
        """Add ``count`` endpoints at once (already past their Creating phase)."""
        now = datetime.now(timezone.utc).isoformat(timespec="seconds")
        with self._state() as state:
            for i in range(count):
                name = f"{model}-ep-{i:04d}"
                state[name] = {"name": name, "status": "Creating", "t0": time.time() - self.delay - 1,
                               "model": model, "version": version, "owner": owner, "instance_type": "ml.m5.large",
                               "count": 1, "price": _price("ml.m5.large"), "created_at": now, "will_fail": i % 17 == 0}


def _price(instance_type: str) -> Optional[float]:
    try:
        from jupyter_smops.core import cost
    except ImportError:
        return None
    lookup = getattr(cost, "hourly_price", None)
    try:
        return lookup(instance_type) if lookup else None
    except Exception:
        return None


def seed_registry(registry, package, *, models: int, versions: int, owner: str) -> int:
    """Push ``package`` as ``versions`` versions of ``models`` models; returns how many were pushed."""
    pushed = 0
    for m in range(models):
        for _ in range(versions):
            registry.push(package, name=f"model-{m:03d}", owner=owner, source="seed")
            pushed += 1
    return pushed
