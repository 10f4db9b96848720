"""The local registry: versions, immutability, integrity, and concurrent pushes."""
from __future__ import annotations

import hashlib
import io
import json
import multiprocessing
import tarfile
from pathlib import Path

import pytest

from jupyter_smops.core.config import SmopsConfig
from jupyter_smops.core.errors import BadRequest, NotFound, UpstreamError
from jupyter_smops.core.registry.local import LocalRegistry
from jupyter_smops.core.types import PackageResult


def make_package(tmp: Path, payload: bytes = b"model-bytes") -> PackageResult:
    """A small real tar.gz wrapped as a PackageResult (packaging is tested elsewhere)."""
    path = tmp / f"pkg-{hashlib.sha1(payload).hexdigest()[:8]}.tar.gz"
    with tarfile.open(path, "w:gz") as tar:
        info = tarfile.TarInfo("model.joblib")
        info.size = len(payload)
        tar.addfile(info, io.BytesIO(payload))
    data = path.read_bytes()
    return PackageResult(path=str(path), sha256=hashlib.sha256(data).hexdigest(), size=len(data),
                         model_file="model.joblib", framework="sklearn", framework_version="1.9.1",
                         serving_version="1.9-0", checks=[], sample_input={"instances": [[1, 2]]})


def test_versions_count_up_and_metadata_is_complete(tmp_path):
    reg = LocalRegistry(SmopsConfig(home=str(tmp_path)))
    pkg = make_package(tmp_path)
    v1 = reg.push(pkg, name="iris", owner="alice", source="nb.ipynb")
    v2 = reg.push(pkg, name="iris", owner="alice")
    assert (v1.version, v2.version) == (1, 2)
    meta = json.loads((tmp_path / "registry/iris/v1/smops.json").read_text())
    for key in ("name", "version", "sha256", "size", "framework", "framework_version", "created_at",
                "created_by", "source", "approval_status", "sample_input"):
        assert key in meta, key
    assert meta["created_by"] == "alice" and meta["source"] == "nb.ipynb"
    assert meta["approval_status"] == "PendingManualApproval"
    assert reg.get("iris").version == 2
    assert [m.name for m in reg.list_models()] == ["iris"]
    assert [v.version for v in reg.list_models("iris")[0].versions] == [1, 2]


def test_fetch_verifies_sha256(tmp_path):
    reg = LocalRegistry(SmopsConfig(home=str(tmp_path)))
    mv = reg.push(make_package(tmp_path), name="iris", owner="a")
    assert reg.fetch(mv, tmp_path / "out").read_bytes() == (tmp_path / "registry/iris/v1/model.tar.gz").read_bytes()
    (tmp_path / "registry/iris/v1/model.tar.gz").write_bytes(b"tampered")
    with pytest.raises(UpstreamError, match="corrupt"):
        reg.fetch(mv, tmp_path / "out2")


def test_unknown_names_and_versions_say_what_exists(tmp_path):
    reg = LocalRegistry(SmopsConfig(home=str(tmp_path)))
    with pytest.raises(NotFound, match="registry is empty"):
        reg.get("iris")
    reg.push(make_package(tmp_path), name="iris", owner="a")
    with pytest.raises(NotFound, match="has versions 1"):
        reg.get("iris", 7)
    with pytest.raises(NotFound, match="Known models: iris"):
        reg.get("other")
    with pytest.raises(BadRequest, match="Invalid model name"):
        reg.get("../etc")


def test_failed_push_leaves_no_version(tmp_path):
    reg = LocalRegistry(SmopsConfig(home=str(tmp_path)))
    pkg = make_package(tmp_path)
    bad = PackageResult(path=pkg.path, sha256="0" * 64, size=pkg.size, model_file=pkg.model_file,
                        framework="sklearn", framework_version="1.9.1", serving_version="1.9-0")
    with pytest.raises(UpstreamError):
        reg.push(bad, name="iris", owner="a")
    assert reg.list_models() == []
    assert not list((tmp_path / "registry/iris").glob(".staging-*"))


def test_approval_and_delete(tmp_path):
    reg = LocalRegistry(SmopsConfig(home=str(tmp_path)))
    reg.push(make_package(tmp_path), name="iris", owner="a")
    assert reg.set_approval("iris", 1, "Approved").approval_status == "Approved"
    assert reg.get("iris", 1).approval_status == "Approved"
    with pytest.raises(BadRequest):
        reg.set_approval("iris", 1, "Maybe")
    reg.delete_version("iris", 1)
    reg.delete_version("iris", 1)  # idempotent
    assert reg.list_models() == []


def _push_worker(args):
    root, pkg_path, sha, size, i = args
    reg = LocalRegistry(SmopsConfig(home=root))
    pkg = PackageResult(path=pkg_path, sha256=sha, size=size, model_file="model.joblib", framework="sklearn",
                        framework_version="1.9.1", serving_version="1.9-0", sample_input={"i": i})
    return reg.push(pkg, name="iris", owner=f"proc{i}").version


def test_twenty_concurrent_pushes_from_processes_get_distinct_intact_versions(tmp_path):
    pkg = make_package(tmp_path, b"x" * 200_000)
    root = tmp_path
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(8) as pool:
        versions = pool.map(_push_worker, [(str(root), pkg.path, pkg.sha256, pkg.size, i) for i in range(20)])
    assert sorted(versions) == list(range(1, 21))
    reg = LocalRegistry(SmopsConfig(home=str(root)))
    listed = reg.list_models("iris")[0].versions
    assert [v.version for v in listed] == list(range(1, 21))
    owners = set()
    for mv in listed:
        reg.fetch(mv, tmp_path / f"f{mv.version}")  # raises if any copy is not intact
        owners.add(mv.created_by)
    assert len(owners) == 20
