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
from ..core.errors import BadRequest, NotFound, SmopsError
from .jobs import Job, JobManager
from .paths import relative_to_root, resolve_in_root
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


def redact(message: str) -> str:
    return _SECRETS.sub("[redacted]", message)


class SmopsHandler(APIHandler):
    """Every route subclasses this: ``auth_resource`` names our resource for ``@authorized``."""

    auth_resource = "smops"

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

    def fail_now(self, exc: SmopsError) -> None:
        """Answer ``exc`` from outside a handler method (``data_received``), logged and shaped as
        if a method had raised it. Finishing before the body is read makes tornado close the
        connection after the answer, so the rest of the body is never read."""
        exc_info = (type(exc), exc, exc.__traceback__)
        self.log_exception(*exc_info)
        self.send_error(exc.status, exc_info=exc_info)

    # -- input --------------------------------------------------------------------------
    def body_as(self, cls: type[T]) -> T:
        """The JSON body parsed into request model ``cls`` (400 on any problem)."""
        ctype = (self.request.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        if ctype and ctype not in _JSON_TYPES:
            raise web.HTTPError(415, f"This route takes a JSON body with Content-Type: application/json, "
                                     f"not {ctype}.")
        raw = self.request.body or b"{}"
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
        return await loop.run_in_executor(self.jobs.call_pool, functools.partial(fn, *args, **kwargs))

    # -- errors -------------------------------------------------------------------------
    def write_error(self, status_code: int, **kwargs: Any) -> None:
        exc = (kwargs.get("exc_info") or (None, None, None))[1]
        if isinstance(exc, SmopsError):
            status, error = exc.status, exc.to_dict()
        elif isinstance(exc, web.HTTPError):
            status = exc.status_code
            message = exc.log_message % exc.args if exc.log_message and exc.args else exc.log_message
            error = {"code": _HTTP_CODES.get(status, _phrase(status).replace(" ", "")),
                     "message": message or _HTTP_HINTS.get(status) or _phrase(status)}
            if status == 403 and not exc.log_message:
                error["message"] = _HTTP_HINTS[403]
        else:
            # Details stay in the server log (log_exception); the client gets what to do.
            status, error = 500, {"code": "InternalError",
                                  "message": "jupyter_smops hit an unexpected error; the Jupyter server log "
                                             "has the details. Try again, or report it if it repeats."}
        error["message"] = redact(str(error["message"]))
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
