"""The base of every smops handler: services, authentication, JSON in and out, errors mapped once."""
from __future__ import annotations

import json
import re
from http import HTTPStatus
from typing import Any, Callable, TypeVar

from jupyter_core.utils import ensure_async
from jupyter_server.auth.decorator import authorized
from jupyter_server.auth.utils import HTTP_METHOD_TO_AUTH_ACTION
from jupyter_server.base.handlers import APIHandler
from tornado import web

from ..core.api import Smops
from ..core.errors import BadRequest, NotFound, PayloadTooLarge, SmopsError
from ..core.limits import MAX_PAYLOAD_BYTES
from .jobs import Job, JobManager
from .paths import os_error_as_client_error, relative_to_root, resolve_in_root
from .requests import parse

T = TypeVar("T")

# Codes for errors raised by Jupyter Server or tornado themselves (auth, XSRF, 404 routes...).
_HTTP_CODES = {400: "BadRequest", 403: "Forbidden", 404: "NotFound", 405: "MethodNotAllowed",
               409: "Conflict", 413: "PayloadTooLarge", 415: "UnsupportedMediaType"}
_HTTP_HINTS = {
    403: "Jupyter refused the request: send the server's token (Authorization: token ...) or the "
         "_xsrf cookie and X-XSRFToken header on POST/DELETE, and check your permissions.",
    405: "This route does not take that method; see docs/openapi.yaml.",
}
# Whatever a message carries, it must never echo AWS key material.
_SECRETS = re.compile(r"\b(AKIA|ASIA)[A-Z0-9]{16}\b|(?i:(secret|session)[_ -]?(access[_ -]?)?(key|token)\s*[=:]\s*)\S+")
# Browsers' fetch() sends text/plain for string bodies; JupyterLab's client sends JSON.
_JSON_TYPES = ("application/json", "text/plain")
# A JSON request is a few fields and at most one sample input, which must fit in one invocation.
MAX_JSON_BODY = MAX_PAYLOAD_BYTES
# The body of a refused request is read and dropped up to this much before the connection
# closes, so a client still sending reads the 4xx instead of a connection reset (closing a
# socket with unread input makes the kernel send RST). Past it the connection is simply closed.
MAX_DRAIN = 64 * 1024 * 1024


def redact(message: str) -> str:
    return _SECRETS.sub("[redacted]", message)


