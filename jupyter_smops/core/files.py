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
import logging
import os
import stat
import tempfile
from pathlib import Path
from typing import Any, Callable, Optional, Union

PathLike = Union[str, "os.PathLike[str]"]

PRIVATE_DIR, PRIVATE_FILE = 0o700, 0o600
_log = logging.getLogger("jupyter_smops")
_tightened: set = set()


def private_dir(path: PathLike, home: Optional[PathLike] = None) -> Path:
    """Create the folder ``path`` (and missing parents) readable by this user only (0700,
    whatever the umask), and return it.

    With ``home`` (``$SMOPS_HOME``, which ``path`` is under), a home that other users can open
    (e.g. 0755, as releases before this one made it) is made 0700 once per process, with a log
    line: the registry, endpoint logs (request lines, the model's prints) and state are private.
    """
    path = Path(path)
    missing = []
    probe = path
    while not probe.exists() and probe != probe.parent:
        missing.append(probe)
        probe = probe.parent
    for folder in reversed(missing):
        try:
            os.mkdir(folder, PRIVATE_DIR)
        except FileExistsError:
            continue  # a concurrent creator: its mode is set by the same code
        os.chmod(folder, PRIVATE_DIR)  # mkdir's mode is masked by the umask
    if home is not None:
        tighten_home(home)
    return path


def tighten_home(home: PathLike) -> None:
    """Make ``home`` 0700 when group or others have any access to it (once per process)."""
    home = Path(home)
    key = str(home)
    if key in _tightened:
        return
    try:
        mode = stat.S_IMODE(home.stat().st_mode)
        if mode & 0o077:
            os.chmod(home, PRIVATE_DIR)
            _log.warning("jupyter_smops: %s was open to other users (mode %s); made it private (0700)",
                         home, oct(mode))
        _tightened.add(key)
    except OSError:
        pass  # not ours to change (or gone): the files inside are still created private


def private_copy(source: PathLike, dest: PathLike) -> None:
    """Copy a file to ``dest`` and make it 0600 (``shutil.copyfile`` gives it the umask's mode;
    the copy is made in a private folder, so the moment before the chmod exposes nothing)."""
    import shutil

    shutil.copyfile(source, dest)
    os.chmod(dest, PRIVATE_FILE)



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
