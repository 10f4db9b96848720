"""Uploads for the S3 registry: a file through boto3's transfer manager, or a stream of bytes
as it is produced. Both send SHA-256 checksums that S3 verifies, tag the object, report
progress, and abort their multipart upload when anything fails (including a progress callback
raising, which is how a caller cancels)."""
from __future__ import annotations

import base64
import hashlib
import threading
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from pathlib import Path
from typing import Callable, Iterable, Optional

from ..aws import aws_errors
from ..errors import UpstreamError
from ..types import PackageResult
from ..types import Progress

MIB = 1024 * 1024
PART_SIZE = 16 * MIB
# Streamed parts: 8 MiB parts would start sooner, but measured slower end to end (more requests).
STREAM_PART_SIZE = PART_SIZE
MAX_PARTS = 9000  # S3 allows 10,000 parts; keep a margin
CONCURRENCY = 8


def part_size_for(size: Optional[int]) -> int:
    """16 MiB parts, larger when needed to stay under S3's part-count limit."""
    if not size:
        return PART_SIZE
    needed = -(-size // MAX_PARTS)
    return max(PART_SIZE, -(-needed // MIB) * MIB)


def transfer_config(size: Optional[int] = None):
    """A TransferConfig tuned for artifacts: 16 MiB parts, 8 in flight."""
    from boto3.s3.transfer import TransferConfig

    part = part_size_for(size)
    return TransferConfig(multipart_threshold=part, multipart_chunksize=part, max_concurrency=CONCURRENCY,
                          use_threads=True)


class _Progress:
    """Sums the transfer manager's per-part byte counts (called from its worker threads)."""

    def __init__(self, progress: Progress, total: int):
        self.progress, self.total, self.done = progress, total, 0
        self.lock = threading.Lock()

    def __call__(self, amount: int) -> None:
        with self.lock:
            self.done += amount
            done = self.done
        self.progress("uploading", min(done, self.total), self.total)


def upload_file(registry, path: Path, key: str, package: PackageResult, *, owner: str, name: str,
                version: int, progress: Progress) -> None:
    """Upload ``path`` to ``key`` (multipart above 16 MiB) with checksums, tags and progress."""
    from s3transfer.manager import TransferManager
    from s3transfer.subscribers import BaseSubscriber

    size = path.stat().st_size
    if package.size and size != package.size:
        raise UpstreamError(f"{path} changed after it was packaged ({size} bytes, expected {package.size}); "
                            f"package it again.")
    config = transfer_config(size)
    extra = {"ChecksumAlgorithm": "SHA256", "Tagging": registry.tagging(owner, name, version),
             "ContentType": "application/gzip", "Metadata": {"sha256": package.sha256}}
    if size < config.multipart_threshold and package.sha256:
        # One PUT: S3 checks the whole object against the package's own sha256.
        extra["ChecksumSHA256"] = checksum_b64(package.sha256)
    counter = _Progress(progress, size)
    failed: list[BaseException] = []

    class Subscriber(BaseSubscriber):
        def on_progress(self, future, bytes_transferred, **kwargs):
            # Raising here would only break the HTTP body being sent; failing the transfer future
            # instead makes s3transfer stop every part and abort the multipart upload.
            try:
                counter(bytes_transferred)
            except BaseException as exc:  # noqa: BLE001 - a callback may cancel with anything
                if not failed:
                    failed.append(exc)
                    future.cancel()

    with aws_errors(f"uploading {name}:{version} ({size:,} bytes)", "s3"):
        with TransferManager(registry.s3, config) as manager:
            future = manager.upload(str(path), registry.bucket, key, extra_args=extra, subscribers=[Subscriber()])
            try:
                future.result()
            except BaseException:
                future.cancel()
                if failed:  # the callback's own exception, not s3transfer's CancelledError
                    raise failed[0] from None
                raise
        if failed:
            raise failed[0]
        head = registry.s3.head_object(Bucket=registry.bucket, Key=key)
    if head["ContentLength"] != size:
        raise UpstreamError(f"S3 holds {head['ContentLength']:,} bytes for {name}:{version}, {size:,} were sent; "
                            f"push again.")


def checksum_b64(hex_sha256: str) -> str:
    """S3's ``ChecksumSHA256`` form (base64 of the digest) of a hex sha256."""
    return base64.b64encode(bytes.fromhex(hex_sha256)).decode()


def _rechunk(chunks: Iterable[bytes], size: int) -> Iterable[bytes]:
    """Regroup arbitrary chunks into parts of exactly ``size`` bytes (the last may be shorter)."""
    buf = bytearray()
    for chunk in chunks:
        buf += chunk
        while len(buf) >= size:
            yield bytes(buf[:size])
            del buf[:size]
    if buf:
        yield bytes(buf)


def upload_stream(registry, chunks: Iterable[bytes], key: str, *, owner: str, name: str, version: int,
                  progress: Progress, part_size: int = STREAM_PART_SIZE,
                  before_complete: Optional[Callable[[], None]] = None) -> tuple[str, int]:
    """Multipart-upload bytes as they arrive; returns (sha256 hex, size).

    At most ``CONCURRENCY`` parts are in flight, so memory stays bounded however large the
    artifact; the sha256 is computed in order while parts upload in parallel. Every part is
    stored before ``before_complete()`` runs; if it raises, the upload is aborted instead of
    completed (the object never exists).
    """
    s3, bucket = registry.s3, registry.bucket
    with aws_errors(f"starting the upload of {name}:{version}", "s3"):
        upload_id = s3.create_multipart_upload(
            Bucket=bucket, Key=key, ChecksumAlgorithm="SHA256", ContentType="application/gzip",
            Tagging=registry.tagging(owner, name, version))["UploadId"]
    digest, size, parts = hashlib.sha256(), 0, {}
    counter = _Progress(progress, 0)
    try:
        with ThreadPoolExecutor(max_workers=CONCURRENCY) as pool:
            pending: set[Future] = set()
            for number, body in enumerate(_rechunk(chunks, part_size), start=1):
                digest.update(body)
                size += len(body)
                counter.total = size  # the total grows as the producer goes
                while len(pending) >= CONCURRENCY:
                    done, pending = wait(pending, return_when=FIRST_COMPLETED)
                    for f in done:
                        f.result()
                pending.add(pool.submit(_upload_part, s3, bucket, key, upload_id, number, body, parts, counter))
            for f in pending:
                f.result()
        if before_complete:
            before_complete()
        meta = {"Parts": [parts[n] for n in sorted(parts)]}
        with aws_errors(f"completing the upload of {name}:{version}", "s3"):
            s3.complete_multipart_upload(Bucket=bucket, Key=key, UploadId=upload_id, MultipartUpload=meta)
    except BaseException:
        try:
            s3.abort_multipart_upload(Bucket=bucket, Key=key, UploadId=upload_id)
        except Exception:  # noqa: BLE001 - the registry's rollback sweeps what is left
            pass
        raise
    return digest.hexdigest(), size


def _upload_part(s3, bucket, key, upload_id, number, body, parts, counter) -> None:
    with aws_errors(f"uploading part {number}", "s3"):
        answer = s3.upload_part(Bucket=bucket, Key=key, UploadId=upload_id, PartNumber=number, Body=body,
                                ChecksumAlgorithm="SHA256")
    parts[number] = {"PartNumber": number, "ETag": answer["ETag"], "ChecksumSHA256": answer["ChecksumSHA256"]}
    counter(len(body))


def abort_uploads(registry, prefix: str, older_than: Optional[float] = None) -> list[str]:
    """Abort the multipart uploads under ``prefix`` (only those older than ``older_than`` seconds)."""
    from datetime import datetime, timedelta, timezone

    cutoff = datetime.now(timezone.utc) - timedelta(seconds=older_than or 0)
    aborted = []
    pages = registry.s3.get_paginator("list_multipart_uploads").paginate(Bucket=registry.bucket, Prefix=prefix)
    for page in pages:
        for upload in page.get("Uploads", []):
            if older_than is None or upload["Initiated"] <= cutoff:
                registry.s3.abort_multipart_upload(Bucket=registry.bucket, Key=upload["Key"],
                                                   UploadId=upload["UploadId"])
                aborted.append(upload["Key"])
    return aborted
