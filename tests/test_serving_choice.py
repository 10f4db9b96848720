"""Issue 11 item 3: every scikit-learn version deploys, and the endpoint runs the version the model
was pickled with (the nearest serving image + ``scikit-learn==<trained>`` in code/requirements.txt).

scikit-learn 1.5-1.8 cannot be installed beside this environment's 1.9.1, so the tests simulate
them honestly in two ways: the SageMaker SDK's image data is replaced by the SDK 3.12 data that
SageMaker Distribution 4.6.0 ships (no 1.9-0 image: this environment's own 1.9.1 then has no
image, as Studio's 1.7.2 has none), and model files are written by this scikit-learn with
``sklearn.base.__version__`` set to 1.7.2, so the pickle records 1.7.2 exactly as one written by
1.7.2 would (what both the pre-packaging scan and scikit-learn's own load warning read).
"""
from __future__ import annotations

import copy
import io
import json
import tarfile
from importlib import metadata

import pytest

from jupyter_smops.core import DeployOptions, Smops, images
from jupyter_smops.core.errors import BadRequest
from jupyter_smops.core.packaging import requirements as pins
from jupyter_smops.core.packaging.trained import pickled_version

LOCAL = metadata.version("scikit-learn")
SAMPLE = {"instances": [[5.1, 3.5, 1.4, 0.2]]}


@pytest.fixture
def sdk_3_12(monkeypatch):
    """The image data of SageMaker SDK 3.12 (SageMaker Distribution 4.6.0): no 1.9-0 image."""
    data = copy.deepcopy(images.sklearn_image_config())
    data["inference"]["versions"].pop("1.9-0", None)
    assert "1.4-2-py312" in data["inference"]["versions"]
    monkeypatch.setattr(images, "sklearn_image_config", lambda: data)
    return data


@pytest.fixture
def pickled_1_7_2(iris_model, tmp_path, monkeypatch):
    """A model file whose pickle says scikit-learn 1.7.2 wrote it."""
    import joblib
    import sklearn.base

    path = tmp_path / "model.joblib"
    with monkeypatch.context() as patch:
        patch.setattr(sklearn.base, "__version__", "1.7.2")
        joblib.dump(iris_model, path)
    return path


def _archive_requirements(path) -> str:
    with tarfile.open(path) as tar:
        return tar.extractfile("code/requirements.txt").read().decode()


# -- the rule -------------------------------------------------------------------------------

def test_nearest_image_is_the_newest_older_one(sdk_3_12):
    for version in ("1.5.2", "1.6.1", "1.7.2", "1.8.0", LOCAL):
        assert images.serving_version_for(version) is None
        assert images.nearest_serving_version(version) == "1.4-2-py312"
    assert images.nearest_serving_version("0.19.2") == "0.20.0"  # older than every image: the oldest
    assert images.nearest_serving_version("1.3.2") == "1.2-1"
    assert images.nearest_serving_version("not-a-version") is None
    assert images.image_sklearn("1.4-2-py312") == "1.4.x"


def test_images_whose_python_is_too_old_are_skipped(monkeypatch):
    # SDK 2.245 (SageMaker Distribution 3.10.0) lists images up to 1.2-1, whose Python 3.9 cannot
    # install scikit-learn 1.7 (Requires-Python >= 3.10): no image, rather than one that fails at start.
    data = copy.deepcopy(images.sklearn_image_config())
    for version in ("1.4-2-py312", "1.9-0"):
        data["inference"]["versions"].pop(version)
    monkeypatch.setattr(images, "sklearn_image_config", lambda: data)
    assert images.image_python("1.4-2-py312") == (3, 12) and images.image_python("1.2-1") == (3, 9)
    assert images.nearest_serving_version("1.5.2") == "1.2-1"  # 1.5 installs on Python 3.9
    assert images.nearest_serving_version("1.7.2") is None
    assert "--image-uri" in images.mismatch_advice("1.7.2") and "Python 3.10+" in images.mismatch_advice("1.7.2")
    d = pins.decide("1.7.2", None)  # still pinned: the endpoint must run 1.7.2 whatever image it gets
    assert (d.serving_version, d.pin, d.pin_added) == (None, "1.7.2", True)


def test_tomorrows_version_goes_to_the_newest_image():
    assert "1.9-0" in images.sklearn_serving_versions()  # this environment's SDK data
    assert images.nearest_serving_version("1.10.0") == "1.9-0"
    assert images.nearest_serving_version("2.0.1") == "1.9-0"


