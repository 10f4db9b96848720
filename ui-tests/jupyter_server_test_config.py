"""JupyterLab server for the Galata tests.

Galata's helper removes authentication and opens port 8888. On top of it: the local backend with
its state in a temp dir (tests never touch ~/.smops), a fixed server root holding the seed's
trained iris model (``iris.joblib``) for the file-browser push test, and root allowed (CI).

``SMOPS_UI_PROFILE=faults`` starts a second server on port 8889 whose endpoints are the
fault-injecting fake backend with every deploy failing, for the "a failing deploy shows its
reason" test; ``SMOPS_UI_PROFILE=aws`` one on port 8890 with the aws backend against an
in-process moto server.
"""
import atexit
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from jupyterlab.galata import configure_jupyter_server

c = get_config()  # noqa: F821 (injected by traitlets)
configure_jupyter_server(c)

_root = Path(os.environ.get("JUPYTERLAB_GALATA_ROOT_DIR") or tempfile.mkdtemp(prefix="galata-smops-"))
_root.mkdir(parents=True, exist_ok=True)
c.ServerApp.root_dir = str(_root)
c.ServerApp.allow_root = True


def _use_moto():
    """The aws backend against an in-process moto server (no AWS, no credentials of the user)."""
    import logging

    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one access-log line per AWS call
    c.ServerApp.port = 8890
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    for var in ("AWS_PROFILE", "AWS_SESSION_TOKEN"):
        os.environ.pop(var, None)
    os.environ.update({
        "AWS_ENDPOINT_URL": f"http://{host}:{port}", "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1", "AWS_REGION": "us-east-1",
        "AWS_CONFIG_FILE": os.devnull, "AWS_SHARED_CREDENTIALS_FILE": os.devnull, "AWS_MAX_ATTEMPTS": "1",
        "AWS_EC2_METADATA_DISABLED": "true",
        "SMOPS_ROLE_ARN": "arn:aws:iam::123456789012:role/SageMakerDemoExecutionRole",
    })


_profile = os.environ.get("SMOPS_UI_PROFILE", "local")
if _profile == "faults":
    c.ServerApp.port = 8889
    # The fake backend is test scaffolding in the checkout (smops_testing/), not in the wheel.
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    os.environ["SMOPS_ENDPOINTS_CLASS"] = "smops_testing.fakes.FakeEndpoints"
    os.environ["SMOPS_FAKE_FAIL"] = "deploy"
    os.environ["SMOPS_FAKE_DEPLOY_SECONDS"] = "1"
os.environ["SMOPS_BACKEND"] = "local"
if _profile == "aws":
    _use_moto()
    os.environ["SMOPS_BACKEND"] = "aws"
    # An admin's cap, so the deploy form's limit and its refusal of "no expiry" are on screen.
    os.environ["SMOPS_MAX_EXPIRES_IN"] = "1d"
os.environ["SMOPS_HOME"] = tempfile.mkdtemp(prefix="galata-smops-home-")
# Removed when the server exits: its endpoint processes and the warm fork server watch this
# folder and exit when it is gone (instead of idling for SMOPS_ZYGOTE_IDLE after the run).
atexit.register(shutil.rmtree, os.environ["SMOPS_HOME"], ignore_errors=True)
os.environ["SMOPS_OWNER"] = "galata"
os.environ["SMOPS_STUDIO_METADATA"] = str(Path(os.environ["SMOPS_HOME"]) / "no-studio.json")

# The seed's model, trained in a child process so sklearn stays out of the server process.
_TRAIN = """
import sys, joblib
from sklearn.datasets import load_iris
from sklearn.tree import DecisionTreeClassifier
iris = load_iris()
joblib.dump(DecisionTreeClassifier(random_state=0).fit(iris.data, iris.target), sys.argv[1])
"""
subprocess.run([sys.executable, "-c", _TRAIN, str(_root / "iris.joblib")], check=True)
