"""Serving benchmark: our local endpoint vs ``mlflow models serve`` vs gunicorn (2 sync workers) + Flask.

All three serve the seed's own inference.py (model_fn/input_fn/predict_fn/output_fn) for two
models: the seed's iris DecisionTree and a RandomForest (100 trees, 20k x 20). ``wrk`` drives
each on 127.0.0.1 for ``--duration`` seconds at c=1 and c=16 with 1-row requests, one stack at
a time; a sampler records peak RSS of the stack's processes. Deploy -> first 200 on /ping is
timed for each (ours both cold, without the fork server, and warm). Targets (issue 3) are
printed as ratios. Run: ``.venv/bin/python bench/serving.py [--duration 10] [--skip-mlflow]``.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
from test_serving_support import SEED_INFERENCE, build_tarball, version  # noqa: E402

FLASK_APP = '''import os, sys
MODEL_DIR = os.environ["MODEL_DIR"]
sys.path.insert(0, os.path.join(MODEL_DIR, "code"))
import inference
from flask import Flask, Response, request
app = Flask(__name__)
model = inference.model_fn(MODEL_DIR)

@app.route("/ping")
def ping():
    return ""

@app.route("/invocations", methods=["POST"])
def invocations():
    data = inference.input_fn(request.get_data(as_text=True), request.content_type)
    out = inference.output_fn(inference.predict_fn(data, model), request.headers.get("Accept"))
    return Response(out, mimetype="application/json")
'''
MLFLOW_SAVE = '''import sys, numpy as np, mlflow.pyfunc

class SeedModel(mlflow.pyfunc.PythonModel):
    """Calls the same inference.py: model_fn at load, predict_fn per request."""
    def load_context(self, context):
        sys.path.insert(0, context.artifacts["code"])
        import inference
        self.inference = inference
        self.model = inference.model_fn(context.artifacts["model_dir"])
    def predict(self, context, model_input, params=None):
        return self.inference.predict_fn(np.asarray(model_input), self.model)

mlflow.pyfunc.save_model(sys.argv[1], python_model=SeedModel(), pip_requirements=["scikit-learn"],
                         artifacts={"model_dir": sys.argv[2], "code": sys.argv[2] + "/code"})
'''


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_ping(url: str, timeout: float = 120.0) -> float:
    start = time.perf_counter()
    while time.perf_counter() - start < timeout:
        try:
            with urllib.request.urlopen(url + "/ping", timeout=2) as r:
                if r.status == 200:
                    return time.perf_counter() - start
        except OSError:
            time.sleep(0.02)
    raise RuntimeError(f"{url} never answered /ping")


def process_tree(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                ppid = int(open(f"/proc/{entry}/stat").read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError):
                continue
            children.setdefault(ppid, []).append(int(entry))
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(children.get(p, []))
    return out


def _kb(path: str, key: str) -> int:
    try:
        for line in open(path):
            if line.startswith(key):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


class RssSampler(threading.Thread):
    """Peak RSS of the largest process and peak PSS of the whole tree (shared pages counted once)."""

    def __init__(self, pid: int):
        super().__init__(daemon=True)
        self.pid, self.stop_flag, self.max_rss, self.max_pss = pid, False, 0, 0

    def run(self) -> None:
        while not self.stop_flag:
            pids = process_tree(self.pid)
            self.max_rss = max([self.max_rss] + [_kb(f"/proc/{p}/status", "VmRSS:") for p in pids])
            self.max_pss = max(self.max_pss, sum(_kb(f"/proc/{p}/smaps_rollup", "Pss:") for p in pids))
            time.sleep(0.3)


def wrk(url: str, body: str, conns: int, duration: int, work: Path) -> dict:
    script = work / f"post-{abs(hash(body))}.lua"
    script.write_text(f'wrk.method = "POST"\nwrk.body = {json.dumps(body)}\n'
                      f'wrk.headers["Content-Type"] = "application/json"\n')
    out = subprocess.run(["wrk", "-t1", f"-c{conns}", f"-d{duration}s", "--latency", "-s", str(script),
                          url + "/invocations"], capture_output=True, text=True, timeout=duration + 60).stdout
    def lat(p: str) -> float:
        m = re.search(rf"^\s+{p}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        return float(m.group(1)) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[m.group(2)] if m else float("nan")
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    errors = sum(int(n) for n in re.findall(r"Non-2xx or 3xx responses: (\d+)", out))
    errors += sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", out))
    return {"rps": float(rps.group(1)) if rps else 0.0, "p50": lat("50"), "p99": lat("99"), "errors": errors}


# -- the three stacks ---------------------------------------------------------------------
class Ours:
    name = "smops local"

    def __init__(self, work: Path, tarball: Path, label: str, cold: bool):
        from jupyter_smops.core.endpoints.base import DeployOptions
        from jupyter_smops.core.config import SmopsConfig
        from jupyter_smops.core.endpoints.local import LocalEndpoints

        self.le = LocalEndpoints(SmopsConfig(home=str(work / "home")))
        if cold:
            self.le.shutdown()
            time.sleep(0.5)
        self.label = label
        start = time.perf_counter()
        ep = self.le.deploy(version(label), name=label, owner="bench", options=DeployOptions(), fetch=lambda mv: tarball)
        self.deploy_s = time.perf_counter() - start
        assert ep.status == "InService", ep.failure_reason
        self.url = ep.url
        self.pid = json.loads((self.le.root / label / "state.json").read_text())["pid"]

    def stop(self) -> None:
        self.le.delete(self.label)


class Gunicorn:
    name = "gunicorn sync x2 + Flask"

    def __init__(self, work: Path, model_dir: Path):
        (work / "flaskapp.py").write_text(FLASK_APP)
        port = free_port()
        start = time.perf_counter()
        self.proc = subprocess.Popen([sys.executable, "-m", "gunicorn", "-w", "2", "-k", "sync", "-b", f"127.0.0.1:{port}",
                                      "--chdir", str(work), "flaskapp:app"], env=dict(os.environ, MODEL_DIR=str(model_dir)),
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.url = f"http://127.0.0.1:{port}"
        wait_ping(self.url)
        self.deploy_s, self.pid = time.perf_counter() - start, self.proc.pid

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(30)


class MLflow:
    name = "mlflow models serve"

    def __init__(self, work: Path, model_dir: Path, label: str):
        path = work / f"mlflow-{label}"
        subprocess.run([sys.executable, "-c", MLFLOW_SAVE, str(path), str(model_dir)], check=True,
                       capture_output=True, timeout=300)
        port = free_port()
        start = time.perf_counter()
        self.proc = subprocess.Popen([sys.executable, "-m", "mlflow", "models", "serve", "-m", str(path), "-p", str(port),
                                      "-h", "127.0.0.1", "--env-manager", "local"], start_new_session=True,
                                     env=dict(os.environ, PATH=f"{Path(sys.executable).parent}:{os.environ.get('PATH', '')}"),
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.url = f"http://127.0.0.1:{port}"
        wait_ping(self.url)
        self.deploy_s, self.pid = time.perf_counter() - start, self.proc.pid

    def stop(self) -> None:
        os.killpg(self.proc.pid, 15)
        self.proc.wait(30)


# -- models ---------------------------------------------------------------------------------
def make_models(work: Path) -> dict:
    """{label: (model dir, tarball, seed-format body, mlflow body, model file bytes, per-row predict s)}."""
    import joblib
    from sklearn.datasets import load_iris, make_classification
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.tree import DecisionTreeClassifier

    iris = load_iris()
    X, y = make_classification(n_samples=20000, n_features=20, random_state=0)
    forest = RandomForestClassifier(n_estimators=100, random_state=0, n_jobs=os.cpu_count()).fit(X, y)
    forest.n_jobs = None  # one thread per request, as the serving stacks use it
    models = {"iris": (DecisionTreeClassifier(random_state=0).fit(iris.data, iris.target), [5.1, 3.5, 1.4, 0.2]),
              "forest": (forest, [round(float(v), 4) for v in X[0]])}
    out = {}
    for label, (model, row) in models.items():
        model_dir = work / f"model-{label}"
        (model_dir / "code").mkdir(parents=True)
        joblib.dump(model, model_dir / "iris-model.pkl")  # the seed's inference.py loads this name
        (model_dir / "code" / "inference.py").write_text(SEED_INFERENCE)
        tarball = build_tarball(work / f"{label}.tar.gz", {"iris-model.pkl": (model_dir / "iris-model.pkl").read_bytes(),
                                                            "code/inference.py": SEED_INFERENCE})
        one = np.array([row])
        for _ in range(20):
            model.predict(one)
        times = []
        for _ in range(200 if label == "iris" else 60):
            t = time.perf_counter()
            model.predict(one)
            times.append(time.perf_counter() - t)
        out[label] = (model_dir, tarball, json.dumps({"instances": [row]}), json.dumps({"inputs": [row]}),
                      (model_dir / "iris-model.pkl").stat().st_size, float(np.median(times)))
    return out


def measure(stack, body: str, duration: int, work: Path) -> dict:
    sampler = RssSampler(stack.pid)
    sampler.start()
    try:
        result = {"deploy_s": stack.deploy_s}
        for conns in (1, 16):
            result[f"c{conns}"] = wrk(stack.url, body, conns, duration, work)
    finally:
        sampler.stop_flag = True
        sampler.join()
        stack.stop()
    result["max_rss_mb"] = sampler.max_rss / 1024
    result["pss_mb"] = sampler.max_pss / 1024
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--skip-mlflow", action="store_true")
    parser.add_argument("--json", help="also write the results here")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is not installed (apt-get install wrk)")
    work = Path(tempfile.mkdtemp(prefix="smops-bench-serving-"))
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at start", flush=True)
    models = make_models(work)
    results: dict = {}
    try:
        # cold: the first deploy starts the fork server (a fresh interpreter importing sklearn)
        cold = Ours(work, models["iris"][1], "iris-cold", cold=True)
        results["ours_cold_deploy_s"] = cold.deploy_s
        cold.stop()
        for label, (model_dir, tarball, body, mlflow_body, size, per_row) in models.items():
            runs = {"smops local": lambda: (Ours(work, tarball, label, cold=False), body),
                    "gunicorn sync x2 + Flask": lambda: (Gunicorn(work, model_dir), body)}
            if not args.skip_mlflow:
                runs["mlflow models serve"] = lambda: (MLflow(work, model_dir, label), mlflow_body)
            results[label] = {"model_mb": size / 2**20, "predict_ms": per_row * 1000}
            for name, start in runs.items():
                stack, req = start()
                print(f"{label}: {name} up in {stack.deploy_s:.2f} s, measuring...", flush=True)
                results[label][name] = measure(stack, req, args.duration, work)
    finally:
        from jupyter_smops.core.serving import zygote

        zygote.stop(work / "home" / "endpoints")
        shutil.rmtree(work, ignore_errors=True)
    results["load_end"] = os.getloadavg()[0]
    report(results)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))


def report(results: dict) -> None:
    print(f"\nload average at end {results['load_end']:.1f} (other jobs share these cores)\n")
    print("| model | stack | c=1 req/s | c=1 p50 ms | c=1 p99 ms | c=16 req/s | c=16 p50 ms | c=16 p99 ms | errors | "
          "max RSS/process MB | PSS total MB | deploy -> /ping s |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for label in ("iris", "forest"):
        for name, r in results[label].items():
            if not isinstance(r, dict):
                continue
            c1, c16 = r["c1"], r["c16"]
            print(f"| {label} | {name} | {c1['rps']:,.0f} | {c1['p50']:.3f} | {c1['p99']:.2f} | {c16['rps']:,.0f} | "
                  f"{c16['p50']:.2f} | {c16['p99']:.1f} | {c1['errors'] + c16['errors']} | {r['max_rss_mb']:.0f} | "
                  f"{r['pss_mb']:.0f} | {r['deploy_s']:.2f} |")
    iris, forest = results["iris"], results["forest"]
    ours_i, ours_f = iris["smops local"], forest["smops local"]
    floor = (os.cpu_count() or 1) / (forest["predict_ms"] / 1000)
    checks = [
        ("iris c=16 vs gunicorn sync x2 (>= 2x)", ours_i["c16"]["rps"] / iris["gunicorn sync x2 + Flask"]["c16"]["rps"], 2.0, ">="),
        ("iris p50 at c=1 in ms (<= 0.25)", ours_i["c1"]["p50"], 0.25, "<="),
        (f"forest c=16 vs the {os.cpu_count()}-core floor {floor:,.0f} req/s (>= 0.85)", ours_f["c16"]["rps"] / floor, 0.85, ">="),
        ("forest c=16 p99 / p50 (<= 3)", ours_f["c16"]["p99"] / ours_f["c16"]["p50"], 3.0, "<="),
        ("iris deploy -> InService, warm fork server, s (<= 1.0)", ours_i["deploy_s"], 1.0, "<="),
        ("iris deploy -> InService, cold (fork server started), s", results["ours_cold_deploy_s"], float("inf"), "<="),
        ("iris max RSS per process - model, MB (<= 200)", ours_i["max_rss_mb"] - iris["model_mb"], 200.0, "<="),
        ("forest max RSS per process - model, MB (<= 200)", ours_f["max_rss_mb"] - forest["model_mb"], 200.0, "<="),
    ]
    if "mlflow models serve" in iris:
        checks.insert(1, ("iris c=16 vs MLflow (>= 8x)", ours_i["c16"]["rps"] / iris["mlflow models serve"]["c16"]["rps"], 8.0, ">="))
    print(f"\nper-row predict in a clean process: iris {iris['predict_ms']:.3f} ms, forest {forest['predict_ms']:.2f} ms\n")
    for text, value, target, op in checks:
        ok = value >= target if op == ">=" else value <= target
        print(f"  [{'ok' if ok else 'MISS'}] {text}: {value:.3f}")


if __name__ == "__main__":
    main()
