"""Who is on the other end of a loopback TCP connection (standard library only).

A port on 127.0.0.1 is reachable by every local user, unlike a file under $SMOPS_HOME. Servers
that should answer only their owner ask ``tcp_peer_uid`` for the uid owning the client's socket.
Linux answers it two ways: the sock_diag netlink interface looks up that one socket by its
addresses (what ``ss`` uses; tens of microseconds), and ``/proc/net/tcp`` lists every TCP socket
with its owner's uid (the client's row is the one whose local address is our peer and whose remote
address is us). The table is the fallback: generating it costs the kernel time in proportion to
all the machine's sockets (5 ms with 1,300 of them, many in TIME_WAIT after a load test). One
lookup per new connection (keep-alive connections pay it once). Unix sockets use ``SO_PEERCRED``
instead (see ``zygote``).
"""
from __future__ import annotations

import os
import socket
import struct
import sys
from typing import Optional

_PROC_TCP = "/proc/net/tcp"
_PROC_TCP6 = "/proc/net/tcp6"  # a dual-stack (AF_INET6) client reaches 127.0.0.1 as ::ffff:127.0.0.1


def _hex_addr(host: str, port: int) -> bytes:
    # /proc/net/tcp writes the address as the 32-bit value in host byte order (little-endian
    # machines: 127.0.0.1 -> 0100007F), then the port in big-endian hex.
    packed = socket.inet_aton(host)
    value = int.from_bytes(packed, sys.byteorder)
    return f"{value:08X}:{port:04X}".encode()


def _hex_addr6(host: str, port: int) -> bytes:
    # tcp6 writes the 16 bytes as four 32-bit words, each in host byte order.
    packed = socket.inet_pton(socket.AF_INET6, "::ffff:" + host)
    words = "".join(f"{int.from_bytes(packed[i:i + 4], sys.byteorder):08X}" for i in range(0, 16, 4))
    return f"{words}:{port:04X}".encode()


_SOCK_DIAG_BY_FAMILY = 20
_NETLINK_SOCK_DIAG = 4
_DIAG_UID_AT = 16 + 64  # nlmsghdr, then inet_diag_msg's family..inode: idiag_uid is at 64


def _diag_uid(family: int, src: bytes, sport: int, dst: bytes, dport: int) -> Optional[int]:
    """sock_diag's uid of the TCP socket whose own address is ``src:sport`` and peer ``dst:dport``
    (addresses packed, 4 or 16 bytes); None when there is no such socket or no netlink here."""
    sockid = struct.pack("!HH", sport, dport) + src.ljust(16, b"\0") + dst.ljust(16, b"\0")
    sockid += struct.pack("=III", 0, 0xFFFFFFFF, 0xFFFFFFFF)  # any interface, INET_DIAG_NOCOOKIE
    req = struct.pack("=BBBBI", family, socket.IPPROTO_TCP, 0, 0, 0xFFFFFFFF) + sockid
    msg = struct.pack("=IHHII", 16 + len(req), _SOCK_DIAG_BY_FAMILY, 1, 1, 0) + req  # NLM_F_REQUEST
    try:
        nl = socket.socket(socket.AF_NETLINK, socket.SOCK_DGRAM, _NETLINK_SOCK_DIAG)
    except (OSError, AttributeError):
        return None
    try:
        nl.settimeout(1.0)
        nl.sendto(msg, (0, 0))
        data = nl.recv(8192)
    except OSError:
        return None
    finally:
        nl.close()
    if len(data) < _DIAG_UID_AT + 4 or struct.unpack_from("=H", data, 4)[0] != _SOCK_DIAG_BY_FAMILY:
        return None  # NLMSG_ERROR: not found (or sock_diag unavailable)
    return struct.unpack_from("=I", data, _DIAG_UID_AT)[0]


def tcp_peer_uid(sock: socket.socket) -> Optional[int]:
    """The uid owning the client end of the accepted IPv4 TCP connection ``sock``; None when the
    system cannot say (no procfs, e.g. macOS) or the client is already gone."""
    try:
        peer_host, peer_port = sock.getpeername()[:2]
        our_host, our_port = sock.getsockname()[:2]
    except OSError:
        return None
    if sock.family != socket.AF_INET:
        return None
    peer_ip, our_ip = socket.inet_aton(peer_host), socket.inet_aton(our_host)
    uid = _diag_uid(socket.AF_INET, peer_ip, peer_port, our_ip, our_port)
    if uid is None:  # a dual-stack client socket reaches 127.0.0.1 as ::ffff:127.0.0.1
        mapped = b"\0" * 10 + b"\xff\xff"
        uid = _diag_uid(socket.AF_INET6, mapped + peer_ip, peer_port, mapped + our_ip, our_port)
    if uid is not None:
        return uid
    return _proc_uid(peer_host, peer_port, our_host, our_port)


def _proc_uid(peer_host: str, peer_port: int, our_host: str, our_port: int) -> Optional[int]:
    for path, encode in ((_PROC_TCP, _hex_addr), (_PROC_TCP6, _hex_addr6)):
        needle = b" " + encode(peer_host, peer_port) + b" " + encode(our_host, our_port) + b" "
        try:
            with open(path, "rb") as fh:
                table = fh.read()
        except OSError:
            continue
        at = table.find(needle)
        if at >= 0:
            break
    else:
        return None
    end = table.find(b"\n", at)
    fields = table[at:end if end >= 0 else len(table)].split()
    # sl is before the needle; here: local rem st tx:rx tr:when retrnsmt uid ...
    try:
        return int(fields[6])
    except (IndexError, ValueError):
        return None


def procfs_available() -> bool:
    """Whether ``tcp_peer_uid`` can answer on this system."""
    return os.path.exists(_PROC_TCP)


def same_user(sock: socket.socket) -> bool:
    """True when the client of ``sock`` runs as this process's user. Without procfs the answer
    is True: the caller's other guards (loopback bind, required headers) still apply."""
    if not procfs_available():
        return True
    return tcp_peer_uid(sock) == os.getuid()
