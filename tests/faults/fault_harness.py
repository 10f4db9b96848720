"""Fault injection helpers: a real ``jupyter server`` with the extension, driven over REST and killed at a
chosen progress phase, and checks that nothing is left behind and that status tells the truth.

The kill hook is test scaffolding, not product code: the server's config file (written here)
wraps ``Smops.push``/``Smops.deploy`` so that the N-th report of phase P SIGKILLs the server
process at once (``SMOPS_TEST_KILL_AT=P`` or ``P:N``), as a crash or an OOM kill would.
"""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any, Optional

import pytest

TOKEN = "fault-suite-token"
SAMPLE = {"instances": [[5.1, 3.5, 1.4, 0.2]]}

SERVER_CONFIG = '''
import os, signal
# Only this extension: the others cost seconds per start and are not under test.
c.ServerApp.jpserver_extensions = {"jupyter_smops": True, "jupyterlab": False, "jupyter_lsp": False,
                                   "notebook_shim": False, "jupyter_server_terminals": False}
c.ServerApp.allow_root = True
c.ServerApp.open_browser = False
c.IdentityProvider.token = os.environ["FAULT_TOKEN"]
c.ServerApp.disable_check_xsrf = False

_at = os.environ.get("SMOPS_TEST_KILL_AT")
if _at:
    from jupyter_smops.core import api as _api

    _phase, _, _nth = _at.partition(":")
    _seen = [0]

    def _hook(fn):
        def call(self, *args, progress=None, **kwargs):
            def report(phase, done=None, total=None):
                if phase == _phase:
                    _seen[0] += 1
                    if _seen[0] >= int(_nth or 1):
                        os.kill(os.getpid(), signal.SIGKILL)  # a crash: no cleanup of any kind
                if progress is not None:
                    progress(phase, done, total)
            return fn(self, *args, progress=report, **kwargs)
        return call

    _api.Smops.push = _hook(_api.Smops.push)
    _api.Smops.deploy = _hook(_api.Smops.deploy)
'''


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """One ``jupyter server`` process with jupyter_smops, its root folder and its log."""

    def __init__(self, root: Path, env: dict, kill_at: Optional[str] = None):
        self.root = root
        self.port = free_port()
        self.log_path = root.parent / f"server-{self.port}.log"
        config = root.parent / "fault_server_config.py"
        config.write_text(SERVER_CONFIG)
        env = dict(env, FAULT_TOKEN=TOKEN)
        if kill_at:
            env["SMOPS_TEST_KILL_AT"] = kill_at
        self.log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "jupyter_server", f"--config={config}", f"--ServerApp.root_dir={root}",
             f"--ServerApp.port={self.port}", "--ServerApp.port_retries=0", "--ServerApp.ip=127.0.0.1"],
            env=env, stdout=self.log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"the server exited: {self.log_path.read_text()[-3000:]}")
            try:
                if self.call("GET", "status")[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.1)
        raise AssertionError(f"the server did not start: {self.log_path.read_text()[-3000:]}")

    def call(self, method: str, route: str, body: Any = None, timeout: float = 60) -> tuple[int, Any]:
        data = json.dumps(body).encode() if body is not None else (b"{}" if method == "POST" else None)
        req = urllib.request.Request(f"http://127.0.0.1:{self.port}/smops/api/{route}", data=data, method=method,
                                     headers={"Authorization": f"token {TOKEN}", "Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=timeout) as resp:
                return resp.status, json.loads(resp.read() or b"null")
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read() or b"null")

    def start_job(self, method: str, route: str, body: Any) -> str:
        code, accepted = self.call(method, route, body)
        assert code == 202, accepted
        return accepted["job"]["id"]

    def wait_job(self, job_id: str, timeout: float = 120) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            code, job = self.call("GET", f"jobs/{job_id}")
            assert code == 200, job
            if job["state"] != "running":
                return job
            time.sleep(0.05)
        raise AssertionError(f"job {job_id} still running")

    def died(self, timeout: float = 60) -> bool:
        """Wait for the injected kill; True when the server was SIGKILLed."""
        try:
            return self.proc.wait(timeout) == -signal.SIGKILL
        except subprocess.TimeoutExpired:
            return False

    def stop(self) -> str:
        """SIGTERM (a normal stop, as Ctrl+C twice); returns the server's log."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        return self.log_path.read_text(errors="replace")


def home_processes(home: Path) -> list[int]:
    """Live processes started for ``home`` (endpoint supervisors and workers, the fork server,
    probes): they carry SMOPS_HOME in their environment. This test process is not counted."""
    needle = f"SMOPS_HOME={home}".encode()
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit() or int(proc.name) == os.getpid():
            continue
        try:
            if (proc / "stat").read_text().rsplit(")", 1)[1].split()[0] in ("Z", "X"):
                continue
            if needle + b"\0" in (proc / "environ").read_bytes() + b"\0":
                found.append(int(proc.name))
        except (OSError, IndexError):
            continue
    return found


def wait_until(predicate, timeout: float = 15.0, step: float = 0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(step)
    return predicate()


def leftovers(home: Path) -> list[str]:
    """What a crashed push or deploy may have left in ``home``: staging folders, claims, cache
    downloads, temporary endpoint folders (paths relative to home)."""
    found = []
    for pattern in ("registry/*/.staging-*", "registry/**/.claim", "cache/*", "endpoints/.deleted-*"):
        found += [str(p.relative_to(home)) for p in home.glob(pattern)]
    return sorted(found)
