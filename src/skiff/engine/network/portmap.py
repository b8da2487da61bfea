"""Port publishing for running containers: host ports held (bound sockets that double as the
userland proxy's listeners), and the DNAT/accept/hairpin rules kept in our own chains.

`PortMapper` is built once by the engine and called from the container start/stop path:
`publish()` after the container's network is configured and before its process runs,
`unpublish()` when it stops.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
from typing import Protocol

from skiff.common.errors import SkiffError
from skiff.engine.network import ports, ports_rules, proxy
from skiff.engine.network.iptables import Iptables
from skiff.engine.network.ports import PortBinding, PortRequest

log = logging.getLogger(__name__)


class PortAllocatedError(SkiffError):
    """dockerd answers 500 for a port it cannot have, with the reason in its message."""

    status = 500


class PortRules(Protocol):
    def apply(self, published: list[ports_rules.Published]) -> None: ...

    def remove(self) -> None: ...


class IptablesPorts:
    """Our chains and the jumps into them, written through net-core's batch applier."""

    def __init__(self, iptables: Iptables):
        self.iptables = iptables
        self.prefix = iptables.chains.prefix
        self._jumped = False

    def apply(self, published: list[ports_rules.Published]) -> None:
        if not self.iptables.enabled:
            return
        self.iptables.set_chains(ports_rules.render(self.prefix, published))
        if not self._jumped:
            self.iptables.restore(ports_rules.render_jumps(self.iptables.save(), self.prefix))
            self._jumped = True

    def remove(self) -> None:
        """Drop the jumps and the chains (at shutdown, and at start after a crash)."""
        if self.iptables.enabled:
            self.iptables.restore(ports_rules.render_teardown(self.iptables.save(), self.prefix))
        self._jumped = False


class PortMapper:
    def __init__(self, prefix: str, rules: PortRules | None = None,
                 ephemeral: tuple[int, int] | None = None):
        self.rules: PortRules = rules if rules is not None else IptablesPorts(Iptables(prefix))
        self.chooser = ports.PortChooser(ephemeral or ports.read_ephemeral_range())
        self._held: dict[tuple[str, str, int], str] = {}  # (proto, host ip, port) → container id
        self._bound: dict[str, list[PortBinding]] = {}
        self._published: dict[str, list[ports_rules.Published]] = {}
        self._proxies: dict[str, list[proxy.TcpProxy | proxy.UdpProxy]] = {}
        self._lock = asyncio.Lock()

    def bound(self, cid: str) -> list[PortBinding]:
        return list(self._bound.get(cid, []))

    def _allocated(self, proto: str, ip: str, port: int) -> bool:
        """Held by one of our containers: the same port on the same address or on every address."""
        for (p, held_ip, held_port) in self._held:
            if p == proto and held_port == port and (not ip or not held_ip or ip == held_ip):
                return True
        return False

    async def publish(self, cid: str, name: str, container_ip: str, bridge: str,
                      reqs: list[PortRequest], icc: bool = True) -> list[PortBinding]:
        """Bind every requested host port and install its rules; all or nothing."""
        if not reqs:
            return []
        async with self._lock:
            socks: list[tuple[PortBinding, object]] = []
            try:
                for req in reqs:
                    b, sock = self._take(req)
                    socks.append((b, sock))
                    self._held[(b.proto, b.host_ip, b.host_port)] = cid
            except PortAllocatedError as e:
                self._drop(cid, socks)
                raise PortAllocatedError(f"driver failed programming external connectivity on endpoint "
                                         f"{name.lstrip('/')} ({cid}): {e.message}") from None
            bindings = [b for b, _ in socks]
            published = [ports_rules.Published(b, container_ip, bridge, icc) for b in bindings]
            self._published[cid] = published
            try:
                await asyncio.to_thread(self.rules.apply, self._all_published())
            except SkiffError:
                self._published.pop(cid, None)
                self._drop(cid, socks)
                raise
            proxies = []
            for b, sock in socks:
                if sock is not None:
                    px = proxy.make_proxy(b.proto, sock, (container_ip, b.container_port))  # type: ignore[arg-type]
                    await px.start()
                    proxies.append(px)
            self._proxies[cid] = proxies
            self._bound[cid] = bindings
            return bindings

    def _take(self, req: PortRequest) -> tuple[PortBinding, object]:
        """A host port for one request, bound (sctp ports are only recorded)."""
        sock_box: list = []

        def usable(ip: str, proto: str, port: int) -> bool:
            if self._allocated(proto, ip, port):
                return False
            if proto == "sctp":
                return True
            try:
                sock_box.append(proxy.bind_socket(proto, ip or "0.0.0.0", port))
                return True
            except OSError:
                return False

        if req.host_lo and req.host_lo == req.host_hi:  # a fixed port: say why it cannot be had
            b = PortBinding(req.proto, req.container_port, req.host_ip, req.host_lo)
            if self._allocated(req.proto, req.host_ip, req.host_lo):
                raise PortAllocatedError(ports.bind_failed_message(b, allocated=True))
            if req.proto == "sctp":
                return b, None
            try:
                return b, proxy.bind_socket(req.proto, b.bind_ip, b.host_port)
            except OSError as e:
                if e.errno == errno.EADDRINUSE:
                    raise PortAllocatedError(ports.bind_failed_message(b, allocated=False)) from None
                raise PortAllocatedError(f"failed to bind host port for {b.bind_ip}:{b.host_port}/{b.proto}: "
                                         f"{e.strerror}") from None
        port = self.chooser.choose(req, usable)
        if port is None:
            raise PortAllocatedError(ports.no_free_port_message(req))
        return PortBinding(req.proto, req.container_port, req.host_ip, port), (sock_box[-1] if sock_box else None)

    def _drop(self, cid: str, socks: list[tuple[PortBinding, object]]) -> None:
        for b, sock in socks:
            self._held.pop((b.proto, b.host_ip, b.host_port), None)
            if sock is not None:
                with contextlib.suppress(OSError):
                    sock.close()  # type: ignore[attr-defined]

    def _all_published(self) -> list[ports_rules.Published]:
        return [p for items in self._published.values() for p in items]

    async def unpublish(self, cid: str) -> None:
        """Release the container's host ports, proxies and rules (nothing when it has none)."""
        async with self._lock:
            bindings = self._bound.pop(cid, [])
            proxies = self._proxies.pop(cid, [])
            had_rules = self._published.pop(cid, None) is not None
            for b in bindings:
                self._held.pop((b.proto, b.host_ip, b.host_port), None)
            for px in proxies:
                await px.close()
            if had_rules:
                try:
                    await asyncio.to_thread(self.rules.apply, self._all_published())
                except SkiffError as e:
                    log.warning("removing port rules of %s: %s", cid[:12], e)

    async def close(self) -> None:
        for cid in list(self._bound):
            await self.unpublish(cid)
        with contextlib.suppress(Exception):
            await asyncio.to_thread(self.rules.remove)
