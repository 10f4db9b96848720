"""Process titles on Linux, and why ``setproctitle`` is in no extra (README, serving/titles.py).

Titles are written into the interpreter's own command-line area, so one longer than the command
that started the process is cut, and the environment block after it is left alone: a home's
processes are found by the ``SMOPS_HOME`` in their ``/proc/PID/environ`` (the fault suite does).
``setproctitle`` would take its extra room from that block; when installed it runs with
``SPT_NOENV``.
"""
from __future__ import annotations

import subprocess
import sys

import pytest

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
TITLE = "smops endpoint " + "a" * 63 + ": worker (port 51234)"  # the longest endpoint name
SCRIPT = f"""import os, sys
if sys.argv[1] == "without":
    sys.modules["setproctitle"] = None
from jupyter_smops.core.serving.titles import set_title
set_title("smops-worker", {TITLE!r})
print(open("/proc/self/comm").read().strip())
print(open("/proc/self/cmdline", "rb").read().split(b"\\0")[0].decode())
print(b"SMOPS_HOME=/some/home" in open("/proc/self/environ", "rb").read().split(b"\\0"))
print(os.environ.get("SPT_NOENV"))
"""


def _titles(tmp_path, mode: str) -> list[str]:
    (tmp_path / "t.py").write_text(SCRIPT)
    # A short command line (as `python -m ... zygote` is short next to a long title): a small area.
    env = {k: v for k, v in __import__("os").environ.items() if k != "SPT_NOENV"}
    out = subprocess.run([sys.executable, "t.py", mode], cwd=tmp_path, capture_output=True, text=True, timeout=60,
                         env={**env, "SMOPS_HOME": "/some/home"})
    assert out.returncode == 0, out.stderr
    return out.stdout.splitlines()


def test_a_long_title_is_cut_to_the_command_line_and_the_environment_stays_readable(tmp_path):
    comm, cmdline, home_visible, _ = _titles(tmp_path, "without")
    assert comm == "smops-worker"
    assert TITLE.startswith(cmdline) and len(cmdline) < len(TITLE)
    assert home_visible == "True"


def test_setproctitle_when_installed_keeps_the_environment_readable(tmp_path):
    pytest.importorskip("setproctitle", reason="setproctitle is optional (in no extra)")
    comm, cmdline, home_visible, noenv = _titles(tmp_path, "with")
    assert (comm, home_visible, noenv) == ("smops-worker", "True", "1")
    assert TITLE.startswith(cmdline)
