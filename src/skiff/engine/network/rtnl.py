"""A few rtnetlink requests on a raw netlink socket, sent in batches: the per-container path.

pyroute2 costs ~1 ms of Python per request (request filters, an asyncio core under its sync
API, a socket object per namespace), and a bridge container needs six of them at every start.
Here the messages are packed with `struct` (pure functions, unit-tested without root) and
several go out in one datagram: the kernel handles them in order and acknowledges each, so
a container's namespace is configured with three round trips (veth, link lookup, the rest).
The rest of the network package (bridges, dumps at start-up) keeps pyroute2.
"""

from __future__ import annotations

import errno
import ipaddress
import os
import socket
import struct
from collections.abc import Iterable

RTM_NEWLINK, RTM_DELLINK, RTM_GETLINK, RTM_SETLINK = 16, 17, 18, 19
RTM_NEWADDR = 20
RTM_NEWROUTE, RTM_GETROUTE = 24, 26
NLMSG_ERROR, NLMSG_DONE = 2, 3
NLM_F_REQUEST, NLM_F_MULTI, NLM_F_ACK = 0x1, 0x2, 0x4
NLM_F_DUMP = 0x300
NLM_F_EXCL, NLM_F_CREATE = 0x200, 0x400
IFF_UP = 0x1
LOOPBACK_IFINDEX = 1  # fixed by the kernel in every namespace

IFLA_ADDRESS, IFLA_IFNAME, IFLA_MTU, IFLA_MASTER, IFLA_LINKINFO, IFLA_NET_NS_FD = 1, 3, 4, 10, 18, 28
IFLA_INFO_KIND, IFLA_INFO_DATA = 1, 2
VETH_INFO_PEER = 1
IFA_ADDRESS, IFA_LOCAL = 1, 2
RTA_DST, RTA_GATEWAY, RTA_TABLE = 1, 5, 15
RT_TABLE_MAIN, RTPROT_BOOT, RT_SCOPE_UNIVERSE, RTN_UNICAST = 254, 3, 0, 1

_NLMSGHDR = struct.Struct("=IHHII")  # len, type, flags, seq, pid
_IFINFOMSG = struct.Struct("=BxHiII")  # family, type, index, flags, change
_IFADDRMSG = struct.Struct("=BBBBI")  # family, prefixlen, flags, scope, index
_RTMSG = struct.Struct("=BBBBBBBBI")  # family, dst_len, src_len, tos, table, protocol, scope, type, flags
_RTATTR = struct.Struct("=HH")


class RtnlError(OSError):
    """A request the kernel refused; `.errno` and `.strerror` are its error, `.what` names the request."""

    def __init__(self, code: int, what: str):
        super().__init__(code, os.strerror(code))
        self.what = what

    def __str__(self) -> str:
        return f"{self.what}: {self.strerror}"


# --- packing (pure) ---------------------------------------------------------------------------
def _pad(n: int) -> int:
    return (n + 3) & ~3


def attr(kind: int, payload: bytes) -> bytes:
    """One rtattr, padded to four bytes."""
    raw = _RTATTR.pack(_RTATTR.size + len(payload), kind) + payload
    return raw + b"\0" * (_pad(len(raw)) - len(raw))


def attr_str(kind: int, value: str) -> bytes:
    return attr(kind, value.encode() + b"\0")


def attr_u32(kind: int, value: int) -> bytes:
    return attr(kind, struct.pack("=I", value))


def mac_bytes(mac: str) -> bytes:
    return bytes(int(b, 16) for b in mac.split(":"))


def message(kind: int, flags: int, seq: int, body: bytes) -> bytes:
    return _NLMSGHDR.pack(_NLMSGHDR.size + len(body), kind, flags | NLM_F_REQUEST, seq, 0) + body


def ifinfo(index: int = 0, flags: int = 0, change: int = 0, family: int = socket.AF_UNSPEC) -> bytes:
    return _IFINFOMSG.pack(family, 0, index, flags, change)


