"""Benchmark of the validation probe: ``.venv/bin/python bench/validate.py``.

The probe (load the model with the user's ``model_fn``, predict the sample, in a process of its
own) runs two ways on the same extracted model, alternated, median of ``--repeat``:

- **fresh**: a new Python interpreter (``python _probe.py``), which imports scikit-learn itself;
- **warm**: forked from the local endpoints' warm fork server, which has imported it already.

Models: the seed's iris tree, and a RandomForest of a few hundred MB (``--forest-mb`` scales it;
cached in bench/.cache).
Prints a table and one JSON line; exit code 0 either way (a measurement, not a test).
"""
from __future__ import annotations

import argparse
import io
import json
import os
import statistics
import sys
import tarfile
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
CACHE = HERE / ".cache"
sys.path.insert(0, str(HERE.parent))

LOADER = 'import os, joblib\ndef model_fn(model_dir):\n    return joblib.load(os.path.join(model_dir, "model.joblib"))\n'


def models(forest_mb: int) -> dict[str, bytes]:
    import joblib
    import numpy as np
    from sklearn.datasets import load_iris
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.tree import DecisionTreeClassifier

    iris = load_iris()
    out = {}
    buf = io.BytesIO()
    joblib.dump(DecisionTreeClassifier(random_state=0).fit(iris.data, iris.target), buf)
    out["iris"] = buf.getvalue()
    path = CACHE / f"validate-forest-{forest_mb}mb.joblib"
    if not path.exists():
        CACHE.mkdir(exist_ok=True)
        rng = np.random.default_rng(0)
        x = rng.normal(size=(20_000, 4))
        y = (x[:, 0] + rng.normal(size=20_000) > 0).astype(int)
        trees = max(1, forest_mb * 84 // 25)  # ~0.3 MB per tree on this data
        joblib.dump(RandomForestClassifier(n_estimators=trees, random_state=0).fit(x, y), path)
    out["RandomForest"] = path.read_bytes()
    return out


def model_dir(work: Path, model: bytes) -> Path:
    from jupyter_smops.core.packaging.archive import safe_extract

    tar = work / "m.tar.gz"
    with tarfile.open(tar, "w:gz", compresslevel=1) as t:
        for name, data in (("model.joblib", model), ("code/inference.py", LOADER.encode())):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            t.addfile(info, io.BytesIO(data))
    safe_extract(tar, work / "x" / "model")
    tar.unlink()
    return work / "x" / "model"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--forest-mb", type=int, default=120)  # ~200 MB of trees
    args = parser.parse_args()
    from jupyter_smops.core.packaging.validate import run_probe
    from jupyter_smops.core.serving import zygote

    load = " ".join(f"{x:.1f}" for x in os.getloadavg())
    rows, raw = [], {}
    with tempfile.TemporaryDirectory(prefix="smops-bench-validate-") as tmp:
        warm_root = Path(tmp) / "endpoints"
        start_s = None
        for label, model in models(args.forest_mb).items():
            work = Path(tmp) / label.replace(" ", "-")
            work.mkdir()
            md = model_dir(work, model)
            sample = [[5.1, 3.5, 1.4, 0.2]]
            if start_s is None:  # the first warm probe also waits for the fork server's imports
                start_s = run_probe(md, 600, sample, warm_root)[1]
            times: dict[str, list[float]] = {"fresh": [], "warm": []}
            for _ in range(args.repeat):
                for way, root in (("fresh", None), ("warm", warm_root)):
                    report, seconds = run_probe(md, 600, sample, root)
                    assert "error" not in report, report
                    times[way].append(seconds)
            fresh, warm = statistics.median(times["fresh"]), statistics.median(times["warm"])
            rows.append((label, len(model) / 1e6, fresh, warm))
            raw[label] = times
        zygote.stop(warm_root)
    print(f"load average before: {load}; {os.cpu_count()} cores; median of {args.repeat} alternated runs; "
          f"first warm probe (starts the fork server): {start_s:.2f} s")
    print("| model | model MB | fresh interpreter s | forked from the warm server s | speed-up |")
    print("|---|---:|---:|---:|---:|")
    for label, mb, fresh, warm in rows:
        print(f"| {label} | {mb:.1f} | {fresh:.3f} | {warm:.3f} | {fresh / warm:.1f}x |")
    print(json.dumps({"first_warm_probe_s": round(start_s, 3), "runs": raw}))


if __name__ == "__main__":
    main()