@web.stream_request_body
class SmopsHandler(APIHandler):
    """Every route subclasses this: ``auth_resource`` names our resource for ``@authorized``.

    Bodies stream in (``data_received``): ``prepare()`` decides on the headers alone (Jupyter's
    authentication and XSRF, then the route's ``max_body``), so a refused request is answered
    before its body is read, with the usual JSON error, and the rest of its body is read and
    dropped (up to ``MAX_DRAIN``) so that every client can read that answer. At most
    ``max_body`` bytes are ever held."""

    auth_resource = "smops"
    max_body = MAX_JSON_BODY

    def initialize(self, smops: Smops, jobs: JobManager, root_dir: str) -> None:
        self.smops = smops
        self.jobs = jobs
        self.root_dir = root_dir

    async def authorize_now(self) -> None:
        """What ``@web.authenticated`` and ``@authorized`` check, for a ``prepare()`` that must
        decide before the body is read (streaming handlers): anonymous or unauthorized callers
        get the same 403 as on every other route, and learn nothing else."""
        user = self.current_user
        if not user:
            raise web.HTTPError(403)
        action = HTTP_METHOD_TO_AUTH_ACTION[self.request.method.upper()]
        if not await ensure_async(self.authorizer.is_authorized(self, user, action, self.auth_resource)):
            raise web.HTTPError(403, f"User is not authorized to {action} on resource: {self.auth_resource}.")

    async def prepare(self) -> None:
        self._body = bytearray()
        self._refused = False
        self._dropped = 0
        # Our limits (below) apply as the body arrives; the server-wide max_body_size would
        # answer a bare 400 with no JSON before them.
        if hasattr(self.request.connection, "set_max_body_size"):
            self.request.connection.set_max_body_size(2 ** 62)
        try:
            await super().prepare()  # Jupyter's authentication and XSRF rules
            await self.authorize_now()  # before the size check: strangers learn nothing about limits
            length = self.request.headers.get("Content-Length", "").strip()
            if length.isdigit():
                self.check_body_size(int(length), so_far=False)
        except (web.HTTPError, SmopsError) as exc:
            self.refuse(exc)

    def too_large(self, size: int, *, so_far: bool) -> SmopsError:
        """The 413 for a body of ``size`` bytes (``so_far``: still arriving); routes with another
        limit (invocations) override it with theirs."""
        amount = f"more than {self.max_body:,}" if so_far else f"{size:,}"
        return PayloadTooLarge(f"The request body is {amount} bytes; this route takes a JSON object of at most "
                               f"{self.max_body:,} bytes (6 MiB). A sample input must fit in one invocation: "
                               f"send a few rows, not the whole dataset.")

    def check_body_size(self, size: int, *, so_far: bool) -> None:
        if size > self.max_body:
            raise self.too_large(size, so_far=so_far)

    def data_received(self, chunk: bytes) -> None:
        if self._refused:
            self._dropped += len(chunk)
            if self._dropped > MAX_DRAIN:
                self.request.connection.close()
            return
        if self._finished:
            return
        try:
            self.check_body_size(len(self._body) + len(chunk), so_far=True)
        except SmopsError as exc:
            self._body = bytearray()
            self.refuse(exc)
            return
        self._body += chunk

    @property
    def body(self) -> bytes:
        """The request body (streamed in; empty when there was none)."""
        return bytes(self._body)

    def refuse(self, exc: Exception) -> None:
        """Answer ``exc`` before the body has been read (from ``prepare`` or ``data_received``).

        When no body is coming (none declared, or the client waits for ``100 Continue``) or too
        much to drain is declared, the answer is the usual error and the connection closes. Else
        the answer goes out at once with ``Connection: close`` and the body's rest is read and
        dropped; the route's method is replaced by one that closes the connection once it ends."""
        exc_info = (type(exc), exc, exc.__traceback__)
        headers = self.request.headers
        length = headers.get("Content-Length", "").strip()
        chunked = "chunked" in headers.get("Transfer-Encoding", "").lower()
        expects = headers.get("Expect", "").lower() == "100-continue"
        body_coming = chunked or (length.isdigit() and int(length) - len(self._body) - self._dropped > 0)
        if self._finished:
            return
        if not body_coming or expects or (length.isdigit() and int(length) > MAX_DRAIN) or self._headers_written:
            self.log_exception(*exc_info)
            self.send_error(getattr(exc, "status", None) or getattr(exc, "status_code", 500), exc_info=exc_info)
            return
        self.log_exception(*exc_info)
        status, payload = self.error_payload(exc)
        data = json.dumps({"error": payload}, default=str).encode()
        self.clear()
        self.set_status(status)
        self.set_header("Content-Type", "application/json")
        self.set_header("Content-Length", str(len(data)))
        self.set_header("Connection", "close")
        self.write(data)
        self.flush()
        self._refused = True
        # tornado calls the route's method once the body has ended; by then the answer is out.
        setattr(self, self.request.method.lower(), self._end_refused)

    async def _end_refused(self, *args: Any, **kwargs: Any) -> None:
        await self.flush()
        self.finish()
        self.request.connection.close()

    # -- input --------------------------------------------------------------------------
    def body_as(self, cls: type[T]) -> T:
        """The JSON body parsed into request model ``cls`` (400 on any problem)."""
        ctype = (self.request.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        if ctype and ctype not in _JSON_TYPES:
            raise web.HTTPError(415, f"This route takes a JSON body with Content-Type: application/json, "
                                     f"not {ctype}.")
        raw = self.body or b"{}"
        try:
            data = json.loads(raw.decode("utf-8"))
        except UnicodeDecodeError:
            raise BadRequest("The request body is not UTF-8 text; send a JSON object.") from None
        except ValueError as exc:
            raise BadRequest(f"The request body is not valid JSON ({exc.msg} at line {exc.lineno} "
                             f"column {exc.colno}); send a JSON object.") from None
        return parse(cls, data)

    def in_root(self, rel: str, *, field: str = "path", must_exist: bool = True) -> str:
        return str(resolve_in_root(self.root_dir, rel, field=field, must_exist=must_exist))

    def rel(self, path: str) -> str:
        return relative_to_root(self.root_dir, path)

    # -- output -------------------------------------------------------------------------
    def reply(self, data: Any, status: int = 200) -> None:
        self.set_status(status)
        self.finish(json.dumps(data, default=str))

    def accepted(self, job: Job, **extra: Any) -> None:
        """202 with the job, and Location pointing at where to poll it."""
        self.set_header("Location", self.base_url.rstrip("/") + f"/smops/api/jobs/{job.id}")
        self.reply({"job": job_json(job), **extra}, status=202)

    async def call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run a blocking core call off the event loop (boto3 and disk I/O block)."""
        import asyncio
        import functools

        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self.jobs.call_pool, functools.partial(fn, *args, **kwargs))
        except OSError as exc:
            # The OS refusing a client's file (under the root) is the client's 4xx, not our 500.
            refusal = os_error_as_client_error(exc, self.root_dir)
            if refusal is None:
                raise
            raise refusal from exc

    # -- errors -------------------------------------------------------------------------
    def error_payload(self, exc: Any) -> tuple[int, dict]:
        """The status and ``{"code", "message"}`` answered for ``exc`` (redacted)."""
        if isinstance(exc, SmopsError):
            status, error = exc.status, exc.to_dict()
        elif isinstance(exc, web.HTTPError):
            status = exc.status_code
            message = exc.log_message % exc.args if exc.log_message and exc.args else exc.log_message
            error = {"code": _HTTP_CODES.get(status, _phrase(status).replace(" ", "")),
                     "message": message or _HTTP_HINTS.get(status) or _phrase(status)}
            if status == 403 and not exc.log_message:
                error["message"] = _HTTP_HINTS[403]
            elif status == 403 and "_xsrf" in str(message):
                # tornado's words name the form field; say what a client of this API should send.
                error["message"] = f"{message}. {_HTTP_HINTS[403]}"
        else:
            # Details stay in the server log (log_exception); the client gets what to do.
            status, error = 500, {"code": "InternalError",
                                  "message": "jupyter_smops hit an unexpected error; the Jupyter server log "
                                             "has the details. Try again, or report it if it repeats."}
        error["message"] = redact(str(error["message"]))
        return status, error

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        exc = (kwargs.get("exc_info") or (None, None, None))[1]
        status, error = self.error_payload(exc)
        if exc is None and status_code != 500:  # tornado's own send_error(code)
            status = status_code
            error = {"code": _HTTP_CODES.get(status, _phrase(status).replace(" ", "")), "message": _phrase(status)}
        if status == 405:
            # RFC 9110: a 405 names the methods the route does take.
            allowed = [m.upper() for m in ("get", "post", "put", "patch", "delete")
                       if getattr(type(self), m) is not getattr(web.RequestHandler, m)]
            self.set_header("Allow", ", ".join(allowed))
        self.set_status(status)
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps({"error": error}, default=str))

    def log_exception(self, typ, value, tb) -> None:  # noqa: ANN001
        if isinstance(value, SmopsError):
            # Expected outcomes (404, 409, ...): one line, no traceback.
            self.log.info("smops %s %s -> %s %s", self.request.method, self.request.path,
                          value.status, value.code)
            return
        super().log_exception(typ, value, tb)


def job_json(job: Job) -> dict:
    """A job as clients see it: failure messages pass the same redaction as error bodies."""
    data = job.to_dict()
    if data["error"] and isinstance(data["error"].get("message"), str):
        data["error"] = {**data["error"], "message": redact(data["error"]["message"])}
    return data


class FallbackHandler(SmopsHandler):
    """Anything else under /smops/api/: a JSON 404 naming the contract, behind the same auth."""

    @web.authenticated
    @authorized
    async def get(self, rest: str) -> None:
        raise NotFound(f"No route /smops/api/{rest}; the routes are listed in docs/openapi.yaml.")

    post = put = patch = delete = get


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"
