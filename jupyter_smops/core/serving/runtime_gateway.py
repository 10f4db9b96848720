"""The local SageMaker Runtime address: one small gateway process per ``$SMOPS_HOME``.

boto3's ``sagemaker-runtime`` client (and the SDK's Predictor) reach local endpoints through it
unchanged: ``endpoint_url=runtime_url``, any credentials, any region. It runs on its own, not in
the Jupyter server, so kernels, magics and the CLI have it whether a server runs or not.

Lifecycle. ``ensure(root)`` (called by a local deploy and by ``status``) starts it when it is not
running: the caller binds ``127.0.0.1`` itself (the port of the last run when free, so the
address a user pasted keeps working) and hands the listening socket to a detached process, so
the address is known and accepts connections at once. The address and pid are recorded in
``root/.runtime.json`` (only the port stays once it stopped). The gateway exits when no local endpoint is left (checked every second)
or ``root`` is removed; a lock orders that exit against a deploy starting one.

Why loopback without verifying signatures is safe: the socket is bound to 127.0.0.1 only
(nothing off the machine can connect), every connection's client socket must belong to this
process's uid (``peer.tcp_peer_uid``; other local users are refused), requests must carry a
SigV4 ``Authorization`` header and name this address as ``Host`` and carry no ``Origin`` (a web
page in the user's browser can send none of these without a CORS preflight, which is never
granted, and a rebinding DNS name is refused). What it can do for a caller is what that user can
already do with the endpoints' own ports and files.

Speed. A checked connection is handed to the endpoint's workers once its first request has been
answered (``handoff``, ``runtime_worker``): they answer the following InvokeEndpoint calls on it
themselves, with the same checks per request, so a client's steady state costs what the
endpoint's own URL costs (``bench/runtime.py``). The handover goes over an abstract Unix socket
that only this uid may use (``SO_PEERCRED``), and the worker checks the client's uid once more.
Anything a worker does not answer comes back here with the connection.
"""
from __future__ import annotations

import fcntl
import hashlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Optional

RECORD, LOCK = ".runtime.json", ".runtime.lock"
_children: list = []  # Popen objects of gateways this process started (reaped on later calls)


def fingerprint() -> str:
    """Changes with the interpreter or the gateway's code: a changed install restarts it."""
    digest = hashlib.sha256(sys.executable.encode())
    here = Path(__file__).parent
    for name in ("runtime_gateway.py", "runtime_protocol.py", "runtime_upstream.py", "peer.py", "handoff.py",
                 "runtime_worker.py"):
        st = (here / name).stat()
        digest.update(f"{name}:{st.st_mtime_ns}:{st.st_size}".encode())
    return digest.hexdigest()[:16]


def has_endpoints(root: Path) -> bool:
    """True while ``root`` holds a local endpoint (any status): the gateway's reason to run."""
    try:
        return any(not n.startswith(".") for n in os.listdir(root))
    except OSError:
        return False


def _alive(record: dict) -> bool:
    from ..endpoints.local_process import alive

    return alive(record.get("pid"), record.get("pid_start"))


def current(root: Path) -> Optional[dict]:
    """The running gateway's record (url, port, pid), or None."""
    from ..files import read_json

    record = read_json(Path(root) / RECORD)
    return record if record and _alive(record) else None


