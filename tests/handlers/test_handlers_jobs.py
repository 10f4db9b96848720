"""Jobs: a large push reports monotonic progress to its total while the server stays responsive."""
from __future__ import annotations

import asyncio
import hashlib
import os
import statistics
import threading
import time

import pytest

from jupyter_smops.core.config import SmopsConfig
from jupyter_smops.core.api import Smops
from jupyter_smops.core.errors import Conflict
from jupyter_smops.core.registry.local import LocalRegistry
from jupyter_smops.core.types import PackageResult
from jupyter_smops.handlers import setup_handlers
from jupyter_smops.handlers.jobs import JobManager

LARGE = 256 * 1024 * 1024
CHUNK = 4 * 1024 * 1024


class SlowUploadRegistry(LocalRegistry):
    """Streams and hashes the whole artifact in chunks as an upload would, reporting bytes sent."""

    def push(self, package, *, name, owner, source=None, progress=None):
        digest, done = hashlib.sha256(), 0
        with open(package.path, "rb") as fh:
            for chunk in iter(lambda: fh.read(CHUNK), b""):
                digest.update(chunk)
                done += len(chunk)
                progress("uploading", done, package.size)
                time.sleep(0.01)  # the network's share of an upload
        assert digest.hexdigest() == package.sha256
        return super().push(package, name=name, owner=owner, source=source)


class PrevalidatedSmops(Smops):
    """Packaging is not under test here: the archive's validation result is computed directly."""

    def validate(self, path):
        digest = hashlib.sha256()
        with open(path, "rb") as fh:
            for chunk in iter(lambda: fh.read(CHUNK), b""):
                digest.update(chunk)
        size = os.path.getsize(path)
        return PackageResult(path=str(path), sha256=digest.hexdigest(), size=size, model_file="model.joblib",
                             framework="sklearn", framework_version="1.9.1", serving_version="1.9-0")


@pytest.fixture
def jp_server_config(smops_backend):
    return {"ServerApp": {"jpserver_extensions": {"jupyter_smops": False}}}


@pytest.fixture
def large_push(jp_serverapp, jp_root_dir, smops_home):
    """The API wired to the slow registry, and a 256 MiB (sparse) model.tar.gz in the root."""
    with open(jp_root_dir / "big.tar.gz", "wb") as fh:
        fh.truncate(LARGE)
    smops = PrevalidatedSmops(SmopsConfig(), registry=SlowUploadRegistry(SmopsConfig()))
    setup_handlers(jp_serverapp, smops=smops)
    return jp_root_dir / "big.tar.gz"


async def test_large_push_progress_rises_monotonically_to_total(api, large_push, wait_job):
    code, accepted, headers = await api("POST", "models", {"path": "big.tar.gz", "name": "big"})
    assert code == 202, accepted
    job_id = accepted["job"]["id"]
    assert headers["Location"].endswith(f"/smops/api/jobs/{job_id}")
    seen = []
    while True:
        code, job, _ = await api("GET", f"jobs/{job_id}")
        assert code == 200
        if job["phase"] == "uploading":
            seen.append((job["progress"]["done"], job["progress"]["total"]))
        if job["state"] != "running":
            break
        await asyncio.sleep(0.02)
    assert job["state"] == "succeeded", job
    assert job["result"]["name"] == "big" and job["result"]["version"] == 1
    assert job["result"]["size"] == LARGE
    assert job["progress"] == {"done": LARGE, "total": LARGE}
    dones = [d for d, _ in seen]
    assert all(t == LARGE for _, t in seen)
    assert dones == sorted(dones), "progress went backwards"
    assert len(set(dones)) >= 5, f"too few progress observations: {dones}"
    code, listing, _ = await api("GET", "jobs")
    assert [j["id"] for j in listing["jobs"]] == [job_id]


async def test_status_answers_fast_during_a_large_push(api, large_push, wait_job):
    code, accepted, _ = await api("POST", "models", {"path": "big.tar.gz", "name": "big"})
    assert code == 202
    job_id = accepted["job"]["id"]
    timings = []
    while True:
        start = time.perf_counter()
        code, status, _ = await api("GET", "status")
        timings.append((time.perf_counter() - start) * 1000)
        assert code == 200 and status["jobs_running"] in (0, 1)
        code, job, _ = await api("GET", f"jobs/{job_id}")
        if job["state"] != "running":
            break
        await asyncio.sleep(0.01)
    assert job["state"] == "succeeded", job
    assert len(timings) >= 10, "the push finished too fast to measure anything"
    print(f"GET status during a {LARGE >> 20} MiB push: n={len(timings)} median={statistics.median(timings):.1f} ms "
          f"max={max(timings):.1f} ms")
    # What this test holds: status is answered again and again while the push runs (the push
    # never blocks the event loop). The < 100 ms target is a speed target: bench/rest_api.py
    # measures it against the idle latency in the same run; a timed assert here only measured
    # how loaded the CI machine was.


def test_job_manager_states_errors_and_exclusive_targets():
    jobs = JobManager(max_workers=2)
    gate = threading.Event()

    def slow(progress):
        progress("working", 1, 3)
        gate.wait(5)
        return {"ok": True}

    first = jobs.submit("deploy", slow, target="endpoint:a", exclusive=True)
    with pytest.raises(Conflict, match=first.id):
        jobs.submit("delete", lambda p: None, target="endpoint:a", exclusive=True)
    gate.set()
    done = jobs.wait(first.id, timeout=5)
    assert (done.state, done.result) == ("succeeded", {"ok": True})
    assert (done.done, done.total, done.phase) == (3, 3, "done")

    def smops_error(progress):
        raise Conflict("taken; choose another name")

    def crash(progress):
        raise ValueError("internal detail with AKIAABCDEFGHIJKLMNOP")

    failed = jobs.wait(jobs.submit("deploy", smops_error, target="endpoint:a").id)
    assert failed.state == "failed" and failed.error == {"code": "Conflict", "message": "taken; choose another name"}
    crashed = jobs.wait(jobs.submit("push", crash).id)
    assert crashed.state == "failed" and crashed.error["code"] == "InternalError"
    assert "AKIA" not in crashed.error["message"] and crashed.id in crashed.error["message"]
    assert [j.id for j in jobs.list()] == [crashed.id, failed.id, first.id]
    jobs.shutdown()


def test_progress_never_moves_backwards_within_a_phase():
    jobs = JobManager(max_workers=1)
    gate = threading.Event()

    def racing(progress):
        for done in (10, 30, 20, 40, 35):  # callbacks from parallel part uploads arrive out of order
            progress("uploading", done, 40)
        gate.wait(5)

    job = jobs.submit("push", racing)
    for _ in range(100):
        if jobs.get(job.id).done == 40:
            break
        time.sleep(0.01)
    assert jobs.get(job.id).done == 40
    gate.set()
    jobs.wait(job.id)
    jobs.shutdown()
