"""Benchmark of pushing a ~500 MB model to the S3 registry (issue 4): ``.venv/bin/python bench/push.py``.

A moto server runs in its own process (in-process it would share the GIL with the client). The
model is a scikit-learn KNeighborsClassifier holding ~500 MB of training data (cached in
bench/.cache). In one run it measures:

1. **sequential** — package (jupyter_smops' reproducible ISA-L ``write_archive`` + sha256) to a
   file, then ``S3Registry.push`` of that file (transfer manager, 16 MiB parts, 8 in flight);
2. **pipelined** — the same ``write_archive`` writing into a FIFO while ``S3Registry.push_stream``
   uploads the parts as they come out (sha256 computed on the way).

Target: pipelined total <= 1.15 x the slower of the two sequential stages (medians of
``--repeat`` alternated runs). Every push must give the same sha256 (the archive is
reproducible). ``--size-mb`` changes the model size. Exit code 0
either way (a measurement, not a test).
"""
from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
CACHE = HERE / ".cache"
sys.path.insert(0, str(HERE.parent))

TARGET = 1.15
INFERENCE = 'import os, joblib\n\ndef model_fn(model_dir):\n    return joblib.load(os.path.join(model_dir, "model.joblib"))\n'


def model_file(size_mb: int) -> Path:
    """A joblib KNN model of about ``size_mb`` MB (training data quantised: it compresses a little)."""
    path = CACHE / f"knn-{size_mb}mb.joblib"
    if path.exists():
        return path
    import joblib
    import numpy as np
    from sklearn.neighbors import KNeighborsClassifier

    CACHE.mkdir(exist_ok=True)
    rows = size_mb * 1_000_000 // (50 * 4)
    rng = np.random.default_rng(0)
    x = np.round(rng.normal(size=(rows, 50)), 2).astype(np.float32)
    y = (x[:, 0] > 0).astype(np.int8)
    joblib.dump(KNeighborsClassifier(algorithm="brute").fit(x, y), path)
    return path


