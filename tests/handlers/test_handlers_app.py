"""The server extension is an ExtensionApp: one set of services, built from the server's config,
and its jobs stopped when the server stops."""
from __future__ import annotations

import threading
import time

import pytest

from jupyter_smops.core.errors import Conflict
from jupyter_smops.extension import SmopsApp
from jupyter_smops.handlers.jobs import JobCancelled, JobManager


@pytest.fixture
def jp_server_config(smops_backend):
    return {"ServerApp": {"jpserver_extensions": {"jupyter_smops": True}},
            "SmopsConfig": {"endpoints_class": "smops_testing.fakes.FakeEndpoints"},
            "SmopsApp": {"job_stop_grace": 0.2}}


def _app(serverapp) -> SmopsApp:
    apps = serverapp.extension_manager.extension_apps["jupyter_smops"]
    (app,) = [a for a in apps if isinstance(a, SmopsApp)]
    return app


def _until_cancelled(rolled_back: threading.Event):
    def work(progress):
        try:
            while True:
                progress("uploading", None, None)
                time.sleep(0.01)
        finally:  # what a registry's rollback does on the way out
            rolled_back.set()
    return work


async def test_the_app_builds_one_set_of_services_from_the_server_config(api, jp_serverapp):
    from smops_testing.fakes import FakeEndpoints

    app = _app(jp_serverapp)
    assert app.smops.config is app.smops_config and app.smops_config.parent is app
    assert isinstance(app.smops.endpoints, FakeEndpoints)  # c.SmopsConfig.endpoints_class, a dotted name
    assert app.job_stop_grace == 0.2
    gate = threading.Event()
    app.jobs.submit("push", lambda progress: gate.wait(5))
    code, status, _ = await api("GET", "status")  # the handlers got the app's JobManager
    gate.set()
    assert code == 200 and status["jobs_running"] == 1


async def test_server_stop_stops_the_jobs(jp_serverapp):
    app = _app(jp_serverapp)
    rolled_back = threading.Event()
    job = app.jobs.submit("push", _until_cancelled(rolled_back), target="model:iris")
    await jp_serverapp.cleanup_extensions()  # what ServerApp does on stop
    stopped = app.jobs.get(job.id)
    assert stopped.state == "failed" and stopped.error["code"] == "Cancelled"
    assert rolled_back.is_set()
    with pytest.raises(Conflict, match="stopping"):
        app.jobs.submit("push", lambda progress: None)


def test_shutdown_lets_quick_jobs_finish_drops_queued_ones_and_cancels_the_rest():
    jobs = JobManager(max_workers=1)
    quick = jobs.submit("delete", lambda progress: time.sleep(0.1) or "deleted")
    jobs.shutdown(grace=5)
    assert jobs.get(quick.id).state == "succeeded"

    jobs = JobManager(max_workers=1)
    rolled_back = threading.Event()
    running = jobs.submit("push", _until_cancelled(rolled_back))
    queued = jobs.submit("deploy", lambda progress: "never started")
    started = time.monotonic()
    jobs.shutdown(grace=0.2, rollback=5)
    assert time.monotonic() - started < 3
    assert rolled_back.is_set()
    for job_id, phase in ((running.id, "uploading"), (queued.id, "queued")):
        job = jobs.get(job_id)
        assert (job.state, job.phase, job.error["code"]) == ("failed", phase, "Cancelled")
    with pytest.raises(Conflict):
        jobs.submit("push", lambda progress: None)
    jobs.shutdown()  # a second stop is harmless


def test_cancellation_passes_through_except_exception():
    """The core's ``except Exception`` translations must not swallow a cancellation."""
    assert not issubclass(JobCancelled, Exception)
