"""``path`` arguments: relative to the Jupyter server's root, and never leaving it."""
from __future__ import annotations

import os
from pathlib import Path, PurePosixPath, PureWindowsPath

from ..core.errors import AccessDenied, BadRequest, NotFound


def resolve_in_root(root_dir: str | os.PathLike, rel: str, *, field: str = "path",
                    must_exist: bool = True) -> Path:
    """The real path of ``rel`` under ``root_dir``.

    Refused: absolute paths and ``~`` (400), anything whose real path, after following every
    symlink, is outside the root (403) — ``..`` that climbs out, or a link pointing away —
    folders (400), and with ``must_exist`` a missing file (404).
    """
    if not isinstance(rel, str) or not rel.strip():
        raise BadRequest(f"Field {field!r} must be a path relative to the Jupyter root, e.g. models/iris.joblib.")
    if "\x00" in rel:
        raise BadRequest(f"Field {field!r} contains a NUL character; send a plain relative path.")
    if rel.startswith("~") or PurePosixPath(rel).is_absolute() or PureWindowsPath(rel).is_absolute() \
            or PureWindowsPath(rel).drive:
        raise BadRequest(f"Field {field!r} is {rel!r}, an absolute path; paths are relative to the "
                         f"Jupyter server's root (as shown in the file browser), e.g. models/iris.joblib.")
    root = Path(os.path.realpath(root_dir))
    real = Path(os.path.realpath(root / rel))
    if real != root and root not in real.parents:
        raise AccessDenied(f"Field {field!r} ({rel!r}) leads outside the Jupyter server's root; "
                           f"use a file inside it (move or copy the file there first).")
    if must_exist and not real.exists():
        raise NotFound(f"No file {rel!r} under the Jupyter server's root ({field}); check the name "
                       f"in the file browser.")
    if real.is_dir():
        # Every path argument of the API names a file (model, script, archive, output).
        raise BadRequest(f"Field {field!r} ({rel!r}) is a folder; give a file inside it.")
    return real


def relative_to_root(root_dir: str | os.PathLike, path: str | os.PathLike) -> str:
    """A path as the client knows it (relative, POSIX); absolute server paths are not echoed."""
    root = Path(os.path.realpath(root_dir))
    real = Path(os.path.realpath(path))
    try:
        return real.relative_to(root).as_posix()
    except ValueError:
        return Path(path).name
