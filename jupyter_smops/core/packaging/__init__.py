"""model.tar.gz: build (reproducible, ISA-L gzip), validate (statically and in a separate
process, as the SageMaker scikit-learn container would load it) and extract safely.

Layout (DESIGN.md, "The artifact")::

    model.tar.gz
      <model file>            model.joblib for objects; a file keeps its own name
      code/inference.py       the user's, or generated (default_inference.py)
      code/requirements.txt   optional
"""
from ..types import PackageResult
from .archive import safe_extract, sha256_file
from .build import build_package
from .validate import validate_package

__all__ = ["PackageResult", "build_package", "safe_extract", "sha256_file", "validate_package"]