def start_moto() -> tuple[subprocess.Popen, str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    exe = Path(sys.executable).with_name("moto_server")
    proc = subprocess.Popen([str(exe), "-H", "127.0.0.1", "-p", str(port)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            urllib.request.urlopen(f"{url}/moto-api/").read()
            return proc, url
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit("moto_server did not start")


def _spin(n: int = 10_000_000) -> None:
    x = 0
    for i in range(n):
        x += i


def effective_cores() -> float:
    """How many cores this run really gets: one busy loop alone vs two at once in processes."""
    import multiprocessing

    t0 = time.perf_counter()
    _spin()
    one = time.perf_counter() - t0
    procs = [multiprocessing.Process(target=_spin) for _ in range(2)]
    t0 = time.perf_counter()
    for p in procs:
        p.start()
    for p in procs:
        p.join()
    return min(2.0, 2 * one / (time.perf_counter() - t0))


def cpu_seconds(pid: int | None = None) -> float:
    """User+system CPU seconds of this process (all threads) or of ``pid`` (Linux /proc)."""
    if pid is None:
        return time.process_time()
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measured(fn, moto_pid: int, *args) -> dict:
    """Run one push, adding the CPU seconds it cost this process and the moto server."""
    before = (cpu_seconds(), cpu_seconds(moto_pid))
    result = fn(*args)
    result["client_cpu_s"] = cpu_seconds() - before[0]
    result["moto_cpu_s"] = cpu_seconds(moto_pid) - before[1]
    return result


def package_info(path: str, sha: str, size: int):
    from jupyter_smops.core.types import PackageResult

    return PackageResult(path=path, sha256=sha, size=size, model_file="model.joblib", framework="sklearn",
                         framework_version="1.9.1", serving_version="1.9-0", checks=[])


def sequential(registry, files: dict, work: Path) -> dict:
    from jupyter_smops.core.packaging.archive import sha256_file, write_archive

    out = work / "model.tar.gz"
    t0 = time.perf_counter()
    write_archive(out, files)
    sha = sha256_file(out)
    t1 = time.perf_counter()
    mv = registry.push(package_info(str(out), sha, out.stat().st_size), name="big", owner="bench")
    t2 = time.perf_counter()
    out.unlink()
    return {"package_s": t1 - t0, "upload_s": t2 - t1, "total_s": t2 - t0, "sha256": mv.sha256, "size": mv.size}


def pipelined(registry, files: dict, work: Path) -> dict:
    from jupyter_smops.core.packaging.archive import write_archive

    fifo = work / "model.tar.gz.fifo"
    os.mkfifo(fifo)
    failure: list[BaseException] = []

    def produce():
        try:
            write_archive(fifo, files)
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            failure.append(exc)

    def chunks():
        with open(fifo, "rb") as fh:
            while block := fh.read(1 << 20):
                yield block

    t0 = time.perf_counter()
    producer = threading.Thread(target=produce)
    producer.start()
    mv = registry.push_stream(chunks(), package_info("", "", 0), name="big", owner="bench")
    producer.join()
    t1 = time.perf_counter()
    fifo.unlink()
    if failure:
        raise failure[0]
    return {"total_s": t1 - t0, "sha256": mv.sha256, "size": mv.size}


def warm_up(registry, small: Path) -> None:
    """One tiny push first, so neither run pays for client creation or the model package group."""
    from jupyter_smops.core.packaging.archive import sha256_file

    registry.push(package_info(str(small), sha256_file(small), small.stat().st_size), name="big", owner="bench")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mb", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    load_before = " ".join(f"{x:.1f}" for x in os.getloadavg())
    available = effective_cores()
    model = model_file(args.size_mb)
    proc, url = start_moto()
    os.environ.update(AWS_ENDPOINT_URL=url, AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench",
                      AWS_REGION="us-east-1", AWS_MAX_ATTEMPTS="2", SMOPS_BUCKET="bench-registry")
    try:
        import boto3

        boto3.client("s3", region_name="us-east-1").create_bucket(Bucket="bench-registry")
        from jupyter_smops.config import SmopsConfig
        from jupyter_smops.core.registry.s3 import S3Registry

        registry = S3Registry(SmopsConfig())
        with tempfile.TemporaryDirectory(prefix="smops-bench-") as tmp:
            work = Path(tmp)
            inference = work / "inference.py"
            inference.write_text(INFERENCE)
            files = {"model.joblib": model, "code/inference.py": inference}
            warm_up(registry, inference)
            runs = {"sequential": [], "pipelined": []}
            for _ in range(args.repeat):  # alternated, so background load hits both alike
                runs["sequential"].append(measured(sequential, proc.pid, registry, files, work))
                runs["pipelined"].append(measured(pipelined, proc.pid, registry, files, work))
    finally:
        proc.terminate()
        proc.wait()
    seq = {k: statistics.median(r[k] for r in runs["sequential"]) for k in ("package_s", "upload_s", "total_s")}
    pipe = statistics.median(r["total_s"] for r in runs["pipelined"])
    slower = max(seq["package_s"], seq["upload_s"])
    ratio = pipe / slower
    shas = {r["sha256"] for mode in runs.values() for r in mode}
    mb = model.stat().st_size / 1e6
    size = runs["sequential"][0]["size"]
    print(f"model {mb:.0f} MB -> model.tar.gz {size / 1e6:.0f} MB; moto in its own process; {os.cpu_count()} cores; "
          f"median of {args.repeat} alternated runs; load average before: {load_before}; "
          f"effective free cores measured: {available:.2f}")
    used = {mode: statistics.median((r["client_cpu_s"] + r["moto_cpu_s"]) / r["total_s"] for r in runs[mode])
            for mode in runs}
    print("| run | package s | upload s | total s | CPU cores busy (client + moto) |")
    print("|---|---|---|---|---|")
    print(f"| sequential | {seq['package_s']:.1f} | {seq['upload_s']:.1f} | {seq['total_s']:.1f} | "
          f"{used['sequential']:.2f} |")
    print(f"| pipelined | (overlapped) | (overlapped) | {pipe:.1f} | {used['pipelined']:.2f} |")
    print(f"pipelined / slower stage = {ratio:.2f} (target <= {TARGET}): {'met' if ratio <= TARGET else 'NOT met'}")
    cpu = statistics.median(r["client_cpu_s"] + r["moto_cpu_s"] for r in runs["pipelined"])
    cores = len(os.sched_getaffinity(0))
    print(f"CPU work of one push (client + moto): {cpu:.1f} s. On {cores} idle cores no schedule beats "
          f"{cpu / cores:.1f} s = {cpu / cores / slower:.2f} x the slower stage; with the {available:.2f} "
          f"cores this run measured free, {cpu / available:.1f} s = {cpu / available / slower:.2f} x")
    print(f"same sha256 in every run: {len(shas) == 1}")
    print(json.dumps({"model_mb": round(mb), "artifact_mb": round(size / 1e6), "runs": runs, "ratio": round(ratio, 3)}))

if __name__ == "__main__":
    main()
