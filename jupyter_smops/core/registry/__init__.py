"""Registries behind one interface, chosen by config."""

from .base import Registry

__all__ = ["Registry", "make_registry"]


def make_registry(config, backend: str) -> Registry:
    """The registry for a resolved backend (``local`` or ``aws``), or ``config.registry_class``.
    Every registry class is built the same way: ``cls(config)``."""
    if config.registry_class is not None:
        return config.registry_class(config)
    if backend == "aws":
        from .s3 import S3Registry

        return S3Registry(config)
    from .local import LocalRegistry

    return LocalRegistry(config)
