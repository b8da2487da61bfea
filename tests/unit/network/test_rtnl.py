"""rtnl.py's messages, decoded by pyroute2's own message classes (an independent reading of
the same wire format), and its parsing of the kernel's answers. No root, no sockets."""

import socket
import struct

import pytest
from pyroute2.netlink.rtnl.ifaddrmsg import ifaddrmsg
from pyroute2.netlink.rtnl.ifinfmsg import ifinfmsg
from pyroute2.netlink.rtnl.rtmsg import rtmsg

from skiff.engine.network import rtnl


def decoded(cls, raw: bytes):
    msg = cls(raw)
    msg.decode()
    return msg


def test_veth_request_carries_the_peer_in_its_namespace_and_the_master():
    raw = rtnl.message(rtnl.RTM_NEWLINK, rtnl.NLM_F_CREATE | rtnl.NLM_F_EXCL | rtnl.NLM_F_ACK, 9,
                       rtnl.veth_body("skv1a2b3", "eth0", 7, "02:42:0a:00:00:02", 3, 1400))
    msg = decoded(ifinfmsg, raw)
    assert msg["header"]["type"] == rtnl.RTM_NEWLINK and msg["header"]["sequence_number"] == 9
    assert msg["header"]["flags"] == 0x1 | 0x4 | 0x200 | 0x400 and msg["header"]["length"] == len(raw)
    assert msg["flags"] & 1 and msg["change"] & 1  # born up
    assert msg.get_attr("IFLA_IFNAME") == "skv1a2b3" and msg.get_attr("IFLA_MASTER") == 3
    assert msg.get_attr("IFLA_MTU") == 1400
    info = msg.get_attr("IFLA_LINKINFO")
    assert info.get_attr("IFLA_INFO_KIND") == "veth"
    peer = info.get_attr("IFLA_INFO_DATA").get_attr("VETH_INFO_PEER")
    assert peer.get_attr("IFLA_IFNAME") == "eth0" and peer.get_attr("IFLA_NET_NS_FD") == 7
    assert peer.get_attr("IFLA_ADDRESS") == "02:42:0a:00:00:02" and peer.get_attr("IFLA_MTU") == 1400


def test_veth_without_mtu_sends_none():
    msg = decoded(ifinfmsg, rtnl.message(rtnl.RTM_NEWLINK, 0, 1, rtnl.veth_body("a", "eth1", 4, "02:00:00:00:00:01", 2)))
    assert msg.get_attr("IFLA_MTU") is None
    assert msg.get_attr("IFLA_LINKINFO").get_attr("IFLA_INFO_DATA").get_attr("VETH_INFO_PEER").get_attr("IFLA_MTU") is None


def test_address_route_and_link_requests():
    addr = decoded(ifaddrmsg, rtnl.message(rtnl.RTM_NEWADDR, 0, 2, rtnl.addr_body(5, "172.18.0.7", 16)))
    assert (addr["family"], addr["prefixlen"], addr["index"]) == (socket.AF_INET, 16, 5)
    assert addr.get_attr("IFA_LOCAL") == "172.18.0.7" and addr.get_attr("IFA_ADDRESS") == "172.18.0.7"
    route = decoded(rtmsg, rtnl.message(rtnl.RTM_NEWROUTE, 0, 3, rtnl.default_route_body("172.18.0.1")))
    assert (route["family"], route["dst_len"], route["table"], route["proto"], route["type"]) == (
        socket.AF_INET, 0, 254, 3, 1)
    assert route.get_attr("RTA_GATEWAY") == "172.18.0.1" and route.get_attr("RTA_DST") is None
    up = decoded(ifinfmsg, rtnl.message(rtnl.RTM_SETLINK, 0, 4, rtnl.link_up_body(rtnl.LOOPBACK_IFINDEX)))
    assert (up["index"], up["flags"] & 1, up["change"] & 1) == (1, 1, 1)
    byname = decoded(ifinfmsg, rtnl.message(rtnl.RTM_GETLINK, 0, 5, rtnl.link_by_name_body("eth0")))
    assert byname["index"] == 0 and byname.get_attr("IFLA_IFNAME") == "eth0"


