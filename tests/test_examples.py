"""examples/iris.ipynb (the seed's workflow in magics) runs top to bottom."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def test_iris_notebook_runs_top_to_bottom(smops_home, tmp_path):
    pytest.importorskip("jupyter_smops.core.packaging")
    pytest.importorskip("jupyter_smops.core.endpoints.local")
    import nbformat
    from nbclient import NotebookClient

    work = tmp_path / "examples"
    shutil.copytree(EXAMPLES, work, ignore=shutil.ignore_patterns("*.tar.gz", "*.pkl", ".ipynb_checkpoints"))
    nb = nbformat.read(work / "iris.ipynb", as_version=4)
    NotebookClient(nb, timeout=180, kernel_name="python3", resources={"metadata": {"path": str(work)}}).execute()
    outputs = "".join(str(o.get("text", "")) + str(o.get("data", {}).get("text/plain", ""))
                      for cell in nb.cells if cell.cell_type == "code" for o in cell.outputs)
    assert "'predictions': [0]" in outputs
    assert "Error:" not in outputs and "Traceback" not in outputs
    # deploy's downloaded copy of the artifact is removed once the endpoint has unpacked it
    assert not any((smops_home / "cache").iterdir())
