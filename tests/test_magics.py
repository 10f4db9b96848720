"""%smops in a real IPython InteractiveShell."""
from __future__ import annotations

import json

import pytest

pytest.importorskip("IPython")
from IPython.core.interactiveshell import InteractiveShell  # noqa: E402

from jupyter_smops.core.types import Model, ModelVersion, PackageResult  # noqa: E402

SEED_REQUEST = '{"instances": [[5.1, 3.5, 1.4, 0.2]]}'


@pytest.fixture
def shell(smops_home):
    ip = InteractiveShell.instance()
    ip.run_line_magic("load_ext", "jupyter_smops")
    yield ip
    ip.run_line_magic("reload_ext", "jupyter_smops")  # fresh Smops for the next test's SMOPS_HOME
    InteractiveShell.clear_instance()


def test_help_lists_every_verb(shell, capsys):
    assert shell.run_line_magic("smops", "--help") is None
    out = capsys.readouterr().out
    for verb in ("push", "package", "models", "deploy", "predict", "endpoints", "logs", "delete", "cleanup", "config"):
        assert verb in out
    shell.run_line_magic("smops", "deploy --help")
    assert "--instance-type" in capsys.readouterr().out


def test_errors_are_messages_not_tracebacks(shell, capsys):
    assert shell.run_line_magic("smops", "push") is None
    out = capsys.readouterr().out
    assert out.startswith("Error:") and "Traceback" not in out
    shell.run_line_magic("smops", "push model --name bad_name!")
    assert "Invalid model name" in capsys.readouterr().out
    shell.run_line_magic("smops", "frobnicate")
    assert "invalid choice" in capsys.readouterr().out
    shell.run_line_magic("smops", "models nosuch")
    assert "No model named 'nosuch'" in capsys.readouterr().out


def test_config_shows_and_sets(shell, capsys, smops_home):
    settings = shell.run_line_magic("smops", "config")
    assert settings.to_dict()["home"] == str(smops_home)
    settings = shell.run_line_magic("smops", "config instance_type=ml.m5.large require_approval=true")
    assert settings.to_dict()["instance_type"] == "ml.m5.large"
    assert settings.to_dict()["require_approval"] is True
    assert shell.run_line_magic("smops", "config nosuch=1") is None
    assert "KEY among" in capsys.readouterr().out


def test_push_a_notebook_variable_and_list(shell, iris_model, capsys):
    pytest.importorskip("jupyter_smops.core.packaging")
    shell.user_ns["model"] = iris_model
    mv = shell.run_line_magic("smops", f"push model --name iris --sample {SEED_REQUEST}".replace(SEED_REQUEST, "'" + SEED_REQUEST + "'"))
    assert isinstance(mv, ModelVersion) and mv.ref == "iris:1" and mv.created_by == "tester"
    assert mv.sample_input == json.loads(SEED_REQUEST)
    assert "pushed iris:1" in capsys.readouterr().out
    models = shell.run_line_magic("smops", "models")
    assert isinstance(models[0], Model) and [v.version for v in models[0].versions] == [1]
    assert "<table>" in models._repr_html_() and "iris:1" in str(models)


def test_package_only_builds_and_validates(shell, iris_model, tmp_path):
    pytest.importorskip("jupyter_smops.core.packaging")
    shell.user_ns["clf"] = iris_model
    out = tmp_path / "model.tar.gz"
    result = shell.run_line_magic("smops", f"package clf --out {out}")
    assert isinstance(result, PackageResult) and result.ok and out.is_file()
    assert {c.name for c in result.checks} >= {"handlers", "model-loads"}


def test_ipython_config_files_reach_the_magic(smops_home, tmp_path, monkeypatch):
    """``c.SmopsConfig.*`` in a profile's ipython_config.py applies to %smops."""
    from smops_testing.fakes import FakeEndpoints
    from traitlets.config.loader import PyFileConfigLoader

    monkeypatch.delenv("SMOPS_INSTANCE_TYPE", raising=False)
    (tmp_path / "ipython_config.py").write_text(
        "c.SmopsConfig.instance_type = 'ml.c5.xlarge'\n"
        "c.SmopsConfig.endpoints_class = 'smops_testing.fakes.FakeEndpoints'\n")
    config = PyFileConfigLoader("ipython_config.py", path=str(tmp_path)).load_config()
    InteractiveShell.clear_instance()
    ip = InteractiveShell.instance(config=config)
    try:
        ip.run_line_magic("load_ext", "jupyter_smops")
        settings = ip.run_line_magic("smops", "config")
        assert settings.to_dict()["instance_type"] == "ml.c5.xlarge"
        assert ip.run_line_magic("smops", "endpoints") == []
        assert list((smops_home / "fake-endpoints").iterdir())  # the fake backend answered
        magics = ip.magics_manager.registry["SmopsMagics"]
        assert isinstance(magics.smops.endpoints, FakeEndpoints)
    finally:
        ip.run_line_magic("unload_ext", "jupyter_smops")
        InteractiveShell.clear_instance()
