"""Writing reproducible model.tar.gz files and extracting untrusted ones safely.

Reproducible: entries sorted, fixed mtime/owner/mode, gzip header without mtime or file name,
so the same inputs give the same sha256 on any machine, in any directory, at any time.

Compression is ISA-L's deflate at level 2 (``isal``): bench/packaging.py measured it more than
50x faster than tarfile's default level 9 for ~25% larger files. The threaded writer compresses
fixed-size blocks, each primed with the previous block's last 32 KiB, so its output does not
depend on the number of threads (only on the block size, which is fixed here).
"""
from __future__ import annotations

import os
import queue
import tarfile
import threading
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import BinaryIO, Callable, Iterable, Iterator, Optional, Union

from ..errors import BadRequest, InvalidArtifact
from ..files import sha256_file  # noqa: F401 (packaging's callers read it from here too)
from ..types import Check

# 1980-01-01: the zip epoch reproducible-build tools use; GNU tar warns about mtime 0.
FIXED_MTIME = 315532800
COMPRESS_LEVEL = 2
BLOCK_SIZE = 1 << 20
_READ_CHUNK = 1 << 20
_EXTRACT_BUFSIZE = 1 << 18
# Python < 3.10.12 has no extraction filters; the member checks below stand on their own there.
_DATA_FILTER = {"filter": "data"} if hasattr(tarfile, "data_filter") else {}
_GZIP_MAGIC = b"\x1f\x8b"


def compress_threads() -> int:
    """Threads for the ISA-L writer (the output is the same whatever this returns).

    One per CPU, at most 4: on the 200 MB model two threads wrote 436 MB/s against 264 for one
    (bench/packaging.py, loaded 2-CPU machine); on 25 MB the difference is lost in the noise.
    """
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cpus = os.cpu_count() or 1
    return max(1, min(4, cpus))


def open_gzip_writer(out: Union[Path, BinaryIO], threads: Optional[int] = None, level: int = COMPRESS_LEVEL):
    """A binary writer that gzips into ``out`` (a path, or a binary file object it leaves open)
    with ISA-L (header mtime 0, no file name)."""
    from isal import igzip_threaded

    target = out if hasattr(out, "write") else str(out)
    return igzip_threaded.open(target, "wb", compresslevel=level,
                               threads=threads or compress_threads(), block_size=BLOCK_SIZE)


def _tarinfo(name: str, *, size: int = 0, directory: bool = False) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.mtime = FIXED_MTIME
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    if directory:
        info.type = tarfile.DIRTYPE
        info.mode = 0o755
    else:
        info.size = size
        info.mode = 0o644
    return info


class _BlockWriter:
    """Feeds the gzip writer exactly ``BLOCK_SIZE`` bytes at a time.

    Fixed blocks keep the deflate stream (and so the sha256) independent of how the data
    arrives; reading files straight into the block buffer avoids tarfile's stream-mode copies,
    which cost more than ISA-L's compression itself.
    """

    def __init__(self, sink, progress: Optional[Callable[[int], None]] = None):
        self.sink = sink
        self.progress = progress
        self.buf = bytearray(BLOCK_SIZE)
        self.view = memoryview(self.buf)
        self.pos = 0
        self.total = 0

    def write(self, data: bytes) -> None:
        data = memoryview(data)
        while len(data):
            n = min(len(data), BLOCK_SIZE - self.pos)
            self.view[self.pos:self.pos + n] = data[:n]
            self._advance(n)
            data = data[n:]

    def copy_file(self, fh, length: int, name: str) -> None:
        while length:
            n = fh.readinto(self.view[self.pos:self.pos + min(BLOCK_SIZE - self.pos, length)])
            if not n:
                raise BadRequest(f"{name} changed while it was being packaged; package it again.")
            self._advance(n)
            length -= n

    def _advance(self, n: int) -> None:
        self.pos += n
        self.total += n
        if self.pos == BLOCK_SIZE:
            self.flush()

    def flush(self) -> None:
        if self.pos:
            self.sink.write(self.view[:self.pos])  # the writer copies before returning
            self.pos = 0
            if self.progress:
                self.progress(self.total)  # may raise to cancel


def _parent_dirs(files: dict[str, Path]) -> set[str]:
    """The folders of the archive's entries (each gets an entry of its own)."""
    return {str(p) for name in files for p in PurePosixPath(name).parents if str(p) != "."}


