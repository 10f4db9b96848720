"""REST API benchmark (issue 5): ``.venv/bin/python bench/rest_api.py [--size-mb 500] [--duration 5]``.

Starts a real ``jupyter server`` (local backend, temporary SMOPS_HOME and root) and measures:

1. ``GET /smops/api/status`` latency when idle (sequential, keep-alive);
2. the same while a ``--size-mb`` model is pushed through ``POST /smops/api/models`` (packaging,
   validation in a subprocess, storing) — target: < 100 ms — plus the push's duration and how
   many distinct progress values a 20 ms poll saw;
3. invoking the seed's request on a local endpoint directly (its own URL) and through the
   server's ``/invocations`` proxy: sequential p50/p99, and ``wrk`` at c=16.

A measurement, not a test: exit code 0 either way. The machine is shared; say so with the numbers.
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "bench-token"
SEED = json.dumps({"instances": [[5.1, 3.5, 1.4, 0.2]]}).encode()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Client:
    """One keep-alive connection (a browser tab's worth)."""

    def __init__(self, base: str, token: str | None = TOKEN):
        u = urlparse(base)
        self.conn = http.client.HTTPConnection(u.hostname, u.port, timeout=120)
        self.prefix = u.path.rstrip("/")
        self.headers = {"Authorization": f"token {token}"} if token else {}

    def call(self, method: str, path: str, body: bytes | None = None, ctype: str = "application/json"):
        headers = dict(self.headers, **({"Content-Type": ctype} if body is not None else {}))
        self.conn.request(method, self.prefix + path, body=body, headers=headers)
        resp = self.conn.getresponse()
        data = resp.read()
        return resp.status, data

    def json(self, method: str, path: str, payload=None):
        status, data = self.call(method, path, None if payload is None else json.dumps(payload).encode())
        return status, json.loads(data) if data else None


def timed(fn, n: int) -> list[float]:
    out = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t) * 1000)
    return out


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * p))]


def summary(values: list[float]) -> str:
    return f"p50 {statistics.median(values):7.2f} ms  p99 {pct(values, 0.99):7.2f} ms  max {max(values):7.2f} ms  (n={len(values)})"


def start_server(tmp: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = dict(os.environ, SMOPS_HOME=str(tmp / "home"), SMOPS_BACKEND="local", SMOPS_OWNER="bench")
    cmd = [sys.executable, "-m", "jupyter_server", "--no-browser", f"--port={port}", "--ServerApp.allow_root=True",
           f"--ServerApp.root_dir={tmp / 'root'}", f"--IdentityProvider.token={TOKEN}"]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=open(tmp / "server.log", "wb"))
    base = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            if Client(base).call("GET", "/smops/api/status")[0] == 200:
                return proc, base
        except OSError:
            pass
        time.sleep(0.1)
    raise SystemExit(f"server did not start; see {tmp / 'server.log'}")


def make_models(root: Path, size_mb: int) -> None:
    import joblib
    import numpy as np
    from sklearn.datasets import load_iris
    from sklearn.tree import DecisionTreeClassifier

    iris = load_iris()
    model = DecisionTreeClassifier(random_state=0).fit(iris.data, iris.target)
    joblib.dump(model, root / "iris.joblib")
    # Incompressible weight on a working estimator: the push moves every byte.
    model.padding_ = np.frombuffer(os.urandom(size_mb * 1024 * 1024), dtype=np.uint8)
    joblib.dump(model, root / "big.joblib")


def wait_job(client: Client, job_id: str, on_poll=None) -> dict:
    while True:
        _, job = client.json("GET", f"/smops/api/jobs/{job_id}")
        if on_poll:
            on_poll(job)
        if job["state"] != "running":
            return job
        time.sleep(0.02)


def status_during_push(base: str, size_mb: int) -> dict:
    pusher, prober = Client(base), Client(base)
    _, accepted = pusher.json("POST", "/smops/api/models", {"path": "big.joblib", "name": "big"})
    job_id, latencies, stop = accepted["job"]["id"], [], threading.Event()

    phases: list[tuple[float, str]] = []
    slow: list[str] = []

    def probe():
        while not stop.is_set():
            ms = timed(lambda: prober.call("GET", "/smops/api/status"), 1)[0]
            latencies.append(ms)
            if ms >= 100:
                slow.append(f"{ms:.0f} ms during {phases[-1][1] if phases else 'start'}")
            time.sleep(0.02)

    thread = threading.Thread(target=probe)
    t0 = time.perf_counter()
    thread.start()
    seen: set = set()

    def on_poll(j):
        seen.add((j["phase"], j["progress"]["done"]))
        if not phases or phases[-1][1] != j["phase"]:
            phases.append((time.perf_counter() - t0, j["phase"]))

    job = wait_job(pusher, job_id, on_poll)
    stop.set()
    thread.join()
    return {"job": job, "seconds": time.perf_counter() - t0, "latencies": latencies, "progress_values": len(seen),
            "phases": phases, "slow": slow}


