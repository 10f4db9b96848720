"""Which scikit-learn a model was pickled with, known before the archive is written.

Packaging has to decide ``code/requirements.txt`` (whether to pin scikit-learn) before the
archive streams out, while the validation probe that loads the model runs beside it. A model
object is pickled here, by this environment's scikit-learn. A model file says which version
wrote it: every scikit-learn estimator pickles ``_sklearn_version`` with its state, so the
first such entry in the pickle stream names it, read without unpickling anything (joblib's
zlib/gzip/bz2/lzma compression is undone on the way). The probe's answer, from scikit-learn's
own warning on load, stays the authority: validation refuses an archive whose pin disagrees.
"""
from __future__ import annotations

import bz2
import lzma
import os
import re
import zlib
from pathlib import Path
from typing import Any, Optional

from .requirements import installed_version

_CHUNK = 1 << 20
# The key, an optional memo op (MEMOIZE, BINPUT n, LONG_BINPUT n), then the value as
# SHORT_BINUNICODE (1-byte length) or BINUNICODE (4-byte length): protocols 2-5.
_ENTRY = re.compile(rb"_sklearn_version(?:\x94|q.|r....)?(?:\x8c(.)|X(....))", re.DOTALL)
_VERSION = re.compile(r"^\d+\.\d+(\.\d+)?([a-z0-9.+-]*)$")


def local_sklearn() -> Optional[str]:
    """This environment's scikit-learn (metadata only, nothing imported)."""
    return installed_version("scikit-learn")


def trained_version(model: Any) -> Optional[str]:
    """The scikit-learn ``model`` (an estimator, or a model file) was pickled with, as far as can
    be told without loading it: a file's own record, else this environment's version."""
    if isinstance(model, (str, os.PathLike)):
        found = pickled_version(Path(model))
        if found:
            return found
    return local_sklearn()


def pickled_version(path: Path) -> Optional[str]:
    """The ``_sklearn_version`` recorded in a joblib/pickle file, or None (skops, protocol 0/1,
    lz4, or no scikit-learn object in it)."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(6)
            fh.seek(0)
            return _scan(_decompressed(fh, head))
    except (OSError, zlib.error, lzma.LZMAError, EOFError, ValueError):
        return None


def _decompressed(fh, head: bytes):
    """The file's bytes, chunk by chunk, decompressed as joblib wrote them."""
    if head.startswith(b"\x78"):  # joblib's zlib
        decomp = zlib.decompressobj()
    elif head.startswith(b"\x1f\x8b"):
        decomp = zlib.decompressobj(16 + zlib.MAX_WBITS)
    elif head.startswith(b"BZh"):
        decomp = bz2.BZ2Decompressor()
    elif head.startswith(b"\xfd7zXZ") or head.startswith(b"\x5d\x00\x00"):
        decomp = lzma.LZMADecompressor()
    else:
        decomp = None
    while True:
        chunk = fh.read(_CHUNK)
        if not chunk:
            return
        yield decomp.decompress(chunk) if decomp else chunk


def _scan(chunks) -> Optional[str]:
    tail = b""
    for chunk in chunks:
        data = tail + chunk
        for m in _ENTRY.finditer(data):
            size = m.group(1)[0] if m.group(1) is not None else int.from_bytes(m.group(2), "little")
            value = data[m.end():m.end() + size]
            if len(value) < size:
                break  # split across chunks: found again with the next chunk
            text = value.decode("utf-8", "replace")
            if _VERSION.match(text):
                return text
        tail = data[-64:]
    return None
