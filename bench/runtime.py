"""Issue 16: what the SageMaker Runtime route costs against the endpoint's own URL.

One local endpoint (the seed's iris DecisionTree, the container's default functions, 2 workers)
is called with `wrk` at the same concurrency two ways, alternated, in the same run:

* direct:  POST {endpoint url}/invocations (the container contract);
* runtime: POST {runtime_url}/endpoints/NAME/invocations with the exact headers boto3's
  sagemaker-runtime client sends (captured from a real client: SigV4 Authorization, X-Amz-Date,
  User-Agent, amz-sdk-*), through the gateway (core/serving/runtime_gateway.py).

The gateway serves a connection's first request by forwarding it, then hands the connection to
the endpoint's workers (``serving/handoff.py``, ``runtime_worker.py``): what is measured is the
steady state a client with a kept-alive connection sees, with wrk's one connection per
concurrency slot handed over at the start of each run.

The two routes run back to back in pairs (which one goes first alternates), and the ratio is
taken per pair: on a machine whose other processes come and go, a pair sees the same load, a
median of separate medians does not. Prints req/s, p50/p99 per route and concurrency (medians
of --repeat), the CPU time a request costs the gateway and the endpoint's workers (which the
other processes of a shared machine disturb much less than throughput), the median pair ratio
runtime/direct with its spread (min-max), whether the target holds (the runtime route costs under
15% of throughput), plus one JSON line. Also boto3's own
invoke_endpoint rate through the runtime URL, for scale.

    .venv/bin/python bench/runtime.py [--duration 5] [--repeat 5] [--conns 1,16]
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
ROW = json.dumps([[5.1, 3.5, 1.4, 0.2]])
TARGET = 0.85  # runtime route >= 85% of the direct URL's throughput
HANDLERS = "import os, joblib\n\ndef model_fn(model_dir):\n    return joblib.load(os.path.join(model_dir, 'model.joblib'))\n"


def build_tarball(work: Path) -> Path:
    import tarfile

    import joblib
    from sklearn.datasets import load_iris
    from sklearn.tree import DecisionTreeClassifier

    src = work / "src"
    (src / "code").mkdir(parents=True)
    X, y = load_iris(return_X_y=True)
    joblib.dump(DecisionTreeClassifier(random_state=0).fit(X, y), src / "model.joblib")
    (src / "code" / "inference.py").write_text(HANDLERS)
    out = work / "model.tar.gz"
    with tarfile.open(out, "w:gz") as tar:
        for path in sorted(src.rglob("*")):
            tar.add(path, arcname=str(path.relative_to(src)), recursive=False)
    return out


def boto3_client(url: str):
    import boto3
    from botocore.config import Config

    return boto3.client("sagemaker-runtime", endpoint_url=url, region_name="us-east-1", aws_access_key_id="bench",
                        aws_secret_access_key="bench", config=Config(retries={"total_max_attempts": 1}))


def boto3_headers(url: str, name: str) -> dict:
    """The headers a real boto3 InvokeEndpoint sends (the gateway checks for a signature, never
    verifies it, so one signed set serves the whole run)."""
    client = boto3_client(url)
    seen: dict = {}

    def capture(request, **kw):
        seen.update({k: (v.decode() if isinstance(v, bytes) else v) for k, v in request.headers.items()})

    client.meta.events.register("before-send.sagemaker-runtime.InvokeEndpoint", capture)
    client.invoke_endpoint(EndpointName=name, Body=ROW, ContentType="application/json")
    seen.pop("Content-Length", None)  # wrk sets it
    return seen


def wrk(url: str, headers: dict, conns: int, duration: int, work: Path) -> dict:
    script = work / f"post-{abs(hash((url, conns)))}.lua"
    lines = ['wrk.method = "POST"', f"wrk.body = {json.dumps(ROW)}"]
    lines += [f"wrk.headers[{json.dumps(k)}] = {json.dumps(v)}" for k, v in headers.items()]
    script.write_text("\n".join(lines) + "\n")
    out = subprocess.run(["wrk", "-t1", f"-c{conns}", f"-d{duration}s", "--latency", "-s", str(script), url],
                         capture_output=True, text=True, timeout=duration + 60).stdout

    def lat(p: str) -> float:
        m = re.search(rf"^\s+{p}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        return float(m.group(1)) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[m.group(2)] if m else float("nan")

    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    errors = sum(int(n) for n in re.findall(r"Non-2xx or 3xx responses: (\d+)", out))
    errors += sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", out))
    return {"rps": float(rps.group(1)) if rps else 0.0, "p50": lat("50"), "p99": lat("99"), "errors": errors}


def cpu_seconds(pids: list) -> float:
    """User + system CPU time of ``pids`` (Linux /proc; 0 elsewhere or for a gone process)."""
    total = 0.0
    for pid in pids:
        try:
            fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def boto3_rate(url: str, name: str, threads: int, seconds: float) -> float:
    clients = [boto3_client(url) for _ in range(threads)]
    stop = time.perf_counter() + seconds

    def run(client) -> int:
        n = 0
        while time.perf_counter() < stop:
            client.invoke_endpoint(EndpointName=name, Body=ROW, ContentType="application/json")["Body"].read()
            n += 1
        return n

    start = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        total = sum(pool.map(run, clients))
    return total / (time.perf_counter() - start)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--duration", type=int, default=5)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--conns", default="1,16")
    args = ap.parse_args()
    if not shutil.which("wrk"):
        sys.exit("bench/runtime.py needs wrk (apt-get install wrk)")
    from jupyter_smops.core.config import SmopsConfig
    from jupyter_smops.core.endpoints.local import LocalEndpoints
    from jupyter_smops.core.types import DeployOptions, ModelVersion

    work = Path(tempfile.mkdtemp(prefix="smops-bench-runtime-"))
    le = LocalEndpoints(SmopsConfig(home=str(work / "home")))
    tarball = build_tarball(work)
    mv = ModelVersion(name="iris", version=1, sha256="0" * 64, size=0, framework="sklearn", framework_version=None,
                      serving_version=None, model_file="model.joblib", created_at="2026-01-01T00:00:00Z",
                      created_by="bench")
    try:
        ep = le.deploy(mv, name="bench-runtime", owner="bench", options=DeployOptions(), fetch=lambda _: tarball)
        assert ep.status == "InService", ep.failure_reason
        runtime = le.runtime_url()
        headers = boto3_headers(runtime, ep.name)
        routes = {"direct": (ep.url + "/invocations", {"Content-Type": "application/json"}),
                  "runtime": (f"{runtime}/endpoints/{ep.name}/invocations", headers)}
        from jupyter_smops.core.files import read_json
        from jupyter_smops.core.serving import runtime_gateway

        # CPU per request: throughput moves with the other processes on the machine, the work a
        # request costs the gateway and the workers much less.
        gateway = [runtime_gateway.current(le.root)["pid"]]
        workers = (read_json(le.root / ep.name / "runtime.json") or {}).get("workers") or []
        load = os.getloadavg()[0]
        results: dict = {}
        for conns in [int(c) for c in args.conns.split(",")]:
            for name, (url, hdrs) in routes.items():  # warm both paths (connections, caches)
                wrk(url, hdrs, conns, 1, work)
            for i in range(args.repeat):
                order = list(routes.items()) if i % 2 == 0 else list(routes.items())[::-1]
                for name, (url, hdrs) in order:
                    before = cpu_seconds(gateway), cpu_seconds(workers)
                    run = wrk(url, hdrs, conns, args.duration, work)
                    count = max(run["rps"] * args.duration, 1.0)
                    run["gateway_us"] = (cpu_seconds(gateway) - before[0]) / count * 1e6
                    run["workers_us"] = (cpu_seconds(workers) - before[1]) / count * 1e6
                    results.setdefault((conns, name), []).append(run)
        boto = {t: boto3_rate(runtime, ep.name, t, args.duration) for t in (1, 4)}
        report(results, boto, load, os.getloadavg()[0], runtime, ep.url)
    finally:
        le.kill_grace = 5.0
        for e in le.list():
            le.delete(e.name)
        le.shutdown()
        shutil.rmtree(work, ignore_errors=True)


def report(results: dict, boto: dict, load_before: float, load_after: float, runtime: str, direct: str) -> None:
    print(f"runtime route {runtime}/endpoints/NAME/invocations vs the endpoint's own {direct}/invocations")
    print(f"(wrk -t1, 1-row JSON requests, median of runs; load average {load_before:.2f} -> {load_after:.2f})\n")
    print("| conns | route | req/s | p50 ms | p99 ms | errors | gateway CPU µs/req | workers CPU µs/req |")
    print("|---:|---|---:|---:|---:|---:|---:|---:|")
    summary = {}
    for (conns, name), runs in sorted(results.items()):
        med = {k: statistics.median(r[k] for r in runs) for k in ("rps", "p50", "p99", "gateway_us", "workers_us")}
        errors = sum(r["errors"] for r in runs)
        print(f"| {conns} | {name} | {med['rps']:,.0f} | {med['p50']:.3f} | {med['p99']:.3f} | {errors} | "
              f"{med['gateway_us']:.1f} | {med['workers_us']:.1f} |")
        summary.setdefault(conns, {})[name] = {**med, "errors": errors,
                                               "runs": [round(r["rps"]) for r in runs]}
    print("\n| conns | runtime / direct (req/s, median of pairs) | spread | cost | target (cost < 15%) |")
    print("|---:|---:|---:|---:|---|")
    for conns, routes in sorted(summary.items()):
        pairs = [r["rps"] / d["rps"] if d["rps"] else 0.0
                 for r, d in zip(results[(conns, "runtime")], results[(conns, "direct")])]
        ratio = statistics.median(pairs)
        routes["ratio"], routes["pair_ratios"] = ratio, [round(p, 3) for p in pairs]
        print(f"| {conns} | {ratio:.3f} | {min(pairs):.2f}-{max(pairs):.2f} | {(1 - ratio) * 100:.1f}% | "
              f"{'met' if ratio >= TARGET else 'NOT met'} |")
    print("\nboto3 invoke_endpoint through the runtime URL: "
          + ", ".join(f"{t} thread(s) {rps:,.0f} req/s" for t, rps in boto.items()))
    print(json.dumps({"bench": "runtime", "results": {str(k): v for k, v in summary.items()},
                      "boto3_rps": boto, "load": [load_before, load_after]}))


if __name__ == "__main__":
    main()
