"""What the Studio profile runs inside an image's venv: the seed flow through the CLI on the local
backend and on moto, and the lab extension in that JupyterLab (studio/smoke.js, a browser)."""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from venvs import HERE, ImageVenv, run

ROW = {"instances": [[5.1, 3.5, 1.4, 0.2]]}
TRAIN = ("import joblib, sklearn; from sklearn.datasets import load_iris; "
         "from sklearn.tree import DecisionTreeClassifier; x, y = load_iris(return_X_y=True); "
         "joblib.dump(DecisionTreeClassifier(random_state=0).fit(x, y), 'iris.joblib'); print(sklearn.__version__)")
# Both images ship scikit-learn 1.7.2, for which no serving image exists. With SDK v3's image
# data (4.x) a default aws deploy serves it on the nearest older image with scikit-learn==1.7.2
# pinned in code/requirements.txt; SDK v2's data (3.x) ends at 1.2-1, whose Python cannot install
# 1.7.2, so the deploy must say so and ask for --image-uri (README, "How deploys choose the
# serving image"), which the flow then gives: the 1.4-2-py312 image, as a user would.
ASKS_FOR_IMAGE = "--image-uri"


def clean_env(venv: ImageVenv, work: Path, **extra) -> dict:
    """The venv first on PATH, its own SMOPS_HOME, and no AWS settings from the caller."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("AWS_", "SMOPS_", "VIRTUAL_ENV", "PYTHON", "JUPYTER"))}
    env.update(PATH=f"{venv.bin}:{env.get('PATH', '/usr/bin:/bin')}", VIRTUAL_ENV=str(venv.root),
               SMOPS_HOME=str(work / "smops-home"), SMOPS_OWNER="tester",
               SMOPS_STUDIO_METADATA=str(work / "no-studio.json"), HOME=str(work / "home"))
    (work / "home").mkdir(parents=True, exist_ok=True)
    env.update({k: str(v) for k, v in extra.items()})
    return env


def smops(venv: ImageVenv, env: dict, cwd: Path, *args, check=True):
    """``jupyter-smops ARGS --json`` in the venv; the decoded JSON (or the failed process)."""
    out = run([venv.bin / "jupyter-smops", *args, "--json"], env=env, cwd=cwd, check=False, timeout=600)
    if not check:
        return out
    if out.returncode != 0:
        raise RuntimeError(f"jupyter smops {' '.join(args)} failed: {out.stderr.strip()[-1500:]}")
    return json.loads(out.stdout) if out.stdout.strip() else None


def stop_strays(marker: Path) -> None:
    """SIGTERM the processes this run started under ``marker`` (the local endpoints' fork server)."""
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit() or int(proc.name) == os.getpid():
            continue
        try:
            argv = (proc / "cmdline").read_bytes().decode(errors="ignore")
            environ = (proc / "environ").read_bytes().decode(errors="ignore")
        except OSError:
            continue
        if str(marker) in argv or f"SMOPS_HOME={marker}" in environ:
            try:
                os.kill(int(proc.name), signal.SIGTERM)
            except OSError:
                pass


def local_seed(venv: ImageVenv, work: Path) -> dict:
    """push, deploy --local, predict, cleanup with the image's scikit-learn."""
    work.mkdir(parents=True, exist_ok=True)
    env = clean_env(venv, work, SMOPS_BACKEND="local")
    result = {"sklearn": run([venv.bin / "python", "-c", TRAIN], env=env, cwd=work).stdout.strip()}
    try:
        pushed = smops(venv, env, work, "push", "iris.joblib", "--name", "iris", "--sample", json.dumps(ROW))
        result["pushed"] = _pushed(pushed)
        ep = smops(venv, env, work, "deploy", "iris", "--local", "--endpoint", "iris-local")
        result["endpoint_status"] = ep.get("status")
        predicted = smops(venv, env, work, "predict", "iris-local", json.dumps(ROW))
        result["predictions"] = predicted
        if "[0]" not in json.dumps(predicted).replace(" ", ""):
            raise RuntimeError(f"local predict answered {predicted!r}, expected predictions [0]")
        smops(venv, env, work, "cleanup", "--yes")
        left = smops(venv, env, work, "endpoints")
        if left:
            raise RuntimeError(f"cleanup left endpoints: {left!r}")
        result["cleanup"] = "no endpoints left"
    finally:
        stop_strays(work / "smops-home")
    return result


def _pushed(version: dict) -> str:
    """``iris:1 (scikit-learn 1.7.2 on image 1.4-2-py312 + pin 1.7.2)``: what push stored."""
    return (f"{version['name']}:{version['version']} (scikit-learn {version.get('framework_version')} on image "
            f"{version.get('serving_version')} + pin {version.get('requirements_pin')})")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(url: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            urllib.request.urlopen(url, timeout=2).read()
            return
        except Exception:
            if time.monotonic() > deadline:
                raise RuntimeError(f"{url} did not answer within {seconds:.0f} s")
            time.sleep(0.2)


class Moto:
    """``moto_server`` on 127.0.0.1, run from the development venv: the image venv only needs the
    boto3 it ships to talk to it, so the test double never enters the image."""

    def __init__(self):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        exe = Path(sys.executable).parent / "moto_server"
        self.proc = subprocess.Popen([str(exe), "-H", "127.0.0.1", "-p", str(self.port)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_http(f"{self.url}/moto-api/")

    def queue_result(self, body: dict) -> None:
        data = json.dumps({"account_id": "123456789012", "region": "us-east-1",
                           "results": [{"Body": json.dumps(body), "ContentType": "application/json"}]}).encode()
        urllib.request.urlopen(urllib.request.Request(f"{self.url}/moto-api/static/sagemaker/endpoint-results",
                                                      data=data, method="POST")).read()

    def env(self) -> dict:
        return dict(AWS_ENDPOINT_URL=self.url, AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing",
                    AWS_DEFAULT_REGION="us-east-1", AWS_REGION="us-east-1", AWS_MAX_ATTEMPTS="1",
                    SMOPS_ROLE_ARN="arn:aws:iam::123456789012:role/SageMakerDemoExecutionRole")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def aws_seed(venv: ImageVenv, work: Path, moto: Moto) -> dict:
    """push, deploy, predict on moto (S3 + SageMaker), then cleanup."""
    work.mkdir(parents=True, exist_ok=True)
    env = clean_env(venv, work, SMOPS_BACKEND="aws", **moto.env())
    result = {"sklearn": run([venv.bin / "python", "-c", TRAIN], env=env, cwd=work).stdout.strip()}
    pushed = smops(venv, env, work, "push", "iris.joblib", "--name", "iris", "--sample", json.dumps(ROW))
    result["pushed"] = _pushed(pushed)
    if pushed.get("requirements_pin") != result["sklearn"]:
        raise RuntimeError(f"push did not pin the trained scikit-learn {result['sklearn']}: {pushed!r}")
    sdk2 = venv.image().get("sagemaker", "").startswith("2.")
    default = smops(venv, env, work, "deploy", "iris", "--endpoint", "iris-ep", check=False)
    if default.returncode == 0 and not sdk2:
        ep = json.loads(default.stdout)
        result["default_deploy"] = "served"
    elif default.returncode != 0 and sdk2 and ASKS_FOR_IMAGE in default.stderr:
        result["default_deploy"] = "refused as documented: " + default.stderr.strip().splitlines()[-1][:300]
        from jupyter_smops.core.images import image_uri  # the development tree's SDK v3 data

        ep = smops(venv, env, work, "deploy", "iris", "--endpoint", "iris-ep", "--image-uri",
                   image_uri("us-east-1", "1.4-2-py312"))
    else:
        raise RuntimeError(f"default aws deploy with SDK {'v2' if sdk2 else 'v3'} data: exit {default.returncode}, "
                           f"{default.stdout[-800:]}{default.stderr[-1500:]}")
    result["deploy"] = {k: ep.get(k) for k in ("status", "instance_type", "image_uri")}
    if ep.get("status") != "InService" or "sagemaker-scikit-learn" not in (ep.get("image_uri") or ""):
        raise RuntimeError(f"the default aws deploy did not serve on a scikit-learn image: {ep!r}")
    moto.queue_result({"predictions": [0]})
    result["predictions"] = smops(venv, env, work, "predict", "iris-ep", json.dumps(ROW))
    if "[0]" not in json.dumps(result["predictions"]).replace(" ", ""):
        raise RuntimeError(f"aws predict answered {result['predictions']!r}")
    smops(venv, env, work, "cleanup", "--yes")
    result["cleanup"] = smops(venv, env, work, "endpoints") or "no endpoints left"
    return result


def lab_smoke(venv: ImageVenv, work: Path, node_modules: Path) -> dict:
    """Start that JupyterLab, open the panel in chromium, fail on console errors (studio/smoke.js)."""
    work.mkdir(parents=True, exist_ok=True)
    env = clean_env(venv, work, SMOPS_BACKEND="local")
    port = free_port()
    log = open(work / "lab.log", "w")
    lab = subprocess.Popen([str(venv.bin / "jupyter"), "lab", "--no-browser", f"--port={port}", "--ip=127.0.0.1",
                            "--IdentityProvider.token=", "--ServerApp.password=", "--ServerApp.allow_root=True",
                            "--ServerApp.disable_check_xsrf=False", f"--ServerApp.root_dir={work}"],
                           env=env, stdout=log, stderr=subprocess.STDOUT, cwd=work)
    try:
        wait_http(f"http://127.0.0.1:{port}/api/status", 90)
        out = run(["node", HERE / "smoke.js", f"http://127.0.0.1:{port}/lab"], check=False, timeout=180,
                  env={**os.environ, "NODE_PATH": str(node_modules)})
        report = json.loads(out.stdout.strip().splitlines()[-1]) if out.stdout.strip() else {}
        if out.returncode != 0:
            raise RuntimeError(f"browser smoke failed: {out.stdout[-3000:]}{out.stderr[-2000:]}")
        return report
    finally:
        lab.send_signal(signal.SIGTERM)
        try:
            lab.wait(20)
        except subprocess.TimeoutExpired:
            lab.kill()
        log.close()
        stop_strays(work / "smops-home")
