"""%smops in a real IPython InteractiveShell: results are objects with rich displays (what a
notebook receives is ``display_formatter.format``), failures raise short errors."""
from __future__ import annotations

import json
import time

import pytest

pytest.importorskip("IPython")
from IPython.core.interactiveshell import InteractiveShell  # noqa: E402

from jupyter_smops.core.types import CleanupResult, Endpoint, Model, ModelVersion, PackageResult  # noqa: E402
from jupyter_smops.magics import SmopsMagicError  # noqa: E402

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


def test_failures_raise_short_errors_with_the_cores_words(shell, capsys):
    from IPython.core.error import UsageError

    # Bad arguments and unbalanced quotes are IPython UsageErrors, as for any magic.
    with pytest.raises(UsageError, match="the following arguments are required"):
        shell.run_line_magic("smops", "push")
    with pytest.raises(UsageError, match="invalid choice"):
        shell.run_line_magic("smops", "frobnicate")
    with pytest.raises(UsageError, match="Check the quotes"):
        shell.run_line_magic("smops", "push 'model --name iris")
    # A failed operation raises, carrying the core's error and its message.
    with pytest.raises(SmopsMagicError) as err:
        shell.run_line_magic("smops", "models nosuch")
    assert (err.value.code, err.value.status) == ("NotFound", 404)
    assert err.value._render_traceback_()[0].startswith("Error: No model named 'nosuch' in the registry")
    with pytest.raises(SmopsMagicError, match="Invalid model name"):
        shell.run_line_magic("smops", "push model --name bad_name!")
    # As a cell: the error shows as those lines only, and the cell counts as failed.
    capsys.readouterr()
    result = shell.run_cell("%smops models nosuch")
    assert isinstance(result.error_in_exec, SmopsMagicError) and not result.success
    out = capsys.readouterr()
    shown = (out.out + out.err).strip()
    assert shown.startswith("Error: No model named 'nosuch'"), shown
    assert "Traceback" not in shown and "File " not in shown and len(shown.splitlines()) <= 2
    result = shell.run_cell("%smops push")
    assert isinstance(result.error_in_exec, UsageError) and not result.success


def test_an_internal_error_is_short_unless_debugging(shell, monkeypatch):
    magics = shell.magics_manager.registry["SmopsMagics"]

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(magics.smops, "models", broken)
    monkeypatch.delenv("SMOPS_DEBUG", raising=False)
    with pytest.raises(SmopsMagicError) as err:
        shell.run_line_magic("smops", "models")
    lines = err.value._render_traceback_()
    assert "RuntimeError: boom" in lines[0] and "SMOPS_DEBUG=1" in lines[1] and err.value.code == "InternalError"
    monkeypatch.setenv("SMOPS_DEBUG", "1")
    with pytest.raises(RuntimeError, match="boom"):
        shell.run_line_magic("smops", "models")


def test_config_shows_and_sets(shell, smops_home):
    settings = shell.run_line_magic("smops", "config")
    assert settings.to_dict()["home"] == str(smops_home)
    settings = shell.run_line_magic("smops", "config instance_type=ml.m5.large require_approval=true")
    assert settings.to_dict()["instance_type"] == "ml.m5.large"
    assert settings.to_dict()["require_approval"] is True
    with pytest.raises(SmopsMagicError, match="KEY among"):
        shell.run_line_magic("smops", "config nosuch=1")


def test_cleanup_without_yes_where_the_kernel_cannot_ask_deletes_nothing(shell, monkeypatch):
    from IPython.core.error import StdinNotImplementedError

    def no_stdin(prompt=""):
        raise StdinNotImplementedError("raw_input was called, but this frontend does not support input requests.")

    monkeypatch.setattr("builtins.input", no_stdin)
    magics = shell.magics_manager.registry["SmopsMagics"]
    calls = []

    def cleanup(dry_run, include_registry):
        calls.append(dry_run)
        return CleanupResult(dry_run=dry_run, endpoints=["ep"])

    monkeypatch.setattr(magics.smops, "cleanup", cleanup)
    with pytest.raises(SmopsMagicError, match="Nothing was deleted. Run with --yes"):
        shell.run_line_magic("smops", "cleanup")
    assert calls == [True]  # only the dry run happened


