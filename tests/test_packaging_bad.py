"""Every bad artifact gets its own clear message (DESIGN.md "The artifact", issue 2)."""
from __future__ import annotations

import io
import pickle
import tarfile
from pathlib import Path

import pytest

from jupyter_smops.core.errors import InvalidArtifact
from jupyter_smops.core.packaging import build_package, safe_extract, validate_package
from jupyter_smops.core.packaging.requirements import serving_checks

# The seed tutorial's inference.py, kept verbatim in examples/.
SEED_INFERENCE = (Path(__file__).resolve().parent.parent / "examples" / "inference.py").read_text()
LOADER = 'import os, joblib\ndef model_fn(model_dir):\n    return joblib.load(os.path.join(model_dir, "model.joblib"))\n'


def make_tar(path: Path, entries: dict) -> Path:
    """A hand-made user tarball: ``{name: bytes | str | TarInfo-tweaking callable}``."""
    with tarfile.open(path, "w:gz") as tar:
        for name, content in entries.items():
            info = tarfile.TarInfo(name)
            if callable(content):
                content(info)
                tar.addfile(info)
                continue
            data = content.encode() if isinstance(content, str) else content
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


@pytest.fixture(scope="session")
def warm_root(tmp_path_factory):
    """A local endpoints folder whose warm fork server the probe is forked from."""
    return tmp_path_factory.mktemp("warm-endpoints")


@pytest.fixture(autouse=True, params=["fresh", "warm"])
def probe_runner(request, monkeypatch, warm_root):
    """Every bad artifact twice: the probe in a fresh interpreter (the CLI without a fork
    server) and forked from the warm fork server (what Smops does): same checks, same words."""
    if request.param == "warm":
        from jupyter_smops.core.packaging import validate

        fresh = validate.run_probe
        monkeypatch.setattr(validate, "run_probe",
                            lambda model_dir, timeout, sample, root=None: fresh(model_dir, timeout, sample,
                                                                                root or warm_root))
    return request.param


@pytest.fixture(scope="module")
def model_bytes(iris_model):
    buf = io.BytesIO()
    import joblib

    joblib.dump(iris_model, buf)
    return buf.getvalue()


def failure(path: Path, **kw) -> InvalidArtifact:
    with pytest.raises(InvalidArtifact) as info:
        validate_package(path, **kw)
    return info.value


def failed(exc: InvalidArtifact) -> dict:
    return {c.name: c.message for c in exc.checks if not c.ok and c.severity == "error"}


def test_seed_mistake_wrong_file_name_names_both(iris_model, tmp_path):
    """The seed dumps iris-model.pkl but ships iris_model.pkl."""
    import joblib

    joblib.dump(iris_model, tmp_path / "iris_model.pkl")
    tar = make_tar(tmp_path / "model.tar.gz", {"iris_model.pkl": (tmp_path / "iris_model.pkl").read_bytes(),
                                               "code/inference.py": SEED_INFERENCE})
    exc = failure(tar)
    message = failed(exc)["model-file"]
    assert "'iris-model.pkl'" in message and "'iris_model.pkl'" in message
    assert "model-file" in str(exc) and "iris_model.pkl" in str(exc)
    assert tar.exists(), "validating a user's tarball must never delete it"


def test_seed_layout_top_level_inference_must_move_under_code(tmp_path, model_bytes):
    tar = make_tar(tmp_path / "model.tar.gz", {"iris-model.pkl": model_bytes, "inference.py": SEED_INFERENCE})
    assert "Move it to code/inference.py" in failed(failure(tar))["layout"]


def test_missing_model_fn(tmp_path, model_bytes):
    tar = make_tar(tmp_path / "m.tar.gz", {"model.joblib": model_bytes,
                                           "code/inference.py": "def predict_fn(data, model):\n    return data\n"})
    assert "model_fn(model_dir) is missing" in failed(failure(tar))["handlers"]


def test_syntax_error_says_where(tmp_path, model_bytes):
    tar = make_tar(tmp_path / "m.tar.gz", {"model.joblib": model_bytes,
                                           "code/inference.py": LOADER + "def predict_fn(data, model)\n    pass\n"})
    message = failed(failure(tar))["inference-syntax"]
    assert "syntax error at line 4" in message and "code/inference.py" in message


def test_transform_fn_mixed_with_predict_fn(tmp_path, model_bytes):
    source = LOADER + "def transform_fn(model, body, ctype, accept):\n    pass\n" \
                      "def predict_fn(data, model):\n    return model.predict(data)\n"
    tar = make_tar(tmp_path / "m.tar.gz", {"model.joblib": model_bytes, "code/inference.py": source})
    assert "transform_fn is defined together with predict_fn" in failed(failure(tar))["handlers"]


def test_handler_with_the_wrong_signature(tmp_path, model_bytes):
    source = LOADER + "def predict_fn(data):\n    return data\n"
    tar = make_tar(tmp_path / "m.tar.gz", {"model.joblib": model_bytes, "code/inference.py": source})
    assert "predict_fn takes 1 required argument(s) but the container calls it with 2" in failed(failure(tar))["handlers"]


