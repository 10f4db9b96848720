"""A small HTTP/1.1 server for ``GET /ping`` and ``POST /invocations`` (keep-alive, pipelining).

Why hand-written: one request is ~0.1 ms of model work, so framework overhead dominates; an
asyncio protocol on uvloop with httptools' C parser answers in well under 0.25 ms. The model
call runs on the event loop itself: a worker serves one request at a time, as the container's
sync gunicorn workers do, and parallelism comes from several worker processes (no GIL
contention). TCP_NODELAY is set on every connection (without it keep-alive answers wait ~44 ms
for Nagle + delayed ACK). A body over InvokeEndpoint's 6 MiB is a 413 as soon as its size is
known; the rest of it is read and dropped before the connection closes, so the client reads the
413 instead of a reset. ``admit`` (the endpoint's owner check, ``peer.same_user``) decides per
connection; a refused one gets a 403 for each request and is closed.
"""
from __future__ import annotations

import asyncio
import socket
import time
from typing import Callable, Optional

from ..errors import PayloadTooLarge
from ..limits import MAX_PAYLOAD_BYTES, check_payload_size

try:  # the ``serve`` extra; a pure-Python parser below keeps the server working without it
    import httptools
except ImportError:  # pragma: no cover - exercised only without the extra
    httptools = None

MAX_BODY = MAX_PAYLOAD_BYTES  # InvokeEndpoint's 6 MiB, on the endpoint's own URL too
_MAX_DRAIN = 64 * 1024 * 1024  # past this much refused body the connection is simply closed
_REASONS = {200: "OK", 400: "Bad Request", 403: "Forbidden", 404: "Not Found", 405: "Method Not Allowed",
            413: "Payload Too Large", 500: "Internal Server Error"}
FORBIDDEN = (b"This local endpoint answers only the processes of the user who deployed it "
             b"(its port is on 127.0.0.1, which every user of this machine can reach).")

# app(method, path, headers, body) -> (status, content_type, body); headers have lower-case names.
App = Callable[[str, str, dict, bytes], "tuple[int, str, bytes]"]


def response_bytes(status: int, content_type: str, body: bytes, keep_alive: bool) -> bytes:
    head = (f"HTTP/1.1 {status} {_REASONS.get(status, 'Error')}\r\n"
            f"Content-Type: {content_type}\r\nContent-Length: {len(body)}\r\n"
            f"{'' if keep_alive else 'Connection: close' + chr(13) + chr(10)}\r\n")
    return head.encode("latin-1") + body


def _forbidden(method: str, path: str, headers: dict, body: bytes) -> "tuple[int, str, bytes]":
    return 403, "text/plain; charset=utf-8", FORBIDDEN


class _Protocol(asyncio.Protocol):
    __slots__ = ("app", "admit", "transport", "parser", "url", "headers", "body", "size", "closing",
                 "refused", "refusing_body")

    def __init__(self, app: App, admit: Optional[Callable[[socket.socket], bool]] = None):
        self.app = app
        self.admit = admit
        self.transport: Optional[asyncio.Transport] = None
        self.parser = httptools.HttpRequestParser(self) if httptools else _PyParser(self)
        self.url = b""
        self.headers: dict = {}
        self.body: list = []
        self.size = 0
        self.closing = False
        self.refused = False  # another user's connection: 403 to each request, then closed
        self.refusing_body = False  # a 413 was sent; the body's rest is read and dropped

    def connection_made(self, transport):  # type: ignore[override]
        self.transport = transport
        sock = transport.get_extra_info("socket")
        if sock is not None:
            try:
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            except OSError:
                pass
            if self.admit is not None and not self.admit(sock):
                self.refused = True
                self.app = _forbidden

    def data_received(self, data: bytes) -> None:
        if self.closing:
            return
        try:
            self.parser.feed_data(data)
        except Exception:  # malformed HTTP (httptools.HttpParserError and friends)
            self._finish(400, b"Malformed HTTP request", close=True)

    def connection_lost(self, exc):  # type: ignore[override]
        self.closing = True

    # parser callbacks
    def on_message_begin(self) -> None:
        self.url = b""
        self.headers = {}
        self.body = []
        self.size = 0

    def on_url(self, url: bytes) -> None:
        self.url += url

    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers[name.decode("latin-1").lower()] = value.decode("latin-1")

    def on_headers_complete(self) -> None:
        length = self.headers.get("content-length", "")
        if length.isdigit() and int(length) > MAX_BODY:
            self._too_large(int(length), so_far=False)  # refused before a byte of it is read
        elif self.headers.get("expect", "").lower() == "100-continue":  # curl sends it for big bodies
            self.transport.write(b"HTTP/1.1 100 Continue\r\n\r\n")

    def on_body(self, body: bytes) -> None:
        self.size += len(body)
        if self.refusing_body:
            if self.size > _MAX_DRAIN and self.transport is not None:
                self.transport.close()
            return
        if self.size > MAX_BODY:
            self.body = []
            self._too_large(self.size, so_far=True)
            return
        self.body.append(body)

    def _too_large(self, size: int, so_far: bool) -> None:
        """Answer 413 now (as the REST route does, in the container's plain-text style) and drop
        the rest of the body; the connection closes once it has all arrived."""
        try:
            check_payload_size(size, so_far=so_far)
        except PayloadTooLarge as exc:
            message = exc.message.encode()
        self.refusing_body = True
        self.transport.write(response_bytes(413, "text/plain; charset=utf-8", message, keep_alive=False))

    def on_message_complete(self) -> None:
        if self.closing:
            return
        if self.refusing_body:
            self.closing = True
            self.transport.close()
            return
        method = self.parser.get_method().decode("latin-1")
        path = self.url.split(b"?", 1)[0].decode("latin-1")
        body = b"".join(self.body) if len(self.body) != 1 else self.body[0]
        status, ctype, payload = self.app(method, path, self.headers, body)
        self._finish(status, payload, ctype=ctype, close=self.refused or not self.parser.should_keep_alive())

    def _finish(self, status: int, payload: bytes, ctype: str = "text/plain; charset=utf-8",
                close: bool = False) -> None:
        if self.transport is None or self.closing:
            return
        self.transport.write(response_bytes(status, ctype, payload, not close))
        if close:
            self.closing = True
            self.transport.close()


