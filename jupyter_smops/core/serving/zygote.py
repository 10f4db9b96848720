"""A warm fork server for endpoint processes (deploy -> InService well under a second).

Importing numpy + scikit-learn costs about a second and ~190 MB; an endpoint forked from a
process that already did it only pays for its own model. There is one fork server per endpoints
folder (per ``$SMOPS_HOME``), whatever interpreter asks: it listens on an abstract Unix socket
named after the folder, and every request carries the asker's fingerprint (``sys.prefix``, Python,
numpy and scikit-learn versions, serving code); a fork server with another fingerprint is replaced
(after ``pip install -U scikit-learn`` nothing is served by the old import). It is started on first
use, detached from the caller (its own session, so it outlives a kernel restart), and kept only
while something needs it: a lease (``leases.hold``: the Jupyter server extension and a kernel with the
magics hold one for their lifetime; see ``leases``) or a live local endpoint. Without either it exits
``SMOPS_ZYGOTE_GRACE`` seconds (60) after its last request, at once on ``stop_if_unneeded`` (local
cleanup), and when the folder is removed. ``SMOPS_ZYGOTE=0`` turns it off: each endpoint then
starts a fresh interpreter. Model code never runs in the fork server itself, only in its children.
"""
from __future__ import annotations

import fcntl
import hashlib
import json
import os
import select
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Optional

from ..procs import start_time as _start_time
from .leases import needed

PRELOAD = ("numpy", "joblib", "sklearn", "sklearn.base", "sklearn.utils.validation", "sklearn.tree",
           "sklearn.ensemble", "sklearn.linear_model", "sklearn.pipeline", "sklearn.preprocessing",
           "uvloop", "httptools", "jupyter_smops.core.serving.process", "jupyter_smops.core.serving.app")
# One BLAS/OpenMP thread per worker process: N workers x M threads on a few cores only thrash.
THREAD_LIMITS = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
_CONNECT_TIMEOUT = 120.0
_TICK = 2.0
_children: list = []  # direct-spawn Popen objects, kept so Python reaps them


class ZygoteUnavailable(Exception):
    pass


def fingerprint() -> str:
    """Changes when the environment, the serving code or the installed numpy / scikit-learn
    change (a `pip install -U scikit-learn` must not be served, or validated, by the old one).
    ``sys.prefix``, not the executable's path: ``python`` and ``python3`` of one venv are one
    environment and share one fork server."""
    from importlib import metadata

    digest = hashlib.sha256(f"{sys.prefix}|{sys.version}".encode())
    for dist in ("numpy", "scikit-learn"):
        try:
            digest.update(f"|{dist}={metadata.version(dist)}".encode())
        except metadata.PackageNotFoundError:
            pass
    here = Path(__file__).parent
    for path in sorted(here.glob("*.py")):
        st = path.stat()
        digest.update(f"{path.name}:{st.st_mtime_ns}:{st.st_size}".encode())
    return digest.hexdigest()[:16]


def address(root: Path) -> str:
    """The fork server's socket: one per endpoints folder (the fingerprint is checked per request)."""
    key = hashlib.sha256(str(Path(root).resolve()).encode()).hexdigest()[:24]
    if sys.platform.startswith("linux"):
        return f"\0smops-zygote-{key}"
    return str(Path(root) / ".zygote" / f"{key}.sock")


def child_env(env: Optional[dict] = None) -> dict:
    from .environment import endpoint_environment

    # What is inherited is allowlisted (no AWS keys or other secrets); what a caller gives is its choice.
    out = endpoint_environment() if env is None else dict(env)
    for k, v in THREAD_LIMITS.items():
        out.setdefault(k, v)
    return out