def test_a_deploy_that_ends_failed_raises(shell, monkeypatch):
    magics = shell.magics_manager.registry["SmopsMagics"]
    failed = Endpoint(name="iris-v1", status="Failed", backend="local", model="iris", version=1,
                      created_at="2025-06-01T12:00:00Z", failure_reason="RuntimeError: cannot open the weights")
    plan = type("Plan", (), {"summary": lambda self: ""})()
    monkeypatch.setattr(magics.smops, "plan_deploy", lambda *args, **kwargs: plan)
    monkeypatch.setattr(magics.smops, "deploy", lambda plan, progress: failed)
    with pytest.raises(SmopsMagicError) as err:
        shell.run_line_magic("smops", "deploy iris --local")
    assert err.value.code == "UpstreamError"
    assert str(err.value) == ("Error: Endpoint iris-v1 failed: RuntimeError: cannot open the weights. Full log: "
                              "%smops logs iris-v1; remove it with %smops delete iris-v1.")


def _shown(shell, obj) -> dict:
    """What a notebook receives for ``obj`` as a cell's result."""
    data, _ = shell.display_formatter.format(obj)
    return data


def test_push_twice_deploy_two_list_log_and_clean_up(shell, iris_model, capsys):
    pytest.importorskip("jupyter_smops.core.packaging")
    pytest.importorskip("jupyter_smops.core.endpoints.local")
    shell.user_ns["model"] = iris_model
    mv = shell.run_line_magic("smops", f"push model --name iris --sample '{SEED_REQUEST}'")
    assert isinstance(mv, ModelVersion) and mv.ref == "iris:1" and mv.created_by == "tester"
    assert mv.sample_input == json.loads(SEED_REQUEST)
    assert "pushed iris:1" in capsys.readouterr().out
    shell.run_line_magic("smops", f"push model --name iris --sample '{SEED_REQUEST}'")

    models = shell.run_line_magic("smops", "models")
    assert isinstance(models[0], Model) and [v.version for v in models[0].versions] == [1, 2]
    shown = _shown(shell, models)
    page = shown["text/html"]
    assert page.count("<table") == 1 and page.count("<tr>") == 3  # one header row, one row per version
    for header in ("version", "size", "sha256", "scikit-learn", "approval", "created"):
        assert f">{header}</th>" in page
    assert "identical to iris:1" in page and mv.sha256[:12] in page and "{" not in page
    assert "color" not in page and "background" not in page  # the theme's own colours
    text = shown["text/plain"].splitlines()
    assert text[0].split() == ["name", "version", "size", "sha256", "scikit-learn", "reads", "approval", "created",
                               "note"]
    assert text[2].endswith("identical to iris:1") and text[-1] == "1 model, 2 versions"
    assert "JSON, CSV" in text[1]  # what the generated inference.py reads

    for name in ("ep-a", "ep-b"):
        shell.run_line_magic("smops", f"deploy iris:1 --endpoint {name} --local")
    assert shell.run_line_magic("smops", f"predict ep-a {SEED_REQUEST}") == {"predictions": [0]}
    endpoints = shell.run_line_magic("smops", "endpoints")
    assert isinstance(endpoints[0], Endpoint) and len(endpoints) == 2
    shown = _shown(shell, endpoints)
    page = shown["text/html"]
    assert page.count("<table") == 1 and page.count("<tr>") == 3
    assert page.count("$0 · local") == 2 and "iris:1" in page and endpoints[0].url in page and "2 endpoints" in page
    text = shown["text/plain"].splitlines()
    assert text[0].split() == ["name", "model", "status", "backend", "URL", "age", "cost", "expires"]
    assert all("InService" in row and "$0 · local" in row for row in text[1:3]) and text[-1] == "2 endpoints"

    # Workers write their access lines as they answer; give the line of the predict above a moment.
    for _ in range(50):
        log = shell.run_line_magic("smops", "logs ep-a --since 10m")
        if "POST /invocations 200" in log:
            break
        time.sleep(0.1)
    shown = _shown(shell, log)
    assert "POST /invocations 200" in log and shown["text/plain"] == str(log)  # real line breaks, no repr
    assert len(shown["text/plain"].splitlines()) >= 2 and "\\n" not in shown["text/plain"]
    assert shown["text/html"].startswith("<pre") and "\n" in shown["text/html"]
    assert shell.run_line_magic("smops", "logs ep-a --since 2099-01-01T00:00:00Z") == ""
    with pytest.raises(SmopsMagicError, match="--since 'soon' is not a duration"):
        shell.run_line_magic("smops", "logs ep-a --since soon")
    capsys.readouterr()
    assert shell.run_line_magic("smops", "logs ep-b --follow --timeout 0.5 --tail 1") is None
    out = capsys.readouterr().out
    assert "stopped following ep-b (after 0.5 s; 0 new lines)" in out and len(out.splitlines()) == 2

    shell.run_line_magic("smops", "delete ep-b")
    done = shell.run_line_magic("smops", "cleanup --yes")
    assert str(done).splitlines() == ["deleted 1 endpoint: ep-a",
                                      "Kept in the registry: iris:1, iris:2 (add --include-registry to delete them too)."]
    again = str(shell.run_line_magic("smops", "cleanup --yes"))
    assert again.startswith("Nothing to clean up: you have no endpoints.\nKept in the registry: iris:1, iris:2")
    assert len(shell.run_line_magic("smops", "endpoints")) == 0
    assert _shown(shell, shell.run_line_magic("smops", "endpoints"))["text/plain"] == "No endpoints."


