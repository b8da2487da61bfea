"""The embedded DNS server containers on user-defined networks query at 127.0.0.11:53.

One server per engine, in its event loop. For each attached container a short-lived thread
enters the container's network namespace and creates a udp and a tcp socket bound to
127.0.0.11:53 there; the sockets stay in that namespace and are served by the loop here.
Names of containers (and their aliases and short ids) come from `resolve(cid, qname)`;
everything else is forwarded to the upstream servers from the host's side, so upstreams on
the host's loopback work too.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import logging
import os
import socket
import struct
import threading
from collections.abc import Callable

from skiff.common.errors import SkiffError
from skiff.engine.network import dns_codec as codec
from skiff.engine.network.proxy import bind_socket

log = logging.getLogger(__name__)

ADDRESS = "127.0.0.11"
FORWARD_TIMEOUT = 2.0
CLONE_NEWNET = 0x40000000

Resolve = Callable[[str, str], list[str]]
Reverse = Callable[[str, str], list[str]]


def sockets_in_netns(netns_path: str, address: str, port: int) -> tuple[socket.socket, socket.socket]:
    """(udp, tcp) sockets bound to address:port inside the network namespace at netns_path."""
    result: list = []

    def work() -> None:
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            fd = os.open(netns_path, os.O_RDONLY | os.O_CLOEXEC)
            try:
                if libc.setns(fd, CLONE_NEWNET) != 0:
                    err = ctypes.get_errno()
                    raise OSError(err, os.strerror(err))
            finally:
                os.close(fd)
            udp = bind_socket("udp", address, port)
            try:
                result.append((udp, bind_socket("tcp", address, port)))
            except BaseException:
                udp.close()
                raise
        except BaseException as e:  # reported to the caller's thread
            result.append(e)

    # a thread of its own: it leaves the engine's namespace and never needs to come back
    t = threading.Thread(target=work, name="dns-netns", daemon=True)
    t.start()
    t.join()
    if isinstance(result[0], BaseException):
        raise result[0]
    return result[0]


class Answerer:
    """What to say to one query. Pure apart from the callbacks."""

    def __init__(self, resolve: Resolve, reverse: Reverse | None = None):
        self.resolve = resolve
        self.reverse = reverse

    def local_reply(self, cid: str, data: bytes) -> bytes | None:
        """A reply from our own records, or None when the query must be forwarded."""
        try:
            q = codec.parse_query(data)
        except codec.DnsFormatError:
            if len(data) >= 12:
                qid, flags = struct.unpack("!HH", data[:4])
                return struct.pack("!HHHHHH", qid, 0x8000 | (flags & 0x7900) | codec.RCODE_FORMERR, 0, 0, 0, 0)
            return b""
        if q.qclass != codec.CLASS_IN:
            return None
        if q.qtype == codec.TYPE_PTR and self.reverse:
            ip = codec.reverse_name_to_ip(q.name)
            names = self.reverse(cid, ip) if ip else []
            return codec.answer_ptr(q, names) if names else None
        if q.qtype in (codec.TYPE_A, codec.TYPE_AAAA):
            addrs = self.resolve(cid, q.name)
            if not addrs:
                return None
            if q.qtype == codec.TYPE_AAAA:
                return codec.reply(q)  # the name is ours but has no IPv6 address
            return codec.answer_a(q, [a for a in addrs if ":" not in a])
        return None


class _UdpServer(asyncio.DatagramProtocol):
    def __init__(self, dns: EmbeddedDns, cid: str):
        self.dns, self.cid = dns, cid
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport) -> None:
        self.transport = transport

    def datagram_received(self, data: bytes, addr) -> None:
        out = self.dns.answer_now(self.cid, data, tcp=False)
        if out is None:  # to be forwarded: a task of its own
            self.dns._spawn(self._answer(data, addr))
        elif out and self.transport:  # answered from our records without a task (most queries)
            with contextlib.suppress(OSError):
                self.transport.sendto(out, addr)

    async def _answer(self, data: bytes, addr) -> None:
        out = await self.dns.answer(self.cid, data, tcp=False)
        if out and self.transport:
            with contextlib.suppress(OSError):
                self.transport.sendto(out, addr)


class EmbeddedDns:
    def __init__(self, resolve: Resolve, upstreams: list[str], reverse: Reverse | None = None,
                 address: str = ADDRESS, port: int = 53, upstream_port: int = 53):
        self.upstream_port = upstream_port
        self.answerer = Answerer(resolve, reverse)
        self.upstreams = list(upstreams)
        self.address, self.port = address, port
        self._servers: dict[str, tuple[asyncio.DatagramTransport, asyncio.base_events.Server]] = {}
        self._upstreams: dict[str, list[str]] = {}
        self._tasks: set[asyncio.Task] = set()

    def _spawn(self, coro) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def attach(self, cid: str, netns_path: str, upstreams: list[str] | None = None, address: str = "") -> None:
        """Serve the container's namespace; `upstreams` (its --dns servers) replace the engine's;
        `address` replaces the server's (the cluster DNS serves several addresses of one namespace)."""
        if cid in self._servers:
            await self.detach(cid)
        try:
            udp, tcp = await asyncio.to_thread(sockets_in_netns, netns_path, address or self.address, self.port)
        except OSError as e:
            raise SkiffError(f"embedded DNS server for {cid[:12]}: {e.strerror or e}") from None
        loop = asyncio.get_running_loop()
        transport, _ = await loop.create_datagram_endpoint(lambda: _UdpServer(self, cid), sock=udp)
        server = await asyncio.start_server(lambda r, w: self._serve_tcp(cid, r, w), sock=tcp)
        self._servers[cid] = (transport, server)
        if upstreams:
            self._upstreams[cid] = list(upstreams)

    def serves(self, cid: str) -> bool:
        return cid in self._servers

    async def detach(self, cid: str) -> None:
        entry = self._servers.pop(cid, None)
        self._upstreams.pop(cid, None)
        if entry:
            entry[0].close()
            entry[1].close()

    async def close(self) -> None:
        for cid in list(self._servers):
            await self.detach(cid)
        for t in list(self._tasks):
            t.cancel()

    async def _serve_tcp(self, cid: str, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readexactly(2)
                data = await reader.readexactly(struct.unpack("!H", head)[0])
                out = await self.answer(cid, data, tcp=True)
                if not out:
                    break
                writer.write(struct.pack("!H", len(out)) + out)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, OSError):
            pass
        finally:
            writer.close()

    def answer_now(self, cid: str, data: bytes, tcp: bool) -> bytes | None:
        """A reply from our own records, or None when the query must be forwarded."""
        return self.answerer.local_reply(cid, data)

    async def answer(self, cid: str, data: bytes, tcp: bool) -> bytes:
        local = self.answer_now(cid, data, tcp)
        if local is not None:
            return local
        for server in self._upstreams.get(cid) or self.upstreams:
            with contextlib.suppress(OSError, asyncio.TimeoutError, asyncio.IncompleteReadError):
                return await asyncio.wait_for(forward(server, self.upstream_port, data, tcp), FORWARD_TIMEOUT)
        q = codec.parse_query(data)
        return codec.reply(q, codec.RCODE_SERVFAIL)


async def forward(server: str, port: int, data: bytes, tcp: bool) -> bytes:
    """One query relayed to an upstream server (udp or tcp); its reply as received."""
    if tcp:
        reader, writer = await asyncio.open_connection(server, port)
        try:
            writer.write(struct.pack("!H", len(data)) + data)
            await writer.drain()
            size = struct.unpack("!H", await reader.readexactly(2))[0]
            return await reader.readexactly(size)
        finally:
            writer.close()
    loop = asyncio.get_running_loop()
    fut: asyncio.Future[bytes] = loop.create_future()

    class _Once(asyncio.DatagramProtocol):
        def datagram_received(self, reply: bytes, addr) -> None:
            if not fut.done() and reply[:2] == data[:2]:
                fut.set_result(reply)

        def error_received(self, exc) -> None:
            if not fut.done():
                fut.set_exception(exc)

    family = socket.AF_INET6 if ":" in server else socket.AF_INET
    transport, _ = await loop.create_datagram_endpoint(_Once, remote_addr=(server, port), family=family)
    try:
        transport.sendto(data)
        return await fut
    finally:
        transport.close()