def archive_input_size(files: dict[str, Path]) -> int:
    """The bytes ``write_archive`` feeds the compressor for ``files`` (what its progress counts
    up to): the files plus an upper estimate of the tar framing."""
    dirs = _parent_dirs(files)
    sizes = [Path(src).stat().st_size for src in files.values()]
    return sum(-(-n // tarfile.BLOCKSIZE) * tarfile.BLOCKSIZE for n in sizes) + \
        2 * tarfile.BLOCKSIZE * (len(files) + len(dirs)) + tarfile.RECORDSIZE


def write_archive(out: Union[Path, BinaryIO], files: dict[str, Path], threads: Optional[int] = None,
                  level: int = COMPRESS_LEVEL, progress: Optional[Callable[[int], None]] = None) -> None:
    """Write ``{archive name: source file}`` as a reproducible ``.tar.gz`` at ``out`` (a path,
    or a binary file object: see ``archive_chunks``).

    Parent directories get their own entries; everything is sorted by name. The tar framing
    (PAX headers, 512-byte padding, two zero blocks, 10 KiB record) is what ``tarfile`` writes.
    ``progress(bytes_in)`` is called after each 1 MiB block given to the compressor; raising
    from it stops the archive there.
    """
    dirs = _parent_dirs(files)
    entries = sorted([(d, None) for d in dirs] + list(files.items()))
    with open_gzip_writer(out, threads, level) as gz:
        blocks = _BlockWriter(getattr(gz, "raw", gz), progress)
        for name, source in entries:
            if source is None:
                blocks.write(_tarinfo(name, directory=True).tobuf(tarfile.PAX_FORMAT, "utf-8", "surrogateescape"))
                continue
            with open(source, "rb") as fh:
                size = os.fstat(fh.fileno()).st_size
                blocks.write(_tarinfo(name, size=size).tobuf(tarfile.PAX_FORMAT, "utf-8", "surrogateescape"))
                blocks.copy_file(fh, size, name)
            blocks.write(tarfile.NUL * (-size % tarfile.BLOCKSIZE))
        blocks.write(tarfile.NUL * (2 * tarfile.BLOCKSIZE))
        blocks.write(tarfile.NUL * (-blocks.total % tarfile.RECORDSIZE))
        blocks.flush()


class _Stopped(Exception):
    """The consumer of ``archive_chunks`` went away: stop compressing."""


class _QueueSink:
    """A write-only file object handing compressed bytes to the consumer through a bounded queue."""

    def __init__(self, chunks: "queue.Queue", stopped: threading.Event):
        self.chunks, self.stopped = chunks, stopped

    def write(self, data) -> int:
        data = bytes(data)
        while True:
            if self.stopped.is_set():
                raise _Stopped()
            try:
                self.chunks.put(data, timeout=0.1)
                return len(data)
            except queue.Full:
                continue

    def flush(self) -> None:
        pass


_END = object()


def archive_chunks(files: dict[str, Path], *, progress: Optional[Callable[[int], None]] = None,
                   buffered: int = 16) -> Iterator[bytes]:
    """The bytes of ``write_archive(files)`` as they are compressed, for uploading while packaging.

    Compression runs in a thread; at most ``buffered`` compressed blocks (~1 MiB of input each)
    wait for the consumer, so memory stays bounded whatever the model's size. Closing the
    iterator early (or an exception in the consumer) stops the compression. Errors of the
    archive writer (a file changed or vanished) are raised to the consumer.
    """
    chunks: "queue.Queue" = queue.Queue(maxsize=buffered)
    stopped = threading.Event()

    def on_block(done: int) -> None:
        if stopped.is_set():
            raise _Stopped()
        if progress:
            progress(done)

    def produce() -> None:
        try:
            write_archive(_QueueSink(chunks, stopped), files, progress=on_block)
            item: object = _END
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer
            item = exc
        while not stopped.is_set():
            try:
                chunks.put(item, timeout=0.1)
                return
            except queue.Full:
                continue

    worker = threading.Thread(target=produce, name="smops-archive", daemon=True)
    worker.start()
    try:
        while True:
            item = chunks.get()
            if item is _END:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stopped.set()
        worker.join()


# -- reading untrusted archives ---------------------------------------------------------------

GIB = 1 << 30
MIB = 1 << 20


@dataclass(frozen=True)
class ArchiveLimits:
    """What an untrusted ``.tar.gz`` may unpack to; each limit is checked from the tar headers
    before the entry's bytes are written, so a bomb is refused having written almost nothing.

    ``max_bytes`` (10 GiB): scikit-learn's container loads the whole model into memory, so an
    artifact unpacking to more than the memory of the instances it is deployed on cannot serve;
    10 GiB is 50 times the largest model in bench/ (200 MB) and well beyond any model the
    default instance types (up to 16 GiB of memory) could load. ``max_ratio`` (200:1): measured
    with the ISA-L level this project packs with, zeros pack 1030:1 (deflate's ceiling), a
    float64 array of 99% zeros 48:1, of 99.9% zeros 183:1, a pickled random forest 3.7:1; the ratio is
    only judged past ``ratio_floor`` (64 MiB) of unpacked bytes, so small, very regular files
    (a config, a tiny pickle) never trip it. ``max_entries`` (10,000): a model is a few files;
    tens of thousands of entries only cost inodes and time.
    """

    max_bytes: int = 10 * GIB
    max_ratio: float = 200.0
    max_entries: int = 10_000
    ratio_floor: int = 64 * MIB

    @classmethod
    def from_env(cls) -> "ArchiveLimits":
        """The limits the ``SMOPS_ARCHIVE_*`` variables set (the defaults when they are unset)."""
        def read(var: str, kind, fallback):
            value = os.environ.get(var)
            try:
                return kind(value) if value not in (None, "") else fallback
            except ValueError:
                raise BadRequest(f"{var}={value!r} is not a number; set it to a number or unset it.") from None

        return cls(max_bytes=read("SMOPS_ARCHIVE_MAX_BYTES", int, cls.max_bytes),
                   max_ratio=read("SMOPS_ARCHIVE_MAX_RATIO", float, cls.max_ratio),
                   max_entries=read("SMOPS_ARCHIVE_MAX_ENTRIES", int, cls.max_entries))


class _Budget:
    """Counts entries and unpacked bytes against ``ArchiveLimits`` as the headers stream by."""

    def __init__(self, name: str, limits: ArchiveLimits, packed: int):
        self.name, self.limits, self.packed = name, limits, max(packed, 1)
        self.entries = 0
        self.unpacked = 0

    def admit(self, member: tarfile.TarInfo) -> None:
        """Raise ``InvalidArtifact`` when ``member`` would break a limit (its bytes are not read yet)."""
        lim = self.limits
        self.entries += 1
        if self.entries > lim.max_entries:
            self._refuse(f"it has more than {lim.max_entries:,} entries", "SMOPS_ARCHIVE_MAX_ENTRIES",
                         "archive_max_entries", "a model needs a few files")
        if member.isfile():
            self.unpacked += member.size
        if self.unpacked > lim.max_bytes:
            self._refuse(f"it unpacks to more than {_size(lim.max_bytes)} (at least {_size(self.unpacked)}, "
                         f"at {member.name!r})", "SMOPS_ARCHIVE_MAX_BYTES", "archive_max_bytes",
                         "the limit is in bytes")
        ratio = self.unpacked / self.packed
        if self.unpacked > lim.ratio_floor and ratio > lim.max_ratio:
            self._refuse(f"it unpacks to at least {_size(self.unpacked)} from {_size(self.packed)} "
                         f"(a compression ratio of {ratio:,.0f}:1, above the {lim.max_ratio:g}:1 allowed; "
                         f"at {member.name!r})", "SMOPS_ARCHIVE_MAX_RATIO", "archive_max_ratio",
                         "a model made mostly of zeros compresses this well")

    def _refuse(self, why: str, var: str, trait: str, note: str) -> None:
        message = (f"{self.name} was refused as a possible archive bomb: {why}. If the model really is "
                   f"like this ({note}), raise the limit with {var} (or c.SmopsConfig.{trait}) where "
                   f"it is validated and deployed.")
        raise InvalidArtifact(message, [Check("archive-safe", False, message)])


def _size(n: int) -> str:
    if n >= GIB:
        return f"{n / GIB:.1f} GiB"
    if n >= MIB:
        return f"{n / MIB:.1f} MiB"
    return f"{n:,} bytes"


def _member_problem(member: tarfile.TarInfo) -> Optional[str]:
    """Why a member may not be extracted, or None when it is a plain file or directory."""
    name = member.name
    path = PurePosixPath(name)
    if name.startswith(("/", "\\")) or path.is_absolute() or (len(name) > 1 and name[1] == ":"):
        return f"{name!r} is an absolute path"
    if ".." in path.parts or ".." in PurePosixPath(name.replace("\\", "/")).parts:
        return f"{name!r} leaves the archive ('..')"
    if member.issym():
        return f"{name!r} is a symbolic link (to {member.linkname!r})"
    if member.islnk():
        return f"{name!r} is a hard link (to {member.linkname!r})"
    if member.isdev():
        return f"{name!r} is a device or FIFO"
    if not (member.isfile() or member.isdir()):
        return f"{name!r} is not a regular file or directory"
    return None


def _open_tar_stream(tar_path: Path):
    """(raw file, tarfile in stream mode); ISA-L decompresses several times faster than zlib."""
    from isal import igzip

    raw = open(tar_path, "rb")
    try:
        magic = raw.read(2)
        raw.seek(0)
        if magic != _GZIP_MAGIC:
            message = (f"{tar_path.name} is not gzip-compressed: SageMaker needs a .tar.gz. "
                       f"Build it with %smops package or tarfile.open(..., 'w:gz').")
            raise InvalidArtifact(message, [Check("archive-safe", False, message)])
        # 256 KiB reads: tarfile's defaults (10 KiB records, 16 KiB copies) halve the speed.
        return raw, tarfile.open(fileobj=igzip.IGzipFile(fileobj=raw, mode="rb"), mode="r|",
                                 bufsize=_EXTRACT_BUFSIZE, copybufsize=_EXTRACT_BUFSIZE)
    except BaseException:
        raw.close()
        raise


def _unreadable_errors() -> tuple:
    """Errors meaning the bytes are not a .tar.gz (not, say, a full disk while extracting)."""
    from isal import igzip, isal_zlib

    return tarfile.TarError, EOFError, igzip.BadGzipFile, isal_zlib.error


def safe_extract(tar_path: Path, dest: Path, limits: Optional[ArchiveLimits] = None) -> list[tarfile.TarInfo]:
    """Extract a user's ``.tar.gz`` into ``dest``, refusing anything that could escape it.

    Absolute paths, ``..``, symbolic and hard links, devices and FIFOs are refused with an
    ``InvalidArtifact`` naming every such member (safe members may already be extracted then;
    ``dest`` should be a fresh temporary folder). tarfile's ``data`` filter is applied on top.
    ``limits`` (default: ``ArchiveLimits.from_env()``) cap entries, unpacked bytes and the
    compression ratio; each entry is checked from its header before its bytes are written.
    Returns the extracted members in archive order.
    """
    tar_path, dest = Path(tar_path), Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    problems: list[str] = []
    members: list[tarfile.TarInfo] = []
    budget = _Budget(tar_path.name, limits or ArchiveLimits.from_env(), tar_path.stat().st_size)
    try:
        raw, tar = _open_tar_stream(tar_path)
        with raw, tar:
            for member in tar:
                budget.admit(member)
                problem = _member_problem(member)
                if problem:
                    problems.append(problem)
                    continue
                try:
                    tar.extract(member, dest, **_DATA_FILTER)
                except getattr(tarfile, "FilterError", tarfile.ExtractError) as exc:
                    problems.append(f"{member.name!r}: {exc}")
                    continue
                members.append(member)
    except _unreadable_errors() as exc:
        message = (f"{tar_path.name} is not a readable .tar.gz ({type(exc).__name__}: {exc}). "
                   f"Rebuild it, e.g. with %smops package.")
        raise InvalidArtifact(message, [Check("archive-safe", False, message)]) from None
    if problems:
        message = (f"{tar_path.name} has unsafe entries, refused: " + "; ".join(problems)
                   + ". An artifact may hold only regular files and folders with relative paths.")
        raise InvalidArtifact(message, [Check("archive-safe", False, "; ".join(problems))])
    return members


def list_names(members: Iterable[tarfile.TarInfo]) -> dict[str, int]:
    """``{normalised file name: size}`` for the regular files among ``members``."""
    out = {}
    for m in members:
        if m.isfile():
            # PurePosixPath drops "./" prefixes, which hand-made archives often have.
            out[str(PurePosixPath(m.name))] = m.size
    return out
