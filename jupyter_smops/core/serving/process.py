"""One endpoint's process tree: a supervisor and N forked HTTP workers on one 127.0.0.1 port.

The supervisor loads the model once (``model_fn``) and forks the workers, which share it
copy-on-write. Each worker listens on the same port with SO_REUSEPORT, so the kernel spreads
connections across them; the supervisor keeps a bound, non-listening socket so the port stays
reserved while a crashed worker is replaced. Everything the endpoint says about itself goes to
``runtime.json`` (atomic writes) and ``endpoint.log`` in its state folder. The supervisor exits
by itself when that folder no longer belongs to it (the endpoint was deleted, or SMOPS_HOME
removed), so no process outlives its endpoint.
"""
from __future__ import annotations

import ctypes
import json
import os
import signal
import socket
import sys
import time
import traceback
from pathlib import Path
from typing import Any, Optional

from ..files import read_json, write_json
from . import default_functions
from .contract import LoadedModel, LoadError, code_location
from .http import serve_forever
from .peer import same_user
from .titles import set_title

_WORKER_RESTARTS_PER_MINUTE = 5


class _Stop(Exception):
    """Raised by the SIGTERM handler to leave the supervisor's loop at once."""


class EndpointSupervisor:
    """An endpoint's supervisor process; ``spec`` comes from LocalEndpoints (see ``endpoints/local.py``)."""

    def __init__(self, spec: dict):
        self.spec = spec
        self.dir = Path(spec["dir"])
        self.model_dir = Path(spec["model_dir"])
        self.runtime = self.dir / "runtime.json"
        self.workers: dict[int, int] = {}  # pid -> slot
        self.restarts: list[float] = []
        self.port = 0
        self.holder: Optional[socket.socket] = None
        self.handoff: Optional[socket.socket] = None  # connections the runtime gateway hands over
        self.handoff_name = ""
        self.loaded: Optional[LoadedModel] = None

    # -- setup ------------------------------------------------------------------------
    def redirect_output(self) -> None:
        """stdout/stderr (user prints, tracebacks, pip) go to the endpoint log, line by line."""
        fd = os.open(self.spec["log"], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)  # request lines, prints
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.dup2(fd, 1)
        os.dup2(fd, 2)
        os.close(fd)
        os.close(null)
        sys.stdout = open(1, "w", buffering=1, encoding="utf-8", errors="replace", closefd=False)
        sys.stderr = open(2, "w", buffering=1, encoding="utf-8", errors="replace", closefd=False)

    def log(self, message: str) -> None:
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime())
        sys.stderr.write(f"{stamp}Z [smops] {message}\n")

    def fail(self, reason: str) -> None:
        self.log("FAILED: " + reason)
        write_json(self.runtime, {"status": "Failed", "pid": os.getpid(), "failure_reason": reason,
                                  "port": self.port or None})
        os._exit(1)

    def prepare_environment(self) -> None:
        os.environ.update(self.spec.get("env") or {})
        os.environ.setdefault("SAGEMAKER_PROGRAM", "inference.py")
        os.environ.setdefault("SAGEMAKER_SUBMIT_DIRECTORY", str(self.model_dir / "code"))
        os.environ["SM_MODEL_DIR"] = str(self.model_dir)
        os.chdir(self.model_dir)
        code_dir, _ = code_location(self.model_dir, dict(os.environ))
        requirements = code_dir / "requirements.txt"
        if not requirements.is_file():
            return
        from . import envs

        try:
            site_dir = envs.prepare(requirements, Path(self.spec["envs_root"]), self.log)
        except envs.EnvironmentError_ as exc:
            self.fail(str(exc))
        except Exception as exc:  # venv or pip itself broken
            self.fail(f"Could not build the environment for code/requirements.txt: {exc}")
        self.use_site(site_dir)

    def use_site(self, site_dir: Path) -> None:
        """Prepend the environment; re-exec if it replaces a module this process already imported."""
        provided = {p.name.split("-")[0].split(".")[0].lower() for p in site_dir.iterdir()
                    if not p.name.startswith(("_", "."))}
        clash = sorted(m for m in provided if m in sys.modules)
        if clash and not self.spec.get("fresh"):
            self.log(f"requirements.txt replaces already-imported {', '.join(clash)}: restarting the "
                     f"process with the new environment")
            self.spec["fresh"] = True
            self.spec["extra_path"] = [str(site_dir)]
            spec_path = self.dir / "spec.json"
            write_json(spec_path, self.spec)
            os.execv(sys.executable, [sys.executable, "-m", "jupyter_smops.core.serving", "run", str(spec_path)])
        sys.path.insert(0, str(site_dir))
        self.log(f"requirements.txt: using {site_dir}")

    def bind(self) -> None:
        self.holder = _reuseport_socket(self.spec.get("host", "127.0.0.1"), int(self.spec.get("port") or 0))
        self.port = self.holder.getsockname()[1]
        from . import handoff, runtime_worker

        # Bound before the workers fork, so they share it and the kernel gives each handover to one.
        self.handoff_name = runtime_worker.address(str(self.dir), str(self.spec.get("uid", "")))
        self.handoff = handoff.listen(self.handoff_name)

    # -- run --------------------------------------------------------------------------
    def run(self) -> None:
        """Load, bind, fork workers, report InService, supervise. Never returns."""
        started = time.perf_counter()
        set_title("smops-endpoint", f"smops endpoint {self.spec['name']}: supervisor "
                                    f"({self.spec.get('model')}:{self.spec.get('version')})")
        self.redirect_output()
        self.log(f"starting endpoint {self.spec['name']} ({self.spec.get('model')}:{self.spec.get('version')}), "
                 f"pid {os.getpid()}")
        try:
            self.prepare_environment()
            self.loaded = default_functions.load(self.model_dir)
        except LoadError as exc:
            self.fail(str(exc))
        except Exception:
            self.fail("Loading the model failed:\n" + traceback.format_exc())
        try:
            self.bind()
        except OSError as exc:
            port = self.spec.get("port")
            self.fail(f"Cannot listen on 127.0.0.1:{port or 'a free port'}: {exc.strerror}. "
                      f"{'Another process uses that port: choose another one, or ' if port else ''}"
                      f"delete endpoints you no longer need.")
        ready_r, ready_w = os.pipe()
        for slot in range(max(1, int(self.spec.get("workers") or 1))):
            self.spawn(slot, ready_w)
        os.close(ready_w)
        if not _wait_ready(ready_r, len(self.workers), timeout=60.0):
            self.fail("The HTTP workers did not start; see the log above.")
        os.close(ready_r)
        url = f"http://127.0.0.1:{self.port}"
        write_json(self.runtime, {"status": "InService", "pid": os.getpid(), "port": self.port, "url": url,
                                  "workers": sorted(self.workers),
                                  "handoff": self.handoff_name if self.handoff is not None else None})
        self.log(f"InService at {url} with {len(self.workers)} worker(s) "
                 f"({(time.perf_counter() - started) * 1000:.0f} ms to load and listen)")
        self.supervise()

    def spawn(self, slot: int, ready_w: int = -1) -> None:
        pid = os.fork()
        if pid == 0:
            code = 0
            try:
                _worker_main(self, ready_w)
            except BaseException:
                traceback.print_exc()
                code = 1
            finally:
                os._exit(code)
        self.workers[pid] = slot

    def supervise(self) -> None:
        def on_term(signum, frame):
            raise _Stop()

        signal.signal(signal.SIGTERM, on_term)
        signal.signal(signal.SIGINT, on_term)
        try:
            while True:
                time.sleep(0.25)
                self.reap()
                state = read_json(self.dir / "state.json")
                if state is None or state.get("uid") != self.spec["uid"]:
                    self.log("the endpoint's state was removed: stopping")
                    break
                if _expired(state):  # the endpoint enforces its own expiry (deploy --expires-in)
                    self.log(f"expired at {state['expires_at']}: stopping")
                    write_json(self.runtime, {"status": "Expired", "pid": os.getpid(),
                                              "expires_at": state["expires_at"]})
                    break
        except _Stop:
            pass
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        self.stop_workers()
        self.log("stopped")
        os._exit(0)

    def reap(self) -> None:
        while self.workers:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            slot = self.workers.pop(pid, None)
            if slot is None:
                continue
            self.log(f"worker {pid} exited ({_describe_status(status)}); starting a new one")
            now = time.monotonic()
            self.restarts = [t for t in self.restarts if now - t < 60] + [now]
            if len(self.restarts) > _WORKER_RESTARTS_PER_MINUTE:
                self.stop_workers()
                self.fail(f"Workers crashed {len(self.restarts)} times within a minute (last: "
                          f"{_describe_status(status)}); see the log for the cause.")
            self.spawn(slot)

    def owns_state(self) -> bool:
        state = read_json(self.dir / "state.json")
        return state is not None and state.get("uid") == self.spec["uid"]

    def stop_workers(self) -> None:
        for pid in list(self.workers):
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + 10
        while self.workers and time.monotonic() < deadline:
            try:
                pid, _ = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                break
            if pid:
                self.workers.pop(pid, None)
            else:
                time.sleep(0.02)
        for pid in self.workers:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


