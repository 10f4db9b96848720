"""The serving processes as an operator sees them: the fork server's lifetime (leases, live
endpoints, one per home), process titles, who may connect to an endpoint, its 6 MiB limit."""
from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from jupyter_smops.core.config import SmopsConfig
from jupyter_smops.core.endpoints.local import LocalEndpoints
from jupyter_smops.core.errors import ModelError
from jupyter_smops.core.limits import MAX_PAYLOAD_BYTES
from jupyter_smops.core.serving import leases, zygote
from test_serving_support import DEFAULT_HANDLERS, deploy, iris_tree, teardown_endpoints, wait_for  # noqa: F401

ROW = json.dumps([[5.1, 3.5, 1.4, 0.2]]).encode()


def fork_servers(root: Path) -> list[int]:
    """Pids of the fork servers of ``root``, found by their command line whatever its title."""
    root = str(root.resolve())
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            argv = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if root in argv and ("fork server" in argv or ("jupyter_smops.core.serving" in argv and "zygote" in argv)):
            found.append(int(proc.name))
    return found


def comm(pid: int) -> str:
    return Path(f"/proc/{pid}/comm").read_text().strip()


def cmdline(pid: int) -> str:
    return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode().strip()


@pytest.fixture
def short_grace(monkeypatch):
    """Fork servers started by this test give up 1 s after nothing needs them (60 s by default)."""
    monkeypatch.setenv("SMOPS_ZYGOTE_GRACE", "1")


@pytest.fixture(scope="module")
def iris_files(iris_tree):
    return {"model.joblib": iris_tree, "code/inference.py": DEFAULT_HANDLERS}


pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")


def test_a_fork_server_nothing_needs_exits_after_its_grace(tmp_path, short_grace):
    """`package`/`validate` from the CLI start the fork server and exit: it must not idle on."""
    root = tmp_path / "endpoints"
    assert zygote.warm(root)
    [pid] = fork_servers(root)
    assert wait_for(lambda: not fork_servers(root), timeout=15), "the fork server idles with nothing to serve"


def test_a_lease_keeps_it_and_a_killed_holder_drops_it(tmp_path, short_grace):
    root = tmp_path / "endpoints"
    holder = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    try:
        leases.hold(root, holder.pid)
        assert zygote.warm(root)
        time.sleep(5)  # well past the 1 s grace: the lease keeps it
        assert len(fork_servers(root)) == 1
    finally:
        holder.kill()  # as a SIGKILLed Jupyter server: no release
        holder.wait()
    assert wait_for(lambda: not fork_servers(root), timeout=15)
    assert not list((root / ".zygote-leases").iterdir())  # the dead lease was swept


def test_a_live_endpoint_keeps_it_and_cleanup_stops_it(tmp_path, iris_files, monkeypatch):
    monkeypatch.setenv("SMOPS_ZYGOTE_GRACE", "3")
    le = LocalEndpoints(SmopsConfig(home=str(tmp_path / "home")))
    try:
        assert deploy(le, tmp_path, "kept", iris_files).status == "InService"
        time.sleep(6)  # past the grace: the endpoint keeps it
        assert len(fork_servers(le.root)) == 1
        monkeypatch.setenv("SMOPS_ZYGOTE_GRACE", "60")
        le.cleanup("tester")
        # `cleanup` left no endpoint and nobody holds it: it goes at once, not after the grace.
        assert wait_for(lambda: not fork_servers(le.root), timeout=3)
    finally:
        teardown_endpoints(le)


def test_one_fork_server_per_home_whatever_the_interpreter(tmp_path):
    """`python` and `python3` of one environment share it (they spawned two)."""
    root = tmp_path / "endpoints"
    bindir = Path(sys.executable).parent
    names = [n for n in ("python", "python3", Path(sys.executable).name) if (bindir / n).exists()]
    if len(set(names)) < 2:
        pytest.skip("this environment has one name for its interpreter")
    ask = "import sys; from pathlib import Path; from jupyter_smops.core.serving import zygote; " \
          "assert zygote.warm(Path(sys.argv[1]))"
    try:
        for name in dict.fromkeys(names):
            subprocess.run([str(bindir / name), "-c", ask, str(root)], check=True, timeout=120)
        assert len(fork_servers(root)) == 1
    finally:
        zygote.stop(root)


def test_a_fork_server_of_another_environment_is_replaced(tmp_path, monkeypatch):
    """One per home: a mismatching fingerprint (an upgraded scikit-learn) replaces it."""
    root = tmp_path / "endpoints"
    try:
        assert zygote.warm(root)
        [old] = fork_servers(root)
        real = zygote.fingerprint()
        monkeypatch.setattr(zygote, "fingerprint", lambda: real[:-1] + ("0" if real[-1] != "0" else "1"))
        assert zygote.warm(root)
        assert wait_for(lambda: fork_servers(root) and old not in fork_servers(root), timeout=10)
        assert len(fork_servers(root)) == 1
    finally:
        zygote.stop(root)


