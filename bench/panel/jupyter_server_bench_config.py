"""JupyterLab for the panel bench: port 8891, a seeded SMOPS_HOME, fake endpoints."""
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from jupyterlab.galata import configure_jupyter_server

c = get_config()  # noqa: F821 (injected by traitlets)
configure_jupyter_server(c)
c.ServerApp.port = 8891
c.ServerApp.allow_root = True
c.ServerApp.root_dir = tempfile.mkdtemp(prefix="smops-bench-root-")

# The fake backend is test scaffolding in the checkout (smops_testing/), not in the wheel.
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
home = tempfile.mkdtemp(prefix="smops-bench-home-")
subprocess.run([sys.executable, str(Path(__file__).with_name("seed.py")), home,
                os.environ.get("BENCH_VERSIONS", "1000"), os.environ.get("BENCH_ENDPOINTS", "200")], check=True)
os.environ.update(SMOPS_HOME=home, SMOPS_BACKEND="local", SMOPS_OWNER="bench",
                  SMOPS_ENDPOINTS_CLASS="smops_testing.fakes.FakeEndpoints",
                  SMOPS_STUDIO_METADATA=str(Path(home) / "no-studio.json"))