def test_attributes_are_padded_to_four_bytes():
    a = rtnl.attr_str(rtnl.IFLA_IFNAME, "eth0")  # 4 + 5 bytes -> 12
    assert len(a) == 12 and struct.unpack_from("=H", a)[0] == 9
    assert rtnl.attrs(a + rtnl.attr_u32(rtnl.IFLA_MTU, 9000)) == {rtnl.IFLA_IFNAME: b"eth0\0",
                                                                   rtnl.IFLA_MTU: struct.pack("=I", 9000)}


def _error(seq: int, code: int) -> bytes:
    return struct.pack("=IHHII", 16 + 4 + 16, rtnl.NLMSG_ERROR, 0, seq, 0) + struct.pack("=i", -code) + b"\0" * 16


def test_a_datagram_of_several_answers_splits_into_them():
    data = _error(1, 0) + _error(2, 17) + rtnl.message(rtnl.RTM_NEWLINK, 0, 3, rtnl.ifinfo(index=42))
    parts = list(rtnl.split(data))
    assert [(kind, seq) for kind, _, seq, _ in parts] == [(2, 1), (2, 2), (16, 3)]
    assert rtnl.error_code(parts[0][3]) == 0 and rtnl.error_code(parts[1][3]) == 17
    assert rtnl.link_index(parts[2][3]) == 42
    assert list(rtnl.split(b"\0" * 8)) == []  # a short or zero-length header ends the walk


def test_default_route_recognised_in_the_main_table_only():
    default = rtnl.default_route_body("10.0.0.1")
    assert rtnl.is_default_route(default)
    local = struct.pack("=BBBBBBBBI", socket.AF_INET, 0, 0, 0, 255, 2, 254, 2, 0)  # table local
    assert not rtnl.is_default_route(local)
    subnet = struct.pack("=BBBBBBBBI", socket.AF_INET, 24, 0, 0, 254, 2, 253, 1, 0)
    assert not rtnl.is_default_route(subnet)
    # a table number past 255 comes as RTA_TABLE, overriding the header's
    other = struct.pack("=BBBBBBBBI", socket.AF_INET, 0, 0, 0, 252, 3, 0, 1, 0) + rtnl.attr_u32(rtnl.RTA_TABLE, 1000)
    assert not rtnl.is_default_route(other)


class _FakeSocket:
    """Answers each request in a sent datagram with an acknowledgement or a chosen error."""

    def __init__(self, errors: dict[int, int] | None = None):
        self.errors = errors or {}
        self.sent: list[bytes] = []
        self.pending: list[bytes] = []

    def send(self, data: bytes) -> int:
        self.sent.append(data)
        answers = b"".join(_error(seq, self.errors.get(i, 0)) for i, (_, _, seq, _) in enumerate(rtnl.split(data)))
        self.pending.append(answers)
        return len(data)

    def recv(self, n: int) -> bytes:
        return self.pending.pop(0)

    def close(self) -> None:
        pass


def test_batch_goes_out_in_one_datagram_and_raises_the_first_refusal():
    sock = _FakeSocket()
    conn = rtnl.Rtnl(sock)  # type: ignore[arg-type]
    conn.batch([("lo up", rtnl.RTM_SETLINK, 0, rtnl.link_up_body(1)),
                ("addr", rtnl.RTM_NEWADDR, 0, rtnl.addr_body(2, "10.0.0.2", 24))])
    assert len(sock.sent) == 1 and len(list(rtnl.split(sock.sent[0]))) == 2
    assert all(flags & rtnl.NLM_F_ACK for _, flags, _, _ in rtnl.split(sock.sent[0]))
    failing = rtnl.Rtnl(_FakeSocket({1: 17, 2: 101}))  # type: ignore[arg-type]
    with pytest.raises(rtnl.RtnlError) as e:
        failing.batch([("a", rtnl.RTM_SETLINK, 0, b""), ("add address 10.0.0.2/24", rtnl.RTM_NEWADDR, 0, b""),
                       ("route", rtnl.RTM_NEWROUTE, 0, b"")])
    assert e.value.errno == 17 and str(e.value).startswith("add address 10.0.0.2/24: File exists")
