"""The Studio on-start script: syntax, shellcheck, size limit, and real runs with fake tools."""
from __future__ import annotations

import base64
import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from jupyter_smops.core.admin.lcc_script import (MAX_CONTENT, WORKER, default_name, encode, parse_wheel,
                                                 render_script)
from jupyter_smops.core.errors import BadRequest, PayloadTooLarge

WHEEL = "s3://team-artifacts/wheels/jupyter_smops-0.1.0-py3-none-any.whl"

# Fake tools: each appends its arguments to $FAKE_STATE/<tool>.log. The fake python3 stands for
# the image's interpreter: its site-packages and prefix are $FAKE_STATE/image/...
FAKE_PYTHON = r"""#!/bin/bash
img="$FAKE_STATE/image"
case "$*" in
  *sysconfig*) echo "$img/lib/python3.12/site-packages"; exit 0;;
  *sys.prefix*) echo "$img"; exit 0;;
  *boto3*) echo "download $*" >> "$FAKE_STATE/pip.log"; echo wheel > "${!#}"; exit 0;;
esac
[ "$1 $2" = "-m pip" ] || { echo "unexpected python3 $*" >&2; exit 9; }
shift 2
echo "$*" >> "$FAKE_STATE/pip.log"
case "$1" in
  list) echo "jupyterlab==4.5.10"; echo "boto3==1.43.75";;
  install) sleep "${FAKE_PIP_SLEEP:-0}"
        [ -n "${FAKE_PIP_FAIL:-}" ] && { echo "ERROR: No matching distribution" >&2; exit 1; }
        prefix=""; prev=""
        for a in "$@"; do [ "$prev" = "--prefix" ] && prefix="$a"; prev="$a"; done
        mkdir -p "$prefix/lib/python3.12/site-packages/jupyter_smops" "$prefix/bin" \
          "$prefix/share/jupyter/labextensions/jupyter-smops" "$prefix/etc/jupyter/jupyter_server_config.d"
        echo '{}' > "$prefix/etc/jupyter/jupyter_server_config.d/jupyter_smops.json"
        printf '#!/bin/sh\n' > "$prefix/bin/jupyter-smops";;
esac
"""
FAKE_JUPYTER = r"""#!/bin/bash
echo "$*" >> "$FAKE_STATE/jupyter.log"
if [ "$1 $2" = "server list" ] && [ -f "$FAKE_STATE/server-running" ]; then
  echo '{"pid": 4242, "url": "http://localhost:8888/"}'
fi
"""
FAKE_RESTART = '#!/bin/bash\necho restarted >> "$FAKE_STATE/restart.log"\n'
FAKE_AWS = '#!/bin/bash\necho "$*" >> "$FAKE_STATE/aws.log"\n[ "$1 $2" = "s3 cp" ] && echo wheel > "${!#}"\n'


def test_script_is_valid_bash():
    for script in (render_script(version="0.1.0"), render_script(wheel=WHEEL), WORKER):
        subprocess.run(["bash", "-n"], input=script.encode(), check=True)


@pytest.mark.skipif(shutil.which("shellcheck") is None,
                    reason="shellcheck is not installed (apt-get install shellcheck)")
