"""Long operations (push, deploy, delete, cleanup) as jobs with progress, off the event loop.

A job is submitted with a function that takes the core's ``progress(phase, done, total)``
callback; it runs in a worker thread so the Jupyter server keeps answering while a large
artifact uploads. Jobs live in memory for the server's life: they are a view of work in
flight, never the source of truth for what exists (a restarted server asks the backends).
No tornado import here, so the job machinery is testable on its own.
"""
from __future__ import annotations

import itertools
import logging
import threading
import time
import uuid
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable, Optional

from ..core.errors import Conflict, NotFound, SmopsError
from ..core.types import Progress

log = logging.getLogger(__name__)

# Finished jobs kept for listing; the oldest finished ones go first past this many.
MAX_FINISHED_JOBS = 500


class JobCancelled(BaseException):
    """Raised from a job's progress callback once the server is stopping.

    A BaseException, like ``asyncio.CancelledError``: the core's rollbacks (``except
    BaseException``: remove the staging folder, abort the multipart upload, undo a half-made
    endpoint) run and re-raise it, and no ``except Exception`` on the way turns it into an error."""


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass
class Job:
    """One long operation: what it is, where it is, and how it ended."""

    id: str
    kind: str
    target: Optional[str] = None
    state: str = "running"
    phase: str = "queued"
    done: Optional[int] = None
    total: Optional[int] = None
    result: Any = None
    error: Optional[dict] = None
    created_at: str = field(default_factory=_now)
    updated_at: str = field(default_factory=_now)
    finished_at: Optional[str] = None
    seq: int = 0

    def to_dict(self) -> dict:
        return {
            "id": self.id, "kind": self.kind, "target": self.target, "state": self.state,
            "phase": self.phase, "progress": {"done": self.done, "total": self.total},
            "result": self.result, "error": self.error, "created_at": self.created_at,
            "updated_at": self.updated_at, "finished_at": self.finished_at,
        }


def _to_json(value: Any) -> Any:
    """Results of the core are frozen dataclasses with ``to_dict``; lists of them too."""
    if hasattr(value, "to_dict"):
        return value.to_dict()
    if isinstance(value, (list, tuple)):
        return [_to_json(v) for v in value]
    return value


