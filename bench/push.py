"""Benchmark of pushing a ~500 MB model to the S3 registry (issue 4): ``.venv/bin/python bench/push.py``.

A moto server runs in its own process (in-process it would share the GIL with the client). The
model is a scikit-learn KNeighborsClassifier holding ~500 MB of training data (cached in
bench/.cache), pushed as a model file with an inference.py, the way ``%smops push`` does. In one
run, alternating, it measures:

1. **one after the other** -- what ``Smops.push`` did before issue 4's pipelining: ``Smops.package``
   (stage, ISA-L archive to a file, validation: extract + probe in a subprocess), then
   ``S3Registry.push`` of that file (transfer manager, 16 MiB parts, 8 in flight);
2. **pipelined** -- ``Smops.push`` today: the archive's parts upload as they are compressed while
   the checks run beside them on the source files; published when all three are done.

Target: pipelined total <= 1.15 x the slower of the two sequential stages (medians of
``--repeat`` alternated runs). Every push must give the same sha256 (the archive is
reproducible). ``--bandwidth MBPS`` puts a throttling TCP proxy between the client and moto, so
the upload is bound by the network as it is to real S3 rather than by the CPU the moto server
shares with the client. ``--size-mb`` changes the model size. Exit code 0 either way (a
measurement, not a test).
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
    """User+system CPU seconds of this process (all threads, and its finished children) or of ``pid``."""
    if pid is None:  # with the children waited for: the validation probe runs in a subprocess
        import resource

        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        return time.process_time() + children.ru_utime + children.ru_stime
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measured(fn, moto_pid: int, *args) -> dict:
    """Run one push, adding the CPU seconds it cost this process and the moto server."""
    before = (cpu_seconds(), cpu_seconds(moto_pid))
    result = fn(*args)
    result["client_cpu_s"] = cpu_seconds() - before[0]
    result["moto_cpu_s"] = cpu_seconds(moto_pid) - before[1]
    return result


class Throttle:
    """A TCP proxy to ``upstream`` passing client->server bytes at ``mbps`` MB/s in total (one
    token bucket shared by every connection, like one network link); answers pass unthrottled."""

    def __init__(self, upstream: str, mbps: float):
        host, port = upstream.rsplit(":", 1)
        self.upstream = (host.split("//")[-1], int(port))
        self.rate = mbps * 1e6
        self.lock = threading.Lock()
        self.next_free = time.perf_counter()
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(64)
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            client, _ = self.listener.accept()
            server = socket.create_connection(self.upstream)
            for sock in (client, server):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            threading.Thread(target=self._pipe, args=(client, server, True), daemon=True).start()
            threading.Thread(target=self._pipe, args=(server, client, False), daemon=True).start()

    def _pipe(self, src: socket.socket, dst: socket.socket, throttled: bool) -> None:
        try:
            while data := src.recv(256 * 1024):
                if throttled:
                    with self.lock:  # reserve this chunk's slot on the link
                        start = max(self.next_free, time.perf_counter())
                        self.next_free = start + len(data) / self.rate
                    delay = self.next_free - time.perf_counter()
                    if delay > 0:
                        time.sleep(delay)
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (src, dst):
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass


def one_after_the_other(smops, model: Path, inference: Path, work: Path) -> dict:
    t0 = time.perf_counter()
    package = smops.package(str(model), inference=str(inference), out=str(work / "model.tar.gz"))
    t1 = time.perf_counter()
    mv = smops.registry.push(package, name="big", owner=smops.owner)
    t2 = time.perf_counter()
    Path(package.path).unlink()
    return {"package_s": t1 - t0, "upload_s": t2 - t1, "total_s": t2 - t0, "sha256": mv.sha256, "size": mv.size}


def pipelined(smops, model: Path, inference: Path, work: Path) -> dict:
    t0 = time.perf_counter()
    mv = smops.push(str(model), name="big", inference=str(inference))
    return {"total_s": time.perf_counter() - t0, "sha256": mv.sha256, "size": mv.size}


def archive_then_upload(smops, model: Path, inference: Path, work: Path) -> dict:
    """Stages without validation: ``write_archive`` + sha256 to a file, then ``S3Registry.push``."""
    from jupyter_smops.core.packaging.archive import sha256_file, write_archive

    out = work / "model.tar.gz"
    t0 = time.perf_counter()
    write_archive(out, {"model.joblib": model, "code/inference.py": inference})
    sha = sha256_file(out)
    t1 = time.perf_counter()
    mv = smops.registry.push(_facts(str(out), sha, out.stat().st_size), name="big", owner=smops.owner)
    t2 = time.perf_counter()
    out.unlink()
    return {"package_s": t1 - t0, "upload_s": t2 - t1, "total_s": t2 - t0, "sha256": mv.sha256, "size": mv.size}


def archive_streamed(smops, model: Path, inference: Path, work: Path) -> dict:
    """The same archive streamed into ``S3Registry.push_stream`` as it is compressed."""
    from jupyter_smops.core.packaging.archive import archive_chunks

    t0 = time.perf_counter()
    chunks = archive_chunks({"model.joblib": model, "code/inference.py": inference})
    mv = smops.registry.push_stream(chunks, _facts("", "", 0), name="big", owner=smops.owner)
    return {"total_s": time.perf_counter() - t0, "sha256": mv.sha256, "size": mv.size}


def _facts(path: str, sha: str, size: int):
    from jupyter_smops.core.types import PackageResult

    return PackageResult(path=path, sha256=sha, size=size, model_file="model.joblib", framework="sklearn",
                         framework_version="1.9.1", serving_version="1.9-0", checks=[])


def summarize(runs: dict, seq_key: str, pipe_key: str) -> dict:
    seq = {k: statistics.median(r[k] for r in runs[seq_key]) for k in ("package_s", "upload_s", "total_s")}
    pipe = statistics.median(r["total_s"] for r in runs[pipe_key])
    used = {mode: statistics.median((r["client_cpu_s"] + r["moto_cpu_s"]) / r["total_s"] for r in runs[mode])
            for mode in (seq_key, pipe_key)}
    cpu = statistics.median(r["client_cpu_s"] + r["moto_cpu_s"] for r in runs[pipe_key])
    return {"seq": seq, "pipe": pipe, "slower": max(seq["package_s"], seq["upload_s"]), "used": used, "cpu": cpu}


def report(title: str, rows: tuple[str, str], result: dict, seq_key: str, pipe_key: str, available: float) -> float:
    seq, pipe, slower, used, cpu = (result[k] for k in ("seq", "pipe", "slower", "used", "cpu"))
    ratio = pipe / slower
    cores = len(os.sched_getaffinity(0))
    print(f"\n{title}")
    print("| run | package s | upload s | total s | CPU cores busy (client + moto) |")
    print("|---|---|---|---|---|")
    print(f"| {rows[0]} | {seq['package_s']:.2f} | {seq['upload_s']:.2f} | {seq['total_s']:.2f} | {used[seq_key]:.2f} |")
    print(f"| {rows[1]} | (overlapped) | (overlapped) | {pipe:.2f} | {used[pipe_key]:.2f} |")
    print(f"pipelined / slower stage = {ratio:.2f} (target <= {TARGET}): {'met' if ratio <= TARGET else 'NOT met'}; "
          f"pipelined / one after the other = {pipe / seq['total_s']:.2f}")
    print(f"CPU work of one pipelined push (client + moto + probe): {cpu:.1f} s. On {cores} idle cores no schedule "
          f"beats {cpu / cores:.2f} s = {cpu / cores / slower:.2f} x the slower stage; with the {available:.2f} cores "
          f"this run measured free, {cpu / available:.2f} s = {cpu / available / slower:.2f} x")
    return ratio


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mb", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--bandwidth", type=float, default=0,
                        help="MB/s of a throttled link between client and moto (0: none)")
    args = parser.parse_args()
    load_before = " ".join(f"{x:.1f}" for x in os.getloadavg())
    available = effective_cores()
    model = model_file(args.size_mb)
    proc, url = start_moto()
    link = Throttle(url, args.bandwidth) if args.bandwidth else None
    os.environ.update(AWS_ENDPOINT_URL=link.url if link else url, AWS_ACCESS_KEY_ID="bench",
                      AWS_SECRET_ACCESS_KEY="bench", AWS_REGION="us-east-1", AWS_MAX_ATTEMPTS="2",
                      SMOPS_BUCKET="bench-registry", SMOPS_BACKEND="aws", SMOPS_OWNER="bench",
                      SMOPS_ROLE_ARN="arn:aws:iam::123456789012:role/bench")
    try:
        import boto3

        boto3.client("s3", region_name="us-east-1", endpoint_url=url).create_bucket(Bucket="bench-registry")
        from jupyter_smops.core.config import SmopsConfig
        from jupyter_smops.core.api import Smops

        with tempfile.TemporaryDirectory(prefix="smops-bench-") as tmp:
            work = Path(tmp)
            # Its own SMOPS_HOME: the validation's warm fork server lives (and dies) with it.
            os.environ["SMOPS_HOME"] = str(work / "home")
            smops = Smops(SmopsConfig())
            inference = work / "inference.py"
            inference.write_text(INFERENCE)
            # A first small push, so neither way pays for clients, the bucket or the package group.
            import joblib
            from sklearn.dummy import DummyClassifier

            (work / "small").mkdir()
            small = work / "small" / "model.joblib"
            joblib.dump(DummyClassifier().fit([[0.0] * 50, [1.0] * 50], [0, 1]), small)
            smops.push(str(small), name="big", inference=str(inference))
            (work / "big").mkdir()
            (work / "big" / "model.joblib").symlink_to(model)  # the name inference.py opens
            model = work / "big" / "model.joblib"
            ways = {"sequential": one_after_the_other, "pipelined": pipelined,
                    "archive_sequential": archive_then_upload, "archive_pipelined": archive_streamed}
            runs: dict[str, list] = {way: [] for way in ways}
            for _ in range(args.repeat):  # alternated, so background load hits every way alike
                for way, fn in ways.items():
                    runs[way].append(measured(fn, proc.pid, smops, model, inference, work))
    finally:
        proc.terminate()
        proc.wait()
    shas = {r["sha256"] for mode in runs.values() for r in mode}
    mb = model_file(args.size_mb).stat().st_size / 1e6
    size = runs["sequential"][0]["size"]
    link_text = f"through a {args.bandwidth:g} MB/s throttled link" if link else "no network limit (loopback)"
    print(f"model {mb:.0f} MB -> model.tar.gz {size / 1e6:.0f} MB; moto in its own process, {link_text}; "
          f"{os.cpu_count()} cores; median of {args.repeat} alternated runs; load average before: {load_before}; "
          f"effective free cores measured: {available:.2f}")
    product = summarize(runs, "sequential", "pipelined")
    stages = summarize(runs, "archive_sequential", "archive_pipelined")
    ratio = report("1. The push as a user runs it: package + validate (extract + probe), then upload; vs Smops.push",
                   ("one after the other", "pipelined (Smops.push)"), product, "sequential", "pipelined", available)
    raw = report("2. Archive and upload alone (no validation in either): write_archive + sha256, then upload; "
                 "vs archive_chunks -> push_stream", ("one after the other", "pipelined"), stages,
                 "archive_sequential", "archive_pipelined", available)
    print(f"\nsame sha256 in every run: {len(shas) == 1}")
    print(json.dumps({"model_mb": round(mb), "artifact_mb": round(size / 1e6), "bandwidth_mbps": args.bandwidth,
                      "runs": runs, "ratio": round(ratio, 3), "ratio_archive_only": round(raw, 3)}))


if __name__ == "__main__":
    main()
