"""Image venvs for the Studio profile: build once per versions file, prove an install changes nothing.

A venv stands for one Studio image: Python 3.12 with the image's pins from studio/images.toml
installed (their own dependencies resolve freely), then frozen with ``pip list --format=freeze`` as
"the image". Venvs are cached under studio/.cache keyed by the versions file's hash, and restored
to that freeze after each run (whatever a run added is uninstalled), so a re-run skips the
~200-package install.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
CACHE = HERE / ".cache"
VERSIONS = HERE / "images.toml"


def python312() -> str:
    """A CPython 3.12 interpreter: $STUDIO_PYTHON, pyenv's 3.12.x, or python3.12 on PATH."""
    candidates = [os.environ.get("STUDIO_PYTHON", "")]
    try:
        root = subprocess.run(["pyenv", "root"], capture_output=True, text=True, check=True).stdout.strip()
        candidates += sorted(str(p) for p in Path(root, "versions").glob("3.12.*/bin/python"))[::-1]
    except (OSError, subprocess.CalledProcessError):
        pass
    candidates.append(shutil.which("python3.12") or "")
    for exe in candidates:
        if exe and Path(exe).exists():
            return exe
    sys.exit("studio profile: no Python 3.12 found (set STUDIO_PYTHON=/path/to/python3.12)")


def load_images() -> dict:
    """The [images.*] tables of studio/images.toml."""
    import tomllib

    return tomllib.loads(VERSIONS.read_text())["images"]


def run(cmd, env=None, check=True, timeout=1800, cwd=None) -> subprocess.CompletedProcess:
    """Run a command, echoing it; on failure print its output and raise."""
    print("  $", " ".join(str(c) for c in cmd), flush=True)
    out = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, env=env, timeout=timeout, cwd=cwd)
    if check and out.returncode != 0:
        sys.stdout.write(out.stdout[-4000:] + out.stderr[-4000:])
        raise RuntimeError(f"command failed ({out.returncode}): {' '.join(str(c) for c in cmd)}")
    return out


def freeze(bin_dir: Path) -> dict[str, str]:
    """{normalized name: version} of everything installed (pip itself included). ``pip list``, not
    ``pip freeze``: freeze writes direct-URL installs as ``name @ url`` without a version."""
    out = run([bin_dir / "python", "-m", "pip", "list", "--format=freeze", "--disable-pip-version-check"]).stdout
    pins = {}
    for line in out.splitlines():
        if "==" in line:
            name, version = line.split("==", 1)
            pins[normalize(name)] = version.strip()
    return pins


def normalize(name: str) -> str:
    return name.lower().replace("_", "-").replace(".", "-")


@dataclass
class ImageVenv:
    """One image's venv and the freeze it must keep."""
    name: str
    spec: dict
    root: Path = field(init=False)

    def __post_init__(self):
        # Keyed by this image's versions and the interpreter, so editing another image or a
        # comment keeps the cache; venvs/index.json maps the key to the folder built for it.
        blob = json.dumps(self.spec, sort_keys=True) + python312()
        self.key = hashlib.sha256(blob.encode()).hexdigest()[:12]
        built = self._index().get(self.name, {})
        self.root = Path(built["root"]) if built.get("key") == self.key else CACHE / "venvs" / f"{self.name}-{self.key}"

    @staticmethod
    def _index() -> dict:
        path = CACHE / "venvs" / "index.json"
        return json.loads(path.read_text()) if path.exists() else {}

    @property
    def bin(self) -> Path:
        return self.root / "bin"

    @property
    def image_freeze(self) -> Path:
        return self.root / "image-freeze.txt"

    def image(self) -> dict[str, str]:
        pins = {}
        for line in self.image_freeze.read_text().splitlines():
            name, version = line.split("==", 1)
            pins[normalize(name)] = version
        return pins

    def ensure(self) -> float:
        """Create the venv with the image's versions if the cache has none; returns seconds spent."""
        if (self.root / ".ready").exists():
            return 0.0
        start = time.monotonic()
        for stale in (CACHE / "venvs").glob(f"{self.name}-*"):  # built for older versions
            shutil.rmtree(stale, ignore_errors=True)
        run([python312(), "-m", "venv", self.root])
        packages = dict(self.spec["packages"])
        pip = packages.pop("pip", None)
        if pip:
            run([self.bin / "python", "-m", "pip", "install", "-q", "--disable-pip-version-check", f"pip=={pip}"])
        run([self.bin / "python", "-m", "pip", "install", "-q", "--disable-pip-version-check",
             *[f"{n}=={v}" for n, v in packages.items()]], timeout=3600)
        pins = freeze(self.bin)
        self.image_freeze.write_text("".join(f"{n}=={v}\n" for n, v in sorted(pins.items())))
        (self.root / ".ready").touch()
        index = self._index()
        index[self.name] = {"key": self.key, "root": str(self.root)}
        (CACHE / "venvs" / "index.json").write_text(json.dumps(index, indent=1))
        return time.monotonic() - start

    def diff(self) -> tuple[dict, dict, dict]:
        """(changed {name: (image, now)}, removed {name: image}, added {name: now}) against the image."""
        image, now = self.image(), freeze(self.bin)
        changed = {n: (v, now[n]) for n, v in image.items() if n in now and now[n] != v}
        removed = {n: v for n, v in image.items() if n not in now}
        added = {n: v for n, v in now.items() if n not in image}
        return changed, removed, added

    def restore(self) -> None:
        """Uninstall whatever a run added; a venv that cannot be restored is dropped from the cache."""
        changed, removed, added = self.diff()
        if added:
            run([self.bin / "python", "-m", "pip", "uninstall", "-y", "-q", *sorted(added)], check=False)
        for leftover in (self.root / "etc").rglob("jupyter_smops*.json") if (self.root / "etc").exists() else []:
            leftover.unlink()
        changed, removed, added = self.diff()
        if changed or removed or added:
            print(f"  {self.name}: could not restore the image ({changed=}, {removed=}, {added=}); "
                  "dropping the cached venv", flush=True)
            shutil.rmtree(self.root, ignore_errors=True)


def dry_run_changes(venv: ImageVenv, wheel: Path) -> dict:
    """What a plain ``pip install WHEEL`` (no constraints, as a user types it) would change.

    pip's ``--report`` lists what it would install; anything there that the image already has at
    another version would be replaced.
    """
    report = venv.root / "dry-run-report.json"
    run([venv.bin / "python", "-m", "pip", "install", "-q", "--disable-pip-version-check", "--dry-run",
         "--report", report, wheel])
    image = venv.image()
    would = {}
    for item in json.loads(report.read_text())["install"]:
        meta = item["metadata"]
        name = normalize(meta["name"])
        if name in image and image[name] != meta["version"]:
            would[name] = (image[name], meta["version"])
    return would
