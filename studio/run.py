"""The Studio profile: does jupyter_smops install into SageMaker Studio's images as they ship?

    .venv/bin/python studio/run.py [--image 4.6.0 ...]

Builds the wheel once from a clean copy of the tree, then for each image of studio/images.toml
(a cached Python 3.12 venv holding the image's versions): checks that a plain ``pip install`` of
the wheel would change no package the image ships (pip's --report), installs it constrained to the
image's freeze and checks again (pip freeze before/after), then runs the seed flow through the CLI
on the local backend and on moto, the lab extension in that JupyterLab in chromium, and the
Studio lifecycle configuration twice (studio/lcc_check.py). Prints a summary and writes it to
studio/.cache/last-run.json; exits 1 when anything failed.
"""
from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import time
import traceback
import zipfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import flows  # noqa: E402
import lcc_check  # noqa: E402
from venvs import CACHE, HERE, ImageVenv, dry_run_changes, load_images, run  # noqa: E402

ROOT = HERE.parent
NODE_MODULES = ROOT / "ui-tests" / "node_modules"


def build_wheel() -> Path:
    """The release wheel, built from the tracked and new (not ignored) files only: a built
    ``labextension/`` in the working tree would otherwise be reused (skip-if-exists)."""
    src, dist = CACHE / "build" / "src", CACHE / "build" / "dist"
    shutil.rmtree(CACHE / "build", ignore_errors=True)
    files = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                           capture_output=True, check=True).stdout.decode().split("\0")
    for rel in filter(None, files):
        if rel.startswith("studio/.cache") or not (ROOT / rel).is_file():
            continue
        (src / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / rel, src / rel)
    run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--disable-pip-version-check", "-w", dist, src],
        timeout=1200)
    return next(dist.glob("jupyter_smops-*.whl"))


def shared_ranges(wheel: Path) -> dict[str, str]:
    """requiredVersion of each shared @jupyterlab package in the built extension's remoteEntry."""
    with zipfile.ZipFile(wheel) as zf:
        entry = next(n for n in zf.namelist() if re.search(r"labextensions/jupyter-smops/static/remoteEntry\.", n)
                     and n.endswith(".js"))
        text = zf.read(entry).decode()
    return dict(re.findall(r'"(@jupyterlab/[a-z-]+)",\s*import:\s*[^,]+,\s*requiredVersion:\s*"([^"]+)"', text))


def satisfies(version: str, caret: str) -> bool:
    """``version`` in the caret range ``^X.Y.Z`` (the ranges the builder writes)."""
    want = [int(p) for p in re.findall(r"\d+", caret)[:3]]
    have = [int(p) for p in re.findall(r"\d+", version)[:3]]
    return have[0] == want[0] and have >= want


def check_shared(venv: ImageVenv, ranges: dict[str, str]) -> dict:
    """Every shared range is satisfied by the packages this JupyterLab serves."""
    core = run([venv.bin / "python", "-c", "import json, jupyterlab, pathlib; print(json.dumps(json.loads("
                "(pathlib.Path(jupyterlab.__file__).parent / 'static' / 'package.json').read_text())['resolutions']))"]
               ).stdout
    served = json.loads(core)
    bad = {pkg: (want, served.get(pkg)) for pkg, want in ranges.items()
           if pkg in served and not satisfies(served[pkg], want)}
    if bad:
        raise RuntimeError(f"shared packages this JupyterLab cannot satisfy (required, served): {bad}")
    return {pkg: f"{want} <- {served.get(pkg)}" for pkg, want in ranges.items()}


def extension_lists(venv: ImageVenv, env=None, cwd=None) -> str:
    """``jupyter server extension list`` and ``jupyter labextension list``, colours and spacing removed."""
    text = ""
    for cmd in (["server", "extension", "list"], ["labextension", "list"]):
        out = run([venv.bin / "jupyter", *cmd], env=env, cwd=cwd)
        text += out.stdout + out.stderr
    return " ".join(re.sub(r"\x1b\[[0-9;]*m", "", text).split())


