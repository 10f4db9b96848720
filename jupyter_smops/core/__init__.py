"""jupyter_smops' core: operations and types, with no Jupyter imports (no tornado,
jupyter_server or IPython), so it runs in kernels, the CLI, the server and workers alike."""
from .api import Smops
from .errors import (AccessDenied, BadRequest, Conflict, InvalidArtifact, ModelError, NotFound,
                     PayloadTooLarge, SmopsError, UpstreamError)
from .payload import encode_payload
from .types import (Check, CleanupResult, DeployOptions, Endpoint, InvokeResult, Model, ModelVersion,
                    PackageResult)

__all__ = [
    "AccessDenied", "BadRequest", "Check", "CleanupResult", "Conflict", "DeployOptions", "Endpoint",
    "InvalidArtifact", "InvokeResult", "Model", "ModelError", "ModelVersion", "NotFound", "PackageResult",
    "PayloadTooLarge", "Smops", "SmopsError", "UpstreamError", "encode_payload",
]
