"""Loading the server extension costs the Jupyter server almost nothing: no boto3, sklearn or
sagemaker import until an operation needs them."""
from __future__ import annotations

import subprocess
import sys

HEAVY = ("boto3", "botocore", "sklearn", "sagemaker", "joblib", "numpy")


def test_handlers_import_without_heavy_modules():
    code = ("import sys, jupyter_smops.extension, jupyter_smops.handlers, jupyter_smops.handlers.jobs; "
            f"print(','.join(m for m in {HEAVY!r} if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "", f"heavy modules imported at extension load: {out.stdout}"