def veth_body(name: str, peer: str, peer_netns_fd: int, peer_mac: str, master: int, mtu: int = 0) -> bytes:
    """RTM_NEWLINK: a veth pair whose peer is born in another namespace; the host end on
    `master` and up."""
    mtu_attr = attr_u32(IFLA_MTU, mtu) if mtu else b""
    peer_msg = (ifinfo() + attr_str(IFLA_IFNAME, peer) + attr_u32(IFLA_NET_NS_FD, peer_netns_fd)
                + attr(IFLA_ADDRESS, mac_bytes(peer_mac)) + mtu_attr)
    linkinfo = attr_str(IFLA_INFO_KIND, "veth") + attr(IFLA_INFO_DATA, attr(VETH_INFO_PEER, peer_msg))
    return (ifinfo(flags=IFF_UP, change=IFF_UP) + attr_str(IFLA_IFNAME, name) + attr_u32(IFLA_MASTER, master)
            + mtu_attr + attr(IFLA_LINKINFO, linkinfo))


def link_up_body(index: int) -> bytes:
    return ifinfo(index=index, flags=IFF_UP, change=IFF_UP)


def link_by_name_body(name: str) -> bytes:
    return ifinfo() + attr_str(IFLA_IFNAME, name)


def addr_body(index: int, ip: str, prefixlen: int) -> bytes:
    """RTM_NEWADDR of an IPv4 address (IFA_LOCAL and IFA_ADDRESS, as `ip addr add` sends)."""
    raw = ipaddress.IPv4Address(ip).packed
    return (_IFADDRMSG.pack(socket.AF_INET, prefixlen, 0, RT_SCOPE_UNIVERSE, index)
            + attr(IFA_LOCAL, raw) + attr(IFA_ADDRESS, raw))


def default_route_body(gateway: str) -> bytes:
    """RTM_NEWROUTE: the IPv4 default route through `gateway`, in the main table."""
    return (_RTMSG.pack(socket.AF_INET, 0, 0, 0, RT_TABLE_MAIN, RTPROT_BOOT, RT_SCOPE_UNIVERSE, RTN_UNICAST, 0)
            + attr(RTA_GATEWAY, ipaddress.IPv4Address(gateway).packed))


def route_dump_body() -> bytes:
    return _RTMSG.pack(socket.AF_INET, 0, 0, 0, 0, 0, 0, 0, 0)


# --- parsing (pure) ---------------------------------------------------------------------------
def split(data: bytes) -> Iterable[tuple[int, int, int, bytes]]:
    """(type, flags, seq, body) of every message in a datagram."""
    off = 0
    while off + _NLMSGHDR.size <= len(data):
        length, kind, flags, seq, _ = _NLMSGHDR.unpack_from(data, off)
        if length < _NLMSGHDR.size:
            break
        yield kind, flags, seq, data[off + _NLMSGHDR.size:off + length]
        off += _pad(length)


def attrs(data: bytes) -> dict[int, bytes]:
    out: dict[int, bytes] = {}
    off = 0
    while off + _RTATTR.size <= len(data):
        length, kind = _RTATTR.unpack_from(data, off)
        if length < _RTATTR.size:
            break
        out[kind & 0x3FFF] = data[off + _RTATTR.size:off + length]
        off += _pad(length)
    return out


def error_code(body: bytes) -> int:
    """The errno of an NLMSG_ERROR (0 for an acknowledgement)."""
    return -struct.unpack_from("=i", body)[0]


def link_index(body: bytes) -> int:
    return _IFINFOMSG.unpack_from(body)[2]


def is_default_route(body: bytes) -> bool:
    family, dst_len, _, _, table, _, _, kind, _ = _RTMSG.unpack_from(body)
    table = struct.unpack("=I", attrs(body[_RTMSG.size:]).get(RTA_TABLE, struct.pack("=I", table)))[0]
    return family == socket.AF_INET and dst_len == 0 and table == RT_TABLE_MAIN and kind == RTN_UNICAST


