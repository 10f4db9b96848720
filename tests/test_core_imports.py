"""The core must run without Jupyter: it imports no tornado, jupyter_server or IPython."""
from __future__ import annotations

import subprocess
import sys
import textwrap


def test_core_imports_without_jupyter_modules():
    code = textwrap.dedent("""
        import sys
        class Block:
            def find_spec(self, name, path=None, target=None):
                if name.split('.')[0] in ('tornado', 'jupyter_server', 'IPython', 'ipykernel'):
                    raise ImportError('blocked: ' + name)
        sys.meta_path.insert(0, Block())
        import jupyter_smops.core
        import jupyter_smops.core.api, jupyter_smops.core.registry.local, jupyter_smops.core.endpoints
        import jupyter_smops.commands, jupyter_smops.cli
        from jupyter_smops.core import Smops
        Smops().config.public()
        heavy = [m for m in ('boto3', 'sagemaker', 'sklearn') if m in sys.modules]
        print('HEAVY', heavy)
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    # Importing the core is cheap: no AWS SDK, SageMaker SDK or scikit-learn until an operation needs them.
    assert "HEAVY []" in out.stdout
