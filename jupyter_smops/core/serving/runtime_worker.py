"""InvokeEndpoint answered by the endpoint's own worker, on a connection the gateway handed over.

After the runtime gateway has checked a client connection and served its first request, it
passes the connection to one of the endpoint's workers (``handoff``), which answers the next
requests itself: no second hop, no gateway process in the way. A worker answers only the plain
case, each check the gateway makes repeated here: ``POST /endpoints/<this endpoint>/invocations``,
a SigV4 Authorization header, the gateway's own Host, no Origin, a Content-Length body within
6 MiB, no ``Expect``. Anything else (another endpoint, a refused or unusual request, a body too
large) goes back to the gateway with the connection and the bytes read so far, and the gateway
answers it (and keeps that connection from then on). Answers use the gateway's shapes
(``runtime_protocol``): the model's body with ``x-Amzn-Invoked-Production-Variant``, or
``ModelError`` 424 with the container's status and message.
"""
from __future__ import annotations

import asyncio
import os
import socket
from typing import Callable, Optional
from urllib.parse import unquote

from ..limits import MAX_PAYLOAD_BYTES
from . import handoff
from .peer import same_user
from .runtime_protocol import error_response, invoke_response, model_error
from .runtime_upstream import CUSTOM

_HEAD_LIMIT = 64 * 1024
_DRAIN_SECONDS = 30.0  # how long a give-back waits for a slow client to read our last answer
_KEPT = [(k, k.encode()) for k in ("content-type", "accept", CUSTOM)]  # what reaches the model's functions


class HandedConnection(asyncio.Protocol):
    """A client connection the gateway passed to this worker (see the module docstring)."""

    def __init__(self, app: Callable, note: dict, initial: bytes):
        self.app = app
        self.name = str(note.get("name", ""))
        self.path = f"/endpoints/{self.name}/invocations"
        self.hosts = frozenset(h.encode("latin-1") for h in note.get("hosts") or ())
        # The request line a client sends for this endpoint, checked as bytes before anything else.
        self.request_lines = frozenset(f"POST {self.path} HTTP/1.{v}".encode("latin-1") for v in "01")
        self.log = str(note.get("log", ""))
        self.back = str(note.get("back", ""))
        self.buf = bytearray(initial)
        self.transport: Optional[asyncio.Transport] = None
        self.done = False

    def connection_made(self, transport):  # type: ignore[override]
        self.transport = transport
        sock = transport.get_extra_info("socket")
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            pass
        if not same_user(sock):  # the gateway checked it; a worker never serves another uid
            self.done = True
            transport.abort()
            return
        if self.buf:
            self._serve()

    def data_received(self, data: bytes) -> None:
        if self.done:
            return
        self.buf += data
        self._serve()

    def connection_lost(self, exc):  # type: ignore[override]
        self.done = True

    def _serve(self) -> None:
        while not self.done:
            end = self.buf.find(b"\r\n\r\n")
            if end < 0:
                if len(self.buf) > _HEAD_LIMIT:
                    self._give_back()
                return
            head = self._parse(bytes(self.buf[:end]))
            if head is None:
                self._give_back()
                return
            length, headers, close = head
            if len(self.buf) < end + 4 + length:
                return
            body = bytes(self.buf[end + 4:end + 4 + length])
            del self.buf[:end + 4 + length]
            status, ctype, payload = self.app("POST", "/invocations", headers, body)
            if status == 200:
                out = invoke_response(ctype, None, payload, close)
            else:
                out = model_error(self.name, status, payload.decode("utf-8", "replace")[:4000], self.log, close)
            self.transport.write(out)
            if close:
                self.done = True
                self.transport.close()

    def _parse(self, raw: bytes) -> Optional[tuple[int, dict, bool]]:
        """(body length, headers, close) for a request this worker answers; None for the gateway."""
        lines = raw.split(b"\r\n")
        first = lines[0]
        if first not in self.request_lines:
            parts = first.decode("latin-1").split(" ")
            if (len(parts) != 3 or parts[0] != "POST" or parts[2] not in ("HTTP/1.1", "HTTP/1.0")
                    or unquote(parts[1]) != self.path):
                return None
        headers = {}
        for line in lines[1:]:
            key, sep, value = line.partition(b":")
            if not sep:
                return None
            key = key.strip().lower()
            if key in headers:
                return None  # a repeated header: the gateway's parser decides what it means
            headers[key] = value.strip()
        length = headers.get(b"content-length", b"")
        if (headers.get(b"host") not in self.hosts or b"origin" in headers or b"expect" in headers
                or b"transfer-encoding" in headers or not headers.get(b"authorization", b"").startswith(b"AWS4-")
                or not length.isdigit() or int(length) > MAX_PAYLOAD_BYTES):
            return None
        conn = headers.get(b"connection", b"").lower()
        close = conn == b"close" or (first.endswith(b"HTTP/1.0") and conn != b"keep-alive")
        kept = {k: headers[b].decode("latin-1") for k, b in _KEPT if b in headers}
        return int(length), kept, close

    def _give_back(self, waited: float = 0.0) -> None:
        """Return the connection and the unanswered bytes to the gateway (once the answers
        already written have left: they must not be lost with our descriptor)."""
        self.done = True
        transport = self.transport
        if transport.is_closing():
            return
        transport.pause_reading()
        if transport.get_write_buffer_size() and waited < _DRAIN_SECONDS:
            asyncio.get_running_loop().call_later(0.005, self._give_back, waited + 0.005)
            return
        sock = transport.get_extra_info("socket")
        if not transport.get_write_buffer_size() and self.back and handoff.send(
                self.back, sock.fileno(), {"returned": self.name}, bytes(self.buf)):
            transport.abort()  # the gateway holds the connection now; this only drops our descriptor
            return
        transport.write(error_response(500, "InternalFailure", "The local SageMaker Runtime gateway did not take "
                                       "the request back; retry it.", close=True))
        transport.close()


def accept_handoffs(loop: asyncio.AbstractEventLoop, listener: socket.socket, app: Callable) -> None:
    """Serve the connections the gateway hands to ``listener`` on ``loop`` (one worker among
    several may take each)."""

    def on_ready() -> None:
        got = handoff.receive(listener)
        if got is None:
            return
        sock, note, initial = got
        loop.create_task(loop.connect_accepted_socket(lambda: HandedConnection(app, note, initial), sock))

    loop.add_reader(listener.fileno(), on_ready)


def address(endpoint_dir: str, uid: str) -> str:
    """The abstract name of an endpoint's handover listener (one per endpoint process tree)."""
    import hashlib

    key = hashlib.sha256(f"{os.path.realpath(endpoint_dir)}|{uid}".encode()).hexdigest()[:24]
    return f"{handoff.PREFIX}{key}"