# --- the socket ---------------------------------------------------------------------------------
class Rtnl:
    """A NETLINK_ROUTE socket (bound to the namespace it was opened in) sending batches."""

    def __init__(self, sock: socket.socket | None = None):
        self.sock = sock or socket.socket(socket.AF_NETLINK, socket.SOCK_RAW | socket.SOCK_CLOEXEC,
                                          socket.NETLINK_ROUTE)
        self.seq = 0

    def close(self) -> None:
        self.sock.close()

    def __enter__(self) -> Rtnl:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _next(self) -> int:
        self.seq = (self.seq + 1) & 0xFFFFFFFF
        return self.seq

    def batch(self, requests: list[tuple[str, int, int, bytes]]) -> None:
        """Send (what, type, extra flags, body) requests in one datagram and wait for every
        acknowledgement; the first refusal is raised once all have answered (the kernel goes on
        with the next ones: callers order them so that a failed step makes the rest fail too)."""
        seqs: dict[int, str] = {}
        out = bytearray()
        for what, kind, flags, body in requests:
            seq = self._next()
            seqs[seq] = what
            out += message(kind, flags | NLM_F_ACK, seq, body)
        self.sock.send(out)
        first: RtnlError | None = None
        while seqs:
            for kind, _, seq, body in split(self.sock.recv(65536)):
                if kind == NLMSG_ERROR and seq in seqs:
                    what = seqs.pop(seq)
                    code = error_code(body)
                    if code and first is None:
                        first = RtnlError(code, what)
        if first is not None:
            raise first

    def request(self, what: str, kind: int, flags: int, body: bytes) -> None:
        self.batch([(what, kind, flags, body)])

    def get_link_index(self, name: str) -> int | None:
        seq = self._next()
        self.sock.send(message(RTM_GETLINK, 0, seq, link_by_name_body(name)))
        while True:
            for kind, _, rseq, body in split(self.sock.recv(65536)):
                if rseq != seq:
                    continue
                if kind == NLMSG_ERROR:
                    code = error_code(body)
                    if code in (errno.ENODEV, errno.ENOENT):
                        return None
                    raise RtnlError(code, f"find {name}")
                if kind == RTM_NEWLINK:
                    return link_index(body)

    def has_default_route(self) -> bool:
        seq = self._next()
        self.sock.send(message(RTM_GETROUTE, NLM_F_DUMP, seq, route_dump_body()))
        found = False
        while True:
            for kind, _, rseq, body in split(self.sock.recv(65536)):
                if rseq != seq:
                    continue
                if kind == NLMSG_DONE:
                    return found
                if kind == NLMSG_ERROR:
                    raise RtnlError(error_code(body), "list routes")
                if kind == RTM_NEWROUTE and is_default_route(body):
                    found = True


def create_veth(rtnl: Rtnl, name: str, peer: str, peer_netns_fd: int, peer_mac: str, master: int,
                mtu: int = 0) -> None:
    rtnl.request(f"create veth {name}", RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL,
                 veth_body(name, peer, peer_netns_fd, peer_mac, master, mtu))


def configure_inside(rtnl: Rtnl, ifname: str, ip: str, prefixlen: int, gateway: str | None, lo: bool) -> None:
    """In a container's namespace, in one batch: lo up (first interface), the address, the link
    up, the default route."""
    index = rtnl.get_link_index(ifname)
    if index is None:
        raise RtnlError(errno.ENODEV, f"find {ifname}")
    reqs: list[tuple[str, int, int, bytes]] = []
    if lo:
        reqs.append(("set lo up", RTM_SETLINK, 0, link_up_body(LOOPBACK_IFINDEX)))
    reqs.append((f"add address {ip}/{prefixlen}", RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL,
                 addr_body(index, ip, prefixlen)))
    reqs.append((f"set {ifname} up", RTM_SETLINK, 0, link_up_body(index)))
    if gateway:
        reqs.append((f"add default route via {gateway}", RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL,
                     default_route_body(gateway)))
    rtnl.batch(reqs)


def delete_link(rtnl: Rtnl, name: str) -> bool:
    """Delete an interface by name; False when there was none."""
    try:
        rtnl.request(f"delete {name}", RTM_DELLINK, 0, link_by_name_body(name))
    except RtnlError as e:
        if e.errno in (errno.ENODEV, errno.ENOENT):
            return False
        raise
    return True
