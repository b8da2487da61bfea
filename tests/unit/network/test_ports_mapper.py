"""PortMapper with the iptables step recorded: host ports held by bound sockets, the userland
proxy forwarding on loopback, all-or-nothing publishing. Loopback only, no root."""

import asyncio
import socket

import pytest

from skiff.engine.network.portmap import PortAllocatedError, PortMapper
from skiff.engine.network.ports import PortRequest


class RecordingRules:
    def __init__(self):
        self.applied: list[list] = []
        self.removed = False

    def apply(self, published):
        self.applied.append(list(published))

    def remove(self):
        self.removed = True


def free_port(kind=socket.SOCK_STREAM) -> int:
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def mapper(rules=None) -> PortMapper:
    lo = free_port()
    return PortMapper("skt", rules=rules or RecordingRules(), ephemeral=(lo, lo + 20))


def run(coro):
    return asyncio.run(coro)


def test_publish_holds_the_port_and_unpublish_releases_it():
    async def main():
        rules = RecordingRules()
        m = mapper(rules)
        port = free_port()
        [b] = await m.publish("c1", "/web", "127.0.0.1", "skt0", [PortRequest("tcp", 80, "127.0.0.1", port, port)])
        assert (b.host_port, b.container_port) == (port, 80)
        with socket.socket() as s, pytest.raises(OSError):
            s.bind(("127.0.0.1", port))
        assert [p.binding for p in rules.applied[-1]] == [b]
        with pytest.raises(PortAllocatedError) as e:
            await m.publish("c2", "/other", "127.0.0.1", "skt0", [PortRequest("tcp", 80, "", port, port)])
        assert e.value.message == (f"driver failed programming external connectivity on endpoint other (c2): "
                                   f"Bind for 0.0.0.0:{port} failed: port is already allocated")
        await m.unpublish("c1")
        assert rules.applied[-1] == [] and m.bound("c1") == []
        with socket.socket() as s:
            s.bind(("127.0.0.1", port))
        await m.close()
        assert rules.removed

    run(main())


def test_port_in_use_by_a_host_process_fails_and_releases_the_others():
    async def main():
        m = mapper()
        with socket.socket() as busy:
            busy.bind(("127.0.0.1", 0))
            busy.listen(1)
            taken = busy.getsockname()[1]
            other = free_port()
            with pytest.raises(PortAllocatedError) as e:
                await m.publish("c1", "/web", "127.0.0.1", "skt0",
                                [PortRequest("tcp", 81, "127.0.0.1", other, other),
                                 PortRequest("tcp", 80, "127.0.0.1", taken, taken)])
            assert "address already in use" in e.value.message
        with socket.socket() as s:  # the first port was given back
            s.bind(("127.0.0.1", other))
        assert m.bound("c1") == []
        await m.close()

    run(main())


def test_ephemeral_ports_are_distinct():
    async def main():
        m = mapper()
        got = await m.publish("c1", "/a", "127.0.0.1", "skt0", [PortRequest("tcp", 80, "127.0.0.1"),
                                                                 PortRequest("udp", 80, "127.0.0.1"),
                                                                 PortRequest("tcp", 81, "127.0.0.1")])
        tcp_ports = [b.host_port for b in got if b.proto == "tcp"]
        assert len(set(tcp_ports)) == 2
        assert all(m.chooser.lo <= b.host_port <= m.chooser.hi for b in got)
        await m.close()

    run(main())


def test_tcp_proxy_forwards_both_ways_with_half_close():
    async def main():
        async def echo(reader, writer):
            data = await reader.read()  # until the client's half-close
            writer.write(data.upper())
            await writer.drain()
            writer.close()

        server = await asyncio.start_server(echo, "127.0.0.1", 0)
        target_port = server.sockets[0].getsockname()[1]
        m = mapper()
        [b] = await m.publish("c1", "/a", "127.0.0.1", "skt0", [PortRequest("tcp", target_port, "127.0.0.1")])
        reader, writer = await asyncio.open_connection("127.0.0.1", b.host_port)
        writer.write(b"hello proxy")
        writer.write_eof()
        assert await asyncio.wait_for(reader.read(), 5) == b"HELLO PROXY"
        writer.close()
        await m.close()
        server.close()

    run(main())


def test_udp_proxy_forwards_replies_to_each_client():
    async def main():
        loop = asyncio.get_running_loop()

        class Echo(asyncio.DatagramProtocol):
            def connection_made(self, transport):
                self.t = transport

            def datagram_received(self, data, addr):
                self.t.sendto(b"re:" + data, addr)

        echo_t, _ = await loop.create_datagram_endpoint(Echo, local_addr=("127.0.0.1", 0))
        target = echo_t.get_extra_info("sockname")[1]
        m = mapper()
        [b] = await m.publish("c1", "/a", "127.0.0.1", "skt0", [PortRequest("udp", target, "127.0.0.1")])
        for word in (b"one", b"two"):
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
                s.setblocking(False)
                s.sendto(word, ("127.0.0.1", b.host_port))
                data = await asyncio.wait_for(loop.sock_recv(s, 100), 5)
                assert data == b"re:" + word
        await m.close()
        echo_t.close()

    run(main())
