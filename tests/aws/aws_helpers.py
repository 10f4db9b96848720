"""Helpers for the aws backend tests: small real artifacts, boto3 clients on the moto server,
and fault injection through botocore's event hooks (the request never leaves the client)."""
from __future__ import annotations

import hashlib
import io
import json
import os
import tarfile
import urllib.request
from pathlib import Path

from jupyter_smops.core.types import Check, PackageResult

INFERENCE = b'''import json, os, joblib
def model_fn(model_dir):
    return joblib.load(os.path.join(model_dir, "model.joblib"))
'''


def make_package(directory: Path, payload: bytes = b"model-bytes", *, name: str = "model.tar.gz",
                 serving_version: str = "1.9-0") -> PackageResult:
    """A real (tiny) model.tar.gz and the PackageResult describing it."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    with tarfile.open(path, "w:gz") as tar:
        for member, data in (("model.joblib", payload), ("code/inference.py", INFERENCE)):
            info = tarfile.TarInfo(member)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    data = path.read_bytes()
    return PackageResult(path=str(path), sha256=hashlib.sha256(data).hexdigest(), size=len(data),
                         model_file="model.joblib", framework="sklearn", framework_version="1.9.1",
                         serving_version=serving_version, checks=[Check("handlers", True)],
                         sample_input={"instances": [[5.1, 3.5, 1.4, 0.2]]})


def make_big_package(directory: Path, size: int) -> PackageResult:
    """A package of ``size`` bytes of incompressible data (forces a multipart upload)."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "model.tar.gz"
    path.write_bytes(os.urandom(size))  # the registry stores bytes; it does not open them
    data = path.read_bytes()
    return PackageResult(path=str(path), sha256=hashlib.sha256(data).hexdigest(), size=size,
                         model_file="model.joblib", framework="sklearn", framework_version="1.9.1",
                         serving_version="1.9-0", checks=[])


def queue_endpoint_results(moto_url: str, results: list[dict]) -> None:
    """Queue InvokeEndpoint answers on the moto server (consumed in order)."""
    body = json.dumps({"account_id": "123456789012", "region": "us-east-1", "results": results}).encode()
    req = urllib.request.Request(f"{moto_url}/moto-api/static/sagemaker/endpoint-results", data=body,
                                 method="POST", headers={"Content-Type": "application/json"})
    urllib.request.urlopen(req).read()


class Faults:
    """Answer chosen operations of a real client with canned errors or results (before-call hook).

    ``fail(op, code, message, times=n, status=400, extra={})`` and ``answer(op, parsed, times=n)``;
    every injected call is counted in ``calls``.
    """

    def __init__(self, client):
        self.client = client
        self.rules: dict[str, list] = {}
        self.calls: dict[str, int] = {}
        service_id = client.meta.service_model.service_id.hyphenize()
        client.meta.events.register(f"before-call.{service_id}", self._hook)

    def fail(self, op: str, code: str, message: str = "", *, times: int = 10**6, status: int = 400,
             extra: dict | None = None) -> "Faults":
        parsed = {"Error": {"Code": code, "Message": message}, "ResponseMetadata": {"HTTPStatusCode": status}}
        parsed.update(extra or {})
        self.rules.setdefault(op, []).append([times, status, parsed])
        return self

    def answer(self, op: str, parsed: dict, *, times: int = 1) -> "Faults":
        self.rules.setdefault(op, []).append([times, 200, dict(parsed, ResponseMetadata={"HTTPStatusCode": 200})])
        return self

    def _hook(self, model, **kwargs):
        rules = self.rules.get(model.name)
        if not rules:
            return None
        rule = rules[0]
        rule[0] -= 1
        if rule[0] <= 0:
            rules.pop(0)
        self.calls[model.name] = self.calls.get(model.name, 0) + 1
        return _Http(rule[1]), rule[2]


class _Http:
    def __init__(self, status: int):
        self.status_code = status
        self.headers: dict = {}
        self.content = b""
