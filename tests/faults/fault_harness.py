"""Fault injection helpers: a real ``jupyter server`` with the extension, driven over REST and killed at a
chosen progress phase, and checks that nothing is left behind and that status tells the truth.

The kill hook is test scaffolding, not product code: the server's config file (written here)
wraps ``Smops.push``/``Smops.deploy`` so that the N-th report of phase P SIGKILLs the server
process at once (``SMOPS_TEST_KILL_AT=P`` or ``P:N``), as a crash or an OOM kill would.
"""
from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path
from typing import Optional

from server_process import ServerProcess

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


_STARTED = [0]


class Server(ServerProcess):
    """One ``jupyter server`` process with jupyter_smops, its root folder and its log; ``kill_at``
    makes it SIGKILL itself at that progress phase."""

    def __init__(self, root: Path, env: dict, kill_at: Optional[str] = None):
        env = dict(env, FAULT_TOKEN=TOKEN)
        if kill_at:
            env["SMOPS_TEST_KILL_AT"] = kill_at
        _STARTED[0] += 1
        super().__init__(root, env, config=SERVER_CONFIG, config_path=root.parent / "fault_server_config.py",
                         log_path=root.parent / f"server-{_STARTED[0]}.log", token=TOKEN)

    def died(self, timeout: float = 60) -> bool:
        """Wait for the injected kill; True when the server was SIGKILLed."""
        try:
            return self.proc.wait(timeout) == -signal.SIGKILL
        except subprocess.TimeoutExpired:
            return False


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
