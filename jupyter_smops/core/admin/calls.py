"""How admin operations reach AWS: one ``call(service, Operation, **params)`` for everything.

Every admin step goes through a *caller*. ``LiveCaller`` makes the call with boto3 (clients
from ``core.aws``); ``PlanCaller`` (``plan.py``) records it instead, so a dry run prints
exactly the calls a real run would make. Keeping the AWS surface to this one method is what
makes both the dry run and the per-operation routing in tests (moto or a stub) possible.
"""
from __future__ import annotations

import time
from typing import Any, Callable, Iterator, Optional

from ..errors import NotFound, SmopsError, Timeout, UpstreamError

# Error codes meaning "it does not exist" across IAM, SageMaker, S3 and EC2.
_NOT_FOUND_CODES = {"NoSuchEntity", "ResourceNotFound", "ResourceNotFoundException", "NoSuchBucket",
                    "NotFound", "404", "NoSuchTagSet", "NoSuchLifecycleConfiguration"}
# SageMaker answers some "not found" cases with a ValidationException and a sentence.
_NOT_FOUND_WORDS = ("could not find", "does not exist", "not found", "cannot be found")


def error_code(exc: BaseException) -> str:
    """The AWS error code of a botocore ClientError ('' otherwise)."""
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        return str(response.get("Error", {}).get("Code") or "")
    return ""


def is_not_found(exc: BaseException) -> bool:
    """True when an AWS error says the resource does not exist."""
    code = error_code(exc)
    if code in _NOT_FOUND_CODES:
        return True
    message = str(getattr(exc, "response", {}).get("Error", {}).get("Message", "")).lower()
    return code in ("ValidationException", "ValidationError") and any(w in message for w in _NOT_FOUND_WORDS)


def describe_call(service: str, operation: str, params: dict) -> str:
    """``service.Operation {params}``: how the plan and the logs show one call."""
    import json

    return f"{service}.{operation} {json.dumps(params, sort_keys=True, default=str)}"


class Caller:
    """The interface of live and planned callers (see the module docstring)."""

    dry_run = False

    def __init__(self, progress: Optional[Callable[[str], None]] = None):
        self.progress = progress or (lambda message: None)
        self.calls: list[tuple[str, str, dict]] = []  # every call made or planned, in order

    def call(self, service: str, operation: str, **params: Any) -> dict:  # pragma: no cover - interface
        raise NotImplementedError

    def assume(self, responses: dict) -> None:
        """Plan-only: answers to reads a dry run cannot make (ignored by a live caller)."""

    def find(self, service: str, operation: str, **params: Any) -> Optional[dict]:
        """``call`` that returns None when the resource does not exist."""
        try:
            return self.call(service, operation, **params)
        except NotFound:
            return None

    def pages(self, service: str, operation: str, key: str, **params: Any) -> Iterator[dict]:
        """Every item of a paginated list (SageMaker's NextToken and IAM's Marker)."""
        while True:
            page = self.call(service, operation, **params)
            yield from page.get(key, []) or []
            if page.get("NextToken"):
                params["NextToken"] = page["NextToken"]
            elif page.get("IsTruncated") and page.get("Marker"):
                params["Marker"] = page["Marker"]
            else:
                return

    def wait(self, label: str, service: str, operation: str, params: dict, *,
             state: Callable[[Optional[dict]], str], done: set, failed: set = frozenset(),
             timeout: float = 1800.0, interval: float = 10.0) -> str:
        """Poll ``operation`` until ``state(response)`` is in ``done``; a missing resource is
        state ``"Deleted"``. Progress goes to ``self.progress``; a state in ``failed`` or the
        timeout raises."""
        raise NotImplementedError  # pragma: no cover - interface


class LiveCaller(Caller):
    """Makes the calls with boto3. ``route(service, operation)`` may return the client to use
    (tests route each operation to moto or to a stubbed client); else ``clients.client``."""

    def __init__(self, clients=None, *, region: Optional[str] = None,
                 route: Optional[Callable[[str, str], Any]] = None,
                 progress: Optional[Callable[[str], None]] = None,
                 sleep: Callable[[float], None] = time.sleep, clock: Callable[[], float] = time.monotonic):
        super().__init__(progress)
        if clients is None and route is None:
            from ..aws import AwsClients

            clients = AwsClients(region)
        self.clients = clients
        self.route = route
        self.sleep, self.clock = sleep, clock

    def _client(self, service: str, operation: str):
        if self.route is not None:
            client = self.route(service, operation)
            if client is not None:
                return client
        return self.clients.client(service)

    def call(self, service: str, operation: str, **params: Any) -> dict:
        from botocore import xform_name
        from botocore.exceptions import BotoCoreError, ClientError

        from ..aws import translate

        self.calls.append((service, operation, params))
        try:
            client = self._client(service, operation)
            response = getattr(client, xform_name(operation))(**params)
        except ClientError as exc:
            if is_not_found(exc):
                said = str(exc.response.get("Error", {}).get("Message") or "not found").rstrip(".")
                raise NotFound(f"{service}.{operation} failed: {said}.", code=error_code(exc) or "NotFound") from exc
            raise translate(exc, f"{service}.{operation}", service) from exc
        except BotoCoreError as exc:
            raise translate(exc, f"{service}.{operation}", service) from exc
        response = dict(response or {})
        response.pop("ResponseMetadata", None)
        return response

    def wait(self, label, service, operation, params, *, state, done, failed=frozenset(),
             timeout=1800.0, interval=10.0):
        start = self.clock()
        last = None
        while True:
            current = state(self.find(service, operation, **params))
            elapsed = int(self.clock() - start)
            if current != last:
                self.progress(f"{label}: {current} ({elapsed} s)")
                last = current
            if current in done:
                return current
            if current in failed:
                raise UpstreamError(f"{label} ended in state {current}. Look at the resource in the SageMaker "
                                    f"console (its FailureReason), fix the cause and run the command again.")
            if self.clock() - start > timeout:
                raise Timeout(f"{label} is still {current} after {int(timeout)} s. Run the command again later: "
                              f"every step is skipped when already done.")
            self.sleep(interval)


def with_steps_done(exc: SmopsError, report) -> SmopsError:
    """``exc`` with the steps finished before it appended, so a failed run still says what it did."""
    done = [step.render() for step in report.steps]
    if done:
        exc.message = (f"{exc.message}\nDone before this failure (run the command again once fixed: finished "
                       f"steps are skipped):\n" + "\n".join(done))
        exc.args = (exc.message,)
    return exc


def state_of(key: str = "Status") -> Callable[[Optional[dict]], str]:
    """A ``state`` function for ``wait``: the response's ``key``, or ``"Deleted"`` when it no longer exists."""

    def read(response: Optional[dict]) -> str:
        if response is None:
            return "Deleted"
        return str(response.get(key) or "Unknown")

    return read


__all__ = ["Caller", "LiveCaller", "describe_call", "with_steps_done", "error_code", "is_not_found", "state_of"]