def test_sagemaker_endpoints_show_their_cost_and_runtime_url(shell):
    from jupyter_smops.views import EndpointsView

    arn = "arn:aws:sagemaker:eu-west-1:123456789012:endpoint/iris-ep"
    rows = [Endpoint(name="iris-ep", status="InService", backend="sagemaker", model="iris", version=3,
                     created_at="2025-06-01T10:00:00Z", instance_type="ml.t2.medium", instance_count=1,
                     cost_per_hour=0.056, cost_so_far=0.112, arn=arn),
            Endpoint(name="iris-sls", status="Failed", backend="sagemaker", model="iris", version=3,
                     created_at="2025-06-01T11:59:15Z", serverless_memory_mb=2048,
                     failure_reason="The image could not be pulled.")]
    view = EndpointsView(rows, now=1748779200.0)  # 2025-06-01T12:00:00Z
    text = _shown(shell, view)["text/plain"].splitlines()
    assert "$0.11 so far · $0.056/h" in text[1] and "2 h 0 min" in text[1]
    assert "https://runtime.sagemaker.eu-west-1.amazonaws.com/endpoints/iris-ep/invocations" in text[1]
    assert "serverless · billed per request" in text[2] and "45 s" in text[2]
    assert text[-2:] == ["iris-sls failed: The image could not be pulled.", "2 endpoints · $0.056/h in total"]
    one = EndpointsView(rows[:1], now=1748779200.0).to_dict()[0]
    assert (one["age_seconds"], one["cost"], one["cost_per_hour"]) == (7200.0, "$0.11 so far · $0.056/h", 0.056)


def test_package_only_builds_and_validates(shell, iris_model, tmp_path):
    pytest.importorskip("jupyter_smops.core.packaging")
    shell.user_ns["clf"] = iris_model
    out = tmp_path / "model.tar.gz"
    result = shell.run_line_magic("smops", f"package clf --out {out}")
    assert isinstance(result, PackageResult) and result.ok and out.is_file()
    assert {c.name for c in result.checks} >= {"handlers", "model-loads"}
    # Passing checks say ok, not the severity they would have had if they had failed.
    page = _shown(shell, result)["text/html"]
    assert page.count("<td style='text-align:left'>ok</td>") == sum(c.ok for c in result.checks)
    assert "severity" not in page and ">error<" not in page


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