class JobManager:
    """Runs jobs in a thread pool and keeps their state; thread-safe.

    ``call_pool`` is a separate small pool for the short synchronous calls handlers make
    (listings, describe, invoke), so a queue of long jobs never delays a panel refresh.
    """

    def __init__(self, max_workers: int = 4, call_workers: int = 8):
        self._pool = ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="smops-job")
        self.call_pool = ThreadPoolExecutor(max_workers=call_workers, thread_name_prefix="smops-call")
        self._jobs: dict[str, Job] = {}
        self._futures: dict[str, Future] = {}
        self._lock = threading.Lock()
        self._seq = itertools.count()
        self._closed = False  # no new jobs (the server is stopping)
        self._cancelling = False  # running jobs stop at their next progress report

    # -- submitting ---------------------------------------------------------------------
    def submit(self, kind: str, fn: Callable[[Progress], Any], *, target: Optional[str] = None,
               exclusive: bool = False) -> Job:
        """Start ``fn(progress)`` as a job; with ``exclusive``, refuse while another running job
        of any kind works on the same ``target`` (two deploys of one endpoint name, say)."""
        with self._lock:
            if self._closed:
                raise Conflict("The Jupyter server is stopping and takes no new jobs; "
                               "run this again once it has restarted.")
            if exclusive and target is not None:
                for other in self._jobs.values():
                    if other.state == "running" and other.target == target:
                        raise Conflict(f"Job {other.id} ({other.kind}) is already working on {target!r}; "
                                       f"wait for it (GET /smops/api/jobs/{other.id}) and try again.")
            job = Job(id=uuid.uuid4().hex[:12], kind=kind, target=target, seq=next(self._seq))
            self._jobs[job.id] = job
            self._forget_old()
            # Under the lock, so shutdown() never sees a job whose work was not handed over.
            self._futures[job.id] = self._pool.submit(self._run, job, fn)
        return self.get(job.id)

    def _run(self, job: Job, fn: Callable[[Progress], Any]) -> None:
        def progress(phase: str, done: Optional[int] = None, total: Optional[int] = None) -> None:
            self._progress(job, phase, done, total)

        try:
            result = _to_json(fn(progress))
        except JobCancelled:
            log.warning("smops job %s (%s) cancelled: the server is stopping", job.id, job.kind)
            self._finish(job, "failed", error=_CANCELLED)
        except SmopsError as exc:
            log.info("smops job %s (%s) failed: %s", job.id, job.kind, exc.message)
            self._finish(job, "failed", error=exc.to_dict())
        except Exception:  # the traceback goes to the server log, never to a client
            log.exception("smops job %s (%s) failed unexpectedly", job.id, job.kind)
            self._finish(job, "failed", error={
                "code": "InternalError",
                "message": f"The {job.kind} failed unexpectedly; the Jupyter server log has the details "
                           f"(search for job {job.id}). Try again, or report it if it repeats."})
        else:
            self._finish(job, "succeeded", result=result)
        finally:
            with self._lock:
                self._futures.pop(job.id, None)

    def _progress(self, job: Job, phase: str, done: Optional[int], total: Optional[int]) -> None:
        if self._cancelling:
            raise JobCancelled()
        with self._lock:
            if job.state != "running":
                return
            if phase == job.phase and total == job.total and done is not None and job.done is not None:
                # Multipart uploads report from several threads: never let a late callback
                # move the bar backwards within one phase.
                done = max(done, job.done)
            job.phase, job.done, job.total = phase, done, total
            job.updated_at = _now()

    def _finish(self, job: Job, state: str, *, result: Any = None, error: Optional[dict] = None) -> None:
        with self._lock:
            job.state, job.result, job.error = state, result, error
            if state == "succeeded" and job.total is not None:
                job.done = job.total
            job.phase = "done" if state == "succeeded" else job.phase
            job.finished_at = job.updated_at = _now()

    def _forget_old(self) -> None:
        finished = [j for j in self._jobs.values() if j.state != "running"]
        for job in sorted(finished, key=lambda j: j.seq)[:max(0, len(finished) - MAX_FINISHED_JOBS)]:
            del self._jobs[job.id]

    # -- reading ------------------------------------------------------------------------
    def get(self, job_id: str) -> Job:
        """A snapshot copy of one job; NotFound for an unknown id (or one from before a restart)."""
        with self._lock:
            job = self._jobs.get(job_id)
            if job is None:
                raise NotFound(f"No job {job_id!r}. Jobs are kept in memory until the Jupyter server "
                               f"restarts; list them with GET /smops/api/jobs, and check endpoints "
                               f"and models directly for what exists.")
            return Job(**job.__dict__)

    def list(self) -> list[Job]:
        """Every job, newest first."""
        with self._lock:
            jobs = [Job(**j.__dict__) for j in self._jobs.values()]
        return sorted(jobs, key=lambda j: j.seq, reverse=True)

    def running_for(self, target: str) -> Optional[Job]:
        with self._lock:
            for job in self._jobs.values():
                if job.state == "running" and job.target == target:
                    return Job(**job.__dict__)
        return None

    def wait(self, job_id: str, timeout: float = 30.0) -> Job:
        """Block until a job finishes (tests; never on the event loop)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            job = self.get(job_id)
            if job.state != "running":
                return job
            time.sleep(0.02)
        return self.get(job_id)

    def shutdown(self, grace: float = 10.0, rollback: float = 30.0) -> None:
        """Stop with the server: refuse new jobs, drop queued ones, give running ones ``grace``
        seconds to finish, then cancel them at their next progress report (the core rolls back
        what they started) and wait up to ``rollback`` seconds for that. A job that reports no
        progress cannot be interrupted; Python still waits for its thread when the server exits."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            queued = [jid for jid, f in self._futures.items() if f.cancel()]
        self._pool.shutdown(wait=False, cancel_futures=True)
        self.call_pool.shutdown(wait=False, cancel_futures=True)
        for job_id in queued:
            with self._lock:
                job = self._jobs.get(job_id)
                self._futures.pop(job_id, None)
            if job is not None:
                self._finish(job, "failed", error=_CANCELLED)
        if not self._wait_running(grace):
            self._cancelling = True
            if not self._wait_running(rollback):
                log.warning("smops: %d job(s) still running after the server stopped them",
                            sum(1 for j in self.list() if j.state == "running"))

    def _wait_running(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while any(j.state == "running" for j in self.list()):
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.05)
        return True


_CANCELLED = {"code": "Cancelled",
              "message": "The Jupyter server stopped before this job finished; what it had started was "
                         "rolled back. Run it again."}