def ensure(root: Path) -> str:
    """The runtime URL of ``root``'s gateway, starting the gateway if it is not running."""
    from ..files import read_json, write_json

    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    _children[:] = [p for p in _children if p.poll() is None]
    with open(root / LOCK, "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        record = read_json(root / RECORD) or {}
        fp = fingerprint()
        if _alive(record):
            if record.get("fingerprint") == fp:
                return record["url"]
            _stop_pid(record)  # an older install's gateway: replace it on the same port
        sock = _bind(int(record.get("port") or 0))
        try:
            port = sock.getsockname()[1]
            with open(root / ".runtime.log", "ab") as log:
                proc = subprocess.Popen(
                    [sys.executable, "-m", "jupyter_smops.core.serving.runtime_gateway", str(root),
                     str(sock.fileno())], pass_fds=[sock.fileno()], start_new_session=True,
                    stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=log, close_fds=True)
        finally:
            sock.close()
        _children.append(proc)
        from ..procs import start_time

        url = f"http://127.0.0.1:{port}"
        write_json(root / RECORD, {"url": url, "port": port, "pid": proc.pid, "pid_start": start_time(proc.pid),
                                   "fingerprint": fp})
        return url


def stop(root: Path) -> None:
    """Stop ``root``'s gateway if it runs (tests, and replacing an old install's)."""
    root = Path(root)
    if not root.is_dir():
        return
    with open(root / LOCK, "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        record = current(root)
        if record:
            _stop_pid(record)


def _stop_pid(record: dict) -> None:
    from .zygote import wait_exit

    try:
        os.kill(record["pid"], signal.SIGTERM)
    except (ProcessLookupError, PermissionError):
        return
    wait_exit(record["pid"], 5.0)


def _bind(preferred: int) -> socket.socket:
    """A listening socket on 127.0.0.1 (never another interface): the preferred port, else any."""
    for port in ((preferred, 0) if preferred else (0,)):
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            sock.close()
            continue
        sock.listen(1024)
        sock.set_inheritable(True)
        return sock
    raise OSError("cannot bind 127.0.0.1")


# -- the gateway process ----------------------------------------------------------------
class Resolver:
    """Endpoint name -> port, re-read from the endpoint's files at most once a second."""

    TTL = 1.0

    def __init__(self, root: Path):
        from ..endpoints.local import LocalEndpoints

        self.endpoints = LocalEndpoints(SimpleNamespace(home_path=root.parent))
        self.endpoints.root = root
        self.cache: dict = {}

    def __call__(self, name: str):
        from .runtime_protocol import Target

        now = time.monotonic()
        hit = self.cache.get(name)
        if hit is not None and now - hit[0] < self.TTL:
            return hit[1]
        target = self._lookup(name, Target)
        if len(self.cache) > 4096:
            self.cache.clear()
        self.cache[name] = (now, target)
        return target

    def _lookup(self, name: str, Target):
        from ..errors import SmopsError

        try:
            ep = self.endpoints.describe(name)
        except SmopsError:
            return Target(error=f"Endpoint {name} not found among the local endpoints in {self.endpoints.root}. "
                                f"List them with `jupyter smops endpoints` (or %smops endpoints).")
        if ep.status != "InService" or not ep.url:
            why = f": {ep.failure_reason}" if ep.failure_reason else ""
            return Target(error=f"Endpoint {name} is {ep.status}, not InService{why}")
        from ..files import read_json

        # The workers' handover listener (absent for endpoints started by an older release).
        runtime = read_json(self.endpoints.root / name / "runtime.json") or {}
        return Target(port=int(ep.url.rsplit(":", 1)[1]), log=str(self.endpoints.root / name / "endpoint.log"),
                      handoff=_handoff_name(runtime.get("handoff")))

    def forget(self, name: str) -> None:
        self.cache.pop(name, None)


def _handoff_name(name: Optional[str]) -> Optional[str]:
    """The workers' handover listener, when they speak this gateway's handover version."""
    from .handoff import PREFIX

    return name if isinstance(name, str) and name.startswith(PREFIX) else None


def serve(root: Path, sock: socket.socket) -> None:
    """Serve the runtime protocol on ``sock`` until no endpoint is left in ``root`` or SIGTERM."""
    import asyncio

    from . import handoff
    from .http import new_event_loop
    from .runtime_protocol import RuntimeConnection
    from .runtime_upstream import sweep_timeouts

    port = sock.getsockname()[1]
    hosts = frozenset({f"127.0.0.1:{port}", f"localhost:{port}"})
    resolve = Resolver(root)
    loop = new_event_loop()
    asyncio.set_event_loop(loop)
    stop_future = loop.create_future()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, lambda: stop_future.done() or stop_future.set_result(None))

    def tick() -> None:
        sweep_timeouts()
        if not has_endpoints(root) and _may_exit(root):
            stop_future.done() or stop_future.set_result(None)
            return
        loop.call_later(1.0, tick)

    sock.setblocking(False)
    back_name = f"smops-gateway-{hashlib.sha256(str(root.resolve()).encode()).hexdigest()[:16]}-{os.getpid()}"
    back = handoff.listen(back_name)  # None: connections stay here (no handover on this system)

    def on_returned() -> None:
        got = handoff.receive(back)
        if got is not None:
            client, _note, initial = got
            loop.create_task(loop.connect_accepted_socket(
                lambda: RuntimeConnection(resolve, resolve.forget, hosts, initial=initial, returned=True), client))

    if back is not None:
        loop.add_reader(back.fileno(), on_returned)
    handback = back_name if back is not None else None
    server = loop.run_until_complete(loop.create_server(
        lambda: RuntimeConnection(resolve, resolve.forget, hosts, handback), sock=sock, backlog=1024))
    loop.call_later(1.0, tick)
    try:
        loop.run_until_complete(stop_future)
    finally:
        server.close()
        if back is not None:
            back.close()
        loop.close()


def _may_exit(root: Path) -> bool:
    """Under the lock: still no endpoint, so drop the record (ensure() will start a new gateway)."""
    if not root.is_dir():
        return True
    with open(root / LOCK, "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if has_endpoints(root):
            return False
        try:
            record = json.loads((root / RECORD).read_text())
        except (OSError, ValueError):
            record = {}
        if record.get("pid") == os.getpid():
            # Keep the port: the next gateway takes it again when free (a pasted URL keeps working).
            from ..files import write_json

            write_json(root / RECORD, {"port": record.get("port"), "pid": None})
        return True


def main(argv: list) -> None:
    """``python -m jupyter_smops.core.serving.runtime_gateway ROOT FD``."""
    root, fd = Path(argv[0]), int(argv[1])
    sock = socket.socket(fileno=fd)
    if sock.family != socket.AF_INET or sock.getsockname()[0] != "127.0.0.1":
        sys.exit("runtime gateway: refusing a socket that is not bound to 127.0.0.1")
    serve(root, sock)


if __name__ == "__main__":
    main(sys.argv[1:])
