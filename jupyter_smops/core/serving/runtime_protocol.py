"""The SageMaker Runtime protocol (InvokeEndpoint, rest-json) in front of local endpoints.

One client connection keeps its own keep-alive connection to each endpoint it calls, so the
concurrency a client brings reaches the endpoint's workers unchanged and nothing is shared
between connections. Once a connection's request has been forwarded and answered, and nothing
more is waiting on it, the connection itself is handed to that endpoint's workers (``handoff``,
``runtime_worker``), which answer its next requests without this hop; they hand it back for
anything but the plain InvokeEndpoint of their own endpoint, and a connection handed back stays
here from then on. A request is parsed, checked (signed, sent to our own address, from this
user), forwarded to the endpoint's ``POST /invocations`` with ``Content-Type``, ``Accept`` and
the custom attributes, and answered the way botocore parses InvokeEndpoint: the model's body
and Content-Type, ``x-Amzn-Invoked-Production-Variant``, the container's custom attributes;
errors as AWS's JSON shape with ``x-amzn-ErrorType`` (ModelError 424 with the container's
status and message, ValidationError 400, ...). The signature is not verified: any credentials
work, as the address is loopback and the caller must be this user (see ``runtime_gateway``).
"""
from __future__ import annotations

import asyncio
import itertools
import json
import os
import socket
from collections import deque
from typing import Callable, Optional
from urllib.parse import unquote

from ..limits import MAX_PAYLOAD_BYTES
from . import handoff, peer
from .runtime_upstream import CUSTOM, PyParser, Upstream

try:  # the ``serve`` extra, as for the endpoints; runtime_upstream.PyParser works without it
    import httptools
except ImportError:  # pragma: no cover - exercised only without the extra
    httptools = None

VARIANT = "AllTraffic"
_HARD_BODY_CAP = 8 * MAX_PAYLOAD_BYTES  # past this the connection is dropped instead of drained
_REASONS = {200: "OK", 100: "Continue", 400: "Bad Request", 403: "Forbidden", 404: "Not Found",
            424: "Failed Dependency", 500: "Internal Server Error", 503: "Service Unavailable"}
_ids = itertools.count(1)
# The request headers the gateway reads; the others (User-Agent, amz-sdk-*...) are not decoded.
_WANTED = {k.encode(): k for k in ("host", "authorization", "origin", "content-type", "accept", CUSTOM, "expect",
                                   "content-length")}
_ID_PREFIX = os.urandom(6).hex()


def _new_request_ids() -> None:
    # Each process numbers its own answers: an endpoint's workers are forked from a supervisor
    # that imported this module, and must not repeat each other's request ids.
    global _ids, _ID_PREFIX
    _ids, _ID_PREFIX = itertools.count(1), os.urandom(6).hex()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_new_request_ids)


class Target:
    """Where an endpoint name leads: its port (and its workers' handover listener, ``handoff``),
    or why it cannot be invoked (``error``)."""

    __slots__ = ("port", "log", "error", "handoff")

    def __init__(self, port: int = 0, log: str = "", error: Optional[str] = None, handoff: Optional[str] = None):
        self.port, self.log, self.error, self.handoff = port, log, error, handoff


# resolve(name) -> Target; forget(name) drops a cached answer (the endpoint stopped answering).
Resolver = Callable[[str], Target]


def _request_id() -> str:
    n = next(_ids)
    return f"{_ID_PREFIX[:8]}-{_ID_PREFIX[8:]}-{n >> 48 & 0xffff:04x}-{n >> 32 & 0xffff:04x}-{n & 0xffffffff:012x}"


def _head(status: int, headers: list, length: int, close: bool) -> bytes:
    lines = [f"HTTP/1.1 {status} {_REASONS.get(status, 'Error')}"]
    lines += [f"{k}: {v}" for k, v in headers]
    lines.append(f"x-amzn-RequestId: {_request_id()}")
    lines.append(f"Content-Length: {length}")
    if close:
        lines.append("Connection: close")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def invoke_response(ctype: str, custom: Optional[str], data: bytes, close: bool) -> bytes:
    """InvokeEndpoint's 200: the model's body and Content-Type, the variant, the container's
    custom attributes (the gateway and a worker on a handed-over connection both answer so)."""
    extra = [("Content-Type", ctype or "application/json"), ("x-Amzn-Invoked-Production-Variant", VARIANT)]
    if custom is not None:
        extra.append(("X-Amzn-SageMaker-Custom-Attributes", custom))
    return _head(200, extra, len(data), close) + data


def error_response(status: int, code: str, message: str, close: bool = False, **fields) -> bytes:
    """AWS's rest-json error: ``x-amzn-ErrorType`` names the error, the body carries the message
    (and a modeled error's members, e.g. ModelError's OriginalStatusCode)."""
    body = json.dumps({"message": message, "Message": message, **fields}).encode()
    head = _head(status, [("x-amzn-ErrorType", code), ("Content-Type", "application/json")], len(body), close)
    return head + body


