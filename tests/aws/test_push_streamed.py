"""``Smops.push`` on S3: the archive uploads while it is compressed and while the checks run; a
version appears only when all three have succeeded."""
from __future__ import annotations

import copy
import hashlib
import os
import threading

import pytest

from jupyter_smops.core.config import SmopsConfig
from jupyter_smops.core.api import Smops
from jupyter_smops.core.errors import InvalidArtifact, NotFound

pytestmark = pytest.mark.aws
BUCKET = "sagemaker-us-east-1-123456789012"
MIB = 1024 * 1024
FAILING_PREDICT = '''import os, joblib
def model_fn(model_dir):
    return joblib.load(os.path.join(model_dir, "model.joblib"))
def predict_fn(data, model):
    raise RuntimeError("this model refuses to predict")
'''


@pytest.fixture
def smops(config):
    return Smops(config)


def _big(iris_model, mib: int):
    """The iris tree carrying ``mib`` MiB of incompressible bytes: still a working estimator."""
    big = copy.deepcopy(iris_model)
    big.padding_ = os.urandom(mib * MIB)
    return big


def _leftovers(raw, name: str) -> tuple[list, list]:
    keys = [o["Key"] for o in raw["s3"].list_objects_v2(Bucket=BUCKET).get("Contents", [])
            if o["Key"].startswith(f"model-artifacts/tester/{name}/")]
    return keys, raw["s3"].list_multipart_uploads(Bucket=BUCKET).get("Uploads", [])


def _workers() -> set[str]:
    return {t.name for t in threading.enumerate() if t.name in ("smops-archive", "smops-validate")}


def test_streamed_push_stores_the_archive_package_builds(smops, raw, iris_model, tmp_path):
    """Streamed or written to a file, the artifact is the same bytes (reproducible archive)."""
    built = smops.package(iris_model, out=str(tmp_path / "model.tar.gz"))
    mv = smops.push(iris_model, name="iris")
    assert (mv.version, mv.sha256, mv.size) == (1, built.sha256, built.size)
    body = raw["s3"].get_object(Bucket=BUCKET, Key="model-artifacts/tester/iris/v1/model.tar.gz")["Body"].read()
    assert hashlib.sha256(body).hexdigest() == built.sha256
    # What the checks beside the upload found is recorded as for a file.
    assert (mv.framework_version, mv.serving_version, mv.model_file, mv.sample_input) == \
        (built.framework_version, built.serving_version, "model.joblib", built.sample_input)


def test_failed_check_aborts_the_upload_and_leaves_no_version(smops, raw, iris_model, tmp_path):
    """The probe fails (predict_fn raises) while parts of a 40 MiB model are going up."""
    script = tmp_path / "inference.py"
    script.write_text(FAILING_PREDICT)
    parts: list[int] = []
    smops.registry.s3.meta.events.register("provide-client-params.s3.UploadPart",
                                           lambda params, **kw: parts.append(params["PartNumber"]))
    with pytest.raises(InvalidArtifact) as err:
        smops.push(_big(iris_model, 40), name="big", inference=str(script))
    assert "predicts-sample" in err.value.message and "refuses to predict" in err.value.message
    assert _leftovers(raw, "big") == ([], [])
    with pytest.raises(NotFound):
        smops.registry.get("big")
    assert raw["sagemaker"].list_model_packages(ModelPackageGroupName="tester-big")["ModelPackageSummaryList"] == []
    assert _workers() == set()
    # A good push afterwards takes the next number SageMaker gives (1 went with the failed push's
    # package): the version and its package share it.
    mv = smops.push(iris_model, name="big")
    assert mv.version == 2 and mv.model_package_arn.endswith("/tester-big/2")


