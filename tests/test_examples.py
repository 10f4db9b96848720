"""Notebooks in a real kernel (nbclient), outputs exactly as a notebook shows them:
examples/iris.ipynb (the seed's workflow in magics) runs top to bottom, and a failing ``%smops``
stops Run All with a short error."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def _outputs(cell, mime: str = "text/plain") -> str:
    return "".join(str(o.get("text", "")) + str(o.get("data", {}).get(mime, "")) for o in cell.outputs)


def test_iris_notebook_runs_top_to_bottom(smops_home, tmp_path):
    pytest.importorskip("jupyter_smops.core.packaging")
    pytest.importorskip("jupyter_smops.core.endpoints.local")
    import nbformat
    from nbclient import NotebookClient

    work = tmp_path / "examples"
    shutil.copytree(EXAMPLES, work, ignore=shutil.ignore_patterns("*.tar.gz", "*.pkl", ".ipynb_checkpoints"))
    nb = nbformat.read(work / "iris.ipynb", as_version=4)
    NotebookClient(nb, timeout=180, kernel_name="python3", resources={"metadata": {"path": str(work)}}).execute()
    code = {cell.source: cell for cell in nb.cells if cell.cell_type == "code"}
    outputs = "".join(_outputs(cell) for cell in code.values())
    assert "'predictions': [0]" in outputs
    assert "Error:" not in outputs and "Traceback" not in outputs
    assert not any(o.output_type == "error" for cell in code.values() for o in cell.outputs)
    # models: one table of versions; endpoints: one row per endpoint with its cost
    models = _outputs(code["%smops models iris"], "text/html")
    assert models.count("<table") == 1 and ">scikit-learn</th>" in models and "<td style='text-align:left'>1</td>" in models
    endpoints = _outputs(code["%smops endpoints"], "text/html")
    assert endpoints.count("<table") == 1 and "iris-demo" in endpoints and "$0 · local" in endpoints
    # logs: text with real line breaks (not a str repr with \n in it)
    log = _outputs(code["%smops logs iris-demo --since 10m --tail 5"])
    assert 2 <= len(log.splitlines()) <= 5 and "\\n" not in log and not log.startswith("'"), log
    assert "POST /invocations 200" in log
    # deploy's downloaded copy of the artifact is removed once the endpoint has unpacked it
    assert not any((smops_home / "cache").iterdir())


def _run_all(cells: list[str], tmp_path):
    """Execute cells as Run All does; returns the notebook and the CellExecutionError (or None)."""
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(source) for source in cells]
    try:
        NotebookClient(nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    except CellExecutionError as exc:
        return nb, exc
    return nb, None


@pytest.mark.parametrize("failing, ename, words", [
    ("%smops models nosuch", "SmopsMagicError", "Error: No model named 'nosuch' in the registry"),
    ("%smops deploy", "UsageError", "the following arguments are required: ref"),
])
def test_a_failing_magic_stops_run_all_with_a_short_error(smops_home, tmp_path, failing, ename, words):
    nb, error = _run_all(["%load_ext jupyter_smops", failing, "reached = True\nprint('after the failure')"], tmp_path)
    assert error is not None and error.ename == ename, "Run All went on past a failed %smops"
    shown = [o for o in nb.cells[1].outputs if o.output_type in ("error", "stream")]
    text = "\n".join("\n".join(o.traceback) if o.output_type == "error" else o.text for o in shown)
    assert words in text, text
    assert len(text.strip().splitlines()) <= 4 and "Traceback" not in text and "File " not in text, text
    assert nb.cells[2].outputs == [] and nb.cells[2].get("execution_count") is None  # never ran