def install_check(venv: ImageVenv, wheel: Path) -> dict:
    """The two proofs that installing changes nothing the image ships."""
    would = dry_run_changes(venv, wheel)
    if would:
        raise RuntimeError(f"a plain `pip install` would change image packages (image, new): {would}")
    run([venv.bin / "python", "-m", "pip", "install", "-q", "--disable-pip-version-check", "-c", venv.image_freeze,
         wheel], timeout=1200)
    changed, removed, added = venv.diff()
    if changed or removed:
        raise RuntimeError(f"installing the wheel changed the image: {changed=} {removed=}")
    exts = extension_lists(venv)
    if not re.search(r"jupyter_smops enabled", exts) or not re.search(r"jupyter-smops v\S+ enabled OK", exts):
        raise RuntimeError(f"extensions not both enabled:\n{exts}")
    return {"plain_install_would_change": {}, "changed": {}, "removed": {}, "added": added}


def step(summary: dict, name: str, fn, *args):
    start = time.monotonic()
    try:
        summary[name] = {"ok": True, "result": fn(*args)}
    except Exception as exc:  # one failed step must not hide the others' results
        traceback.print_exc()
        summary[name] = {"ok": False, "error": str(exc)[-3000:]}
    summary[name]["seconds"] = round(time.monotonic() - start, 1)
    print(f"  -> {name}: {'ok' if summary[name]['ok'] else 'FAILED'} ({summary[name]['seconds']} s)", flush=True)
    return summary[name]["ok"]


def profile_image(name: str, spec: dict, wheel: Path, ranges: dict, work: Path) -> dict:
    venv = ImageVenv(name, spec)
    summary: dict = {"image": spec["description"]}
    print(f"== {spec['description']}", flush=True)
    if not step(summary, "venv", venv.ensure):
        return summary
    try:
        step(summary, "shared ranges", check_shared, venv, ranges)
        if step(summary, "install", install_check, venv, wheel):
            step(summary, "local seed flow", flows.local_seed, venv, work / "local")
            step(summary, "lab extension in the browser", flows.lab_smoke, venv, work / "lab", NODE_MODULES)
            moto = flows.Moto()
            try:
                step(summary, "aws seed flow on moto", flows.aws_seed, venv, work / "aws", moto)
                venv.restore()  # the lifecycle configuration starts from the image as it ships
                step(summary, "lifecycle configuration twice", lcc_check.run_twice, venv, wheel, work / "lcc", moto)
            finally:
                moto.stop()
    finally:
        lcc_check.unlink_from_image(venv)
        venv.restore()
    return summary


def main() -> int:
    images = load_images()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--image", action="append", choices=sorted(images), help="only these (default: all)")
    parser.add_argument("--wheel", type=Path, help="use this wheel instead of building one")
    args = parser.parse_args()
    started = time.monotonic()
    summary: dict = {}
    step(summary, "wheel", (lambda: args.wheel.resolve()) if args.wheel else build_wheel)
    if not summary["wheel"]["ok"]:
        return 1
    wheel = Path(summary["wheel"]["result"])
    summary["wheel"]["result"] = wheel.name
    step(summary, "built shared ranges", shared_ranges, wheel)
    ranges = summary["built shared ranges"].get("result") or {}
    work = CACHE / "work"
    shutil.rmtree(work, ignore_errors=True)
    for name in args.image or list(images):  # one at a time: disk and CPU are shared
        summary[name] = profile_image(name, images[name], wheel, ranges, work / name)
    summary["seconds"] = round(time.monotonic() - started, 1)
    (CACHE / "last-run.json").write_text(json.dumps(summary, indent=2, default=str))
    print(json.dumps(summary, indent=2, default=str))
    failed = [f"{image}: {s}" for image, steps in summary.items() if isinstance(steps, dict) and "image" in steps
              for s, r in steps.items() if isinstance(r, dict) and not r.get("ok")]
    failed += [s for s in ("wheel", "built shared ranges") if not summary[s]["ok"]]
    print(f"studio profile: {'FAILED ' + '; '.join(failed) if failed else 'all passed'} "
          f"in {summary['seconds']:.0f} s", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