# -- client ----------------------------------------------------------------------------
def spawn(root: Path, spec_path: Path, env: Optional[dict] = None) -> int:
    """Start an endpoint process for ``spec_path``; returns its pid (the endpoint's supervisor)."""
    env = child_env(env)
    if os.environ.get("SMOPS_ZYGOTE", "1") not in ("0", "false", "no", "off"):
        try:
            return _request(root, {"cmd": "spawn", "spec": str(spec_path), "env": env})["pid"]
        except ZygoteUnavailable:
            pass
    proc = subprocess.Popen([sys.executable, "-m", "jupyter_smops.core.serving", "run", str(spec_path)],
                            env=env, start_new_session=True, stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, close_fds=True)
    _children.append(proc)
    _children[:] = [p for p in _children if p.poll() is None]
    return proc.pid


def run_script(root: Path, argv: list[str], *, env: dict, cwd: Path, stdout: Path, stderr: Path) -> int:
    """Run the Python script ``argv[0]`` (with ``argv``) in a fork of the warm zygote of ``root``,
    so it starts with numpy and scikit-learn already imported. Returns its pid, which leads a
    process group of its own (kill it with ``os.killpg``); its output goes to the two files.
    Raises ZygoteUnavailable when no zygote can serve (the caller runs a fresh interpreter)."""
    if os.environ.get("SMOPS_ZYGOTE", "1") in ("0", "false", "no", "off"):
        raise ZygoteUnavailable("turned off (SMOPS_ZYGOTE=0)")
    message = {"cmd": "run", "argv": [str(a) for a in argv], "env": child_env(env), "cwd": str(cwd),
               "stdout": str(stdout), "stderr": str(stderr)}
    return _request(root, message)["pid"]


def wait_exit(pid: int, timeout: float) -> bool:
    """Wait until process ``pid`` (not necessarily our child) has exited; False on timeout.
    Linux wakes on a pidfd; elsewhere (macOS) it polls every 10 ms."""
    if hasattr(os, "pidfd_open"):
        try:
            fd = os.pidfd_open(pid)
        except ProcessLookupError:
            return True
        try:
            ready, _, _ = select.select([fd], [], [], max(timeout, 0))
            return bool(ready)
        finally:
            os.close(fd)
    deadline = time.monotonic() + max(timeout, 0)
    while True:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        except PermissionError:
            pass  # alive, someone else's: cannot happen for our fork server's children
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.01)


def warm(root: Path) -> bool:
    """Make sure a fork server of this environment is running for ``root`` (False when it
    cannot start). It does not keep it running: see ``leases.hold``."""
    try:
        _request(root, {"cmd": "ping"})
        return True
    except ZygoteUnavailable:
        return False


def stop(root: Path) -> None:
    """Ask the fork server of ``root`` (if any) to exit (endpoints keep running)."""
    try:
        _request(root, {"cmd": "exit"}, start=False)
    except ZygoteUnavailable:
        pass


def stop_if_unneeded(root: Path) -> bool:
    """Stop the fork server of ``root`` now unless a lease or a live endpoint needs it (a cleanup
    that left no endpoint). True when none is running afterwards."""
    try:
        return bool(_request(root, {"cmd": "exit-if-unneeded"}, start=False).get("exiting"))
    except ZygoteUnavailable:
        return True


def _request(root: Path, message: dict, start: bool = True) -> dict:
    """Send ``message`` with this environment's fingerprint; a fork server of another
    environment answers ``stale`` and is replaced (when ``start``)."""
    fp = fingerprint()
    message = dict(message, fp=fp)
    for attempt in range(3):
        reply = _exchange(_connect(root, start=start, fp=fp), message)
        if "stale" not in reply:
            break
        if not start or attempt == 2:
            raise ZygoteUnavailable("the running fork server serves another environment")
        _start(root, fp, replace=reply["stale"])
    if "error" in reply:
        raise ZygoteUnavailable(reply["error"])
    return reply


