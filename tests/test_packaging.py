"""Building model.tar.gz: layout, reproducibility, the generated inference.py end to end."""
from __future__ import annotations

import ast
import gzip
import json
import pickle
import subprocess
import sys
import tarfile
import textwrap
from pathlib import Path

import pytest

from jupyter_smops.core.errors import BadRequest
from jupyter_smops.core.packaging import build_package, safe_extract, validate_package
from jupyter_smops.core.packaging.archive import FIXED_MTIME, sha256_file, write_archive
from jupyter_smops.core.packaging.default_inference import render

SEED_REQUEST = {"instances": [[5.1, 3.5, 1.4, 0.2]]}


@pytest.fixture(scope="module")
def iris_package(iris_model, tmp_path_factory):
    out = tmp_path_factory.mktemp("pkg") / "model.tar.gz"
    return build_package(iris_model, sample=SEED_REQUEST, out=out)


def test_layout_of_a_built_package(iris_package):
    with tarfile.open(iris_package.path) as tar:
        members = tar.getmembers()
    assert [m.name for m in members] == ["code", "code/inference.py", "model.joblib"]
    for m in members:
        assert (m.mtime, m.uid, m.gid, m.uname, m.gname) == (FIXED_MTIME, 0, 0, "", "")
        assert m.mode == (0o755 if m.isdir() else 0o644)
    header = Path(iris_package.path).read_bytes()[:10]
    assert header[:3] == b"\x1f\x8b\x08"
    assert header[3] & 0x08 == 0, "gzip header must not carry a file name"
    assert header[4:8] == b"\x00\x00\x00\x00", "gzip header mtime must be 0"


def test_result_fields(iris_package):
    import sklearn

    r = iris_package
    assert r.ok and r.model_file == "model.joblib" and r.framework == "sklearn"
    assert r.framework_version == sklearn.__version__
    assert r.serving_version == "1.9-0"
    assert r.sample_input == SEED_REQUEST
    assert r.size == Path(r.path).stat().st_size and r.sha256 == sha256_file(Path(r.path))
    by_name = {c.name: c for c in r.checks}
    assert set(by_name) >= {"archive-safe", "layout", "inference-syntax", "handlers", "model-file",
                            "model-loads", "predicts-sample", "framework-version"}
    assert '{"predictions": [0]}' in by_name["predicts-sample"].message


def test_same_inputs_give_the_same_sha256_in_any_cwd(iris_model, tmp_path, monkeypatch):
    digests = []
    for i, cwd in enumerate([tmp_path / "a", tmp_path / "b"]):
        cwd.mkdir()
        monkeypatch.chdir(cwd)
        digests.append(build_package(iris_model, out=Path(f"m{i}.tar.gz")).sha256)
    assert digests[0] == digests[1]


def test_same_file_gives_the_same_sha256_and_keeps_its_name(iris_model, tmp_path, monkeypatch):
    import joblib

    model_file = tmp_path / "iris-model.pkl"
    joblib.dump(iris_model, model_file)
    first = build_package(model_file, out=tmp_path / "one" / "model.tar.gz")
    monkeypatch.chdir(tmp_path / "one")
    second = build_package(str(model_file), out=Path("again.tar.gz"))
    assert first.sha256 == second.sha256 and first.model_file == "iris-model.pkl"
    with tarfile.open(first.path) as tar:
        assert "iris-model.pkl" in tar.getnames()


def test_thread_count_does_not_change_the_bytes(tmp_path):
    data = tmp_path / "blob.bin"
    data.write_bytes(b"".join(i.to_bytes(4, "little") * 3 for i in range(900_000)))  # ~10 MB, 10 blocks
    write_archive(tmp_path / "t1.tar.gz", {"blob.bin": data}, threads=1)
    write_archive(tmp_path / "t2.tar.gz", {"blob.bin": data}, threads=2)
    assert sha256_file(tmp_path / "t1.tar.gz") == sha256_file(tmp_path / "t2.tar.gz")
    with gzip.open(tmp_path / "t2.tar.gz") as fh:  # and plain zlib reads it back
        assert len(fh.read()) > data.stat().st_size


