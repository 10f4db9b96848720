"""A real ``jupyter server`` with jupyter_smops in a subprocess, driven over REST: the fault suite
kills it at chosen phases, the schemathesis test runs the OpenAPI document against it."""
from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ServerProcess:
    """One server on 127.0.0.1 serving ``root``, configured by ``config`` (a config file's text),
    answering requests with ``token``; its output goes to ``log_path``. Ready when constructed."""

    def __init__(self, root: Path, env: dict, *, config: str, config_path: Path, log_path: Path, token: str):
        self.root = root
        self.token = token
        self.port = free_port()
        self.log_path = log_path
        config_path.write_text(config)
        self.log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "jupyter_server", f"--config={config_path}", f"--ServerApp.root_dir={root}",
             f"--ServerApp.port={self.port}", "--ServerApp.port_retries=0", "--ServerApp.ip=127.0.0.1"],
            env=env, stdout=self.log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"the server exited: {self.log_path.read_text()[-3000:]}")
            try:
                if self.call("GET", "status")[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.1)
        raise AssertionError(f"the server did not start: {self.log_path.read_text()[-3000:]}")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def call(self, method: str, route: str, body: Any = None, timeout: float = 60) -> tuple[int, Any]:
        """(status, JSON answer) of ``method /smops/api/<route>``; a POST without a body sends ``{}``."""
        data = json.dumps(body).encode() if body is not None else (b"{}" if method == "POST" else None)
        req = urllib.request.Request(f"{self.url}/smops/api/{route}", data=data, method=method,
                                     headers={"Authorization": f"token {self.token}",
                                              "Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=timeout) as resp:
                return resp.status, json.loads(resp.read() or b"null")
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read() or b"null")

    def start_job(self, method: str, route: str, body: Any) -> str:
        code, accepted = self.call(method, route, body)
        assert code == 202, accepted
        return accepted["job"]["id"]

    def wait_job(self, job_id: str, timeout: float = 120) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            code, job = self.call("GET", f"jobs/{job_id}")
            assert code == 200, job
            if job["state"] != "running":
                return job
            time.sleep(0.05)
        raise AssertionError(f"job {job_id} still running")

    def stop(self) -> str:
        """SIGTERM (a normal stop, as Ctrl+C twice); returns the server's log."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        return self.log_path.read_text(errors="replace")
