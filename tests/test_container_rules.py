"""One copy of the container's rules: validation (the probe) and local endpoints both use
core/serving/contract.py (and default_functions.py), so "validated" and "works on the local
endpoint" cannot disagree."""
from __future__ import annotations

import json
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import jupyter_smops
from jupyter_smops.core.config import SmopsConfig
from jupyter_smops.core.endpoints.local import LocalEndpoints
from jupyter_smops.core.errors import InvalidArtifact, ModelError
from jupyter_smops.core.packaging import validate_package
from jupyter_smops.core.packaging.validate import _PROBE, run_probe
from jupyter_smops.core.serving import contract
from test_serving_support import build_tarball, deploy, iris_tree, teardown_endpoints  # noqa: F401

PACKAGE = Path(jupyter_smops.__file__).resolve().parent
LOADER = ('import os, joblib\ndef model_fn(model_dir):\n'
          '    return joblib.load(os.path.join(model_dir, "model.joblib"))\n')
ROW = [[5.1, 3.5, 1.4, 0.2]]


@pytest.fixture(scope="module")
def le(tmp_path_factory):
    endpoints = LocalEndpoints(SmopsConfig(home=str(tmp_path_factory.mktemp("rules"))))
    yield endpoints
    teardown_endpoints(endpoints)


def _model_dir(root: Path, files: dict) -> Path:
    """An extracted model.tar.gz: ``{archive name: text | picklable model}``."""
    import joblib

    model_dir = root / "model"
    for name, content in files.items():
        path = model_dir / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, str):
            path.write_text(content)
        else:
            joblib.dump(content, path)
    return model_dir


def _failed(files: dict, tmp_path: Path, sample=None) -> dict:
    with pytest.raises(InvalidArtifact) as info:
        validate_package(build_tarball(tmp_path / "v" / "model.tar.gz", files), sample=sample)
    return {c.name: c.message for c in info.value.checks if not c.ok and c.severity == "error"}


def test_the_probe_imports_the_contract_and_nothing_of_jupyter_or_aws(tmp_path, iris_tree):
    model_dir = _model_dir(tmp_path, {"model.joblib": iris_tree, "code/inference.py": LOADER})
    result = tmp_path / "result.json"
    # The probe imports the serving contract like any module, but must not need Jupyter or the
    # AWS SDK: block them and run the probe as validate does.
    script = textwrap.dedent("""
        import runpy, sys
        class Block:
            def find_spec(self, name, path=None, target=None):
                if name.split('.')[0] in ('tornado', 'jupyter_server', 'IPython', 'boto3', 'botocore'):
                    raise ImportError('blocked: ' + name)
        sys.meta_path.insert(0, Block())
        sys.argv = sys.argv[1:]
        runpy.run_path(sys.argv[0], run_name='__main__')
    """)
    proc = subprocess.run([sys.executable, "-c", script, str(_PROBE), str(model_dir), str(result)],
                          capture_output=True, text=True, timeout=120, cwd=tmp_path)
    report = json.loads(result.read_text())
    assert report["stage"] == "done", (report, proc.stderr)
    assert Path(report["rules"]).resolve() == Path(contract.__file__).resolve()
    assert report["response"] == "[0]"


def test_there_is_no_second_copy_of_the_rules():
    # The transform_fn rule is written once, in serving/contract.py; the default functions once,
    # in serving/default_functions.py; nobody loads either by path.
    def holders(pattern: str) -> list[str]:
        found = re.compile(pattern)
        return sorted(str(p.relative_to(PACKAGE)) for p in PACKAGE.rglob("*.py") if found.search(p.read_text()))

    assert holders(r"def rule_violations|Cannot use transform_fn|transform_fn is defined together") == [
        "core/serving/contract.py"]
    assert holders(r"def default_(input|predict|output)_fn") == ["core/serving/default_functions.py"]
    assert holders(r"spec_from_file_location") == []
    assert not (PACKAGE / "core" / "packaging" / "_container.py").exists()


# A model whose handler functions come from a helper module: only importing it shows the mix.
HELPERS = "def transform_fn(model, body, ctype, accept):\n    return body\n\ndef input_fn(body, ctype):\n    return 1\n"


@pytest.mark.parametrize("name, files, check", [
    ("mix", {"code/inference.py": LOADER + "def transform_fn(m, b, c, a):\n    pass\ndef input_fn(b, c):\n    pass\n"},
     "handlers"),
    ("no-model-fn", {"code/inference.py": "import os\ndef predict_fn(data, model):\n    return data\n"}, "handlers"),
    ("mix-imported", {"code/inference.py": LOADER + "from helpers import *\n", "code/helpers.py": HELPERS},
     "model-loads"),
])
def test_validate_and_a_local_endpoint_refuse_with_the_same_message(le, tmp_path, iris_tree, name, files, check):
    files = dict(files, **{"model.joblib": iris_tree})
    message = _failed(files, tmp_path, sample=ROW)[check]
    ep = deploy(le, tmp_path, f"refused-{name}", files)
    assert ep.status == "Failed"
    assert message == ep.failure_reason
    le.delete(f"refused-{name}")


RESPONDERS = {
    "defaults": LOADER,
    "output_fn-dict": LOADER + "def output_fn(prediction, accept):\n    return {'labels': prediction.tolist()}\n",
    "output_fn-str": LOADER + "def output_fn(prediction, accept):\n    return str(prediction.tolist())\n",
    "transform_fn-tuple": LOADER + "def transform_fn(model, body, ctype, accept):\n"
                                   "    return body.upper(), 'text/x-shout'\n",
}


@pytest.mark.parametrize("name", sorted(RESPONDERS))
def test_the_probe_and_a_local_endpoint_answer_the_same(le, tmp_path, iris_tree, name):
    files = {"model.joblib": iris_tree, "code/inference.py": RESPONDERS[name]}
    report, _ = run_probe(_model_dir(tmp_path, files), 60, ROW)
    assert report["stage"] == "done", report
    endpoint = f"answers-{name.replace('_', '-')}"
    deploy(le, tmp_path, endpoint, files)
    r = le.invoke(endpoint, json.dumps(ROW).encode(), content_type="application/json", accept="application/json")
    assert (report["response"], report["response_content_type"]) == (r.body.decode(), r.content_type)
    le.delete(endpoint)


def test_a_failing_predict_gets_the_same_message_and_hint(le, tmp_path, iris_tree):
    files = {"model.joblib": iris_tree, "code/inference.py": LOADER}
    one_row = ROW[0]  # 1-D: sklearn wants rows
    message = _failed(files, tmp_path, sample=one_row)["predicts-sample"]
    deploy(le, tmp_path, "one-row", files)
    with pytest.raises(ModelError) as info:
        le.invoke("one-row", json.dumps(one_row).encode(), content_type="application/json")
    body = re.search(r'message "(.*)"\. See', info.value.message, re.S).group(1)
    first_line, hint = body.splitlines()[0], body[body.rindex(" ("):]
    assert first_line in message and hint in message
    le.delete("one-row")
