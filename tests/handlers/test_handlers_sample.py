"""A malformed ``sample`` is refused at the POST (400, no job started), not accepted and failed
later in the push's job or the package's validation."""
from __future__ import annotations

import pytest

BAD = [
    ("not json", "got a string"),
    ('[[5.1, 3.5, 1.4, 0.2]]', "not parsed here"),
    (5, "got a number"),
    (True, "got a boolean"),
    ([], "got an empty array"),
    ({}, "got an empty object"),
]


@pytest.fixture
def model_file(jp_root_dir, iris_model):
    import joblib

    joblib.dump(iris_model, jp_root_dir / "iris.joblib")
    return "iris.joblib"


@pytest.mark.parametrize("sample,words", BAD, ids=[w for _, w in BAD])
async def test_a_malformed_sample_is_400_at_the_push(api, smops_home, model_file, sample, words):
    code, body, _ = await api("POST", "models", {"path": model_file, "name": "iris", "sample": sample})
    assert code == 400, body
    assert "'sample'" in body["error"]["message"] and words in body["error"]["message"]
    code, jobs, _ = await api("GET", "jobs")
    assert jobs["jobs"] == []  # nothing was started that could fail later


@pytest.mark.parametrize("sample,words", BAD[:3], ids=[w for _, w in BAD[:3]])
async def test_a_malformed_sample_is_400_at_packages(api, smops_home, model_file, sample, words):
    code, body, _ = await api("POST", "packages", {"path": model_file, "sample": sample})
    assert code == 400 and words in body["error"]["message"], body


@pytest.mark.parametrize("sample", [[[5.1, 3.5, 1.4, 0.2]], {"instances": [[5.1, 3.5, 1.4, 0.2]]}, None],
                         ids=["rows", "object", "null"])
async def test_well_formed_samples_are_taken(api, wait_job, smops_home, model_file, sample):
    code, body, _ = await api("POST", "models", {"path": model_file, "name": "iris", "sample": sample})
    assert code == 202, body
    job = await wait_job(body["job"]["id"])
    assert job["state"] == "succeeded", job
