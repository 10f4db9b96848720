"""A local push killed mid-store leaves a staging folder named after its writer; the next push of
the model, or cleanup, removes it as soon as that process is gone (issue 15, the fault suite's gap)."""
from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from jupyter_smops.core.config import SmopsConfig
from jupyter_smops.core.procs import start_time
from jupyter_smops.core.registry.local import LocalRegistry
from test_registry_local import make_package


def _dead_pid() -> tuple[int, str]:
    """The pid and start time of a process that has exited (and been reaped)."""
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(0.2)"])
    start = start_time(proc.pid)
    proc.wait()
    return proc.pid, start or "0"


def _staging(registry: LocalRegistry, name: str, folder: str):
    path = registry.root / name / folder
    path.mkdir(parents=True)
    (path / "model.tar.gz").write_bytes(b"half an artifact")
    return path


def test_a_dead_writers_staging_is_swept_by_the_next_push_at_once(tmp_path):
    registry = LocalRegistry(SmopsConfig(home=str(tmp_path)))
    registry.push(make_package(tmp_path), name="iris", owner="alice")
    pid, start = _dead_pid()
    dead = _staging(registry, "iris", f".staging-{pid}-{start}-{'a' * 32}")
    me = os.getpid()
    live = _staging(registry, "iris", f".staging-{me}-{start_time(me)}-{'b' * 32}")  # a push in progress
    reused = _staging(registry, "iris", f".staging-{me}-1-{'c' * 32}")  # our pid, another process's start
    assert registry.push(make_package(tmp_path, b"two"), name="iris", owner="alice").version == 2
    assert not dead.exists() and not reused.exists()
    assert live.exists()


def test_cleanup_lists_and_removes_dead_staging_folders(tmp_path):
    registry = LocalRegistry(SmopsConfig(home=str(tmp_path)))
    pid, start = _dead_pid()
    dead = _staging(registry, "forest", f".staging-{pid}-{start}-{'a' * 32}")
    old = _staging(registry, "forest", f".staging-{'d' * 32}")  # an older release's name: no writer
    recent = _staging(registry, "forest", f".staging-{'e' * 32}")
    hour_ago = time.time() - 3700
    os.utime(old, (hour_ago, hour_ago))
    preview = registry.leftovers("alice", dry_run=True)
    assert sorted(preview) == sorted(f"registry/forest/{p.name} (a push that died while storing)" for p in (dead, old))
    assert dead.exists() and old.exists()
    assert registry.leftovers("alice") == preview
    assert not dead.exists() and not old.exists() and recent.exists()
    assert registry.leftovers("alice", dry_run=True) == []


def test_a_successful_push_leaves_no_staging_and_names_its_writer_while_it_runs(tmp_path):
    registry = LocalRegistry(SmopsConfig(home=str(tmp_path)))
    seen = []

    def chunks():
        seen.extend(p.name for p in (registry.root / "iris").glob(".staging-*"))
        yield Path(package.path).read_bytes()
    package = make_package(tmp_path)
    registry.push_stream(chunks(), package, name="iris", owner="alice")
    [name] = seen
    assert name.startswith(f".staging-{os.getpid()}-{start_time(os.getpid())}-")
    assert not list((registry.root / "iris").glob(".staging-*"))
