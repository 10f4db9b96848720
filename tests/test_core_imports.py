"""The core must run without Jupyter: it imports no tornado, jupyter_server or IPython; and the
common read paths (importing it, listing local endpoints) import no numpy or scikit-learn."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

JUPYTER = ("tornado", "jupyter_server", "IPython", "ipykernel")
HEAVY = ("numpy", "sklearn", "scipy", "pandas", "boto3", "botocore", "sagemaker")

# Raises on any Jupyter import, and prints which heavy modules ended up imported.
PRELUDE = textwrap.dedent(f"""
    import sys
    class Block:
        def find_spec(self, name, path=None, target=None):
            if name.split('.')[0] in {JUPYTER!r}:
                raise ImportError('blocked: ' + name)
    sys.meta_path.insert(0, Block())
""")
REPORT = f"\nprint('HEAVY', sorted({{m.split('.')[0] for m in sys.modules}} & set({HEAVY!r})))\n"


def _run(code: str, env: dict | None = None) -> str:
    out = subprocess.run([sys.executable, "-c", PRELUDE + textwrap.dedent(code) + REPORT], capture_output=True,
                         text=True, timeout=120, env=env)
    assert out.returncode == 0, out.stderr
    return out.stdout


def test_core_imports_without_jupyter_modules():
    out = _run("""
        import jupyter_smops.core
        import jupyter_smops.core.api, jupyter_smops.core.registry.local, jupyter_smops.core.endpoints
        import jupyter_smops.core.registry.s3, jupyter_smops.core.registry.layout, jupyter_smops.core.files
        import jupyter_smops.core.serving.contract, jupyter_smops.core.packaging.static
        import jupyter_smops.commands, jupyter_smops.cli
        from jupyter_smops.core import Smops
        Smops().config.public()
    """)
    # Importing the core is cheap: no AWS SDK, SageMaker SDK, numpy or scikit-learn until an
    # operation needs them.
    assert "HEAVY []" in out


def test_listing_and_describing_local_endpoints_imports_no_numpy(tmp_path):
    # A local endpoint's state as LocalEndpoints writes it; this test process stands in as the
    # deployer that is still starting it ("Creating").
    from jupyter_smops.core.procs import start_time

    folder = tmp_path / "endpoints" / "demo"
    folder.mkdir(parents=True)
    (folder / "state.json").write_text(json.dumps({
        "name": "demo", "uid": "u1", "model": "iris", "version": 1, "owner": "someone", "status": "Creating",
        "created_at": "2024-01-01T00:00:00.000Z", "workers": 1, "deployer_pid": os.getpid(),
        "deployer_start": start_time(os.getpid())}))
    env = dict(os.environ, SMOPS_HOME=str(tmp_path), SMOPS_BACKEND="local")
    out = _run("""
        from jupyter_smops.core import Smops
        smops = Smops()
        listed = smops.list_endpoints(all_owners=True)
        assert [(e.name, e.status) for e in listed] == [("demo", "Creating")], listed
        assert smops.describe_endpoint("demo").model == "iris"
    """, env)
    # The server lists endpoints on every panel refresh: that must not load the serving stack.
    assert "HEAVY []" in out