def wrk(url: str, headers: dict, body: bytes, duration: int, connections: int = 16) -> str:
    script = tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False)
    lines = ['wrk.method = "POST"', f"wrk.body = {json.dumps(body.decode())}"]
    lines += [f'wrk.headers["{k}"] = "{v}"' for k, v in headers.items()]
    script.write("\n".join(lines) + "\n")
    script.close()
    out = subprocess.run(["wrk", "-t2", f"-c{connections}", f"-d{duration}s", "--latency", "-s", script.name, url],
                         capture_output=True, text=True).stdout
    os.unlink(script.name)
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    p99 = re.search(r"99%\s+([\d.]+\w+)", out)
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return (f"{float(rps.group(1)):8.0f} req/s  p99 {p99.group(1) if p99 else '?':>8}"
            f"{'  NON-2xx ' + errors.group(1) if errors else ''}") if rps else "wrk failed"


def invocations(base: str, duration: int) -> list[tuple[str, str, str]]:
    client = Client(base)
    _, accepted = client.json("POST", "/smops/api/models", {"path": "iris.joblib", "name": "iris"})
    assert wait_job(client, accepted["job"]["id"])["state"] == "succeeded"
    _, accepted = client.json("POST", "/smops/api/endpoints", {"model": "iris", "name": "iris-bench"})
    job = wait_job(client, accepted["job"]["id"])
    assert job["state"] == "succeeded", job
    direct = Client(job["result"]["url"], token=None)
    proxied_path = "/smops/api/endpoints/iris-bench/invocations"
    assert direct.call("POST", "/invocations", SEED)[1] == client.call("POST", proxied_path, SEED)[1]
    rows = []
    for label, c, path, url, headers in (
            ("direct (endpoint url)", direct, "/invocations", job["result"]["url"] + "/invocations",
             {"Content-Type": "application/json"}),
            ("via /smops/api proxy", client, proxied_path, base + proxied_path,
             {"Content-Type": "application/json", "Authorization": f"token {TOKEN}"})):
        timed(lambda: c.call("POST", path, SEED), 50)  # warm up
        seq = timed(lambda: c.call("POST", path, SEED), 500)
        rows.append((label, summary(seq), wrk(url, headers, SEED, duration)))
    client.call("DELETE", "/smops/api/endpoints/iris-bench")
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size-mb", type=int, default=500)
    ap.add_argument("--duration", type=int, default=5)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="smops-bench-api-") as tmp_name:
        tmp = Path(tmp_name)
        (tmp / "root").mkdir()
        make_models(tmp / "root", args.size_mb)
        proc, base = start_server(tmp)
        try:
            client = Client(base)
            timed(lambda: client.call("GET", "/smops/api/status"), 20)
            idle = timed(lambda: client.call("GET", "/smops/api/status"), 300)
            push = status_during_push(base, args.size_mb)
            rows = invocations(base, args.duration)
        finally:
            proc.terminate()
            proc.wait(10)
    lat = push["latencies"]
    print(f"\nGET /smops/api/status, idle:            {summary(idle)}")
    print(f"GET /smops/api/status, during the push: {summary(lat)}  "
          f"{'OK' if pct(lat, 0.99) < 100 else 'OVER'} (target < 100 ms)")
    print(f"push of {args.size_mb} MB via REST: {push['seconds']:.1f} s, job {push['job']['state']}, "
          f"{push['progress_values']} distinct (phase, done) values seen by a 20 ms poll")
    print("phases (s from start): " + ", ".join(f"{name} {t:.1f}" for t, name in push["phases"]))
    if push["slow"]:
        print("status calls >= 100 ms: " + "; ".join(push["slow"]))
    print("\ninvoke, seed request      sequential (keep-alive)                               wrk c=16")
    for label, seq, w in rows:
        print(f"{label:24}  {seq}  {w}")


if __name__ == "__main__":
    main()
