"""Endpoints behind one interface, chosen by config."""
from .base import INVOKE_TIMEOUT_SECONDS, MAX_PAYLOAD_BYTES, DeployOptions, Endpoints

__all__ = ["DeployOptions", "Endpoints", "INVOKE_TIMEOUT_SECONDS", "MAX_PAYLOAD_BYTES", "make_endpoints"]


def make_endpoints(config, backend: str, *, allow_override: bool = True) -> Endpoints:
    """The endpoints for ``local`` or ``aws``, or ``config.endpoints_class`` (which replaces the
    configured backend's endpoints, not the local ones used by ``--local`` beside aws).
    Every endpoints class is built the same way: ``cls(config)``."""
    if config.endpoints_class is not None and allow_override:
        return config.endpoints_class(config)
    if backend == "aws":
        from .sagemaker import SageMakerEndpoints

        return SageMakerEndpoints(config)
    from .local import LocalEndpoints

    return LocalEndpoints(config)
