"""The WSGI-free request handler of a worker: routes, the container contract, request logs."""
from __future__ import annotations

import asyncio
import os
import time
from typing import Callable

from .contract import JSON, LoadedModel, invoke, response

_FLUSH_LINES = 2000
_FLUSH_SECONDS = 0.05


class RequestLog:
    """Buffered per-request log lines: written at once after a quiet spell, else at the end of the
    event loop's turn; also on errors and when the buffer fills.

    Writing a line per request unbuffered would cost a syscall per request at ~10k req/s.
    """

    def __init__(self, path: str):
        self.fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        self.lines: list[str] = []
        self.pid = os.getpid()
        self._second = -1
        self._stamp = ""
        self._scheduled = False
        self._last_flush = 0.0

    def stamp(self) -> str:
        now = time.time()
        sec = int(now)
        if sec != self._second:
            self._second = sec
            self._stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(sec))
        return f"{self._stamp}.{int((now - sec) * 1000):03d}Z"

    def request(self, method: str, path: str, status: int, ms: float, size_in: int, size_out: int) -> None:
        self.lines.append(f"{self.stamp()} [w{self.pid}] {method} {path} {status} {ms:.3f}ms "
                          f"{size_in}B->{size_out}B\n")
        if len(self.lines) >= _FLUSH_LINES:
            self.flush()
        elif not self._scheduled:
            if time.monotonic() - self._last_flush >= _FLUSH_SECONDS:
                # A request after a quiet spell (a notebook's predict): its line is in the log
                # before the answer leaves, so `%smops logs` right after it shows it.
                self.flush()
            else:
                # Within a burst: one write once this turn of the event loop has answered what
                # it read (a request per connection at most), so the lines of concurrent requests
                # share a write and none waits longer than the turn. It was a 50 ms timer: a
                # notebook's predict right after the deploy's ping, then `%smops endpoints` and
                # `%smops logs` within those 50 ms, read a log without the predict.
                self._scheduled = True
                asyncio.get_running_loop().call_soon(self.flush)

    def error(self, text: str) -> None:
        self.lines.append(f"{self.stamp()} [w{self.pid}] {text.rstrip()}\n")
        self.flush()

    def flush(self) -> None:
        self._scheduled = False
        self._last_flush = time.monotonic()
        if self.lines:
            data = "".join(self.lines).encode("utf-8", "replace")
            self.lines = []
            os.write(self.fd, data)


def make_app(loaded: LoadedModel, log_path: str) -> tuple[Callable, RequestLog]:
    """The request handler for a worker and its log."""
    log = RequestLog(log_path)
    perf = time.perf_counter
    empty = b""

    def app(method: str, path: str, headers: dict, body: bytes) -> tuple[int, str, bytes]:
        t0 = perf()
        if path == "/invocations":
            if method == "POST":
                ctype = headers.get("contenttype") or headers.get("content-type")
                status, out_type, payload, trace = invoke(loaded, body, ctype, headers.get("accept"))
                if trace is not None:
                    log.error(f"POST /invocations failed:\n{trace}")
            else:
                status, out_type, payload = 405, "text/plain", b"Use POST /invocations"
        elif path == "/ping":
            status, out_type, payload = 200, "text/plain", empty
        elif path == "/execution-parameters" and loaded.execution_parameters_fn is not None and method == "GET":
            status, out_type, payload = _execution_parameters(loaded, log)
        else:
            status, out_type, payload = 404, "text/plain", b"Not found: use GET /ping or POST /invocations"
        log.request(method, path, status, (perf() - t0) * 1000.0, len(body), len(payload))
        return status, out_type, payload

    return app, log


def _execution_parameters(loaded: LoadedModel, log: RequestLog) -> tuple[int, str, bytes]:
    try:
        result = loaded.execution_parameters_fn()
        out_type, payload = response(result, JSON)
        return 200, out_type, payload
    except Exception as exc:
        log.error(f"execution_parameters_fn failed: {exc!r}")
        return 500, "text/plain", str(exc).encode()