def test_decide_pins_merges_and_refuses(sdk_3_12):
    d = pins.decide("1.7.2", "pandas>=2\n# mine\n")
    assert (d.serving_version, d.pin, d.pin_added) == ("1.4-2-py312", "1.7.2", True)
    assert d.text.startswith("pandas>=2\n# mine\n") and d.text.splitlines()[-1] == "scikit-learn==1.7.2"
    assert pins.pin_was_added(d.text) and pins.pinned_version(d.text) == "1.7.2"
    # The user's own exact pin is kept as it is (nothing added).
    d = pins.decide("1.7.2", "scikit_learn == 1.7.2\n")
    assert (d.serving_version, d.text, d.pin, d.pin_added) == ("1.4-2-py312", None, "1.7.2", False)
    with pytest.raises(BadRequest, match=r"pickled with scikit-learn 1.7.2.*Write scikit-learn==1.7.2"):
        pins.decide("1.7.2", "scikit-learn==1.6.1\n")
    with pytest.raises(BadRequest, match="which may not be 1.7.2"):
        pins.decide("1.7.2", "scikit-learn>=1.5\n")
    with pytest.raises(BadRequest, match="deprecated"):
        pins.decide("1.7.2", "sklearn\n")
    # A version with its own image is served by it; no pin.
    d = pins.decide("1.4.2", "scikit-learn>=1.4\n")
    assert (d.serving_version, d.text, d.pin_added) == ("1.4-2-py312", None, False)


def test_environment_check_compares_installed_versions(monkeypatch):
    text = ("--index-url https://mirror.example/simple\nscikit-learn==1.7.2\nnumpy>=1\n"
            "surely-not-installed-pkg==1.0\nother==1; python_version < '3'\n")
    assert pins.check_environment(text) == [f"scikit-learn==1.7.2 is required, scikit-learn {LOCAL} is installed here",
                                            "surely-not-installed-pkg==1.0 is not installed here"]
    assert pins.check_environment(f"scikit-learn=={LOCAL}\n") == []
    # Without the packaging library, exact pins are still compared.
    monkeypatch.setattr(pins, "Requirement", None)
    assert pins.check_environment("scikit-learn==1.7.2\n") == [
        f"scikit-learn==1.7.2 is required, scikit-learn {LOCAL} is installed here"]


def test_pickled_version_is_read_without_loading(pickled_1_7_2, tmp_path):
    assert pickled_version(pickled_1_7_2) == "1.7.2"
    (tmp_path / "other.bin").write_bytes(b"no pickle here")
    assert pickled_version(tmp_path / "other.bin") is None


# -- push, validation, local deploy -----------------------------------------------------------

def test_push_of_an_unserved_version_pins_it_in_the_stored_archive(smops_home, iris_model, sdk_3_12, tmp_path):
    smops = Smops()
    mv = smops.push(iris_model, name="iris", sample=SAMPLE)
    assert (mv.framework_version, mv.serving_version, mv.requirements_pin, mv.pin_added) == (
        LOCAL, "1.4-2-py312", LOCAL, True)
    assert mv.requirements == [f"scikit-learn=={LOCAL}"]
    meta = json.loads((smops_home / "registry" / "iris" / "v1" / "smops.json").read_text())
    assert (meta["serving_version"], meta["requirements_pin"], meta["pin_added"]) == ("1.4-2-py312", LOCAL, True)
    # The stored archive (the one its sha256 names) pins what the endpoint will run.
    pinned = _archive_requirements(smops_home / "registry" / "iris" / "v1" / "model.tar.gz")
    assert f"scikit-learn=={LOCAL}" in pinned.splitlines() and pins.PIN_MARKER in pinned
    plan = smops.plan_deploy("iris:1", local=True)
    assert plan.serving["sklearn"] == LOCAL and plan.serving["notes"] == []  # this environment matches


def test_local_deploy_of_a_model_pickled_elsewhere_says_the_environment_differs(smops_home, pickled_1_7_2):
    smops = Smops()
    mv = smops.push(str(pickled_1_7_2), name="old", sample=SAMPLE)
    assert (mv.framework_version, mv.serving_version, mv.requirements_pin) == ("1.7.2", "1.4-2-py312", "1.7.2")
    package = smops.validate(str(smops.registry.fetch(mv, smops_home / "fetched")))
    env = {c.name: c for c in package.checks}["environment"]
    assert not env.ok and env.severity == "warning" and "scikit-learn==1.7.2 is required" in env.message
    plan = smops.plan_deploy("old:1", local=True)
    assert plan.serving["sklearn"] == LOCAL and not plan.serving["installs_at_start"]
    assert "runs in your environment" in plan.summary() and "scikit-learn==1.7.2 is required" in plan.summary()
    ep = smops.deploy(plan)
    try:
        assert ep.status == "InService"  # a clear message, not a refusal: the quick test still runs
        assert "jupyter_smops: warning: this environment does not match code/requirements.txt" in smops.logs(ep.name)
    finally:
        smops.delete(ep.name)


