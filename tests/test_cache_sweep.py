"""Downloads of a deploy killed mid-way (issue 15 item 3): swept by the next deploy, listed by
cleanup's dry run, removed by cleanup; a live deploy's folder is never touched."""
from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from jupyter_smops.core import cache
from jupyter_smops.core.api import Smops
from jupyter_smops.core.config import SmopsConfig
from jupyter_smops.core.registry.local import LocalRegistry
from smops_testing.fakes import FakeEndpoints


def _killed_deploy_folder(home) -> str:
    """What a deploy killed after fetching leaves: a marked folder with the artifact in it."""
    code = ("import sys; from pathlib import Path; from jupyter_smops.core import cache\n"
            "d = cache.new_fetch_folder(Path(sys.argv[1]) / 'cache', 'big-v1-')\n"
            "(d / 'model.tar.gz').write_bytes(b'x' * 2_000_000); print(d.name)")
    return subprocess.run([sys.executable, "-c", code, str(home)], check=True, capture_output=True,
                          text=True).stdout.strip()


@pytest.fixture
def smops(tmp_path, monkeypatch):
    monkeypatch.setenv("SMOPS_FAKE_DEPLOY_SECONDS", "0")
    config = SmopsConfig(home=str(tmp_path), backend="local", owner="me")
    return Smops(config, registry=LocalRegistry(config), endpoints=FakeEndpoints(config))


def test_cleanup_lists_then_removes_a_killed_deploys_download(smops, tmp_path):
    dead = _killed_deploy_folder(tmp_path)
    live = cache.new_fetch_folder(tmp_path / "cache", "live-v1-")  # this process: a deploy in progress
    preview = smops.cleanup(dry_run=True)
    assert preview.leftovers == [f"cache/{dead} (2.0 MB)"]
    assert "would delete 1 leftover: cache/" in str(preview)
    assert (tmp_path / "cache" / dead).is_dir()
    done = smops.cleanup()
    assert done.leftovers == [f"cache/{dead} (2.0 MB)"]
    assert not (tmp_path / "cache" / dead).exists() and live.is_dir()
    assert smops.cleanup(dry_run=True).leftovers == []


def test_an_unmarked_folder_is_stale_only_when_old(tmp_path):
    old, new = tmp_path / "cache" / "old-v1-x", tmp_path / "cache" / "new-v1-y"
    old.mkdir(parents=True)
    new.mkdir()
    past = time.time() - cache.UNMARKED_STALE_SECONDS - 60
    os.utime(old, (past, past))
    assert cache.stale_folders(tmp_path / "cache") == [old]


def test_the_next_deploy_sweeps_and_cleans_its_own(smops, tmp_path, iris_model):
    from jupyter_smops.core.packaging import build_package

    package = build_package(iris_model, sample=[[5.1, 3.5, 1.4, 0.2]], out=tmp_path / "model.tar.gz")
    smops.registry.push(package, name="iris", owner="me")
    dead = _killed_deploy_folder(tmp_path)
    seen = []

    class Fetching(FakeEndpoints):
        def deploy(self, mv, *, fetch, **kw):
            path = fetch(mv)
            seen.append((path.is_file(), sorted(p.name for p in (tmp_path / "cache").iterdir())))
            return super().deploy(mv, fetch=fetch, **kw)

    smops._endpoints = smops._local_endpoints = Fetching(smops.config)
    smops.deploy("iris:1", endpoint="iris-v1")
    (fetched, names), = seen
    assert fetched and dead not in names and len(names) == 1  # the dead one gone, its own there
    assert list((tmp_path / "cache").iterdir()) == []  # and its own removed after the deploy
