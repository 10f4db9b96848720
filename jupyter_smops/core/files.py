"""Small JSON files that many processes read while one writes: the ground floor's only file helper.

Every state file the project keeps (``smops.json`` of a version, an endpoint's ``state.json`` /
``runtime.json`` / ``spec.json``, fetched price tables, the validation probe's report) is written
here: the bytes go to a temporary file with a name no other writer uses, in the same folder, are
flushed to disk, and replace the target in one ``os.replace``. A reader therefore sees the old
file or the new one, never half of either, whatever threads or processes write at the same time.
Standard library only: the serving processes and the probe import it too.
"""
from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any, Callable, Optional, Union

PathLike = Union[str, "os.PathLike[str]"]


def write_json(path: PathLike, data: Any, *, indent: Optional[int] = 2,
               default: Callable[[Any], Any] = str) -> None:
    """Write ``data`` as JSON to ``path`` atomically (see the module docstring).

    The file is created private to the user (0600, as ``mkstemp`` makes it). ``default`` turns
    values JSON does not know into something it does (``str`` unless told otherwise).
    """
    path = Path(path)
    text = json.dumps(data, indent=indent, default=default)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def read_json(path: PathLike) -> Optional[Any]:
    """The JSON in ``path``; None when the file is absent, unreadable or not valid JSON."""
    try:
        with open(path, encoding="utf-8") as fh:
            return json.load(fh)
    except (OSError, ValueError):
        return None


def sha256_file(path: PathLike, chunk_size: int = 1 << 20) -> str:
    """Hex sha256 of a file, read in chunks (1 MiB): how every artifact is verified."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(chunk_size), b""):
            digest.update(chunk)
    return digest.hexdigest()
