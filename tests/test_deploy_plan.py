"""Every deploy rule lives in Smops.plan_deploy: one place, checked before anything is created,
the same for the magic, the CLI and the REST API; and push takes a model.tar.gz on every face."""
from __future__ import annotations

import hashlib
import json

import pytest

from jupyter_smops.core.api import Smops
from jupyter_smops.core.config import SmopsConfig
from jupyter_smops.core.deploy_plan import DeployPlan
from jupyter_smops.core.endpoints.base import DeployOptions
from jupyter_smops.core.errors import BadRequest, Conflict, NotFound
from jupyter_smops.core.types import PackageResult
from test_cli import smops as cli


def _store(smops: Smops, name: str = "iris") -> None:
    """A version put straight into the registry (packaging is not under test here)."""
    art = smops.config.home_path / f"{name}.tar.gz"
    art.parent.mkdir(parents=True, exist_ok=True)
    art.write_bytes(b"not-a-real-archive")
    pkg = PackageResult(path=str(art), sha256=hashlib.sha256(b"not-a-real-archive").hexdigest(), size=18,
                        model_file="model.joblib", framework="sklearn", framework_version="1.9.1",
                        serving_version="1.9-0")
    smops.registry.push(pkg, name=name, owner="tester")


@pytest.fixture
def smops(smops_home):
    core = Smops(SmopsConfig())
    _store(core)
    return core


