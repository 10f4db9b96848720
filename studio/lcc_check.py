"""The Studio lifecycle configuration, run twice against an image venv, with the wheel on moto S3.

The venv stands for the space's /opt/conda (the image); a scratch HOME stands for the persistent
home volume. Start 1 installs (in the background, as in Studio); then the image environment is
made fresh again (the files the script links into it are removed, as a restarted space would have
them), and start 2 must link in the foreground with no network at all (pip's index and the S3
endpoint point at a closed port) and no install, quickly.
"""
from __future__ import annotations

import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

from flows import Moto, clean_env, free_port
from venvs import ImageVenv, run

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

BUCKET = "smops-artifacts"


def linked_files(venv: ImageVenv) -> list[Path]:
    """What the script adds to the image environment on every start (files, not packages)."""
    site = next((venv.root / "lib").glob("python3*/site-packages"))
    return [site / "jupyter_smops_lcc.pth", venv.root / "share/jupyter/labextensions/jupyter-smops",
            venv.root / "etc/jupyter/jupyter_server_config.d/jupyter_smops.json", venv.bin / "jupyter-smops"]


def unlink_from_image(venv: ImageVenv) -> None:
    """Remove the linked files again (a restarted space starts without them)."""
    for path in linked_files(venv) if venv.root.exists() else []:
        if path.is_symlink() or path.is_file():
            path.unlink()


def _image_dists(venv: ImageVenv) -> set[str]:
    site = next((venv.root / "lib").glob("python3*/site-packages"))
    return {p.name for p in site.glob("*.dist-info")}


def _unchanged(venv: ImageVenv, before: set[str], which: str) -> dict:
    """No image package changed or removed, and none added *into* the image (what the install
    adds is only visible through the .pth file, from the home volume)."""
    changed, removed, added = venv.diff()
    into = _image_dists(venv) - before
    if changed or removed or into:
        raise RuntimeError(f"{which} changed the image's packages: {changed=} {removed=} installed into it: {into}")
    return added


def _start(script: Path, env: dict, cwd: Path) -> float:
    began = time.monotonic()
    out = subprocess.run(["bash", str(script)], env=env, cwd=cwd, capture_output=True, text=True, timeout=300)
    if out.returncode != 0:
        raise RuntimeError(f"the lifecycle script failed: {out.stdout[-2000:]}{out.stderr[-2000:]}")
    return time.monotonic() - began


def _wait_installed(log: Path, seconds: float = 600) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        text = log.read_text() if log.exists() else ""
        if "[error]" in text:
            raise RuntimeError(f"the background install failed:\n{text[-3000:]}")
        if "[install]: done" in text:
            return
        time.sleep(0.5)
    raise RuntimeError(f"the background install did not finish in {seconds:.0f} s")


def _works(venv: ImageVenv, env: dict, cwd: Path) -> dict:
    """The image's Jupyter and Python now see the extension, the magics and the CLI."""
    from run import extension_lists

    exts = extension_lists(venv, env, cwd)
    if "jupyter_smops enabled" not in exts or not re.search(r"jupyter-smops v\S+ enabled OK", exts):
        raise RuntimeError(f"the image's Jupyter does not see the extension:\n{exts}")
    run([venv.bin / "python", "-c", "import jupyter_smops.magics"], env=env, cwd=cwd)
    status = run([venv.bin / "jupyter", "smops", "status", "--json"], env=dict(env, SMOPS_BACKEND="local"), cwd=cwd)
    return {"cli": status.returncode == 0}


def run_twice(venv: ImageVenv, wheel: Path, work: Path, moto: Moto) -> dict:
    """Start 1 (install), then start 2 (link only): what each changed and how long start 2 took."""
    import boto3

    from jupyter_smops.core.admin.lcc_script import encode, render_script

    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    s3 = boto3.client("s3", endpoint_url=moto.url, region_name="us-east-1",
                      aws_access_key_id="testing", aws_secret_access_key="testing")
    s3.create_bucket(Bucket=BUCKET)
    s3.upload_file(str(wheel), BUCKET, f"wheels/{wheel.name}")
    text = render_script(wheel=f"s3://{BUCKET}/wheels/{wheel.name}")
    script = work / "on-start.sh"
    script.write_text(text)
    env = clean_env(venv, work, **moto.env())
    log = work / "home/.smops/lcc/on-start.log"

    before = _image_dists(venv)
    first = _start(script, env, work)
    _wait_installed(log)
    added = _unchanged(venv, before, "start 1")
    works = _works(venv, env, work)
    installs = list((work / "home/.smops/lcc/installs").iterdir())
    stamp = (installs[0] / ".installed").stat().st_mtime

    unlink_from_image(venv)  # the space restarts: a fresh image environment, the same home
    closed = f"http://127.0.0.1:{free_port()}"
    offline = dict(env, AWS_ENDPOINT_URL=closed, PIP_INDEX_URL=f"{closed}/simple", PIP_RETRIES="0")
    second = _start(script, offline, work)
    text2 = log.read_text()
    if text2.count("installing in the background") != 1 or "already installed for this image" not in text2:
        raise RuntimeError(f"start 2 did not take the linked path:\n{text2[-2000:]}")
    if (installs[0] / ".installed").stat().st_mtime != stamp or len(list(installs[0].parent.iterdir())) != 1:
        raise RuntimeError("start 2 touched the install")
    _unchanged(venv, before, "start 2")
    _works(venv, offline, work)
    size = sum(f.stat().st_size for f in installs[0].rglob("*") if f.is_file())
    return {"script_base64_chars": len(encode(text)), "start1_foreground_s": round(first, 2),
            "start2_s": round(second, 2), "start2_network": "none (index and S3 on a closed port)",
            "restarts": text2.count("restarting the running Jupyter server"),
            "image_packages_changed": {}, "visible_through_pth": added,
            "image_files_added_each_start": [str(p.relative_to(venv.root)) for p in linked_files(venv)],
            "install_dir": f"~/.smops/lcc/installs/{installs[0].name} ({size / 1e6:.1f} MB)", **works}


if __name__ == "__main__":  # for a manual look: python studio/lcc_check.py IMAGE WHEEL
    from venvs import load_images

    name, wheel_path = sys.argv[1], Path(sys.argv[2])
    venv = ImageVenv(name, load_images()[name])
    moto = Moto()
    try:
        print(run_twice(venv, wheel_path, venv.root.parent.parent / "work" / name / "lcc", moto))
    finally:
        moto.stop()
        unlink_from_image(venv)
