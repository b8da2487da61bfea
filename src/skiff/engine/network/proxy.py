"""The userland proxy: a published port's listening socket, served by the engine's event loop.

The socket is bound when the container starts, which is what reserves the host port; the
kernel's DNAT takes every connection it can, so what reaches the socket is what NAT cannot
serve: 127.0.0.1/localhost from the host. One asyncio server or datagram endpoint per port,
no process per port (dockerd runs a docker-proxy process for each).
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import time

UDP_IDLE_SECONDS = 90.0  # dockerd's UDPConnTrackTimeout
_CHUNK = 256 * 1024


def bind_socket(proto: str, ip: str, port: int) -> socket.socket:
    """A bound (and for tcp listening) non-blocking socket; raises OSError (EADDRINUSE...)."""
    family = socket.AF_INET6 if ":" in ip else socket.AF_INET
    kind = socket.SOCK_STREAM if proto == "tcp" else socket.SOCK_DGRAM
    sock = socket.socket(family, kind)
    try:
        if proto == "tcp":
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if family == socket.AF_INET6:
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        sock.bind((ip, port))
        if proto == "tcp":
            sock.listen(512)
        sock.setblocking(False)
    except BaseException:
        sock.close()
        raise
    return sock


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(_CHUNK):
            writer.write(data)
            await writer.drain()
        if writer.can_write_eof():
            writer.write_eof()  # half-close: the other direction keeps flowing
    except (ConnectionError, OSError):
        writer.close()


class TcpProxy:
    def __init__(self, sock: socket.socket, target: tuple[str, int]):
        self.sock = sock
        self.target = target
        self._server: asyncio.base_events.Server | None = None
        self._conns: set[asyncio.Task] = set()

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, sock=self.sock)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task:
            self._conns.add(task)
        try:
            try:
                up_r, up_w = await asyncio.open_connection(*self.target)
            except OSError:
                writer.close()
                return
            try:
                await asyncio.gather(_pipe(reader, up_w), _pipe(up_r, writer))
            finally:
                up_w.close()
                writer.close()
        finally:
            if task:
                self._conns.discard(task)

    async def close(self) -> None:
        if self._server:
            self._server.close()
        else:
            self.sock.close()
        for t in list(self._conns):
            t.cancel()
        if self._conns:
            await asyncio.gather(*self._conns, return_exceptions=True)


class _UpstreamProtocol(asyncio.DatagramProtocol):
    """One client's flow: replies from the container go back to that client."""

    def __init__(self, front: asyncio.DatagramTransport, client: tuple):
        self.front, self.client = front, client
        self.last = time.monotonic()

    def datagram_received(self, data: bytes, addr) -> None:
        self.last = time.monotonic()
        with contextlib.suppress(OSError):
            self.front.sendto(data, self.client)


class _FrontProtocol(asyncio.DatagramProtocol):
    def __init__(self, proxy: UdpProxy):
        self.proxy = proxy

    def datagram_received(self, data: bytes, addr) -> None:
        self.proxy.forward(data, addr)


class UdpProxy:
    def __init__(self, sock: socket.socket, target: tuple[str, int]):
        self.sock = sock
        self.target = target
        self._front: asyncio.DatagramTransport | None = None
        self._flows: dict[tuple, tuple[asyncio.DatagramTransport, _UpstreamProtocol]] = {}
        self._pending: dict[tuple, list[bytes]] = {}
        self._reaper: asyncio.Task | None = None

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._front, _ = await loop.create_datagram_endpoint(lambda: _FrontProtocol(self), sock=self.sock)
        self._reaper = asyncio.create_task(self._reap())

    def forward(self, data: bytes, client: tuple) -> None:
        flow = self._flows.get(client)
        if flow:
            flow[1].last = time.monotonic()
            flow[0].sendto(data)
        elif client in self._pending:
            self._pending[client].append(data)
        else:
            self._pending[client] = [data]
            asyncio.create_task(self._open(client))

    async def _open(self, client: tuple) -> None:
        loop = asyncio.get_running_loop()
        assert self._front is not None
        front = self._front
        try:
            transport, proto = await loop.create_datagram_endpoint(lambda: _UpstreamProtocol(front, client),
                                                                   remote_addr=self.target)
        except OSError:
            self._pending.pop(client, None)
            return
        self._flows[client] = (transport, proto)
        for data in self._pending.pop(client, []):
            transport.sendto(data)

    async def _reap(self) -> None:
        while True:
            await asyncio.sleep(UDP_IDLE_SECONDS / 3)
            now = time.monotonic()
            for client, (transport, proto) in list(self._flows.items()):
                if now - proto.last > UDP_IDLE_SECONDS:
                    transport.close()
                    del self._flows[client]

    async def close(self) -> None:
        if self._reaper:
            self._reaper.cancel()
        for transport, _ in self._flows.values():
            transport.close()
        self._flows.clear()
        if self._front:
            self._front.close()
        else:
            self.sock.close()


def make_proxy(proto: str, sock: socket.socket, target: tuple[str, int]) -> TcpProxy | UdpProxy:
    return TcpProxy(sock, target) if proto == "tcp" else UdpProxy(sock, target)