def test_generated_inference_uses_only_what_the_container_has():
    tree = ast.parse(render("model.joblib"))
    imported = {a.name.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    imported |= {n.module.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    assert imported <= {"csv", "io", "json", "os", "numpy", "joblib"}


E2E_SCRIPT = textwrap.dedent("""
    import json, sys
    sys.path.insert(0, sys.argv[1] + "/code")
    import inference
    model = inference.model_fn(sys.argv[1])
    def call(body, ctype, accept):
        return inference.output_fn(inference.predict_fn(inference.input_fn(body, ctype), model), accept)
    out = {
        "seed": call(json.dumps({"instances": [[5.1, 3.5, 1.4, 0.2]]}), "application/json", "application/json"),
        "bare": call(b"[[5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3]]", "application/json; charset=utf-8", None),
        "csv": call("5.1,3.5,1.4,0.2\\n6.7,3.0,5.2,2.3\\n", "text/csv", "text/csv"),
    }
    try:
        inference.input_fn("x", "application/xml")
    except ValueError as exc:
        out["bad"] = str(exc)
    print(json.dumps(out))
""")


def test_default_inference_end_to_end_in_a_subprocess(iris_package, tmp_path):
    model_dir = tmp_path / "opt-ml-model"
    safe_extract(Path(iris_package.path), model_dir)
    proc = subprocess.run([sys.executable, "-c", E2E_SCRIPT, str(model_dir)], capture_output=True,
                          text=True, timeout=60, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["seed"] == ['{"predictions": [0]}', "application/json"]
    assert json.loads(out["bare"][0]) == {"predictions": [0, 2]}
    assert out["csv"] == ["0\n2\n", "text/csv"]
    assert "application/json or text/csv" in out["bad"]


def test_user_inference_and_requirements_are_packaged(iris_model, tmp_path):
    script = tmp_path / "my_inference.py"
    script.write_text(textwrap.dedent("""
        import os, json, joblib
        def model_fn(model_dir):
            return joblib.load(os.path.join(model_dir, "model.joblib"))
        def transform_fn(model, body, content_type, accept):
            rows = json.loads(body)["instances"]
            return json.dumps({"labels": model.predict(rows).tolist()}), "application/json"
    """))
    reqs = tmp_path / "requirements.txt"
    reqs.write_text("pyyaml\n")
    r = build_package(iris_model, inference=script, requirements=reqs, sample=SEED_REQUEST,
                      out=tmp_path / "model.tar.gz")
    with tarfile.open(r.path) as tar:
        assert tar.getnames() == ["code", "code/inference.py", "code/requirements.txt", "model.joblib"]
    assert '{"labels": [0]}' in {c.name: c for c in r.checks}["predicts-sample"].message


def test_plain_pickle_file_and_bare_list_sample(iris_model, tmp_path):
    path = tmp_path / "clf.pickle"
    path.write_bytes(pickle.dumps(iris_model))
    r = build_package(path, sample=[[6.7, 3.0, 5.2, 2.3]], out=tmp_path / "model.tar.gz")
    assert r.model_file == "clf.pickle" and r.sample_input == [[6.7, 3.0, 5.2, 2.3]]
    assert '{"predictions": [2]}' in {c.name: c for c in r.checks}["predicts-sample"].message


def test_skops_model_file(iris_model, tmp_path):
    skops_io = pytest.importorskip("skops.io")
    path = tmp_path / "iris.skops"
    skops_io.dump(iris_model, path)
    r = build_package(path, sample=SEED_REQUEST, out=tmp_path / "model.tar.gz")
    with tarfile.open(r.path) as tar:
        reqs = tar.extractfile("code/requirements.txt").read().decode()
    assert r.model_file == "iris.skops" and reqs.startswith("skops==")


def test_seed_tarball_with_inference_moved_under_code_validates(iris_model, tmp_path):
    """The seed's own inference.py, in the layout the container reads, serves the seed's request."""
    import joblib

    from test_packaging_bad import SEED_INFERENCE, make_tar

    joblib.dump(iris_model, tmp_path / "iris-model.pkl")
    tar = make_tar(tmp_path / "model.tar.gz", {"iris-model.pkl": (tmp_path / "iris-model.pkl").read_bytes(),
                                               "code/inference.py": SEED_INFERENCE})
    r = validate_package(tar, sample=json.dumps(SEED_REQUEST))
    assert r.ok and r.model_file == "iris-model.pkl"
    assert '{"predictions": [0]}' in {c.name: c for c in r.checks}["predicts-sample"].message


def test_bad_arguments_are_bad_requests(iris_model, tmp_path):
    with pytest.raises(BadRequest, match="does not exist"):
        build_package(tmp_path / "nope.joblib", out=tmp_path / "m.tar.gz")
    with pytest.raises(BadRequest, match="not valid JSON"):
        build_package(iris_model, sample="{oops", out=tmp_path / "m.tar.gz")
    with pytest.raises(BadRequest, match="inference script"):
        build_package(iris_model, inference=tmp_path / "missing.py", out=tmp_path / "m.tar.gz")
    assert not (tmp_path / "m.tar.gz").exists()


def test_dot_slash_names_from_tar_czf_are_accepted(tmp_path):
    """``tar -czf model.tar.gz .`` writes ./model.joblib and ./code/inference.py."""
    import joblib
    from sklearn.tree import DecisionTreeRegressor

    src = tmp_path / "src"
    (src / "code").mkdir(parents=True)
    joblib.dump(DecisionTreeRegressor().fit([[0.0], [1.0]], [0.0, 1.0]), src / "model.joblib")
    (src / "code" / "inference.py").write_text(render("model.joblib"))
    subprocess.run(["tar", "-czf", str(tmp_path / "model.tar.gz"), "-C", str(src), "."], check=True)
    r = validate_package(tmp_path / "model.tar.gz", sample=[[1.0]])
    assert r.model_file == "model.joblib"
    assert '{"predictions": [1.0]}' in {c.name: c for c in r.checks}["predicts-sample"].message


def test_numpy_sample_is_sent_as_instances(iris_model, tmp_path):
    import numpy as np

    r = build_package(iris_model, sample=np.array([5.1, 3.5, 1.4, 0.2]), out=tmp_path / "model.tar.gz")
    assert r.sample_input == SEED_REQUEST


def test_object_is_saved_under_the_name_the_users_model_fn_opens(iris_model, tmp_path):
    """The seed's inference.py opens iris-model.pkl: a notebook variable is saved under that name."""
    from test_packaging_bad import SEED_INFERENCE

    script = tmp_path / "inference.py"
    script.write_text(SEED_INFERENCE)
    r = build_package(iris_model, inference=script, sample=SEED_REQUEST, out=tmp_path / "model.tar.gz")
    assert r.model_file == "iris-model.pkl"
    assert '{"predictions": [0]}' in {c.name: c for c in r.checks}["predicts-sample"].message