def test_fork_server_supervisor_and_workers_have_their_own_titles(tmp_path, iris_files):
    le = LocalEndpoints(SmopsConfig(home=str(tmp_path / "home")), workers=2)
    try:
        deploy(le, tmp_path, "titled", iris_files)
        [server] = fork_servers(le.root)
        supervisor = json.loads((le.root / "titled" / "state.json").read_text())["pid"]
        workers = [int(p) for p in Path(f"/proc/{supervisor}/task/{supervisor}/children").read_text().split()]
        assert len(workers) == 2
        assert comm(server) == "smops-forksrv" and "fork server" in cmdline(server)
        assert comm(supervisor) == "smops-endpoint" and cmdline(supervisor).startswith("smops endpoint titled: supervisor")
        for pid in workers:
            assert comm(pid) == "smops-worker" and cmdline(pid).startswith("smops endpoint titled: worker")
    finally:
        teardown_endpoints(le)


def test_titles_without_setproctitle_use_prctl_and_the_argv_area():
    code = ("import sys; sys.modules['setproctitle'] = None\n"
            "from jupyter_smops.core.serving.titles import set_title\n"
            "set_title('smops-testname', 'smops: a title longer than nothing')\n"
            "print(open('/proc/self/comm').read().strip());"
            "print(open('/proc/self/cmdline','rb').read().split(b'\\0')[0].decode())")
    out = subprocess.run([sys.executable, "-c", code, "x" * 40], capture_output=True, text=True, timeout=60)
    assert out.stdout.splitlines() == ["smops-testname", "smops: a title longer than nothing"], out.stderr


# -- the endpoint's port ------------------------------------------------------------------
@pytest.fixture(scope="module")
def endpoint(tmp_path_factory, iris_tree):
    tmp = tmp_path_factory.mktemp("port")
    le = LocalEndpoints(SmopsConfig(home=str(tmp / "home")), workers=1)
    ep = deploy(le, tmp, "guarded", {"model.joblib": iris_tree, "code/inference.py": DEFAULT_HANDLERS})
    assert ep.status == "InService", ep.failure_reason
    yield le, int(ep.url.rsplit(":", 1)[1])
    teardown_endpoints(le)


def _post(port: int, body: bytes) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("POST", "/invocations", body=body, headers={"Content-Type": "application/json"})
    resp = conn.getresponse()
    data = resp.read()
    conn.close()
    return resp.status, data


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to connect as another user (uid 65534)")
def test_another_user_is_refused_and_the_owner_served(endpoint):
    le, port = endpoint
    read_r, read_w = os.pipe()
    pid = os.fork()
    if pid == 0:  # another local user: the port is reachable, the endpoint must refuse
        try:
            os.close(read_r)
            os.setgid(65534)
            os.setuid(65534)
            try:
                status, data = _post(port, ROW)
                answer = f"{status} {data.decode(errors='replace')}"
            except (ConnectionError, http.client.HTTPException) as exc:
                answer = f"closed {exc!r}"
            os.write(read_w, answer.encode())
        finally:
            os._exit(0)
    os.close(read_w)
    with os.fdopen(read_r) as fh:
        answer = fh.read()
    os.waitpid(pid, 0)
    assert answer.startswith("403 ") and "only the processes of the user" in answer, answer
    assert _post(port, ROW)[0] == 200  # the owner: the container contract, no token
    assert "predictions" not in answer


def test_a_body_over_6_mib_is_413_on_the_endpoint_url_and_readable(endpoint):
    le, port = endpoint
    status, data = _post(port, b"[" + b" " * MAX_PAYLOAD_BYTES + b"]")
    assert status == 413 and b"6 MiB" in data
    # Chunked (no length known up front): refused once more than 6 MiB has arrived.
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("POST", "/invocations", body=iter([b" " * (1 << 20)] * 7), encode_chunked=True,
                 headers={"Content-Type": "application/json"})
    resp = conn.getresponse()
    assert resp.status == 413 and b"6 MiB" in resp.read()
    conn.close()
    # Exactly 6 MiB is the model's business (here: a JSON body it can read), not a 413.
    body = json.dumps([[5.1, 3.5, 1.4, 0.2]]).encode()
    assert _post(port, body + b" " * (MAX_PAYLOAD_BYTES - len(body)))[0] == 200
    assert _post(port, ROW)[0] == 200  # the worker serves on


def test_model_errors_name_no_server_path(endpoint):
    le, _ = endpoint
    with pytest.raises(ModelError) as err:
        le.invoke("guarded", b"not json", content_type="application/json")
    assert not Path(err.value.log_stream).is_absolute()
    assert str(le.root) not in json.dumps(err.value.to_dict())
