"""Benchmark of model.tar.gz packaging (issue 2): ``.venv/bin/python bench/packaging.py [--quick]``.

Builds joblib RandomForests itself (~25 MB and ~200 MB, cached in bench/.cache), then measures in
one run:

1. the compression stage — jupyter_smops' ISA-L writer (threaded and single-threaded) against
   Python's ``tarfile`` ``w:gz`` (its default, level 9; level 6 for context) and ``tar -czf``,
   with compressed sizes;
2. the whole ``jupyter smops package`` command (validation included) on the 200 MB model against
   a plain tarfile level-9 script, each as a fresh process.

``--quick`` uses only the 25 MB model (also for step 2). Targets from the issue are checked and
printed; the exit code is 0 either way (this is a measurement, not a test).
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
CACHE = HERE / ".cache"
sys.path.insert(0, str(HERE.parent))

from jupyter_smops.core.packaging.archive import compress_threads, write_archive  # noqa: E402

MB = 1_000_000
# Full-depth trees of a binary classifier on 20,000 rows pickle to ~0.30 MB each (measured).
MODELS = {"rf-25mb": 84, "rf-200mb": 666}
TARGETS = {"vs_l9": 50.0, "vs_tar": 5.0, "size_vs_l9": 1.3, "command_vs_l9": 8.0}
INFERENCE = 'import os, joblib\n\ndef model_fn(model_dir):\n    return joblib.load(os.path.join(model_dir, "{name}"))\n'


def model_file(name: str, n_trees: int) -> Path:
    """A cached joblib RandomForest (trained on first use; takes a minute for the large one)."""
    path = CACHE / f"{name}.joblib"
    if path.exists():
        return path
    import joblib
    from sklearn.datasets import make_classification
    from sklearn.ensemble import RandomForestClassifier

    CACHE.mkdir(parents=True, exist_ok=True)
    print(f"training {name} ({n_trees} trees) ...", flush=True)
    X, y = make_classification(n_samples=20000, n_features=20, flip_y=0.1, random_state=0)
    model = RandomForestClassifier(n_estimators=n_trees, random_state=0, n_jobs=1).fit(X, y)
    tmp = path.with_suffix(".tmp")
    joblib.dump(model, tmp)
    tmp.rename(path)
    return path


def timed(fn, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def compression_stage(model: Path, work: Path, slow_repeat: int) -> list[tuple[str, float, int]]:
    """(method, seconds, compressed bytes) for each way of writing the same one-file tar.gz."""
    out = work / "out.tar.gz"
    rows = []

    def ours(threads, level=2):
        return lambda: write_archive(out, {model.name: model}, threads=threads, level=level)

    def tarfile_level(level):
        def run():
            with tarfile.open(out, "w:gz", compresslevel=level) as tar:
                tar.add(model, arcname=model.name)
        return run

    def tar_czf():
        subprocess.run(["tar", "-czf", str(out), "-C", str(model.parent), model.name], check=True)

    other = 2 if compress_threads() == 1 else 1
    methods = [(f"jupyter_smops (ISA-L L2, {compress_threads()} thread(s))", ours(None), 3),
               (f"(ISA-L L2, {other} thread(s), for comparison)", ours(other), 3),
               ("(ISA-L L3, 1 thread, for comparison)", ours(1, 3), 1),
               ("tarfile w:gz level 9 (default)", tarfile_level(9), slow_repeat),
               ("tarfile w:gz level 6", tarfile_level(6), 1),
               ("tar -czf (gzip -6)", tar_czf, 1)]
    for label, fn, repeat in methods:
        seconds = timed(fn, repeat)
        rows.append((label, seconds, out.stat().st_size))
    return rows


def whole_command(model: Path, work: Path) -> tuple[float, float, str]:
    """Seconds for ``jupyter smops package`` (validation included) vs a tarfile L9 script."""
    inference = work / "inference.py"
    inference.write_text(INFERENCE.format(name=model.name))
    env = dict(os.environ, SMOPS_BACKEND="local", SMOPS_HOME=str(work / "home"), SMOPS_OWNER="bench")
    cli = [sys.executable, "-m", "jupyter_smops.cli", "package", str(model), "--inference", str(inference),
           "--out", str(work / "ours.tar.gz")]
    start = time.perf_counter()
    proc = subprocess.run(cli, env=env, cwd=work, capture_output=True, text=True)
    ours = time.perf_counter() - start
    status = "ok" if proc.returncode == 0 else f"FAILED ({proc.returncode}): {proc.stderr.strip()[-300:]}"
    script = ("import tarfile, sys\n"
              "with tarfile.open(sys.argv[3], 'w:gz') as tar:\n"
              "    tar.add(sys.argv[1], arcname=sys.argv[1].rsplit('/', 1)[-1])\n"
              "    tar.add(sys.argv[2], arcname='code/inference.py')\n")
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", script, str(model), str(inference), str(work / "l9.tar.gz")], check=True)
    baseline = time.perf_counter() - start
    return ours, baseline, status


def verdict(value: float, target: float, higher_is_better: bool = True) -> str:
    ok = value >= target if higher_is_better else value <= target
    return f"{'PASS' if ok else 'MISS'} (target {'>=' if higher_is_better else '<='} {target:g}x)"


def report_compression(name: str, size: int, rows: list) -> None:
    l9 = next(r for r in rows if "level 9" in r[0])
    tar = next(r for r in rows if "tar -czf" in r[0])
    print(f"\n### Compression stage: {name} ({size / MB:.1f} MB input)\n")
    print("| method | time (s) | MB/s | compressed (MB) | size / L9 |")
    print("|---|---:|---:|---:|---:|")
    for label, seconds, out_size in rows:
        print(f"| {label} | {seconds:.2f} | {size / MB / seconds:.0f} | {out_size / MB:.2f} | {out_size / l9[2]:.2f} |")
    ours = rows[0]
    print(f"\nISA-L vs tarfile L9: {l9[1] / ours[1]:.0f}x {verdict(l9[1] / ours[1], TARGETS['vs_l9'])}; "
          f"vs tar -czf: {tar[1] / ours[1]:.1f}x {verdict(tar[1] / ours[1], TARGETS['vs_tar'])}; "
          f"size vs L9: {ours[2] / l9[2]:.2f}x {verdict(ours[2] / l9[2], TARGETS['size_vs_l9'], False)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="only the 25 MB model")
    args = parser.parse_args()
    names = ["rf-25mb"] if args.quick else list(MODELS)
    models = {name: model_file(name, MODELS[name]) for name in names}
    print(f"# bench/packaging.py — python {sys.version.split()[0]}, {os.cpu_count()} CPUs, "
          f"load average {os.getloadavg()[0]:.1f}")
    with tempfile.TemporaryDirectory(prefix="smops-bench-") as tmp:
        work = Path(tmp)
        for name, path in models.items():
            report_compression(name, path.stat().st_size, compression_stage(path, work, slow_repeat=1))
        big = models[names[-1]]
        (work / "cmd").mkdir()
        ours, baseline, status = whole_command(big, work / "cmd")
        print(f"\n### Whole command: {big.name} ({big.stat().st_size / MB:.0f} MB), fresh processes\n")
        print("| command | time (s) |\n|---|---:|")
        print(f"| jupyter smops package (build + validate: load + predict in a subprocess) | {ours:.2f} |")
        print(f"| plain tarfile w:gz level 9 script (no validation) | {baseline:.2f} |")
        print(f"\njupyter smops package: {status}; {baseline / ours:.1f}x faster than the script "
              f"{verdict(baseline / ours, TARGETS['command_vs_l9'])}")
        shutil.rmtree(work / "cmd", ignore_errors=True)


if __name__ == "__main__":
    main()
