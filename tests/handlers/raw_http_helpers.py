"""Helpers for tests that speak raw HTTP to the server (the ``raw_http`` fixture's answers)."""
from __future__ import annotations

import json


def json_error(headers: dict, body: bytes) -> dict:
    """The ``error`` object of a JSON error answer, after checking its shape."""
    assert headers["Content-Type"].startswith("application/json"), headers
    data = json.loads(body)
    assert set(data) == {"error"} and {"code", "message"} <= set(data["error"]), data
    return data["error"]


def chunk(data: bytes) -> bytes:
    """``data`` as one chunk of a chunked request body."""
    return f"{len(data):x}\r\n".encode() + data + b"\r\n"
