"""The endpoint's request log: a request's line is in the file by the time a client could read it."""
from __future__ import annotations

import asyncio

from jupyter_smops.core.serving.app import RequestLog


def test_a_request_right_after_another_is_written_within_the_loop_turn(tmp_path):
    """A notebook's predict right after the deploy's ping is the second request within 50 ms; its
    line must not wait for a timer, or `%smops logs` run at once reads a log without it."""
    path = tmp_path / "endpoint.log"

    async def two_requests() -> str:
        log = RequestLog(str(path))
        log.request("GET", "/ping", 200, 0.01, 0, 0)  # after a quiet spell: written at once
        log.request("POST", "/invocations", 200, 0.5, 40, 20)  # 'within a burst'
        await asyncio.sleep(0)  # one turn of the loop, as the worker answering the next event
        await asyncio.sleep(0)
        return path.read_text()

    text = asyncio.run(two_requests())
    assert "GET /ping 200" in text and "POST /invocations 200" in text, text


def test_lines_of_one_turn_share_a_write(tmp_path, monkeypatch):
    import os

    writes = []
    real = os.write
    monkeypatch.setattr(os, "write", lambda fd, data: writes.append(data) or real(fd, data))

    async def burst() -> None:
        log = RequestLog(str(tmp_path / "endpoint.log"))
        log.request("GET", "/ping", 200, 0.01, 0, 0)
        for _ in range(50):
            log.request("POST", "/invocations", 200, 0.5, 40, 20)
        await asyncio.sleep(0)
        await asyncio.sleep(0)

    asyncio.run(burst())
    assert len(writes) == 2 and writes[1].count(b"POST /invocations") == 50
