"""Passing an accepted client connection to another process of this user (standard library only).

The runtime gateway checks a client connection (loopback, this uid), serves its first request
by forwarding it, then hands the connection itself to the endpoint's workers, which answer
its next requests in the SageMaker Runtime shape without a second hop (``runtime_worker``). A
request a worker will not answer (another endpoint, a refused header, a body too large) goes
back to the gateway with the connection. The descriptor travels over an abstract Unix socket
as ``SCM_RIGHTS`` with a small JSON note and the bytes already read from the connection.

An abstract socket has no file permissions, so each receiver checks ``SO_PEERCRED``: only
processes of this uid can hand it a connection (another user could otherwise pass their own
socket and skip the gateway's peer check). Linux only; elsewhere ``listen`` returns None and
the gateway keeps forwarding every request.
"""
from __future__ import annotations

import array
import json
import os
import socket
import struct
from typing import Optional

# Bumped when the handover message changes: listener names carry it, and the gateway hands a
# connection only to workers whose name says they speak its version (endpoints outlive upgrades).
PROTOCOL = 1
PREFIX = f"smops-handoff-v{PROTOCOL}-"  # a worker listener's name (runtime_worker.address)
_NOTE_LIMIT = 64 * 1024
_TIMEOUT = 2.0


def supported() -> bool:
    """Whether connections can be handed over here (Linux: abstract sockets and SO_PEERCRED)."""
    return hasattr(socket, "SO_PEERCRED") and hasattr(socket, "SCM_RIGHTS") and os.path.isdir("/proc")


def listen(name: str) -> Optional[socket.socket]:
    """A non-blocking listener on the abstract address ``name``; None when unsupported or taken."""
    if not supported():
        return None
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.bind("\0" + name)
    except OSError:
        sock.close()
        return None
    sock.listen(256)
    sock.setblocking(False)
    return sock


def send(name: str, fd: int, note: dict, data: bytes = b"") -> bool:
    """Hand the connection ``fd`` to the listener ``name`` with ``note`` and the bytes already
    read from it. True once all of it is sent: the receiver owns the connection from then on
    (the caller closes only its own descriptor). False when it could not all be sent: the
    receiver drops what it got, and the caller keeps the connection.

    Without ``data`` nothing waits (a full listener backlog is a False at once, which is what the
    gateway's event loop needs); with it, a short timeout bounds the wait."""
    head = json.dumps(note).encode()
    first = struct.pack("!II", len(head), len(data)) + head
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        if data:
            sock.settimeout(_TIMEOUT)
        else:
            sock.setblocking(False)
        sock.connect("\0" + name)
        sent = sock.sendmsg([first], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", [fd]))])
        if sent != len(first):
            return False
        if data:
            sock.sendall(data)
        return True
    except OSError:
        return False
    finally:
        sock.close()


def receive(listener: socket.socket) -> Optional[tuple[socket.socket, dict, bytes]]:
    """Accept one handed-over connection: (client socket, note, bytes already read), or None
    when there is none waiting (another worker took it), the sender is not this user, or the
    handover came short (then its sender still owns the connection)."""
    try:
        conn, _ = listener.accept()
    except (BlockingIOError, InterruptedError):
        return None
    client = None
    try:
        conn.settimeout(_TIMEOUT)
        creds = conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
        if struct.unpack("3i", creds)[1] != os.getuid():
            return None
        fds = array.array("i")
        msg, ancdata, _flags, _ = conn.recvmsg(65536, socket.CMSG_SPACE(fds.itemsize))
        for level, kind, payload in ancdata:
            if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                fds.frombytes(payload[:len(payload) - len(payload) % fds.itemsize])
        if len(fds) != 1 or len(msg) < 8:
            for fd in fds:
                os.close(fd)
            return None
        client = socket.socket(fileno=fds[0])
        head_len, data_len = struct.unpack("!II", msg[:8])
        if head_len > _NOTE_LIMIT:
            raise ValueError("note too long")
        buf = bytearray(msg[8:])
        while len(buf) < head_len + data_len:
            chunk = conn.recv(max(65536, head_len + data_len - len(buf)))
            if not chunk:
                raise ValueError("short handover")
            buf += chunk
        note = json.loads(bytes(buf[:head_len]))
        client.setblocking(False)
        out, client = (client, note, bytes(buf[head_len:head_len + data_len])), None
        return out
    except (OSError, ValueError):
        return None
    finally:
        conn.close()
        if client is not None:
            client.close()