def test_empty_model_file(tmp_path):
    tar = make_tar(tmp_path / "m.tar.gz", {"model.joblib": b"", "code/inference.py": LOADER})
    assert "model.joblib is empty (0 bytes)" in failed(failure(tar))["model-file"]


def test_unloadable_model(tmp_path):
    tar = make_tar(tmp_path / "m.tar.gz", {"model.joblib": b"this is not a pickle", "code/inference.py": LOADER})
    message = failed(failure(tar))["model-loads"]
    assert message.startswith("model_fn failed:") and "not a valid joblib/pickle file" in message
    assert "inference.py line 3" in message


def test_non_model_pickle(tmp_path):
    payload = pickle.dumps({"weights": [1, 2, 3]})
    tar = make_tar(tmp_path / "m.tar.gz", {"model.joblib": payload, "code/inference.py": LOADER})
    assert "model_fn loaded a dict, which has no predict" in failed(failure(tar))["model-loads"]


def test_non_model_object_is_refused_at_build_and_the_output_is_deleted(tmp_path):
    out = tmp_path / "model.tar.gz"
    with pytest.raises(InvalidArtifact, match="loaded a dict, which has no predict"):
        build_package({"not": "a model"}, out=out)
    assert not out.exists()


@pytest.mark.parametrize("name, tweak, expected", [
    ("../evil.py", None, "'../evil.py' leaves the archive ('..')"),
    ("/etc/evil.py", None, "'/etc/evil.py' is an absolute path"),
    ("code/link.py", lambda i: (setattr(i, "type", tarfile.SYMTYPE), setattr(i, "linkname", "/etc/passwd")),
     "'code/link.py' is a symbolic link (to '/etc/passwd')"),
    ("hard", lambda i: (setattr(i, "type", tarfile.LNKTYPE), setattr(i, "linkname", "model.joblib")),
     "'hard' is a hard link (to 'model.joblib')"),
    ("dev/null", lambda i: setattr(i, "type", tarfile.CHRTYPE), "'dev/null' is a device or FIFO"),
])
def test_unsafe_members_are_refused_by_name(tmp_path, model_bytes, name, tweak, expected):
    entries = {"model.joblib": model_bytes, "code/inference.py": LOADER, name: tweak or "x = 1\n"}
    tar = make_tar(tmp_path / "m.tar.gz", entries)
    exc = failure(tar)
    assert expected in failed(exc)["archive-safe"] and expected in str(exc)
    dest = tmp_path / "dest"
    with pytest.raises(InvalidArtifact, match="unsafe entries"):
        safe_extract(tar, dest)
    assert not (tmp_path / "evil.py").exists() and not (dest / "code" / "link.py").exists()


def test_not_a_gzip_file(tmp_path):
    path = tmp_path / "model.tar.gz"
    with tarfile.open(path, "w") as tar:  # uncompressed
        tar.addfile(tarfile.TarInfo("x"))
    assert "is not gzip-compressed" in str(failure(path))


def test_missing_import_points_to_requirements(tmp_path, model_bytes):
    source = "import surely_not_installed_pkg\n" + LOADER
    tar = make_tar(tmp_path / "m.tar.gz", {"model.joblib": model_bytes, "code/inference.py": source})
    message = failed(failure(tar))["model-loads"]
    assert "No module named 'surely_not_installed_pkg'" in message and "code/requirements.txt" in message


def test_failing_predict_names_the_line(tmp_path, model_bytes):
    source = LOADER + "def predict_fn(data, model):\n    raise RuntimeError('boom')\n"
    tar = make_tar(tmp_path / "m.tar.gz", {"model.joblib": model_bytes, "code/inference.py": source})
    message = failed(failure(tar))["predicts-sample"]
    assert "RuntimeError: boom (code/inference.py line 5)" in message


def test_slow_model_fn_times_out(tmp_path, model_bytes):
    # Only stdlib imports, so even a loaded machine gets to model_fn well within the timeout.
    source = "import time\ndef model_fn(model_dir):\n    time.sleep(60)\n"
    tar = make_tar(tmp_path / "m.tar.gz", {"model.joblib": model_bytes, "code/inference.py": source})
    assert "model_fn did not finish within 2 s" in failed(failure(tar, timeout=2))["model-loads"]


