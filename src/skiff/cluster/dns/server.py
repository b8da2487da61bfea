"""The node's DNS server, NodeLocal DNSCache's shape: the cluster DNS address on a dummy link
`<prefix>dns0` of the node's network namespace, plus the node's own address, both port 53 over
udp and tcp. Pods reach it through their default route (the node is their gateway).

The sockets and the forwarding are the engine's embedded DNS server's (engine/network/dns.py):
this one answers the cluster domain from the `Resolver` and forwards the rest to the node's
upstream servers.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import os
import socket
import struct
from typing import Any

from pyroute2.netlink.exceptions import NetlinkError

from skiff.cluster.dns.resolver import Resolver, reply_limit
from skiff.common.errors import SkiffError
from skiff.engine.network import dns_codec as codec
from skiff.engine.network import netdev
from skiff.engine.network.dns import EmbeddedDns, sockets_in_netns
from skiff.engine.network.dns_codec import Record

log = logging.getLogger("skiff.dns")

OWN_NETNS = "/proc/self/ns/net"
DRAIN_BATCH = 64  # datagrams answered per wake-up before the loop serves others


def link_name(prefix: str) -> str:
    return f"{prefix}dns0"


def ensure_dummy(name: str, address: str) -> None:
    """A fresh dummy link holding address/32, up (one a crash left behind is replaced). On kernels
    without the dummy driver, a bridge with no ports does the same job: its address is local and
    answered, with or without carrier."""
    ipr = netdev.host()
    if netdev.index_of(name) is not None:
        netdev.delete_link(name)
    try:
        try:
            ipr.link("add", ifname=name, kind="dummy")
        except NetlinkError as e:
            if e.code != errno.EOPNOTSUPP:
                raise
            ipr.link("add", ifname=name, kind="bridge")
        idx = netdev.index_of(name)
        assert idx is not None
        ipr.addr("add", index=idx, address=address, prefixlen=32)
        ipr.link("set", index=idx, state="up")
    except NetlinkError as e:
        raise SkiffError(f"cannot set up {name} with {address}: {os.strerror(e.code) if e.code else e}") from None


def remove_dummy(name: str) -> None:
    if netdev.index_of(name) is not None:
        netdev.delete_link(name)


class NodeDns(EmbeddedDns):
    """Serves the cluster domain from `resolver`; forwards everything else to `upstreams`."""

    def __init__(self, resolver: Resolver, upstreams: list[str], upstream_port: int = 53, port: int = 53):
        super().__init__(lambda cid, name: [], upstreams, address="", port=port, upstream_port=upstream_port)
        self.resolver = resolver
        self.addresses: list[str] = []
        self._listening: list[tuple[socket.socket, asyncio.base_events.Server]] = []

    def answer_now(self, cid: str, data: bytes, tcp: bool) -> bytes | None:
        return self.resolver.reply(data, tcp)

    async def answer(self, cid: str, data: bytes, tcp: bool) -> bytes:
        chase = self.resolver.external_chase(data)
        if chase is None:
            return await super().answer(cid, data, tcp)  # ours, or forwarded as it is
        q, cname, target = chase
        upstream = await super().answer(cid, codec.build_query(target, q.qtype), tcp)
        try:
            rcode = struct.unpack("!H", upstream[2:4])[0] & 0xF
            answers = [Record(n, t, ttl, v) for n, t, ttl, v in codec.parse_reply(upstream)[1][0]
                       if t in (codec.TYPE_A, codec.TYPE_CNAME)]
        except (struct.error, ValueError, IndexError, codec.DnsFormatError):
            rcode, answers = codec.RCODE_SERVFAIL, []
        return codec.build_reply(q, rcode, [cname, *answers], max_size=reply_limit(q, tcp))

    async def serve(self, address: str) -> None:
        """Listen on address:port (udp and tcp) in this process's network namespace. UDP is read
        straight off the socket, many datagrams per wake-up (a node's pods ask a lot)."""
        try:
            udp, tcp = await asyncio.to_thread(sockets_in_netns, OWN_NETNS, address, self.port)
        except OSError as e:
            raise SkiffError(f"cluster DNS on {address}:{self.port}: {e.strerror or e}") from None
        loop = asyncio.get_running_loop()
        loop.add_reader(udp.fileno(), self._drain, udp, address)
        server = await asyncio.start_server(lambda r, w: self._serve_tcp(address, r, w), sock=tcp)
        self._listening.append((udp, server))
        self.addresses.append(address)

    def _drain(self, sock: socket.socket, address: str) -> None:
        for _ in range(DRAIN_BATCH):
            try:
                data, peer = sock.recvfrom(65535)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:  # e.g. an ICMP error queued on the socket: the next read goes on
                continue
            out = self.resolver.reply(data, False)
            if out is None:
                self._spawn(self._forward_udp(sock, address, data, peer))
            elif out:
                with contextlib.suppress(OSError):
                    sock.sendto(out, peer)

    async def _forward_udp(self, sock: socket.socket, address: str, data: bytes, peer: Any) -> None:
        out = await self.answer(address, data, tcp=False)
        if out:
            with contextlib.suppress(OSError):
                sock.sendto(out, peer)

    async def close(self) -> None:
        loop = asyncio.get_running_loop()
        for udp, server in self._listening:
            loop.remove_reader(udp.fileno())
            udp.close()
            server.close()
        self._listening.clear()
        await super().close()


async def start_node_dns(resolver: Resolver, upstreams: list[str], prefix: str, cluster_dns: str,
                         node_ip: str, port: int = 53) -> NodeDns:
    """The dummy link with the cluster DNS address, and the server on it and on the node's IP.
    An address that cannot be served (taken by another server) is logged, not fatal."""
    own = {cluster_dns, node_ip}
    server = NodeDns(resolver, [u for u in upstreams if u not in own], port=port)
    if cluster_dns:
        await asyncio.to_thread(ensure_dummy, link_name(prefix), cluster_dns)
    for address in dict.fromkeys(a for a in (cluster_dns, node_ip) if a):
        try:
            await server.serve(address)
        except SkiffError as e:
            log.warning("cluster DNS does not serve %s:%d: %s", address, port, e.message)
    return server


async def stop_node_dns(server: NodeDns, prefix: str) -> None:
    await server.close()
    await asyncio.to_thread(remove_dummy, link_name(prefix))


def probe(address: str, data: bytes, port: int = 53, timeout: float = 2.0) -> bytes:
    """One udp query and its reply (for `skiff` diagnostics and tests)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(timeout)
        s.sendto(data, (address, port))
        return s.recv(65535)
