"""Errors of the core: each has a stable ``code``, an HTTP-like ``status`` and a message that
says what to do next. Faces render them; they never show a traceback to the user."""
from __future__ import annotations

from typing import Any


class SmopsError(Exception):
    """Base of every error the core raises on purpose."""

    status = 500
    code = "InternalError"

    def __init__(self, message: str, *, code: str | None = None, details: Any = None):
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        self.details = details

    def to_dict(self) -> dict:
        """The JSON body faces send: ``{"code", "message"}`` plus details when present."""
        body: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.details is not None:
            body["details"] = self.details
        return body

    def __str__(self) -> str:  # what magics and the CLI print
        return self.message


class BadRequest(SmopsError):
    status = 400
    code = "BadRequest"


class AccessDenied(SmopsError):
    status = 403
    code = "AccessDenied"


class NotFound(SmopsError):
    status = 404
    code = "NotFound"


class Conflict(SmopsError):
    status = 409
    code = "Conflict"


class PayloadTooLarge(SmopsError):
    status = 413
    code = "PayloadTooLarge"


class InvalidArtifact(SmopsError):
    """The artifact failed validation; ``details`` holds the list of checks."""

    status = 422
    code = "InvalidArtifact"

    def __init__(self, message: str, checks: list | None = None, **kw: Any):
        super().__init__(message, details={"checks": [c.to_dict() if hasattr(c, "to_dict") else c for c in (checks or [])]}, **kw)
        self.checks = list(checks or [])


class ModelError(SmopsError):
    """The model container answered with an error (SageMaker's ``ModelError``)."""

    status = 424
    code = "ModelError"

    def __init__(self, message: str, *, original_status: int = 500, log_stream: str | None = None, **kw: Any):
        super().__init__(message, details={"original_status": original_status, "log_stream": log_stream}, **kw)
        self.original_status = original_status
        self.log_stream = log_stream


class UpstreamError(SmopsError):
    """AWS or a local model process failed in a way the user did not cause directly."""

    status = 502
    code = "UpstreamError"


class Timeout(SmopsError):
    status = 504
    code = "Timeout"
