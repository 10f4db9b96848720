"""Registries behind one interface, chosen by config."""

from .base import Registry

__all__ = ["Registry", "make_registry"]


def make_registry(config, backend: str) -> Registry:
    """The registry for a resolved backend (``local`` or ``aws``), or ``config.registry_class``."""
    if config.registry_class:
        from traitlets.utils.importstring import import_item

        return import_item(config.registry_class)(config)
    if backend == "aws":
        from .s3 import S3Registry

        return S3Registry(config)
    from .local import LocalRegistry

    return LocalRegistry(config.home_path / "registry")
