"""core/files.py: JSON state files written by many threads and processes, read at any moment."""
from __future__ import annotations

import json
import multiprocessing
import os
import stat
import threading

from jupyter_smops.core.files import read_json, write_json


def _hammer(path: str, who: str, count: int) -> None:
    for i in range(count):
        write_json(path, {"who": who, "i": i, "pad": "x" * 4096})


def test_concurrent_writers_never_show_a_reader_half_a_file(tmp_path):
    path = tmp_path / "state.json"
    write_json(path, {"who": "start", "i": -1})
    seen, bad, stop = [], [], threading.Event()

    def reader():
        while not stop.is_set():
            try:
                data = json.loads(path.read_text())
            except ValueError as exc:
                bad.append(exc)
            else:
                seen.append(data["who"])

    readers = [threading.Thread(target=reader) for _ in range(2)]
    writers = [threading.Thread(target=_hammer, args=(str(path), f"t{n}", 200)) for n in range(3)]
    ctx = multiprocessing.get_context("fork")
    procs = [ctx.Process(target=_hammer, args=(str(path), f"p{n}", 200)) for n in range(2)]
    for t in readers + writers:
        t.start()
    for p in procs:
        p.start()
    for t in writers:
        t.join()
    for p in procs:
        p.join()
        assert p.exitcode == 0
    stop.set()
    for t in readers:
        t.join()
    assert not bad, bad[:3]
    assert seen
    assert read_json(path)["i"] == 199
    # Every temporary file was renamed onto the target: nothing is left beside it.
    assert sorted(os.listdir(tmp_path)) == ["state.json"]


def test_written_files_are_private_to_the_user(tmp_path):
    write_json(tmp_path / "a.json", {"a": 1})
    assert stat.S_IMODE((tmp_path / "a.json").stat().st_mode) == 0o600


def test_read_json_says_none_for_absent_or_corrupt_files(tmp_path):
    assert read_json(tmp_path / "missing.json") is None
    (tmp_path / "torn.json").write_text('{"status": "InSer')
    assert read_json(tmp_path / "torn.json") is None
    write_json(tmp_path / "ok.json", {"when": tmp_path})  # default=str: a Path is written as text
    assert read_json(tmp_path / "ok.json") == {"when": str(tmp_path)}


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path, monkeypatch):
    import pytest

    from jupyter_smops.core import files

    path = tmp_path / "state.json"
    write_json(path, {"v": 1})

    def disk_full(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(files.os, "fsync", disk_full)
    with pytest.raises(OSError):
        write_json(path, {"v": 2})
    assert read_json(path) == {"v": 1}
    assert sorted(os.listdir(tmp_path)) == ["state.json"]
