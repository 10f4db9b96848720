"""Endpoints behind one interface, chosen by config."""
from .base import INVOKE_TIMEOUT_SECONDS, MAX_PAYLOAD_BYTES, DeployOptions, Endpoints

__all__ = ["DeployOptions", "Endpoints", "INVOKE_TIMEOUT_SECONDS", "MAX_PAYLOAD_BYTES", "make_endpoints"]


def make_endpoints(config, backend: str) -> Endpoints:
    """The endpoints implementation for ``local`` or ``aws``."""
    if backend == "aws":
        from .sagemaker import SageMakerEndpoints

        return SageMakerEndpoints(config)
    from .local import LocalEndpoints

    return LocalEndpoints(config.home_path / "endpoints")