def _expired(state: dict) -> bool:
    """Whether the state's ``expires_at`` (ISO UTC, set by deploy and extend) has passed."""
    from ..durations import parse_iso

    at = parse_iso(state.get("expires_at"))
    return at is not None and time.time() >= at


def _reuseport_socket(host: str, port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if hasattr(socket, "SO_REUSEPORT"):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    return sock


def _wait_ready(fd: int, count: int, timeout: float) -> bool:
    import select

    got = 0
    deadline = time.monotonic() + timeout
    while got < count:
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([fd], [], [], left)[0]:
            return False
        chunk = os.read(fd, count - got)
        if not chunk:
            return False
        got += len(chunk)
    return True


def _describe_status(status: int) -> str:
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        return f"killed by signal {sig} ({signal.Signals(sig).name})"
    return f"exit code {os.WEXITSTATUS(status)}"


def _die_with_parent() -> None:
    """Linux: the kernel sends SIGTERM to this worker when the supervisor dies (even by SIGKILL)."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _worker_main(ep: EndpointSupervisor, ready_w: int) -> None:
    from .app import make_app

    parent = os.getppid()
    _die_with_parent()
    if os.getppid() != parent:  # the supervisor died before prctl took effect
        return
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    set_title("smops-worker", f"smops endpoint {ep.spec['name']}: worker (port {ep.port})")
    sock = _reuseport_socket(ep.spec.get("host", "127.0.0.1"), ep.port)
    sock.listen(1024)
    sock.setblocking(False)
    if ep.holder is not None:
        ep.holder.close()
    app, request_log = make_app(ep.loaded, ep.spec["log"])
    if ready_w >= 0:
        os.write(ready_w, b"1")
        os.close(ready_w)

    def tick() -> None:
        request_log.flush()
        if os.getppid() != parent:
            raise SystemExit(0)

    def on_start(loop) -> None:
        if ep.handoff is not None:
            from .runtime_worker import accept_handoffs

            accept_handoffs(loop, ep.handoff, app)

    serve_forever(sock, app, on_tick=tick, admit=same_user, on_start=on_start)


def run_spec(spec_path: str) -> None:
    """Entry point of ``python -m jupyter_smops.core.serving run SPEC``."""
    spec: dict[str, Any] = json.loads(Path(spec_path).read_text())
    try:
        os.setsid()
    except OSError:  # already a session leader (started with start_new_session)
        pass
    EndpointSupervisor(spec).run()
