"""The installed package's version, read from its metadata (the ground floor imports nothing above it).

The package's ``__init__`` re-exports it; the core reads it here so that asking for the version
never imports the server extension or the magics.
"""
from __future__ import annotations

from importlib import metadata


def _installed_version() -> str:
    try:
        return metadata.version("jupyter_smops")
    except metadata.PackageNotFoundError:  # a source tree that was never installed
        return "0.0.0.dev0"


__version__ = _installed_version()
