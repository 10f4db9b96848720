"""Kill the Jupyter server at each phase of a local push and deploy, and an endpoint's worker and
supervisor: afterwards nothing is left and status/endpoints tell the truth (no ghosts)."""
from __future__ import annotations

import json
import os
import signal
import sys

import pytest

from fault_harness import SAMPLE, home_processes, leftovers, wait_until

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
PUSH = {"path": "models/iris.joblib", "name": "iris", "sample": SAMPLE}


def smops():
    from jupyter_smops.core.api import Smops
    from jupyter_smops.core.config import SmopsConfig

    return Smops(SmopsConfig())


def push_ok(server) -> dict:
    job = server.wait_job(server.start_job("POST", "models", PUSH))
    assert job["state"] == "succeeded", job
    return job["result"]


def push_here(server_root) -> int:
    """A push by this process (as a kernel or the CLI would): the setup, and the next operation."""
    return smops().push(str(server_root / "models" / "iris.joblib"), name="iris", sample=SAMPLE).version


def assert_clean_after_cleanup(home, server_pid=None):
    """`cleanup` leaves no endpoint, no process of this home and no debris."""
    result = smops().cleanup(include_registry=False)
    assert not result.errors, result.errors
    assert not smops().list_endpoints(), "an endpoint survived cleanup"
    # A running Jupyter server holds the warm fork server (by design): only that may remain.
    others = lambda: [p for p in home_processes(home) if p != server_pid and  # noqa: E731
                      not (server_pid and open(f"/proc/{p}/comm").read().strip() == "smops-forksrv")]
    assert wait_until(lambda: not others(), timeout=15), f"processes left: {others()}"
    assert leftovers(home) == [], leftovers(home)


@pytest.mark.parametrize("phase", ["packaging", "storing", "storing:2"])
def test_server_killed_while_pushing(servers, fault_env, server_root, phase):
    server = servers(kill_at=phase)
    try:
        server.start_job("POST", "models", PUSH)
    except ConnectionError:
        pass  # killed before it could even answer 202: a crash at any moment
    assert server.died(), server.stop()[-2000:]
    # No half version: the registry shows none, and the next push is version 1 (nothing burned).
    assert smops().models() == []
    assert push_here(server_root) == 1
    # The crashed push's staging folder (named after the killed server's pid) is gone after the
    # next push, at once (or never existed).
    assert leftovers(fault_env) == [], leftovers(fault_env)
    assert_clean_after_cleanup(fault_env)


@pytest.mark.parametrize("phase", ["fetching", "extracting", "starting", "waiting"])
def test_server_killed_while_deploying(servers, fault_env, server_root, phase):
    push_here(server_root)
    server = servers(kill_at=phase)
    try:
        server.start_job("POST", "endpoints", {"model": "iris", "local": True, "name": "iris-v1"})
    except ConnectionError:
        pass  # killed before it could even answer 202
    assert server.died(), server.stop()[-2000:]
    [ep] = smops().list_endpoints()
    if phase == "waiting":
        # The process had started: it serves on, and says so truthfully.
        ep = wait_until(lambda: smops().describe_endpoint("iris-v1") if smops().describe_endpoint("iris-v1").status != "Creating"
                        else None, timeout=30)
        assert ep.status == "InService", ep
        assert smops().invoke("iris-v1", json.dumps(SAMPLE).encode(), content_type="application/json").status == 200
    else:
        assert ep.status == "Failed" and "interrupted" in ep.failure_reason, ep
    # A new server tells the same truth over REST, and its cleanup removes everything.
    after = servers()
    code, listed = after.call("GET", "endpoints")
    assert code == 200 and [(e["name"], e["status"]) for e in listed["endpoints"]] == [("iris-v1", ep.status)]
    job = after.wait_job(after.start_job("POST", "cleanup", {"dry_run": False}))
    assert job["state"] == "succeeded", job
    assert_clean_after_cleanup(fault_env, after.proc.pid)


def test_worker_and_supervisor_killed(servers, fault_env):
    server = servers()
    push_ok(server)
    job = server.wait_job(server.start_job("POST", "endpoints", {"model": "iris", "local": True, "name": "iris-v1"}))
    assert job["state"] == "succeeded", job
    state = json.loads((fault_env / "endpoints" / "iris-v1" / "state.json").read_text())
    supervisor = state["pid"]
    workers = [int(p) for p in open(f"/proc/{supervisor}/task/{supervisor}/children").read().split()]
    os.kill(workers[0], signal.SIGKILL)
    # A killed worker is replaced: the endpoint stays InService and answers.
    assert wait_until(lambda: server.call("POST", "endpoints/iris-v1/invocations", SAMPLE)[0] == 200, timeout=15)
    assert server.call("GET", "endpoints/iris-v1")[1]["status"] == "InService"
    os.kill(supervisor, signal.SIGKILL)
    # Its workers follow it (PR_SET_PDEATHSIG) and status says Failed with the reason, not InService.
    assert wait_until(lambda: not [p for p in home_processes(fault_env)
                                   if p not in (server.proc.pid,) and p in workers + [supervisor]], timeout=15)
    code, ep = server.call("GET", "endpoints/iris-v1")
    assert code == 200 and ep["status"] == "Failed" and "no longer running" in ep["failure_reason"], ep
    code, body = server.call("POST", "endpoints/iris-v1/invocations", SAMPLE)
    assert code >= 400 and "Failed" in json.dumps(body)
    job = server.wait_job(server.start_job("POST", "cleanup", {"dry_run": False}))
    assert job["state"] == "succeeded", job
    assert_clean_after_cleanup(fault_env, server.proc.pid)


def test_stopping_the_server_says_which_endpoints_keep_running(servers, fault_env):
    server = servers()
    push_ok(server)
    job = server.wait_job(server.start_job("POST", "endpoints", {"model": "iris", "local": True, "name": "iris-v1"}))
    assert job["state"] == "succeeded", job
    log = server.stop()
    assert "1 local endpoint(s) keep running after the server stops" in log and "iris-v1" in log, log[-2000:]
    assert "jupyter smops cleanup" in log
    assert smops().describe_endpoint("iris-v1").status == "InService"  # by design, as on SageMaker
    assert_clean_after_cleanup(fault_env)


def test_the_server_holds_the_fork_server_until_killed(servers, fault_env):
    """The extension's lease keeps the warm fork server past its grace; a SIGKILLed server's
    lease dies with it, so the fork server goes too (SMOPS_ZYGOTE_GRACE=2 here)."""
    from jupyter_smops.core.serving import leases

    server = servers()
    push_ok(server)  # the validation probe started the fork server
    root = fault_env / "endpoints"
    forksrv = lambda: [p for p in home_processes(fault_env) if open(f"/proc/{p}/comm").read().strip() == "smops-forksrv"]  # noqa: E731
    assert forksrv()
    assert leases.needed(root)
    import time

    time.sleep(6)
    assert forksrv(), "the fork server left while the Jupyter server held it"
    server.proc.kill()
    server.proc.wait()
    assert wait_until(lambda: not forksrv(), timeout=20), "the fork server outlived its only holder"
