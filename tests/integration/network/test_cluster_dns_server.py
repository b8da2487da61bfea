"""The node's DNS server on real sockets: cluster names answered over udp and tcp, other names
forwarded to the upstream server (udp and tcp), SERVFAIL when no upstream answers, and the
`<prefix>dns0` link holding the cluster DNS address, gone after stop."""

import asyncio
import secrets
import socket
import struct
import subprocess
import sys

import pytest

from skiff.cluster.dns.index import ClusterIndex
from skiff.cluster.dns.resolver import Resolver
from skiff.cluster.dns.server import NodeDns, link_name
from skiff.engine.network import dns_codec as codec

pytestmark = [pytest.mark.root]


def index():
    ix = ClusterIndex()
    ix.set_service({"metadata": {"name": "api", "namespace": "default"},
                    "spec": {"clusterIP": "10.43.0.30", "ports": [{"name": "http", "port": 80}]}})
    ix.set_service({"metadata": {"name": "ext", "namespace": "default"},
                    "spec": {"type": "ExternalName", "externalName": "db.example.net"}})
    return ix


class Upstream(asyncio.DatagramProtocol):
    """A fake upstream: every A query gets 192.0.2.1."""

    def connection_made(self, transport):
        self.transport = transport

    def datagram_received(self, data, addr):
        self.transport.sendto(codec.answer_a(codec.parse_query(data), ["192.0.2.1"]), addr)


async def udp_ask(address, port, name, qtype=codec.TYPE_A):
    loop = asyncio.get_running_loop()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.setblocking(False)
        await loop.sock_connect(s, (address, port))
        await loop.sock_sendall(s, codec.build_query(name, qtype))
        return codec.parse_reply(await asyncio.wait_for(loop.sock_recv(s, 4096), 5))


async def tcp_ask(address, port, name):
    reader, writer = await asyncio.open_connection(address, port)
    query = codec.build_query(name)
    writer.write(struct.pack("!H", len(query)) + query)
    size = struct.unpack("!H", await reader.readexactly(2))[0]
    data = await reader.readexactly(size)
    writer.close()
    return codec.parse_reply(data)


def free_udp_port():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_answers_forwards_and_fails_over_udp_and_tcp():
    async def main():
        loop = asyncio.get_running_loop()
        up_port = free_udp_port()
        up, _ = await loop.create_datagram_endpoint(Upstream, local_addr=("127.0.0.1", up_port))
        port = free_udp_port()
        server = NodeDns(Resolver(index()), ["127.0.0.1"], upstream_port=up_port, port=port)
        await server.serve("127.0.0.1")
        try:
            flags, (answers, _, _) = await udp_ask("127.0.0.1", port, "api.default.svc.cluster.local")
            assert [v for *_, v in answers] == ["10.43.0.30"] and flags & 0x0400
            flags, (answers, _, _) = await tcp_ask("127.0.0.1", port, "API.default.svc.cluster.local")
            assert [v for *_, v in answers] == ["10.43.0.30"]
            # garbage gets FORMERR (or nothing when it has no header), and the server goes on serving
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
                s.setblocking(False)
                await loop.sock_connect(s, ("127.0.0.1", port))
                await loop.sock_sendall(s, b"\x12")
                await loop.sock_sendall(s, b"\xab\xcd" + b"\xff" * 20)
                reply = await asyncio.wait_for(loop.sock_recv(s, 512), 5)
            assert reply[:2] == b"\xab\xcd" and reply[3] & 0xF == codec.RCODE_FORMERR
            _, (answers, _, _) = await udp_ask("127.0.0.1", port, "api.default.svc.cluster.local")
            assert [v for *_, v in answers] == ["10.43.0.30"]
            _, (answers, _, _) = await udp_ask("127.0.0.1", port, "www.example.com")
            assert [v for *_, v in answers] == ["192.0.2.1"]  # from the upstream
            # an ExternalName: its CNAME, and the target's address from the upstream
            flags, (answers, _, _) = await udp_ask("127.0.0.1", port, "ext.default.svc.cluster.local")
            assert [(t, v) for _, t, _, v in answers] == [(codec.TYPE_CNAME, "db.example.net"),
                                                          (codec.TYPE_A, "192.0.2.1")], flags
            up.close()
            flags, _ = await udp_ask("127.0.0.1", port, "www.example.org")
            assert flags & 0xF == codec.RCODE_SERVFAIL
        finally:
            up.close()
            await server.close()

    asyncio.run(main())


def test_link_holds_the_cluster_dns_address_until_stop():
    prefix = "skt" + secrets.token_hex(3)
    netns = "skdns" + secrets.token_hex(3)
    subprocess.run(["ip", "netns", "add", netns], check=True)
    try:
        script = f"""
import asyncio, subprocess
from skiff.cluster.dns.index import ClusterIndex
from skiff.cluster.dns.resolver import Resolver
from skiff.cluster.dns.server import start_node_dns, stop_node_dns
async def main():
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    server = await start_node_dns(Resolver(ClusterIndex()), [], "{prefix}", "10.43.0.10", "")
    print("addresses", server.addresses)
    print(subprocess.run(["ip", "-4", "addr", "show", "{link_name(prefix)}"], capture_output=True, text=True).stdout)
    await stop_node_dns(server, "{prefix}")
    print("after", subprocess.run(["ip", "link"], capture_output=True, text=True).stdout)
asyncio.run(main())
"""
        r = subprocess.run(["ip", "netns", "exec", netns, sys.executable, "-c", script], capture_output=True,
                           text=True, timeout=60)
        assert r.returncode == 0, r.stderr
        before, after = r.stdout.split("after", 1)
        assert "addresses ['10.43.0.10']" in before and "inet 10.43.0.10/32" in before, r.stdout
        assert link_name(prefix) not in after
    finally:
        subprocess.run(["ip", "netns", "del", netns])

