"""The userland proxy: a published port's listening socket, served by the engine's event loop.

The socket is bound when the container starts, which is what reserves the host port; the
kernel's DNAT takes every connection it can, so what reaches the socket is what NAT cannot
serve: 127.0.0.1/localhost from the host. Accepting (tcp) and relaying datagrams (udp) run on
the event loop; a tcp connection's bytes are moved by splice() in two threads of its own.
No process per port (dockerd runs a docker-proxy process for each).
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import socket
import threading
import time
from collections.abc import Callable

UDP_IDLE_SECONDS = 90.0  # dockerd's UDPConnTrackTimeout
_CHUNK = 256 * 1024
F_SETPIPE_SZ = 1031  # fcntl.F_SETPIPE_SZ, named in Python 3.10+ only on some builds


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


def _relay(src: socket.socket, dst: socket.socket) -> None:
    """Copy src to dst with splice() (the bytes stay in the kernel, the GIL is free), then
    half-close dst: the other direction keeps flowing."""
    r, w = os.pipe2(os.O_CLOEXEC)
    try:
        with contextlib.suppress(OSError):
            fcntl.fcntl(w, F_SETPIPE_SZ, _CHUNK)
        while n := os.splice(src.fileno(), w, _CHUNK):
            while n:
                n -= os.splice(r, dst.fileno(), n)
    except OSError:
        pass
    finally:
        os.close(r)
        os.close(w)
        with contextlib.suppress(OSError):
            dst.shutdown(socket.SHUT_WR)


class _Connection:
    """One proxied connection: a relay thread each way; both sockets close when both are done."""

    def __init__(self, client: socket.socket, upstream: socket.socket, done: Callable[[_Connection], None]):
        self.client, self.upstream, self.done = client, upstream, done
        self._left = 2
        self._lock = threading.Lock()
        for src, dst in ((client, upstream), (upstream, client)):
            threading.Thread(target=self._run, args=(src, dst), name="skiff-proxy", daemon=True).start()

    def _run(self, src: socket.socket, dst: socket.socket) -> None:
        _relay(src, dst)
        with self._lock:
            self._left -= 1
            last = self._left == 0
        if last:
            self.client.close()
            self.upstream.close()
            self.done(self)

    def abort(self) -> None:
        for sock in (self.client, self.upstream):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)


class TcpProxy:
    """Accepts on the event loop; each connection is relayed by two threads with splice(), so
    a busy transfer costs the engine's event loop nothing (dockerd runs a process per port)."""

    def __init__(self, sock: socket.socket, target: tuple[str, int]):
        self.sock = sock
        self.target = target
        self._accepting: asyncio.Task | None = None
        self._conns: set[_Connection] = set()

    async def start(self) -> None:
        self._accepting = asyncio.get_running_loop().create_task(self._accept_loop())

    async def _accept_loop(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            try:
                client, _ = await loop.sock_accept(self.sock)
            except OSError:
                await asyncio.sleep(0.05)  # EMFILE and the like: do not spin
                continue
            loop.create_task(self._connect(client))

    async def _connect(self, client: socket.socket) -> None:
        loop = asyncio.get_running_loop()
        upstream = socket.socket(socket.AF_INET6 if ":" in self.target[0] else socket.AF_INET)
        upstream.setblocking(False)
        try:
            await loop.sock_connect(upstream, self.target)
        except OSError:
            upstream.close()
            client.close()
            return
        client.setblocking(True)
        upstream.setblocking(True)
        self._conns.add(_Connection(client, upstream, self._conns.discard))

    async def close(self) -> None:
        if self._accepting:
            self._accepting.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._accepting
        self.sock.close()
        for conn in list(self._conns):
            conn.abort()


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
