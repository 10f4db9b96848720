"""Helpers shared by the serving and local-endpoint tests (plus unit tests of the encoders)."""
from __future__ import annotations

import io
import json
import tarfile
import time
from pathlib import Path
import numpy as np
import pytest

from jupyter_smops.core.endpoints.base import DeployOptions
from jupyter_smops.core.endpoints.local import LocalEndpoints
from jupyter_smops.core.endpoints.local_process import alive
from jupyter_smops.core.serving import contract, default_functions
from jupyter_smops.core.types import ModelVersion

# The seed's inference.py, verbatim (it loads iris-model.pkl and answers {"predictions": [...]}).
SEED_INFERENCE = (Path(__file__).resolve().parent.parent / "examples" / "inference.py").read_text()

DEFAULT_HANDLERS = '''import os, joblib

def model_fn(model_dir):
    print("MODEL-FN-MARKER loading", sorted(os.listdir(model_dir)))
    return joblib.load(os.path.join(model_dir, "model.joblib"))
'''


def version(name: str = "iris", v: int = 1) -> ModelVersion:
    return ModelVersion(name=name, version=v, sha256="0" * 64, size=0, framework="sklearn",
                        framework_version=None, serving_version=None, model_file="model.joblib",
                        created_at="2026-01-01T00:00:00Z", created_by="tester")


def build_tarball(dest: Path, files: dict) -> Path:
    """A model.tar.gz from {archive name: bytes | str | picklable model (joblib)}."""
    import joblib

    dest.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(dest, "w:gz") as tar:
        for name, content in files.items():
            if isinstance(content, str):
                data = content.encode()
            elif isinstance(content, bytes):
                data = content
            else:
                buf = io.BytesIO()
                joblib.dump(content, buf)
                data = buf.getvalue()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mtime = 0
            tar.addfile(info, io.BytesIO(data))
    return dest


def deploy(le: LocalEndpoints, tmp: Path, name: str, files: dict, *, owner: str = "tester",
           wait: bool = True, timeout: float = 60.0, model: str = "iris", tarball: Path | None = None):
    tarball = tarball or build_tarball(tmp / f"{name}-src" / "model.tar.gz", files)
    return le.deploy(version(model), name=name, owner=owner, options=DeployOptions(wait=wait, timeout=timeout),
                     fetch=lambda mv: tarball)


def wait_for(predicate, timeout: float = 10.0, step: float = 0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(step)
    return predicate()


def spawned_pids(root: Path) -> list[int]:
    """Every endpoint process the fork server started for ``root``."""
    try:
        return [int(line.split()[0]) for line in (root / ".zygote.spawned").read_text().splitlines()]
    except FileNotFoundError:
        return []


def teardown_endpoints(le: LocalEndpoints) -> None:
    """Delete every endpoint, stop the fork server, and check no process is left behind."""
    le.kill_grace = 5.0
    for ep in le.list():
        try:
            le.delete(ep.name)
        except Exception:
            pass
    le.shutdown()
    leftovers = wait_for(lambda: not [p for p in spawned_pids(le.root) if alive(p, None)], timeout=10)
    assert leftovers, f"endpoint processes left running: {[p for p in spawned_pids(le.root) if alive(p, None)]}"


@pytest.fixture(scope="module")
def iris_tree():
    from sklearn.datasets import load_iris
    from sklearn.tree import DecisionTreeClassifier

    iris = load_iris()
    return DecisionTreeClassifier(random_state=0).fit(iris.data, iris.target)


# -- unit tests of the container's encoders ---------------------------------------------
def test_decode_json_csv_npy():
    assert default_functions.decode("[[1, 2], [3, 4]]", contract.JSON).shape == (2, 2)
    assert default_functions.decode("1,2\n3,4\n", contract.CSV).tolist() == [["1", "2"], ["3", "4"]]
    assert default_functions.decode("1,2,3\n", contract.CSV).shape == (3,)  # the container squeezes one row to 1-D
    buf = io.BytesIO()
    np.save(buf, np.arange(4.0).reshape(2, 2))
    assert default_functions.decode(buf.getvalue(), contract.NPY).dtype == np.float64
    with pytest.raises(contract.UnsupportedFormat):
        default_functions.decode("x", "text/plain")


def test_npy_refuses_pickles():
    buf = io.BytesIO()
    np.save(buf, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(ValueError):
        default_functions.decode(buf.getvalue(), contract.NPY)


def test_encode_formats():
    assert json.loads(default_functions.encode(np.array([0, 1]), contract.JSON)) == [0, 1]
    assert default_functions.encode(np.array([0, 2]), contract.CSV) == b"0\n2\n"
    assert default_functions.encode(np.array([[1, 2]]), contract.CSV) == b"1,2\n"
    assert np.load(io.BytesIO(default_functions.encode(np.array([3]), contract.NPY))).tolist() == [3]
    with pytest.raises(contract.UnsupportedFormat):
        default_functions.encode([1], "application/xml")


def test_code_location_follows_the_container(tmp_path):
    assert contract.code_location(tmp_path, {}) == (tmp_path / "code", "inference")
    env = {"SAGEMAKER_SUBMIT_DIRECTORY": "/opt/ml/model/code", "SAGEMAKER_PROGRAM": "serve.py"}
    assert contract.code_location(tmp_path, env) == (tmp_path / "code", "serve")
    with pytest.raises(contract.LoadError, match="S3"):
        contract.code_location(tmp_path, {"SAGEMAKER_SUBMIT_DIRECTORY": "s3://b/k/source.tar.gz"})