def _exchange(sock: socket.socket, message: dict) -> dict:
    try:
        sock.sendall(json.dumps(message).encode() + b"\n")
        data = b""
        while not data.endswith(b"\n"):
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
    except OSError as exc:
        raise ZygoteUnavailable(str(exc)) from None
    finally:
        sock.close()
    try:
        return json.loads(data)
    except ValueError:
        raise ZygoteUnavailable("no reply") from None


def _connect(root: Path, start: bool, fp: str) -> socket.socket:
    addr = address(root)
    for attempt in range(2):
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(_CONNECT_TIMEOUT)
        try:
            sock.connect(addr)
            return sock
        except OSError:
            sock.close()
        if not start or attempt:
            break
        _start(root, fp)
    raise ZygoteUnavailable(f"no zygote at {root}")


def _start(root: Path, fp: str, replace: Optional[str] = None) -> None:
    """Start the fork server of ``root`` (under a lock: one per folder). ``replace``: the
    fingerprint of a running one to stop first (unless another caller replaced it meanwhile)."""
    root.mkdir(parents=True, exist_ok=True)
    with open(root / ".zygote.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        probe.settimeout(_CONNECT_TIMEOUT)
        try:
            probe.connect(address(root))
            if not replace:
                return  # another caller started it meanwhile
            reply = _exchange(probe, {"cmd": "exit", "if_fp": replace})
            if not reply.get("exiting"):
                return  # already replaced by a caller of our environment (or another)
            _wait_unbound(root)
        except OSError:
            pass
        except ZygoteUnavailable:
            _wait_unbound(root)
        finally:
            probe.close()
        log = open(root / ".zygote.log", "ab")
        # The launcher binds, forks the zygote and exits at once: nobody keeps a zombie.
        proc = subprocess.run([sys.executable, "-m", "jupyter_smops.core.serving", "zygote", str(root), fp],
                              env=child_env(), start_new_session=True, stdin=subprocess.DEVNULL,
                              stdout=log, stderr=log, close_fds=True, timeout=60)
        log.close()
        if proc.returncode != 0:
            raise ZygoteUnavailable(f"zygote failed to start (see {root / '.zygote.log'})")


def _wait_unbound(root: Path, timeout: float = 10.0) -> None:
    """Wait until the exiting fork server's socket is free (its name is released at its exit)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            probe.connect(address(root))
        except OSError:
            return
        finally:
            probe.close()
        time.sleep(0.02)


# -- server ----------------------------------------------------------------------------
def main(root: str, fp: str) -> None:
    """``python -m jupyter_smops.core.serving zygote ROOT FP``: bind, daemonize, preload, serve."""
    root_path = Path(root)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    addr = address(root_path)
    if not addr.startswith("\0"):
        Path(addr).parent.mkdir(parents=True, exist_ok=True)
        Path(addr).unlink(missing_ok=True)
    try:
        listener.bind(addr)
    except OSError as exc:
        print(f"zygote: cannot bind: {exc}", file=sys.stderr)
        sys.exit(0 if exc.errno == 98 else 1)  # EADDRINUSE: one is already running
    listener.listen(128)
    if os.fork():
        os._exit(0)
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # children are reaped by the kernel
    from .titles import set_title

    set_title("smops-forksrv", f"smops fork server for {root_path}")
    import importlib

    for name in PRELOAD:
        try:
            importlib.import_module(name)
        except ImportError:
            pass
    _serve(listener, root_path, fp)


def _serve(listener: socket.socket, root: Path, fp: str) -> None:
    """Answer requests until nothing needs this process (see the module docstring)."""
    grace = float(os.environ.get("SMOPS_ZYGOTE_GRACE", "60"))
    listener.settimeout(_TICK)
    last = time.monotonic()  # the last request, or the last moment something needed us
    scripts: set[int] = set()  # running validation probes: their askers are waiting
    while True:
        try:
            conn, _ = listener.accept()
        except socket.timeout:
            if not root.is_dir():
                os._exit(0)
            scripts = {pid for pid in scripts if _start_time(pid) is not None}
            if scripts or needed(root):
                last = time.monotonic()
            elif time.monotonic() - last > grace:
                os._exit(0)
            continue
        last = time.monotonic()
        if not _same_user(conn):
            conn.close()  # an abstract socket has no file permissions: check who is asking
            continue
        conn.settimeout(10)
        try:
            _answer(listener, conn, root, fp, scripts)
        except Exception as exc:  # a bad request must not kill the zygote
            try:
                conn.sendall(json.dumps({"error": repr(exc)}).encode() + b"\n")
            except OSError:
                pass
        finally:
            conn.close()


def _answer(listener: socket.socket, conn: socket.socket, root: Path, fp: str, scripts: set) -> None:
    data = b""
    while not data.endswith(b"\n"):
        chunk = conn.recv(1 << 20)
        if not chunk:
            break
        data += chunk
    message = json.loads(data)
    cmd = message.get("cmd")
    if cmd == "exit" or (cmd == "exit-if-unneeded" and not scripts and not needed(root)):
        if message.get("if_fp") not in (None, fp):
            conn.sendall(b'{"exiting": false}\n')  # already replaced: not the one the asker meant
            return
        conn.sendall(b'{"ok": true, "exiting": true}\n')
        os._exit(0)
    if message.get("fp") != fp and cmd != "exit-if-unneeded":
        conn.sendall(json.dumps({"stale": fp}).encode() + b"\n")  # another environment: replace me
        return
    if cmd in ("ping", "exit-if-unneeded"):
        conn.sendall(b'{"ok": true, "exiting": false}\n')
    elif cmd == "run":
        pid = _fork_script(listener, conn, message)
        scripts.add(pid)
        conn.sendall(json.dumps({"pid": pid}).encode() + b"\n")
    else:
        pid = _fork_endpoint(listener, conn, message)
        conn.sendall(json.dumps({"pid": pid}).encode() + b"\n")
        with open(root / ".zygote.spawned", "a") as fh:
            fh.write(f"{pid} {message['spec']}\n")


def _fork_endpoint(listener: socket.socket, conn: socket.socket, message: dict) -> int:
    pid = os.fork()
    if pid:
        return pid
    try:
        listener.close()
        conn.close()
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        os.environ.clear()
        os.environ.update(message.get("env") or {})
        from .process import run_spec

        run_spec(message["spec"])
    finally:
        os._exit(1)


def _same_user(conn: socket.socket) -> bool:
    """Only processes of this user may ask for forks (Linux: SO_PEERCRED). Elsewhere the socket
    is a file in the endpoints folder, which only this user can reach."""
    if not hasattr(socket, "SO_PEERCRED"):
        return True
    import struct

    creds = conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    _pid, uid, _gid = struct.unpack("3i", creds)
    return uid == os.getuid()


def _fork_script(listener: socket.socket, conn: socket.socket, message: dict) -> int:
    """The child of ``run_script``: its own session, directory, environment and output files,
    then the script as ``__main__``, as a fresh ``python script`` would run it."""
    pid = os.fork()
    if pid:
        return pid
    code = 1
    try:
        listener.close()
        conn.close()
        os.setsid()
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        from .titles import set_title

        set_title("smops-probe", " ".join(["python", *map(str, message["argv"])]))
        os.chdir(message["cwd"])
        os.environ.clear()
        os.environ.update(message.get("env") or {})
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)
        os.close(devnull)
        for fd, path in ((1, message["stdout"]), (2, message["stderr"])):
            out = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            os.dup2(out, fd)
            os.close(out)
        import runpy

        sys.argv = list(message["argv"])
        sys.path[0] = str(Path(sys.argv[0]).resolve().parent)
        runpy.run_path(sys.argv[0], run_name="__main__")
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except BaseException:  # noqa: BLE001 - reported on the script's stderr, as Python would
        import traceback

        traceback.print_exc()
    finally:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except Exception:  # noqa: BLE001
                pass
        os._exit(code)