def test_model_pickled_with_an_unserved_sklearn_version_gets_the_nearest_image_and_a_pin(iris_model, tmp_path):
    import sklearn

    current = sklearn.__version__.encode()
    data = pickle.dumps(iris_model)
    fake = b"1.5.2"[:len(current)].ljust(len(current), b"0")  # same length keeps the pickle valid
    assert data.count(b"\x8c" + bytes([len(current)]) + current) == 1
    path = tmp_path / "old.pkl"
    path.write_bytes(data.replace(b"\x8c" + bytes([len(current)]) + current, b"\x8c" + bytes([len(fake)]) + fake))
    r = build_package(path, out=tmp_path / "model.tar.gz")
    checks = {c.name: c for c in r.checks}
    # Read from the file before packaging (no import of the model), confirmed by the probe.
    assert r.ok and checks["framework-version"].ok and r.framework_version == fake.decode()
    assert r.serving_version == "1.4-2-py312" and r.requirements_pin == fake.decode() and r.pin_added
    assert "installs scikit-learn==1.5.2 from code/requirements.txt at start" in checks["framework-version"].message
    with tarfile.open(tmp_path / "model.tar.gz") as tar:
        pinned = tar.extractfile("code/requirements.txt").read().decode()
    assert f"scikit-learn=={fake.decode()}" in pinned.splitlines()
    # Validation runs here, under another scikit-learn: said, not fixed.
    assert not checks["environment"].ok and checks["environment"].severity == "warning"
    assert f"scikit-learn=={fake.decode()} is required, scikit-learn {current.decode()} is installed here" in \
        checks["environment"].message


def test_framework_check_maps_versions():
    checks, fields = serving_checks("1.9.1", "1.9.1", None)
    assert checks[0].ok and fields["serving_version"] == "1.9-0" and fields["requirements_pin"] is None
    # An archive without the pin its version needs: push adds it, validation says so.
    checks, fields = serving_checks("1.5.0", "1.5.0", None)
    assert not checks[0].ok and checks[0].severity == "warning" and "push adds scikit-learn==1.5.0" in checks[0].message
    assert fields["serving_version"] is None
    # A pin contradicting the pickled version fails the archive.
    checks, fields = serving_checks("1.5.0", "1.5.0", "scikit-learn==1.6.1\n")
    assert not checks[0].ok and checks[0].severity == "error" and "pickled with scikit-learn 1.5.0" in checks[0].message


def test_truncated_archive(tmp_path, model_bytes):
    tar = make_tar(tmp_path / "m.tar.gz", {"model.joblib": model_bytes, "code/inference.py": LOADER})
    tar.write_bytes(tar.read_bytes()[:300])
    assert "is not a readable .tar.gz" in str(failure(tar))


def test_default_input_fn_hint_when_inference_has_none(tmp_path, model_bytes):
    tar = make_tar(tmp_path / "m.tar.gz", {"model.joblib": model_bytes, "code/inference.py": LOADER})
    message = failed(failure(tar, sample={"instances": [[5.1, 3.5, 1.4, 0.2]]}))["predicts-sample"]
    assert "has no input_fn and the container's default reads a bare JSON list of rows" in message


def test_no_code_folder_at_all(tmp_path, model_bytes):
    tar = make_tar(tmp_path / "m.tar.gz", {"model.joblib": model_bytes, "code/serve.py": LOADER})
    assert "no code/inference.py (code/ has code/serve.py" in failed(failure(tar))["layout"]


def test_archive_of_the_folder_instead_of_its_contents(tmp_path, model_bytes):
    tar = make_tar(tmp_path / "m.tar.gz", {"export/model.joblib": model_bytes, "export/code/inference.py": LOADER})
    assert "everything is inside the folder export/" in failed(failure(tar))["layout"]


class NotebookTransformer:
    """Stands for a class defined in a notebook cell (module ``__main__``)."""

    def predict(self, rows):
        return [0 for _ in rows]


def test_class_defined_in_the_notebook(tmp_path, monkeypatch):
    import sys

    monkeypatch.setattr(NotebookTransformer, "__module__", "__main__")
    monkeypatch.setattr(sys.modules["__main__"], "NotebookTransformer", NotebookTransformer, raising=False)
    with pytest.raises(InvalidArtifact) as info:
        build_package(NotebookTransformer(), sample=[[1.0]], out=tmp_path / "model.tar.gz")
    message = failed(info.value)["model-loads"]
    assert "NotebookTransformer" in message and "class defined in the notebook" in message


def test_module_names_are_not_mistaken_for_files(tmp_path, model_bytes):
    source = ('import importlib, os, joblib\ndef model_fn(model_dir):\n    importlib.import_module("sklearn.tree")\n'
              '    return joblib.load(os.path.join(model_dir, "model.joblib"))\n')
    tar = make_tar(tmp_path / "m.tar.gz", {"model.joblib": model_bytes, "code/inference.py": source})
    r = validate_package(tar, sample=[[5.1, 3.5, 1.4, 0.2]])
    assert {c.name: c for c in r.checks}["model-file"].message == "model.joblib"


def test_data_filter_strips_setuid_bits(tmp_path):
    with tarfile.open(tmp_path / "m.tar.gz", "w:gz") as tar:
        info = tarfile.TarInfo("run.sh")
        info.size, info.mode = 3, 0o4755
        tar.addfile(info, io.BytesIO(b"#!\n"))
    members = safe_extract(tmp_path / "m.tar.gz", tmp_path / "out")
    assert [m.name for m in members] == ["run.sh"]
    assert (tmp_path / "out" / "run.sh").stat().st_mode & 0o7000 == 0
