"""Paths the operating system refuses are the client's 4xx with a message naming the field, never
a 500 (before: ENAMETOOLONG and lone surrogates were InternalError, a FIFO hung a push's job or
came back with the server's absolute path, EACCES from the core was a 500)."""
from __future__ import annotations

import errno
import os

import pytest

LONG_NAME = "a" * 300 + ".joblib"  # one component over NAME_MAX (255)
LONG_PATH = "/".join(["b" * 200] * 25) + ".joblib"  # over PATH_MAX (4096)


@pytest.fixture
def root(jp_root_dir):
    (jp_root_dir / "iris.joblib").write_bytes(b"not a model, never read")
    (jp_root_dir / "folder.joblib").mkdir()
    os.mkfifo(jp_root_dir / "fifo.joblib")
    os.mkfifo(jp_root_dir / "fifo.tar.gz")
    (jp_root_dir / "loop1").symlink_to("loop2")
    (jp_root_dir / "loop2").symlink_to("loop1")
    return jp_root_dir


CASES = [
    (LONG_NAME, 400, "longer than the operating system allows"),
    (LONG_PATH, 400, "longer than the operating system allows"),
    ("loop1", 400, "symlink loop"),
    ("loop1/x.joblib", 400, "symlink loop"),
    ("iris.joblib/x.joblib", 400, "part of it is a file, not a folder"),
    ("fifo.joblib", 400, "not a regular file"),
    ("folder.joblib", 400, "is a folder"),
    ("a\x00b.joblib", 400, "NUL character"),
    ("\ud800.joblib", 400, "not valid Unicode text"),
    ("\udcff.joblib", 400, "not valid Unicode text"),
]


def _body(route: str, field: str, value: str) -> dict:
    body = {"models": {"path": "iris.joblib", "name": "iris"}, "packages": {"path": "iris.joblib"}}[route]
    return {**body, field: value}


@pytest.mark.parametrize("route,field", [("models", "path"), ("packages", "path"), ("packages", "inference"),
                                         ("models", "requirements")])
@pytest.mark.parametrize("value,status,words", CASES, ids=[c[2][:20] + str(i) for i, c in enumerate(CASES)])
async def test_os_refused_paths_are_4xx(api, root, smops_home, route, field, value, status, words):
    code, body, _ = await api("POST", route, _body(route, field, value))
    assert code == status, body
    assert words in body["error"]["message"] and repr(field) in body["error"]["message"]
    assert str(root) not in body["error"]["message"]  # never the server's absolute path


@pytest.mark.parametrize("out,status,words", [
    ("a" * 300 + ".tar.gz", 400, "longer than the operating system allows"),
    ("fifo.tar.gz", 400, "not a regular file"),
    ("iris.joblib/m.tar.gz", 400, "part of it is a file, not a folder"),
    ("loop1/m.tar.gz", 400, "symlink loop"),
    ("nowhere/m.tar.gz", 404, "does not exist; create it first"),
])
async def test_os_refused_outputs_are_4xx(api, root, smops_home, out, status, words):
    code, body, _ = await api("POST", "packages", {"path": "iris.joblib", "out": out})
    assert code == status and words in body["error"]["message"], body


async def test_an_unreadable_file_is_403(api, root, smops_home, monkeypatch):
    # The tests run as root, which reads anything: the permission answer is simulated at the OS call.
    real_access = os.access
    monkeypatch.setattr(os, "access", lambda p, mode, **kw: False if str(p).endswith("iris.joblib")
                        else real_access(p, mode, **kw))
    code, body, _ = await api("POST", "models", {"path": "iris.joblib", "name": "iris"})
    assert code == 403 and body["error"]["code"] == "AccessDenied", body
    assert "may not read 'iris.joblib'" in body["error"]["message"]


async def test_permission_denied_inside_the_core_is_403_with_the_relative_path(api, root, smops_home, monkeypatch):
    from jupyter_smops.core.api import Smops

    def refuse(self, model, **kwargs):
        raise PermissionError(errno.EACCES, "Permission denied", str(root / "iris.joblib"))

    monkeypatch.setattr(Smops, "package", refuse)
    code, body, _ = await api("POST", "packages", {"path": "iris.joblib"})
    assert code == 403 and "permission denied" in body["error"]["message"], body
    assert "'iris.joblib'" in body["error"]["message"] and str(root) not in body["error"]["message"]


async def test_an_os_error_on_the_servers_own_files_stays_a_500(api, root, smops_home, monkeypatch):
    from jupyter_smops.core.api import Smops

    def broken(self, model, **kwargs):
        raise PermissionError(errno.EACCES, "Permission denied", "/var/lib/somewhere/registry.json")

    monkeypatch.setattr(Smops, "package", broken)
    code, body, _ = await api("POST", "packages", {"path": "iris.joblib"})
    assert code == 500 and body["error"]["code"] == "InternalError"