def model_error(name: str, status: int, text: str, log: str, close: bool = False) -> bytes:
    """424 ModelError for a container that answered ``status`` (or did not answer: 502/504)."""
    kind = "client" if 400 <= status < 500 else "server"
    message = (f"Received {kind} error ({status}) from primary (the local endpoint {name}) with message "
               f"\"{text}\". See its log: jupyter smops logs {name}")
    return error_response(424, "ModelError", message, close, OriginalStatusCode=status, OriginalMessage=text,
                          LogStreamArn=log)


class _Request:
    __slots__ = ("method", "path", "headers", "body", "size", "keep_alive")

    def __init__(self):
        self.method, self.path, self.headers, self.body, self.size, self.keep_alive = "", "", {}, [], 0, True


class RuntimeConnection(asyncio.Protocol):
    """One client connection to the runtime address."""

    def __init__(self, resolve: Resolver, forget: Callable[[str], None], allowed_hosts: frozenset,
                 handback: Optional[str] = None, initial: bytes = b"", returned: bool = False):
        self.resolve, self.forget, self.allowed_hosts = resolve, forget, allowed_hosts
        # handback: our listener, named to the workers; None keeps every connection here.
        self.handback = None if returned else handback
        self.initial = initial  # bytes a worker read before handing the connection back
        self.partial = False  # a request has begun arriving (not yet complete)
        self.transport: Optional[asyncio.Transport] = None
        self.parser = httptools.HttpRequestParser(self) if httptools else PyParser(self, request=True)
        self.current = _Request()
        self.url = b""
        self.queue: deque = deque()
        self.busy = False
        self.closed = False
        self.upstreams: dict = {}  # port -> Upstream
        self.foreign = False

    # -- connection -------------------------------------------------------------------
    def connection_made(self, transport):  # type: ignore[override]
        self.transport = transport
        sock = transport.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            # Refused at its first request, not now: closing before the client has written would
            # reset the connection and the client would see a broken pipe instead of the reason.
            self.foreign = not peer.same_user(sock)
        if self.initial:
            data, self.initial = self.initial, b""
            self.data_received(data)

    def connection_lost(self, exc):  # type: ignore[override]
        self.closed = True
        for up in self.upstreams.values():
            up.close()
        self.upstreams.clear()

    def data_received(self, data: bytes) -> None:
        if self.closed:
            return
        try:
            self.parser.feed_data(data)
        except Exception:  # malformed HTTP, or a body past the hard cap
            if not self.closed:
                self._write(error_response(400, "ValidationError", "Malformed HTTP request.", close=True), close=True)

    # -- parser callbacks -------------------------------------------------------------
    def on_message_begin(self) -> None:
        self.current = _Request()
        self.url = b""
        self.partial = True

    def on_url(self, url: bytes) -> None:
        self.url += url

    def on_header(self, name: bytes, value: bytes) -> None:
        key = _WANTED.get(name.lower())
        if key is not None:
            self.current.headers[key] = value.decode("latin-1")

    def on_headers_complete(self) -> None:
        if self.current.headers.get("expect", "").lower() == "100-continue":
            length = int(self.current.headers.get("content-length") or 0)
            if length > MAX_PAYLOAD_BYTES:
                self._write(_too_large(length, close=True), close=True)
                raise ValueError("body too large")
            self.transport.write(b"HTTP/1.1 100 Continue\r\n\r\n")

    def on_body(self, chunk: bytes) -> None:
        req = self.current
        req.size += len(chunk)
        if req.size > _HARD_BODY_CAP:
            raise ValueError("body far too large")
        if req.size <= MAX_PAYLOAD_BYTES:
            req.body.append(chunk)

    def on_message_complete(self) -> None:
        req = self.current
        req.method = self.parser.get_method().decode("latin-1")
        req.path = self.url.split(b"?", 1)[0].decode("latin-1")
        req.keep_alive = self.parser.should_keep_alive()
        self.partial = False
        self.queue.append(req)
        if not self.busy:
            self._next()

    # -- requests ---------------------------------------------------------------------
    def _next(self) -> None:
        while self.queue and not self.closed:
            req = self.queue.popleft()
            self.busy = True
            if self._handle(req):
                return  # answered later, by the endpoint's reply
            self.busy = False

    def _handle(self, req: _Request) -> bool:
        """Answer ``req`` now (False) or start forwarding it (True)."""
        close = not req.keep_alive
        if self.foreign:
            self._write(error_response(403, "AccessDeniedException", f"This SageMaker Runtime address serves the "
                                       f"local endpoints of uid {os.getuid()} only.", close=True), close=True)
            return False
        refusal = self._refusal(req)
        if refusal is not None:
            self._write(refusal(close), close)
            return False
        parts = req.path.split("/")
        name = unquote(parts[2])
        if req.size > MAX_PAYLOAD_BYTES:
            self._write(_too_large(req.size, close), close)
            return False
        target = self.resolve(name)
        if target.error is not None:
            self._write(error_response(400, "ValidationError", target.error, close), close)
            return False
        self._forward(name, target, req, retry=True)
        return True

    def _refusal(self, req: _Request):
        host = req.headers.get("host", "")
        if host not in self.allowed_hosts:
            # A browser page resolving its own name to 127.0.0.1 (DNS rebinding) sends its name here.
            return lambda c: error_response(403, "AccessDeniedException", f"Host {host!r} is not this address.", c)
        if "origin" in req.headers:
            return lambda c: error_response(403, "AccessDeniedException",
                                            "Requests from web pages are refused: call it with an AWS SDK.", c)
        if not req.headers.get("authorization", "").startswith("AWS4-"):
            return lambda c: error_response(
                403, "MissingAuthenticationTokenException",
                "Missing Authentication Token: sign the request with AWS Signature V4, as the AWS SDKs do "
                "(any credentials work for local endpoints).", c)
        parts = req.path.split("/")
        if len(parts) != 4 or parts[1] != "endpoints" or not parts[2] or req.method != "POST":
            return lambda c: error_response(404, "UnknownOperationException",
                                            f"{req.method} {req.path} is not a SageMaker Runtime operation; "
                                            f"use POST /endpoints/NAME/invocations (InvokeEndpoint).", c)
        if parts[3] == "invocations":
            return None
        operation = {"invocations-response-stream": "InvokeEndpointWithResponseStream",
                     "async-invocations": "InvokeEndpointAsync"}.get(parts[3])
        if operation is None:
            return lambda c: error_response(404, "UnknownOperationException",
                                            f"Unknown operation {parts[3]!r}: use /endpoints/NAME/invocations.", c)
        return lambda c: error_response(
            400, "ValidationError", f"{operation} is not supported by local endpoints: they serve the "
            f"scikit-learn container, which answers whole responses. Use InvokeEndpoint (invoke_endpoint).", c)

    def _forward(self, name: str, target: Target, req: _Request, retry: bool) -> None:
        up = self.upstreams.get(target.port)
        if up is None or up.closed:
            up = self.upstreams[target.port] = Upstream(target.port)
        headers = req.headers
        lines = [f"POST /invocations HTTP/1.1\r\nHost: 127.0.0.1:{target.port}\r\n"]
        for key in ("content-type", "accept", CUSTOM):
            value = headers.get(key)
            if value is not None:
                lines.append(f"{key}: {value}\r\n")
        body = req.body[0] if len(req.body) == 1 else b"".join(req.body)
        lines.append(f"Content-Length: {len(body)}\r\n\r\n")
        payload = "".join(lines).encode("latin-1") + body

        def done(status: Optional[int], ctype: str, custom: Optional[str], data: bytes, sent: bool) -> None:
            if self.closed:
                return
            close = not req.keep_alive
            if status is None:
                if retry and not sent:  # a kept-alive connection the endpoint had closed: once more,
                    self.upstreams.pop(target.port, None)  # asking afresh where it is (it may be gone)
                    self.forget(name)
                    fresh = self.resolve(name)
                    if fresh.error is not None:
                        self._write(error_response(400, "ValidationError", fresh.error, close), close)
                        if not close:
                            self.busy = False
                            self._next()
                        return
                    self._forward(name, fresh, req, retry=False)
                    return
                self.forget(name)
                text = data.decode("utf-8", "replace")
                self._write(model_error(name, 504 if text.startswith("timed out") else 502, text, target.log,
                                        close), close)
            elif status == 200:
                self._write(invoke_response(ctype, custom, data, close), close)
            else:
                self._write(model_error(name, status, data.decode("utf-8", "replace")[:4000], target.log, close), close)
            if not close:
                if status is not None and self._hand_off(name, target):
                    return
                self.busy = False
                self._next()

        up.send(payload, done)

    def _hand_off(self, name: str, target: Target) -> bool:
        """Pass this connection to the endpoint's workers when it is idle (True: it is leaving)."""
        transport = self.transport
        if (not target.handoff or not self.handback or self.queue or self.partial or self.closed
                or transport.get_write_buffer_size()):
            return False
        sock = transport.get_extra_info("socket")
        if sock is None:
            return False
        # Nothing of the next request has been read (no partial message): it waits in the socket
        # for the worker. The send never blocks: a busy listener is a False, and we keep serving.
        note = {"name": name, "hosts": sorted(self.allowed_hosts), "log": target.log, "back": self.handback}
        if not handoff.send(target.handoff, sock.fileno(), note):
            self.handback = None  # its workers did not take it: keep serving it here
            return False
        self.closed = True  # a worker owns the connection now: drop our descriptor only
        for up in self.upstreams.values():
            up.close()
        self.upstreams.clear()
        transport.abort()
        return True

    def _write(self, data: bytes, close: bool) -> None:
        if self.transport is None or self.closed:
            return
        self.transport.write(data)
        if close:
            self.closed = True
            self.transport.close()


def _too_large(size: int, close: bool) -> bytes:
    return error_response(400, "ValidationError", f"The request body is {size:,} bytes; InvokeEndpoint accepts "
                          f"at most {MAX_PAYLOAD_BYTES:,} (6 MiB). Send fewer rows per request, or use batch "
                          f"transform.", close)