def _endpoints_root(smops_home):
    root = smops_home / "endpoints"
    return sorted(p.name for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")) if root.is_dir() else []


def test_a_plan_resolves_once_and_says_what_deploy_will_do(smops):
    plan = smops.plan_deploy("iris", options=DeployOptions(wait=False))
    assert isinstance(plan, DeployPlan)
    assert (plan.version.ref, plan.endpoint, plan.owner, plan.local) == ("iris:1", "iris-v1", "tester", True)
    assert json.loads(json.dumps(plan.to_dict()))["endpoint"] == "iris-v1"
    assert smops.plan_deploy("iris", version=1, endpoint="mine").endpoint == "mine"


@pytest.mark.parametrize("kwargs, error, match", [
    ({"ref": "nope"}, NotFound, "nope"),
    ({"ref": "iris:7"}, NotFound, "7"),
    ({"ref": "iris:x"}, BadRequest, "Invalid version"),
    ({"ref": "iris:1", "version": 2}, BadRequest, "give one"),
    ({"ref": "iris", "endpoint": "-bad-"}, BadRequest, "Invalid endpoint name"),
    ({"ref": "iris", "options": DeployOptions(count=0)}, BadRequest, "at least 1"),
    ({"ref": "iris", "options": DeployOptions(count=3, max_count=2)}, BadRequest, r"max_count: 2\) must be at least"),
    ({"ref": "iris", "options": DeployOptions(serverless_memory_mb=1500)}, BadRequest, "1024, 2048"),
    ({"ref": "iris", "options": DeployOptions(serverless_memory_mb=2048, serverless_max_concurrency=0)},
     BadRequest, "between 1 and 200"),
    ({"ref": "iris", "options": DeployOptions(serverless_memory_mb=2048, max_count=3)}, BadRequest, "scales by itself"),
])
def test_refused_plans_create_nothing(smops, smops_home, kwargs, error, match):
    with pytest.raises(error, match=match):
        smops.plan_deploy(**kwargs)
    assert _endpoints_root(smops_home) == []


def test_a_taken_name_is_refused_whichever_backend_has_it(smops_home, iris_tarball):
    smops = Smops(SmopsConfig())
    smops.push(str(iris_tarball), name="real")
    smops.deploy("real", endpoint="taken", options=DeployOptions(wait=False))
    try:
        with pytest.raises(Conflict, match="'taken' already exists"):
            smops.plan_deploy("real", endpoint="taken")
    finally:
        smops.delete("taken")


def test_approval_is_the_cores_rule_and_local_is_exempt(smops, monkeypatch):
    monkeypatch.setattr(smops.config, "require_approval", True)
    with pytest.raises(Conflict, match="iris:1 is PendingManualApproval; this deployment requires Approved"):
        smops.plan_deploy("iris")
    with pytest.raises(Conflict, match="requires Approved"):
        smops.deploy("iris")  # the convenience path plans too
    assert smops.plan_deploy("iris", local=True).version.ref == "iris:1"
    smops.set_approval("iris:1", "Approved")
    assert smops.plan_deploy("iris").endpoint == "iris-v1"


def test_the_cli_refuses_at_once_with_the_same_rules(smops, smops_home):
    out = cli("deploy", "iris", env={"SMOPS_REQUIRE_APPROVAL": "true"})
    assert out.returncode == 1 and "iris:1 is PendingManualApproval; this deployment requires Approved" in out.stderr
    assert "Traceback" not in out.stderr and "creating" not in out.stderr  # refused before any phase
    out = cli("deploy", "iris", "--count", "3", "--max-count", "2")
    assert out.returncode == 2 and "max_count: 2) must be at least" in out.stderr, out.stderr
    assert _endpoints_root(smops_home) == []


def test_the_magic_refuses_at_once_with_the_same_rules(smops, smops_home, capsys):
    pytest.importorskip("IPython")
    from IPython.core.interactiveshell import InteractiveShell

    ip = InteractiveShell.instance()
    try:
        ip.run_line_magic("load_ext", "jupyter_smops")
        ip.run_line_magic("smops", "config require_approval=true")
        from jupyter_smops.magics import SmopsMagicError

        capsys.readouterr()
        with pytest.raises(SmopsMagicError) as err:  # a failure stops the notebook, with the core's words
            ip.run_line_magic("smops", "deploy iris")
        assert str(err.value).startswith("Error: iris:1 is PendingManualApproval; this deployment requires Approved")
        assert "..." not in capsys.readouterr().out  # no phase was started
        ip.run_line_magic("smops", "config require_approval=false")
        with pytest.raises(SmopsMagicError, match="Serverless memory must be one of"):
            ip.run_line_magic("smops", "deploy iris --serverless 1500")
        assert _endpoints_root(smops_home) == []
    finally:
        ip.run_line_magic("reload_ext", "jupyter_smops")
        InteractiveShell.clear_instance()


# -- push: a model file, a variable or a model.tar.gz, on every face ---------------------------
@pytest.fixture
def iris_tarball(smops_home, iris_model, tmp_path):
    pytest.importorskip("jupyter_smops.core.packaging")
    out = tmp_path / "work" / "model.tar.gz"
    out.parent.mkdir()
    Smops(SmopsConfig()).package(iris_model, out=str(out))
    return out


def test_the_cli_pushes_a_model_tarball(smops_home, iris_tarball):
    out = cli("push", "model.tar.gz", "--name", "packed", cwd=iris_tarball.parent)
    assert out.returncode == 0, out.stderr
    assert "pushed packed:1" in out.stderr
    mv = Smops(SmopsConfig()).model_version("packed:1")
    assert mv.sha256 == hashlib.sha256(iris_tarball.read_bytes()).hexdigest()  # stored as it is
    out = cli("push", "model.tar.gz", "--name", "packed", "--requirements", "r.txt", cwd=iris_tarball.parent)
    assert out.returncode == 2 and "already carries its code/ folder" in out.stderr
    (iris_tarball.parent / "broken.tar.gz").write_bytes(b"not gzip")
    out = cli("push", "broken.tar.gz", "--name", "packed", cwd=iris_tarball.parent)
    assert out.returncode != 0 and "Traceback" not in out.stderr
    assert [v.version for v in Smops(SmopsConfig()).models("packed")[0].versions] == [1]  # nothing stored


def test_the_magic_pushes_a_model_tarball(smops_home, iris_tarball, capsys):
    pytest.importorskip("IPython")
    from IPython.core.interactiveshell import InteractiveShell

    ip = InteractiveShell.instance()
    try:
        ip.run_line_magic("load_ext", "jupyter_smops")
        mv = ip.run_line_magic("smops", f"push {iris_tarball} --name packed")
        assert mv is not None and mv.ref == "packed:1", capsys.readouterr().out
        assert mv.sha256 == hashlib.sha256(iris_tarball.read_bytes()).hexdigest()
        assert "pushed packed:1" in capsys.readouterr().out
    finally:
        ip.run_line_magic("reload_ext", "jupyter_smops")
        InteractiveShell.clear_instance()