class _PyParser:
    """Enough of HTTP/1.1 for this server when httptools is not installed."""

    def __init__(self, proto: _Protocol):
        self.proto = proto
        self.buf = b""
        self.method = b""
        self.keep_alive = True

    def get_method(self) -> bytes:
        return self.method

    def should_keep_alive(self) -> bool:
        return self.keep_alive

    def feed_data(self, data: bytes) -> None:
        self.buf += data
        while True:
            end = self.buf.find(b"\r\n\r\n")
            if end < 0:
                return
            lines = self.buf[:end].decode("latin-1").split("\r\n")
            method, url, version = lines[0].split(" ", 2)
            headers = dict((k.strip().lower(), v.strip()) for k, _, v in (h.partition(":") for h in lines[1:]))
            if "chunked" in headers.get("transfer-encoding", ""):
                raise ValueError("chunked bodies need httptools")
            length = int(headers.get("content-length", "0"))
            if len(self.buf) < end + 4 + length:
                return
            body, self.buf = self.buf[end + 4:end + 4 + length], self.buf[end + 4 + length:]
            conn = headers.get("connection", "").lower()
            self.method = method.encode()
            self.keep_alive = conn != "close" and (version != "HTTP/1.0" or conn == "keep-alive")
            p = self.proto
            p.on_message_begin()
            p.on_url(url.encode("latin-1"))
            for k, v in headers.items():
                p.on_header(k.encode("latin-1"), v.encode("latin-1"))
            if body:
                p.on_body(body)
            p.on_message_complete()


def new_event_loop() -> asyncio.AbstractEventLoop:
    """uvloop when installed (about twice as fast here), else asyncio's loop."""
    try:
        import uvloop

        return uvloop.new_event_loop()
    except ImportError:  # pragma: no cover
        return asyncio.new_event_loop()


def serve_forever(sock: socket.socket, app: App, *, on_tick: Optional[Callable[[], None]] = None,
                  tick_seconds: float = 0.5, admit: Optional[Callable[[socket.socket], bool]] = None,
                  on_start: Optional[Callable[[asyncio.AbstractEventLoop], None]] = None) -> None:
    """Serve ``app`` on a listening socket until SIGTERM/SIGINT; ``on_tick`` runs periodically;
    ``admit(connection)`` False answers that connection's requests with 403; ``on_start(loop)``
    adds more to serve on the same loop (the runtime gateway's handed-over connections)."""
    import signal

    loop = new_event_loop()
    asyncio.set_event_loop(loop)
    stop = loop.create_future()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, lambda: stop.done() or stop.set_result(None))

    def tick() -> None:
        if on_tick is not None:
            try:
                on_tick()
            except SystemExit:
                stop.done() or stop.set_result(None)
                return
        loop.call_later(tick_seconds, tick)

    server = loop.run_until_complete(loop.create_server(lambda: _Protocol(app, admit), sock=sock, backlog=1024))
    if on_start is not None:
        on_start(loop)
    loop.call_later(tick_seconds, tick)
    try:
        loop.run_until_complete(stop)
    finally:
        server.close()
        if on_tick is not None:
            try:
                on_tick()
            except SystemExit:
                pass
        loop.close()


def now_ms() -> float:
    return time.perf_counter() * 1000.0
