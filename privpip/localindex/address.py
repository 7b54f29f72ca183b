"""Where the local index listens, and who may connect: the user's own loopback address.

The address: one in 127.0.0.0/8 (Linux routes all of it to the loopback device), chosen at
random the first time and kept in privpip's data directory, with a port kept the same way.
The same user therefore gets the same URLs on every run, and pip's and uv's caches (keyed by
URL) hit. The per-run credential goes into a netrc entry for that address only: pip's netrc
is host-scoped, so on 127.0.0.1 a direct-URL requirement at any other local port received it;
nothing else listens on this user's own address.

Who may connect: only this user. Loopback TCP has no SO_PEERCRED, so on Linux the peer's uid
comes from the kernel's socket table, which records the uid owning each socket (asked
through netlink's sock_diag, as `ss -e` does; /proc/net/tcp where that is missing); a
connection the kernel does not know, or that belongs to another uid, is closed unanswered.
"""

from __future__ import annotations

import os
import socket
import sys
from collections.abc import Mapping

FILE = "local-index-address"
FALLBACK_HOST = "127.0.0.1"
# Below Linux's ephemeral range (32768-60999), so no outgoing connection ever holds it.
_PORTS = range(20000, 32768)
_PROC_TCP = "/proc/net/tcp"


def choose() -> tuple[str, int]:
    """A random address in 127.0.0.0/8 outside 127.0.0.0/16 (where other tools listen), and a
    random port."""
    raw = os.urandom(5)
    host = f"127.{1 + raw[0] % 254}.{raw[1]}.{1 + raw[2] % 254}"
    return host, _PORTS[int.from_bytes(raw[3:], "big") % len(_PORTS)]


def parse(text: str) -> tuple[str, int]:
    """``127.A.B.C:PORT`` as written by :func:`own`; ValueError for anything else."""
    host, _, port_text = text.strip().rpartition(":")
    octets = host.split(".")
    if (len(octets) != 4 or octets[0] != "127"
            or not all(o.isdigit() and int(o) < 256 for o in octets)):
        raise ValueError("not an address in 127.0.0.0/8")
    port = int(port_text)
    if port not in _PORTS:
        raise ValueError("port out of range")
    return host, port


def own(env: Mapping[str, str]) -> tuple[str, int]:
    """This user's address and port: the kept ones, else new ones (kept from now on).

    A data directory that cannot be written gives a random address for this run only."""
    from privpip.core.userdata import create_private, data_dir, write_private

    path = data_dir(env) / FILE
    try:
        return parse(path.read_text(encoding="ascii"))
    except FileNotFoundError:
        damaged = False
    except (OSError, ValueError, UnicodeDecodeError):
        damaged = True
    host, port = choose()
    try:
        if damaged:
            write_private(path, f"{host}:{port}\n")
        elif not create_private(path, f"{host}:{port}\n"):
            # Two first runs at once: the one that kept its choice first decides for both.
            return parse(path.read_text(encoding="ascii"))
    except (OSError, ValueError, UnicodeDecodeError):
        pass
    return host, port


def checks_peers() -> bool:
    """Whether this system tells the uid of a loopback peer (Linux)."""
    return sys.platform.startswith("linux")


def peer_uid(ours: tuple[str, int], peer: tuple[str, int]) -> int | None:
    """The uid owning the client socket of the connection ``peer`` -> ``ours`` (Linux); None
    when the kernel no longer knows it (the client is gone already)."""
    try:
        return _ask_sock_diag(ours, peer)
    except OSError:  # no sock_diag here (a kernel without inet_diag): the slower listing
        return _read_proc_tcp(ours, peer)


_NETLINK_SOCK_DIAG = 4
_SOCK_DIAG_BY_FAMILY = 20
_NLM_F_REQUEST = 1
_NLMSG_ERROR = 2
_NO_COOKIE = 0xFFFFFFFF


def _ask_sock_diag(ours: tuple[str, int], peer: tuple[str, int]) -> int | None:
    """One exact lookup through netlink's sock_diag (what `ss` uses; no privilege needed):
    about 20 microseconds, where reading /proc/net/tcp took 3-11 ms on a busy machine
    (the kernel walks every socket for it), once per connection uv opens."""
    import struct

    # inet_diag_req_v2 for the client's socket: source = the peer, destination = us.
    sockid = struct.pack("!HH16s16s", peer[1], ours[1], socket.inet_aton(peer[0]) + bytes(12),
                         socket.inet_aton(ours[0]) + bytes(12))
    sockid += struct.pack("=III", 0, _NO_COOKIE, _NO_COOKIE)
    request = struct.pack("=BBBBI", socket.AF_INET, socket.IPPROTO_TCP, 0, 0, 0xFFFFFFFF) + sockid
    header = struct.pack("=IHHII", 16 + len(request), _SOCK_DIAG_BY_FAMILY, _NLM_F_REQUEST, 1, 0)
    with socket.socket(socket.AF_NETLINK, socket.SOCK_DGRAM, _NETLINK_SOCK_DIAG) as link:
        link.settimeout(2)
        link.send(header + request)
        answer = link.recv(8192)
    kind = struct.unpack_from("=H", answer, 4)[0]
    if kind == _NLMSG_ERROR:
        errno = -struct.unpack_from("=i", answer, 16)[0]
        if errno == 2:  # ENOENT: no such connection
            return None
        raise OSError(errno, "sock_diag refused the lookup")
    # nlmsghdr (16) + inet_diag_msg: family, state, timer, retrans (4), sockid (48),
    # expires, rqueue, wqueue (12), then the uid.
    return int(struct.unpack_from("=I", answer, 16 + 64)[0])


def _hex(address: tuple[str, int]) -> str:
    # /proc/net/tcp writes an IPv4 address as the 32-bit number in host byte order, in hex.
    number = int.from_bytes(socket.inet_aton(address[0]), sys.byteorder)
    return f"{number:08X}:{address[1]:04X}"


def _read_proc_tcp(ours: tuple[str, int], peer: tuple[str, int]) -> int | None:
    # The client's own line: its address is the local one, ours the remote one.
    needle = f"{_hex(peer)} {_hex(ours)} "
    with open(_PROC_TCP, encoding="ascii") as handle:
        for line in handle:
            if needle in line:
                fields = line.split()
                # sl local remote st tx:rx tr:when retrnsmt uid ...
                if len(fields) > 7 and f"{fields[1]} {fields[2]} " == needle:
                    return int(fields[7])
    return None