def test_static_failure_stops_the_upload_before_it_finishes(smops, raw, iris_model, tmp_path):
    """A syntax error is found in milliseconds: the 64 MiB model is not uploaded to the end."""
    script = tmp_path / "inference.py"
    script.write_text("def model_fn(model_dir):\n    return (\n")
    parts: list[int] = []
    smops.registry.s3.meta.events.register("provide-client-params.s3.UploadPart",
                                           lambda params, **kw: parts.append(params["PartNumber"]))
    with pytest.raises(InvalidArtifact, match="inference-syntax"):
        smops.push(_big(iris_model, 64), name="big", inference=str(script))
    assert len(parts) < 4, parts  # a finished upload would have sent 4 parts of 16 MiB (and more)
    assert _leftovers(raw, "big") == ([], [])
    assert _workers() == set()


def test_cancelled_push_stops_compression_and_leaves_nothing(smops, raw, iris_model):
    """A kernel interrupt half-way: the archive thread stops, the multipart upload is aborted."""
    def interrupt(phase, done, total):
        if phase == "uploading" and done:
            raise KeyboardInterrupt
    with pytest.raises(KeyboardInterrupt):
        smops.push(_big(iris_model, 64), name="big", progress=interrupt)
    assert _leftovers(raw, "big") == ([], [])
    assert _workers() == set()


def test_progress_goes_forward_to_the_artifact_size(smops, iris_model):
    seen = []
    mv = smops.push(_big(iris_model, 40), name="big", progress=lambda *a: seen.append(a))
    phases = [p for p, *_ in seen]
    assert phases[0] == "packaging" and "uploading" in phases and phases[-1] == "done"
    uploads = [(d, t) for p, d, t in seen if p == "uploading"]
    assert len({t for _, t in uploads}) == 1 and [d for d, _ in uploads] == sorted(d for d, _ in uploads)
    assert uploads[-1][0] == uploads[-1][1]  # the bar is full when the last part is stored
    assert seen[-1] == ("done", mv.size, mv.size)


def test_local_registry_streams_into_staging_and_cleans_up_on_failure(tmp_path, monkeypatch, iris_model):
    monkeypatch.setenv("SMOPS_HOME", str(tmp_path / "home"))
    smops = Smops(SmopsConfig(backend="local"))
    script = tmp_path / "inference.py"
    script.write_text(FAILING_PREDICT)
    with pytest.raises(InvalidArtifact, match="refuses to predict"):
        smops.push(iris_model, name="iris", inference=str(script))
    model_dir = smops.registry.root / "iris"
    assert [p.name for p in model_dir.iterdir()] == []  # no version, no staging folder
    mv = smops.push(iris_model, name="iris")
    assert mv.version == 1 and (model_dir / "v1" / "model.tar.gz").is_file()
    assert hashlib.sha256((model_dir / "v1" / "model.tar.gz").read_bytes()).hexdigest() == mv.sha256


def test_connection_lost_mid_stream_aborts_and_stops_the_compression(smops, raw, iris_model):
    """The 3rd part fails as if the network went away: the error says so, nothing is left."""
    from botocore.exceptions import EndpointConnectionError

    from jupyter_smops.core.errors import UpstreamError

    calls = {"n": 0}

    def flaky(**kwargs):
        calls["n"] += 1
        if calls["n"] == 3:
            raise EndpointConnectionError(endpoint_url="http://127.0.0.1")
    smops.registry.s3.meta.events.register("before-call.s3.UploadPart", flaky)
    with pytest.raises(UpstreamError, match="Cannot reach AWS"):
        smops.push(_big(iris_model, 64), name="big")
    assert _leftovers(raw, "big") == ([], [])
    assert _workers() == set()


def test_checks_see_the_code_where_the_archive_puts_it(tmp_path, monkeypatch, iris_model):
    """inference.py finding the model from its own real path works in the container (the archive
    has real files), so the checks beside the stream must not see a link to the user's folder."""
    monkeypatch.setenv("SMOPS_HOME", str(tmp_path / "home"))
    script = tmp_path / "src" / "inference.py"
    script.parent.mkdir()
    script.write_text('''import os, joblib
HERE = os.path.dirname(os.path.realpath(__file__))
def model_fn(model_dir):
    return joblib.load(os.path.join(HERE, "..", "model.joblib"))
''')
    mv = Smops(SmopsConfig(backend="local")).push(iris_model, name="iris", inference=str(script))
    assert mv.version == 1
