"""A cheap stamp of what changed under $SMOPS_HOME, so the panel notices pushes, deploys and
deletes made from any face (notebook, CLI, another tab) without reloading everything.

Every write of the local registry and of local endpoint state is an atomic rename (core.files)
or a new folder, and both change the containing folder's mtime; the stamp is a digest of the
mtimes of those folders, two levels deep (model and version folders, endpoint folders). A few
``stat`` calls per model: far cheaper than listing models and endpoints.
"""
from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Iterable


def _folders(root: Path, depth: int) -> Iterable[Path]:
    """``root`` and its non-hidden sub-folders down to ``depth`` levels."""
    yield root
    if depth <= 0:
        return
    try:
        entries = list(os.scandir(root))
    except OSError:
        return
    for entry in sorted(entries, key=lambda e: e.name):
        if not entry.name.startswith(".") and entry.is_dir(follow_symlinks=False):
            yield from _folders(Path(entry.path), depth - 1)


def change_stamp(roots: dict[str, tuple[Path, int]]) -> str:
    """A short digest that differs whenever a folder under one of ``roots`` (name -> (path,
    depth)) is created, removed or has an entry renamed, added or removed. Missing roots count
    as empty, so the stamp changes when one appears."""
    digest = hashlib.sha256()
    for name in sorted(roots):
        root, depth = roots[name]
        for folder in _folders(root, depth):
            try:
                mtime = os.stat(folder).st_mtime_ns
            except OSError:
                mtime = 0
            digest.update(f"{name}\0{folder.relative_to(root) if folder != root else ''}\0{mtime}\n".encode())
    return digest.hexdigest()[:16]
