"""The gateway's connection to one endpoint's ``/invocations`` (``Upstream``), its timeouts, and
the small HTTP/1.1 parser the gateway falls back to without httptools.

One client connection of the runtime gateway keeps one ``Upstream`` per endpoint it calls, one
request at a time (``runtime_protocol``); requests waiting past InvokeEndpoint's limit are failed
by ``sweep_timeouts``, which the gateway calls each second (no timer per request).
"""
from __future__ import annotations

import asyncio
import socket
import time
from typing import Optional

from ..limits import INVOKE_TIMEOUT_SECONDS

try:  # the ``serve`` extra, as for the endpoints; PyParser below works without it
    import httptools
except ImportError:  # pragma: no cover - exercised only without the extra
    httptools = None

CUSTOM = "x-amzn-sagemaker-custom-attributes"
_inflight: set = set()  # Upstreams waiting for an answer (sweep_timeouts checks them)


class Upstream(asyncio.Protocol):
    """A keep-alive connection to one endpoint's ``/invocations``, one request at a time."""

    def __init__(self, port: int):
        self.port = port
        self.transport: Optional[asyncio.Transport] = None
        self.parser = httptools.HttpResponseParser(self) if httptools else PyParser(self, request=False)
        self.closed = False
        self.connecting = False
        self.pending: Optional[bytes] = None
        self.callback = None
        self.deadline = 0.0
        self.received = False
        self.ctype, self.custom, self.body = "", None, []

    def send(self, payload: bytes, callback) -> None:
        self.callback = callback
        self.received = False
        # One sweep a second checks every waiting request (sweep_timeouts): no timer per request.
        self.deadline = time.monotonic() + INVOKE_TIMEOUT_SECONDS
        _inflight.add(self)
        if self.transport is not None:
            self.transport.write(payload)
        else:
            self.pending = payload
            if not self.connecting:
                self.connecting = True
                loop = asyncio.get_running_loop()
                loop.create_task(self._connect(loop))

    async def _connect(self, loop) -> None:
        try:
            await loop.create_connection(lambda: self, "127.0.0.1", self.port)
        except OSError as exc:
            self._fail(f"cannot connect: {exc.strerror or exc}", sent=False)

    def connection_made(self, transport):  # type: ignore[override]
        self.transport = transport
        transport.get_extra_info("socket").setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if self.pending is not None:
            transport.write(self.pending)
            self.pending = None

    def data_received(self, data: bytes) -> None:
        self.received = True
        try:
            self.parser.feed_data(data)
        except Exception as exc:
            self._fail(f"malformed answer: {exc}", sent=True)

    def connection_lost(self, exc):  # type: ignore[override]
        self.closed = True
        if self.callback is not None:
            self._fail("the endpoint closed the connection without answering (did its worker crash?)",
                       sent=self.received)

    def on_message_begin(self) -> None:
        self.ctype, self.custom, self.body = "", None, []

    def on_header(self, name: bytes, value: bytes) -> None:
        key = name.lower()
        if key == b"content-type":
            self.ctype = value.decode("latin-1")
        elif key == CUSTOM.encode():
            self.custom = value.decode("latin-1")

    def on_body(self, chunk: bytes) -> None:
        self.body.append(chunk)

    def on_message_complete(self) -> None:
        callback, self.callback = self.callback, None
        _inflight.discard(self)
        status = self.parser.get_status_code()
        if not self.parser.should_keep_alive():
            self.close()
        if callback is not None:
            body = self.body[0] if len(self.body) == 1 else b"".join(self.body)
            callback(status, self.ctype, self.custom, body, True)

    def _timeout(self) -> None:
        self._fail(f"timed out: the endpoint did not answer within {INVOKE_TIMEOUT_SECONDS:g} s "
                   f"(InvokeEndpoint's limit)", sent=True)

    def _fail(self, text: str, sent: bool) -> None:
        callback, self.callback = self.callback, None
        _inflight.discard(self)
        self.close()
        if callback is not None:
            callback(None, "", None, text.encode(), sent)

    def close(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.close()


def sweep_timeouts() -> None:
    """Fail every request waiting past InvokeEndpoint's limit (the gateway calls this each second)."""
    now = time.monotonic()
    for up in [u for u in _inflight if u.deadline <= now]:
        up._timeout()


class PyParser:
    """Enough of HTTP/1.1 (Content-Length bodies) when httptools is not installed."""

    def __init__(self, proto, request: bool):
        self.proto, self.request = proto, request
        self.buf = b""
        self.first: list = []
        self.keep_alive = True

    def get_method(self) -> bytes:
        return self.first[0].encode()

    def get_status_code(self) -> int:
        return int(self.first[1])

    def should_keep_alive(self) -> bool:
        return self.keep_alive

    def feed_data(self, data: bytes) -> None:
        self.buf += data
        while True:
            end = self.buf.find(b"\r\n\r\n")
            if end < 0:
                return
            lines = self.buf[:end].decode("latin-1").split("\r\n")
            headers = [(k.strip(), v.strip()) for k, _, v in (h.partition(":") for h in lines[1:])]
            lower = {k.lower(): v for k, v in headers}
            if "chunked" in lower.get("transfer-encoding", "").lower():
                raise ValueError("chunked bodies need httptools")
            length = int(lower.get("content-length", "0"))
            if len(self.buf) < end + 4 + length:
                return
            body, self.buf = self.buf[end + 4:end + 4 + length], self.buf[end + 4 + length:]
            self.first = lines[0].split(" ", 2)
            version = self.first[0 if not self.request else 2]
            conn = lower.get("connection", "").lower()
            self.keep_alive = conn != "close" and (version != "HTTP/1.0" or conn == "keep-alive")
            p = self.proto
            p.on_message_begin()
            if self.request:
                p.on_url(self.first[1].encode("latin-1"))
            for k, v in headers:
                p.on_header(k.encode("latin-1"), v.encode("latin-1"))
            if self.request and hasattr(p, "on_headers_complete"):
                p.on_headers_complete()
            if body:
                p.on_body(body)
            p.on_message_complete()