def test_a_conflicting_user_pin_is_refused_before_anything_is_stored(smops_home, pickled_1_7_2, tmp_path):
    reqs = tmp_path / "requirements.txt"
    reqs.write_text("scikit-learn==1.6.1\n")
    smops = Smops()
    with pytest.raises(BadRequest, match="pickled with scikit-learn 1.7.2"):
        smops.push(str(pickled_1_7_2), name="old", requirements=str(reqs))
    assert smops.models() == []


def test_framework_version_at_push_needs_this_environment_to_run_it(smops_home, iris_model, sdk_3_12):
    smops = Smops()
    with pytest.raises(BadRequest, match=f"this environment has scikit-learn {LOCAL}"):
        smops.push(iris_model, name="iris", framework_version="1.4-2-py312")
    with pytest.raises(BadRequest, match="No scikit-learn serving image '9.9-9'"):
        smops.push(iris_model, name="iris", framework_version="9.9-9")
    assert smops.models() == []


def test_framework_version_at_push_serves_the_images_own_version(smops_home, iris_model, monkeypatch):
    # An environment whose scikit-learn is the 1.4-2-py312 image's (1.4.2): simulated by what the
    # metadata says; the probe still loads and predicts with the real one.
    import jupyter_smops.core.packaging.build as build

    monkeypatch.setattr(build, "local_sklearn", lambda: "1.4.2")
    mv = Smops().push(iris_model, name="iris", sample=SAMPLE, framework_version="1.4-2-py312")
    assert (mv.serving_version, mv.requirements_pin, mv.pin_added, mv.requirements) == ("1.4-2-py312", None, False, [])


def test_an_archive_pushed_as_it_is_gets_the_pin_it_lacks(smops_home, pickled_1_7_2, tmp_path):
    tar_path = tmp_path / "handmade.tar.gz"
    loader = 'import os, joblib\ndef model_fn(d):\n    return joblib.load(os.path.join(d, "model.joblib"))\n'
    with tarfile.open(tar_path, "w:gz") as tar:
        for name, data in (("model.joblib", pickled_1_7_2.read_bytes()), ("code/inference.py", loader.encode()),
                           ("code/requirements.txt", b"numpy\n")):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    smops = Smops()
    checked = smops.validate(str(tar_path))
    assert checked.serving_version is None and "push adds scikit-learn==1.7.2" in str(checked)
    mv = smops.push(str(tar_path), name="handmade")
    assert (mv.serving_version, mv.requirements_pin, mv.pin_added) == ("1.4-2-py312", "1.7.2", True)
    stored = smops_home / "registry" / "handmade" / "v1" / "model.tar.gz"
    assert _archive_requirements(stored).splitlines()[0] == "numpy"
    assert "scikit-learn==1.7.2" in _archive_requirements(stored).splitlines()
    assert mv.requirements == ["numpy", "scikit-learn==1.7.2"]


def test_deploy_plan_text_for_sagemaker_says_image_version_and_trade_off(sdk_3_12):
    from jupyter_smops.core.deploy_plan import serving_plan
    from jupyter_smops.core.types import ModelVersion

    mv = ModelVersion(name="iris", version=1, sha256="0" * 64, size=1, framework="sklearn", framework_version="1.7.2",
                      serving_version="1.4-2-py312", model_file="model.joblib", created_at="", created_by="t",
                      requirements=["scikit-learn==1.7.2"], requirements_pin="1.7.2", pin_added=True)
    uri = images.image_uri("us-east-1", "1.4-2-py312", "ml.t2.medium")
    s = serving_plan(mv, DeployOptions(image_uri=uri), local=False)
    assert (s["serving_version"], s["sklearn"], s["installs_at_start"]) == ("1.4-2-py312", "1.7.2", True)
    text = " ".join(s["notes"])
    assert "must reach a package index" in text and "cannot start" in text
    assert "--framework-version 1.4-2-py312 from an environment with scikit-learn 1.4.x" in text
    # A hand-picked image for an unpinned model: the risk is said.
    unpinned = ModelVersion(**{**mv.to_dict(), "requirements": [], "requirements_pin": None, "pin_added": False,
                               "framework_version": "1.9.1", "serving_version": "1.9-0"})
    s = serving_plan(unpinned, DeployOptions(framework_version="1.2-1", image_uri=uri), local=False)
    assert s["sklearn"] == "1.2.x" and "not validated" in " ".join(s["notes"])
    # A hand-picked image whose Python cannot install the pin: said before anything is created.
    s = serving_plan(mv, DeployOptions(framework_version="1.2-1", image_uri=uri), local=False)
    assert s["sklearn"] == "1.7.2" and "the install fails and the endpoint does not start" in " ".join(s["notes"])
