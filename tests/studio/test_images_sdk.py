"""core/images.py reads the serving-image data of SDK v3 or v2, whichever is installed, and says
plainly what to do with neither (Studio's 4.x images ship v3, its 3.x images ship v2)."""
from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

CONFIG = {"inference": {"versions": {"1.2-1": {"registries": {"us-east-1": "683313688378"},
                                               "repository": "sagemaker-scikit-learn", "py_versions": ["py3"]}}},
          "inference_graviton": {"versions": {"1.0-1": {"registries": {"us-east-1": "683313688378"}}}}}


def _site(tmp_path: Path, layout: str) -> Path:
    """A site directory holding only a fake ``sagemaker`` package in the given SDK layout."""
    site = tmp_path / layout
    pkg = site / "sagemaker"
    pkg.mkdir(parents=True)
    # The package raises if imported: reading the data must never import the SDK (seconds).
    (pkg / "__init__.py").write_text("raise ImportError('the SDK was imported')\n")
    if layout != "none":
        rel = ("core", "image_uri_config") if layout == "v3" else ("image_uri_config",)
        data = pkg.joinpath(*rel)
        data.mkdir(parents=True)
        (data / "sklearn.json").write_text(json.dumps(CONFIG))
    return site


def _probe(site: Path) -> dict:
    code = textwrap.dedent(f"""
        import json, sys
        sys.path.insert(0, {str(site)!r})
        from jupyter_smops.core import images
        from jupyter_smops.core.errors import BadRequest
        line, path = images.sklearn_image_source()
        try:
            uri = images.image_uri("us-east-1", "1.2-1", "ml.m5.large")
        except BadRequest as exc:
            uri = "refused: " + str(exc)
        print(json.dumps({{"line": line, "versions": images.sklearn_serving_versions(), "uri": uri,
                          "serving": images.serving_version_for("1.2.2"), "imported": "sagemaker" in sys.modules}}))
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


@pytest.mark.parametrize("layout", ["v3", "v2"])
def test_reads_either_sdk_line_without_importing_it(tmp_path, layout):
    got = _probe(_site(tmp_path, layout))
    assert got["line"] == layout and got["versions"] == ["1.2-1"] and not got["imported"]
    assert got["uri"] == "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3"
    assert got["serving"] == "1.2-1"


def test_without_an_sdk_versions_fall_back_and_deploys_say_what_to_install(tmp_path):
    got = _probe(_site(tmp_path, "none"))
    assert got["line"] == "none" and "1.2-1" in got["versions"] and "1.9-0" in got["versions"]
    assert got["serving"] == "1.2-1" and not got["imported"]
    assert got["uri"].startswith("refused: No SageMaker SDK is installed")
    assert "pip install sagemaker-core" in got["uri"] and "--image-uri" in got["uri"]
