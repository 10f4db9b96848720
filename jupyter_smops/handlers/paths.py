"""``path`` arguments: relative to the Jupyter server's root, and never leaving it.

Whatever the operating system refuses about a path the client gave (too long, a symlink loop, a
file used as a folder, no permission, not a regular file) is a 4xx naming the field and what to
do, never a 500: the checks below ask the OS themselves and map its errno, and
``os_error_as_client_error`` does the same for an error the core meets later on a client's path.
"""
from __future__ import annotations

import errno
import os
import stat
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Optional

from ..core.errors import AccessDenied, BadRequest, NotFound, SmopsError


def resolve_in_root(root_dir: str | os.PathLike, rel: str, *, field: str = "path",
                    must_exist: bool = True) -> Path:
    """The real path of ``rel`` under ``root_dir``.

    Refused: absolute paths and ``~`` (400), text the OS cannot take as a name (NUL, lone
    surrogates: 400), anything whose real path, after following every symlink, is outside the
    root (403) — ``..`` that climbs out, or a link pointing away — folders and other non-regular
    files such as FIFOs (400), what the OS refuses (``_refusal``), and with ``must_exist`` a
    missing file (404). Without ``must_exist`` (an output) the folder must exist and be writable.
    """
    if not isinstance(rel, str) or not rel.strip():
        raise BadRequest(f"Field {field!r} must be a path relative to the Jupyter root, e.g. models/iris.joblib.")
    if "\x00" in rel:
        raise BadRequest(f"Field {field!r} contains a NUL character; send a plain relative path.")
    if any("\ud800" <= ch <= "\udfff" for ch in rel):
        raise BadRequest(f"Field {field!r} is not valid Unicode text (it has a lone surrogate, "
                         f"'{rel.encode('utf-8', 'backslashreplace').decode('utf-8')}'); send the file's name as "
                         f"the file browser shows it.")
    if rel.startswith("~") or PurePosixPath(rel).is_absolute() or PureWindowsPath(rel).is_absolute() \
            or PureWindowsPath(rel).drive:
        raise BadRequest(f"Field {field!r} is {rel!r}, an absolute path; paths are relative to the "
                         f"Jupyter server's root (as shown in the file browser), e.g. models/iris.joblib.")
    root = Path(os.path.realpath(root_dir))
    # Not strict: a path that escapes is refused as such (403) whether or not it exists; what the
    # OS says about the path comes from the stat below.
    real = Path(os.path.realpath(root / rel))
    if real != root and root not in real.parents:
        raise AccessDenied(f"Field {field!r} ({rel!r}) leads outside the Jupyter server's root; "
                           f"use a file inside it (move or copy the file there first).")
    try:
        st: Optional[os.stat_result] = os.stat(real)
    except FileNotFoundError:
        st = None
    except OSError as exc:
        raise _refusal(exc, rel, field) from None
    if st is None:
        if must_exist:
            raise NotFound(f"No file {rel!r} under the Jupyter server's root ({field}); check the name "
                           f"in the file browser.")
        _check_output_folder(real.parent, rel, field)
        return real
    if stat.S_ISDIR(st.st_mode):
        # Every path argument of the API names a file (model, script, archive, output).
        raise BadRequest(f"Field {field!r} ({rel!r}) is a folder; give a file inside it.")
    if not stat.S_ISREG(st.st_mode):
        raise BadRequest(f"Field {field!r} ({rel!r}) is not a regular file (a FIFO, socket or device); "
                         f"give a file saved in the file browser.")
    if not os.access(real, os.R_OK if must_exist else os.W_OK):
        raise AccessDenied(f"The Jupyter server may not {'read' if must_exist else 'overwrite'} {rel!r} "
                           f"({field}); change its permissions or use another file.")
    return real


def _check_output_folder(folder: Path, rel: str, field: str) -> None:
    try:
        st = os.stat(folder)
    except FileNotFoundError:
        raise NotFound(f"The folder for {field!r} ({rel!r}) does not exist; create it first.") from None
    except OSError as exc:
        raise _refusal(exc, rel, field) from None
    if not stat.S_ISDIR(st.st_mode):
        raise BadRequest(f"Field {field!r} ({rel!r}): part of it is a file, not a folder.")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise AccessDenied(f"The Jupyter server may not write in the folder of {rel!r} ({field}); "
                           f"choose a folder you can save files in.")


def _refusal(exc: OSError, rel: str, field: str) -> SmopsError:
    """The client's error for what the OS said about the client's path ``rel``."""
    what = f"Field {field!r} ({rel[:80] + '...' if len(rel) > 80 else rel!r})"
    if exc.errno == errno.ENOENT:
        return NotFound(f"No file {rel!r} under the Jupyter server's root ({field}); check the name in the "
                        f"file browser.")
    if exc.errno == errno.ENAMETOOLONG:
        return BadRequest(f"{what} is longer than the operating system allows for a path or a file name; "
                          f"use a shorter name.")
    if exc.errno == errno.ELOOP:
        return BadRequest(f"{what} goes through a symlink loop (links pointing at each other); fix or remove "
                          f"the link.")
    if exc.errno == errno.ENOTDIR:
        return BadRequest(f"{what}: part of it is a file, not a folder; check the path in the file browser.")
    if exc.errno in (errno.EACCES, errno.EPERM):
        return AccessDenied(f"The Jupyter server may not open {what}: permission denied; change its "
                            f"permissions or use another file.")
    return BadRequest(f"The operating system refused {what}: {os.strerror(exc.errno or 0)}.")


def os_error_as_client_error(exc: OSError, root_dir: str | os.PathLike) -> Optional[SmopsError]:
    """A 4xx for an OSError the core raised on a path under the Jupyter root (a client's file),
    with the path as the client knows it; None for anything else (the server's own files: a 500)."""
    if not exc.filename or not isinstance(exc.filename, (str, os.PathLike)):
        return None
    root = os.path.realpath(root_dir)
    name = os.path.abspath(exc.filename)
    if not (name == root or name.startswith(root.rstrip(os.sep) + os.sep)):
        return None
    return _refusal(exc, os.path.relpath(name, root), "path")


def relative_to_root(root_dir: str | os.PathLike, path: str | os.PathLike) -> str:
    """A path as the client knows it (relative, POSIX); absolute server paths are not echoed."""
    root = Path(os.path.realpath(root_dir))
    real = Path(os.path.realpath(path))
    try:
        return real.relative_to(root).as_posix()
    except ValueError:
        return Path(path).name
