"""The validation probe forked from the local endpoints' warm fork server (scikit-learn already
imported) behaves as the fresh interpreter does: same report, killed with its group on timeout,
and a fresh interpreter whenever the fork server cannot be had."""
from __future__ import annotations

import io
import os
import signal
import sys
import tarfile
import time
from pathlib import Path

import pytest

from jupyter_smops.core.packaging.archive import safe_extract
from jupyter_smops.core.packaging.validate import run_probe
from jupyter_smops.core.serving import zygote

ROW = [[5.1, 3.5, 1.4, 0.2]]


@pytest.fixture(scope="module")
def warm_root(tmp_path_factory):
    return tmp_path_factory.mktemp("warm-endpoints")


def _model_dir(tmp_path: Path, iris_model, source: str) -> Path:
    import joblib

    buf = io.BytesIO()
    joblib.dump(iris_model, buf)
    tar = tmp_path / "m.tar.gz"
    with tarfile.open(tar, "w:gz") as t:
        for name, data in (("model.joblib", buf.getvalue()), ("code/inference.py", source.encode())):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            t.addfile(info, io.BytesIO(data))
    work = tmp_path / "work"
    safe_extract(tar, work / "model")
    return work / "model"


LOADER = 'import os, joblib\ndef model_fn(model_dir):\n    return joblib.load(os.path.join(model_dir, "model.joblib"))\n'


def test_warm_and_fresh_probes_report_the_same(tmp_path, iris_model, warm_root):
    model_dir = _model_dir(tmp_path, iris_model, LOADER)
    fresh, fresh_s = run_probe(model_dir, 60, ROW)
    warm, _ = run_probe(model_dir, 60, ROW, warm_root)  # may start the fork server
    warm, warm_s = run_probe(model_dir, 60, ROW, warm_root)
    for report in (fresh, warm):
        report.pop("timings", None)
    assert warm == fresh and "error" not in warm and warm["stage"] == "done"
    print(f"probe: fresh {fresh_s:.2f} s, warm {warm_s:.2f} s")


def test_a_probe_past_its_timeout_is_killed(tmp_path, iris_model, warm_root):
    pid_file = tmp_path / "pid"
    source = f"import os, time\ndef model_fn(model_dir):\n    open({str(pid_file)!r}, 'w').write(str(os.getpid()))\n" \
             f"    time.sleep(60)\n"
    model_dir = _model_dir(tmp_path, iris_model, source)
    assert zygote.warm(warm_root)  # started beforehand: the 1 s below is for the probe alone
    report, elapsed = run_probe(model_dir, 1, None, warm_root)
    assert report.get("timed_out") and elapsed < 10
    pid = int(pid_file.read_text())
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def test_run_script_runs_as_main_with_its_env_cwd_and_output(tmp_path, warm_root):
    script = tmp_path / "s.py"
    script.write_text("import os, sys\nprint(os.getcwd(), os.environ['X'], sys.argv[1:], __name__)\n"
                      "print('to stderr', file=sys.stderr)\nraise SystemExit(3)\n")
    out, err = tmp_path / "out.txt", tmp_path / "err.txt"
    pid = zygote.run_script(warm_root, [str(script), "a"], env={"X": "1"}, cwd=tmp_path, stdout=out, stderr=err)
    assert zygote.wait_exit(pid, 60)
    assert out.read_text().split() == [str(tmp_path), "1", "['a']", "__main__"]
    assert err.read_text().strip() == "to stderr"


def test_a_hanging_script_is_a_process_group_of_its_own(tmp_path, warm_root):
    script = tmp_path / "hang.py"
    script.write_text("import time\ntime.sleep(60)\n")
    pid = zygote.run_script(warm_root, [str(script)], env={}, cwd=tmp_path, stdout=tmp_path / "o", stderr=tmp_path / "e")
    assert not zygote.wait_exit(pid, 0.3)
    assert os.getpgid(pid) == pid
    os.killpg(pid, signal.SIGKILL)
    assert zygote.wait_exit(pid, 10)


def test_without_the_fork_server_the_probe_runs_fresh(tmp_path, iris_model, monkeypatch):
    monkeypatch.setenv("SMOPS_ZYGOTE", "0")
    with pytest.raises(zygote.ZygoteUnavailable):
        zygote.run_script(tmp_path, [sys.executable], env={}, cwd=tmp_path, stdout=tmp_path / "o", stderr=tmp_path / "e")
    model_dir = _model_dir(tmp_path, iris_model, LOADER)
    start = time.perf_counter()
    report, _ = run_probe(model_dir, 60, ROW, tmp_path / "no-such-endpoints")
    assert "error" not in report and report["stage"] == "done" and time.perf_counter() - start < 60
    assert not (tmp_path / "no-such-endpoints").exists()  # no fork server was started for it


def test_an_upgraded_scikit_learn_gets_a_new_fork_server(monkeypatch):
    """The fork server's address carries the installed versions: after `pip install -U
    scikit-learn` neither endpoints nor validation are served by the old import."""
    from importlib import metadata

    before = zygote.fingerprint()
    real = metadata.version
    monkeypatch.setattr(metadata, "version", lambda dist: "99.0" if dist == "scikit-learn" else real(dist))
    assert zygote.fingerprint() != before


def test_waiting_without_pidfd_polls(tmp_path, warm_root, monkeypatch):
    """macOS has no pidfd_open: the wait polls instead, with the same answers."""
    monkeypatch.delattr(os, "pidfd_open", raising=False)
    script = tmp_path / "short.py"
    script.write_text("import time\ntime.sleep(0.5)\n")
    pid = zygote.run_script(warm_root, [str(script)], env={}, cwd=tmp_path, stdout=tmp_path / "o", stderr=tmp_path / "e")
    assert not zygote.wait_exit(pid, 0.05)
    assert zygote.wait_exit(pid, 30)


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to act as another user")
def test_another_user_cannot_ask_the_fork_server_for_anything(tmp_path, warm_root):
    """The Linux socket is abstract (no file permissions), so the server checks the caller's uid."""
    import subprocess

    assert zygote.warm(warm_root)
    marker = tmp_path / "ran"
    ask = ("import json, socket, sys\n"
           "s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM); s.settimeout(20)\n"
           "s.connect(bytes.fromhex(sys.argv[1]).decode())\n"
           "try:\n"
           "    s.sendall(json.dumps({'cmd': 'run', 'argv': ['-c'], 'env': {}, 'cwd': '/', "
           "'stdout': sys.argv[2], 'stderr': sys.argv[2]}).encode() + b'\\n')\n"
           "    print('answered' if s.recv(1000) else 'refused')\n"
           "except OSError:\n"
           "    print('refused')\n")
    address = zygote.address(warm_root).encode().hex()
    python = "/usr/bin/python3"  # the venv's is under a folder other users cannot enter
    if not os.path.exists(python):
        pytest.skip("no system python3 to run as another user")
    out = subprocess.run([python, "-c", ask, address, str(marker)], capture_output=True, text=True,
                         timeout=60, cwd="/", preexec_fn=lambda: os.setuid(65534))
    assert out.stdout.strip() == "refused", (out.stdout, out.stderr)  # closed without an answer
    assert not marker.exists()
    # The owner is still served.
    script = tmp_path / "ok.py"
    script.write_text("print('ok')\n")
    pid = zygote.run_script(warm_root, [str(script)], env={}, cwd=tmp_path, stdout=tmp_path / "o", stderr=tmp_path / "e")
    assert zygote.wait_exit(pid, 30) and (tmp_path / "o").read_text().strip() == "ok"
