import asyncio
import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st

from skiff.engine.network import dns_codec as codec
from skiff.engine.network.dns import Answerer, EmbeddedDns

RECORDS = {"web": ["10.5.0.2"], "db": ["10.5.0.3"], "alias-db": ["10.5.0.3"]}


def resolve(cid, name):
    assert cid == "c1"
    return RECORDS.get(name, [])


def reverse(cid, ip):
    return ["db.mynet"] if ip == "10.5.0.3" else []


def test_query_round_trip():
    q = codec.parse_query(codec.build_query("Web.Example.", codec.TYPE_A, qid=7))
    assert (q.id, q.name, q.qtype, q.qclass, q.recursion_desired) == (7, "web.example", codec.TYPE_A, 1, True)


@given(st.lists(st.from_regex(r"[a-z0-9]([a-z0-9-]{0,20}[a-z0-9])?", fullmatch=True), min_size=1, max_size=5),
       st.lists(st.ip_addresses(v=4).map(str), max_size=4))
def test_a_answer_decodes_to_the_same_addresses(labels, addrs):
    q = codec.parse_query(codec.build_query(".".join(labels)))
    rcode, answers = codec.parse_answers(codec.answer_a(q, addrs))
    assert rcode == 0 and answers == [(codec.TYPE_A, a) for a in addrs]


@given(st.binary(max_size=64))
def test_garbage_never_crashes_the_parser(data):
    try:
        codec.parse_query(data)
    except codec.DnsFormatError:
        pass


def test_compression_loop_is_rejected():
    data = struct.pack("!HHHHHH", 1, 0x100, 1, 0, 0, 0) + b"\xc0\x0c" + b"\x00\x01\x00\x01"
    with pytest.raises(codec.DnsFormatError):
        codec.parse_query(data)


def test_answerer_local_names():
    a = Answerer(resolve, reverse)
    rcode, answers = codec.parse_answers(a.local_reply("c1", codec.build_query("alias-db")))
    assert (rcode, answers) == (0, [(codec.TYPE_A, "10.5.0.3")])
    rcode, answers = codec.parse_answers(a.local_reply("c1", codec.build_query("web", codec.TYPE_AAAA)))
    assert (rcode, answers) == (0, [])  # known name, no IPv6: empty, not forwarded
    rcode, answers = codec.parse_answers(a.local_reply("c1", codec.build_query("3.0.5.10.in-addr.arpa",
                                                                                codec.TYPE_PTR)))
    assert answers == [(codec.TYPE_PTR, "db.mynet")]
    assert a.local_reply("c1", codec.build_query("example.com")) is None  # to be forwarded
    assert a.local_reply("c1", codec.build_query("9.9.9.9.in-addr.arpa", codec.TYPE_PTR)) is None


def test_answerer_formerr_for_bad_query():
    bad = struct.pack("!HHHHHH", 9, 0x100, 2, 0, 0, 0)
    reply = Answerer(resolve).local_reply("c1", bad)
    assert reply[:2] == b"\x00\x09" and reply[3] & 0xF == codec.RCODE_FORMERR


class FakeUpstream(asyncio.DatagramProtocol):
    def __init__(self):
        self.seen: list[str] = []

    def connection_made(self, transport):
        self.t = transport

    def datagram_received(self, data, addr):
        q = codec.parse_query(data)
        self.seen.append(q.name)
        self.t.sendto(codec.answer_a(q, ["192.0.2.99"]), addr)


def test_forwarding_over_udp_and_tcp_and_servfail():
    async def main():
        loop = asyncio.get_running_loop()
        fake = FakeUpstream()
        t, _ = await loop.create_datagram_endpoint(lambda: fake, local_addr=("127.0.0.1", 0))
        port = t.get_extra_info("sockname")[1]

        async def tcp_upstream(reader, writer):
            size = struct.unpack("!H", await reader.readexactly(2))[0]
            q = codec.parse_query(await reader.readexactly(size))
            out = codec.answer_a(q, ["192.0.2.100"])
            writer.write(struct.pack("!H", len(out)) + out)
            await writer.drain()
            writer.close()

        tcp = await asyncio.start_server(tcp_upstream, "127.0.0.1", port)
        dns = EmbeddedDns(resolve, ["127.0.0.1"], upstream_port=port)
        out = await dns.answer("c1", codec.build_query("example.com"), tcp=False)
        assert codec.parse_answers(out)[1] == [(codec.TYPE_A, "192.0.2.99")]
        out = await dns.answer("c1", codec.build_query("example.org"), tcp=True)
        assert codec.parse_answers(out)[1] == [(codec.TYPE_A, "192.0.2.100")]
        out = await dns.answer("c1", codec.build_query("web"), tcp=False)
        assert codec.parse_answers(out)[1] == [(codec.TYPE_A, "10.5.0.2")]
        assert fake.seen == ["example.com"]
        t.close()
        tcp.close()
        dead = EmbeddedDns(resolve, [], upstream_port=port)
        out = await dead.answer("c1", codec.build_query("example.net"), tcp=False)
        assert codec.parse_answers(out) == (codec.RCODE_SERVFAIL, [])
        await dns.close()

    asyncio.run(main())