@pytest.mark.parametrize("which", ["pypi", "wheel", "worker", "appended"])
def test_shellcheck_finds_nothing(which, tmp_path):
    text = {"pypi": lambda: render_script(version="0.1.0"), "wheel": lambda: render_script(wheel=WHEEL),
            "worker": lambda: WORKER, "appended": lambda: render_script(append='echo "team setup for ${USER:-me}"\n')}[which]()
    path = tmp_path / "script.sh"
    path.write_text(text)
    result = subprocess.run(["shellcheck", "--shell=bash", "--severity=style", str(path)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout


def test_size_fits_and_overflow_says_by_how_much():
    content = encode(render_script(version="0.1.0"))
    assert len(content) <= MAX_CONTENT // 2  # plenty of room for an admin's own additions
    assert base64.b64decode(content).decode().startswith("#!/bin/bash")
    big = render_script(version="0.1.0", append="# " + "x" * 12000 + "\n")
    expected_over = len(base64.b64encode(big.encode())) - MAX_CONTENT
    with pytest.raises(PayloadTooLarge) as info:
        encode(big)
    assert f"{expected_over:,} over" in str(info.value) and info.value.details["over"] == expected_over


def test_pins_version_and_parses_wheels():
    assert "SMOPS_VERSION=0.3.1" in render_script(version="0.3.1")
    assert parse_wheel(WHEEL) == (WHEEL, "0.1.0")
    assert "SMOPS_VERSION=0.1.0" in render_script(wheel=WHEEL) and WHEEL in render_script(wheel=WHEEL)
    with pytest.raises(BadRequest, match="does not match"):
        render_script(version="0.2.0", wheel=WHEEL)
    for bad in ("https://x/jupyter_smops-0.1.0-py3-none-any.whl", "s3://b/other-0.1.0-py3-none-any.whl", "s3://b/x.tar.gz"):
        with pytest.raises(BadRequest):
            parse_wheel(bad)
    with pytest.raises(BadRequest):
        render_script(version="1.0; rm -rf /")
    assert default_name("0.1.0") == "jupyter-smops-0-1-0"


@pytest.fixture
def studio(tmp_path):
    """A scratch HOME, a fake image (site-packages + prefix) and fake python3/jupyter/aws/restart-jupyter-server."""
    home, bin_dir, state = tmp_path / "home", tmp_path / "bin", tmp_path / "state"
    for d in (home, bin_dir, state, state / "image/lib/python3.12/site-packages/boto3-1.43.75.dist-info"):
        d.mkdir(parents=True)
    for name, text in (("python3", FAKE_PYTHON), ("jupyter", FAKE_JUPYTER), ("restart-jupyter-server", FAKE_RESTART),
                       ("aws", FAKE_AWS)):
        (bin_dir / name).write_text(text)
        (bin_dir / name).chmod(0o755)
    env = {"HOME": str(home), "PATH": f"{bin_dir}:/usr/bin:/bin", "FAKE_STATE": str(state), "LANG": "C.UTF-8"}
    return home, state, env


def _run(script: str, env: dict, home: Path, wait: bool = True) -> float:
    start = time.monotonic()
    result = subprocess.run(["bash", "-c", script], env=env, capture_output=True, text=True, timeout=60)
    elapsed = time.monotonic() - start
    assert result.returncode == 0, result.stderr
    log = home / ".smops/lcc/on-start.log"
    if wait:  # a background install ends with "done" (or a failure line); a linked start has none
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            text = log.read_text()
            started = text.count("installing in the background")
            if text.count("[install]: done") + text.count("[error]: failed") >= started:
                break
            time.sleep(0.1)
    return elapsed


def _lines(path: Path) -> list[str]:
    return path.read_text().splitlines() if path.exists() else []


def _installs(state: Path) -> list[str]:
    return [line for line in _lines(state / "pip.log") if line.startswith("install")]


def test_runs_twice_installs_once_outside_the_image_and_restarts_only_a_running_server(studio):
    home, state, env = studio
    (state / "server-running").touch()
    script = render_script(version="0.1.0")
    _run(script, env, home)
    installs = _installs(state)
    assert len(installs) == 1
    prefix = next((home / ".smops/lcc/installs").iterdir())
    assert prefix.name.startswith("0.1.0-") and (prefix / ".installed").exists()
    # Constrained to the image's own freeze, installed under $HOME, never into the image.
    assert f"--prefix {prefix}.partial -c " in installs[0] and installs[0].endswith(" jupyter_smops==0.1.0")
    assert "list --format=freeze --disable-pip-version-check" in _lines(state / "pip.log")
    site = state / "image/lib/python3.12/site-packages"
    assert (site / "jupyter_smops_lcc.pth").read_text().strip() == str(prefix / "lib/python3.12/site-packages")
    assert (state / "image/share/jupyter/labextensions/jupyter-smops").resolve() == \
        prefix / "share/jupyter/labextensions/jupyter-smops"
    assert (state / "image/etc/jupyter/jupyter_server_config.d/jupyter_smops.json").exists()
    assert _lines(state / "restart.log") == ["restarted"]
    startup = home / ".ipython/profile_default/startup/50-jupyter-smops.py"
    first = startup.read_text()
    compile(first, str(startup), "exec")
    assert 'run_line_magic("load_ext", "jupyter_smops")' in first

    # Second start: the image environment is fresh again, $HOME is not. No pip, no restart:
    # the install is linked in the foreground before the server starts.
    (site / "jupyter_smops_lcc.pth").unlink()
    pip_lines = len(_lines(state / "pip.log"))
    _run(script, env, home)
    assert len(_lines(state / "pip.log")) == pip_lines and _lines(state / "restart.log") == ["restarted"]
    assert (site / "jupyter_smops_lcc.pth").exists() and startup.read_text() == first
    log = (home / ".smops/lcc/on-start.log").read_text()
    assert "already installed for this image" in log and log.count("[install]: done") == 1


def test_another_image_gets_its_own_install_and_the_old_one_goes(studio):
    home, state, env = studio
    script = render_script(version="0.1.0")
    _run(script, env, home)
    (state / "image/lib/python3.12/site-packages/boto3-1.43.75.dist-info").rename(
        state / "image/lib/python3.12/site-packages/boto3-1.44.0.dist-info")
    _run(script, env, home)
    assert len(_installs(state)) == 2
    assert len(list((home / ".smops/lcc/installs").iterdir())) == 1


def test_no_restart_when_no_server_runs(studio):
    home, state, env = studio
    _run(render_script(version="0.1.0"), env, home)
    assert len(_installs(state)) == 1 and not (state / "restart.log").exists()


def test_long_install_runs_in_the_background(studio):
    home, state, env = studio
    env = dict(env, FAKE_PIP_SLEEP="5")
    elapsed = _run(render_script(version="0.1.0"), env, home, wait=False)
    assert elapsed < 4, f"the foreground took {elapsed:.1f} s: the install is not backgrounded"
    installs = home / ".smops/lcc/installs"
    assert not any(installs.glob("*/.installed"))
    deadline = time.monotonic() + 20
    while not any(installs.glob("*/.installed")) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert any(installs.glob("*/.installed"))


def test_installs_the_wheel_from_s3(studio):
    home, state, env = studio
    _run(render_script(wheel=WHEEL), env, home)
    assert _lines(state / "aws.log")[0].startswith(f"s3 cp --only-show-errors {WHEEL} ")
    assert _installs(state)[0].endswith("/jupyter_smops-0.1.0-py3-none-any.whl")


def test_a_failed_install_is_logged_and_does_not_fail_the_app(studio):
    home, state, env = studio
    env = dict(env, FAKE_PIP_FAIL="1")
    _run(render_script(version="0.1.0"), env, home)
    log = (home / ".smops/lcc/on-start.log").read_text()
    assert "No matching distribution" in log and "[error]: failed at line" in log
    assert os.path.exists(home / ".ipython/profile_default/startup/50-jupyter-smops.py")
    assert not any((home / ".smops/lcc/installs").glob("*/.installed"))
    assert not (state / "image/lib/python3.12/site-packages/jupyter_smops_lcc.pth").exists()
