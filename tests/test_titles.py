"""Process titles with and without ``setproctitle`` (the ``serve`` extra): what it adds is room.

Without it, Linux titles are written into the interpreter's own command-line area, so a title
longer than the command that started the process is cut; ``setproctitle`` also uses the
environment's area after it (and is the only way titles are set on macOS and the BSDs).
"""
from __future__ import annotations

import subprocess
import sys

import pytest

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
TITLE = "smops endpoint " + "a" * 63 + ": worker (port 51234)"  # the longest endpoint name
SCRIPT = f"""import sys
if sys.argv[1] == "without":
    sys.modules["setproctitle"] = None
from jupyter_smops.core.serving.titles import set_title
set_title("smops-worker", {TITLE!r})
print(open("/proc/self/comm").read().strip())
print(open("/proc/self/cmdline", "rb").read().split(b"\\0")[0].decode())
"""


def _titles(tmp_path, mode: str) -> list[str]:
    (tmp_path / "t.py").write_text(SCRIPT)
    # A short command line (as `python -m ... zygote` is short next to a title): its area is small.
    out = subprocess.run([sys.executable, "t.py", mode], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    return out.stdout.splitlines()


def test_setproctitle_keeps_a_title_longer_than_the_command_line(tmp_path):
    pytest.importorskip("setproctitle", reason="the serve extra is not installed")
    assert _titles(tmp_path, "with") == ["smops-worker", TITLE]


def test_without_setproctitle_a_long_title_is_cut_to_the_command_line(tmp_path):
    comm, cmdline = _titles(tmp_path, "without")
    assert comm == "smops-worker"
    assert TITLE.startswith(cmdline) and len(cmdline) < len(TITLE)
