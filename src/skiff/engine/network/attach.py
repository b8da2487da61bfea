"""The container side of NetworkService: a namespace per container, endpoints plugged in at
start and hot-plugged by connect, all unplugged when the container stops. Mixed into
NetworkService; everything here is synchronous and runs in a worker thread under `self.lock`.

A container's namespace is `netns/<container id>`, created before the runtime creates the
container (whose config.json joins it by path) and removed when the container stops, so a
container joining it (`--network container:X`) and the kubelet's pod sandboxes have a stable
path to join.
"""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass
from typing import Any

from skiff.common.errors import Forbidden, InvalidArgument, NotFound
from skiff.common.ids import new_id
from skiff.engine.network import journal, model, netdev, netns
from skiff.engine.network.ipam import parse_address
from skiff.engine.network.model import Endpoint, Network

log = logging.getLogger("skiff.engine.network")

_Base: Any = object  # the mixin sees NetworkService's attributes


@dataclass(frozen=True)
class EndpointInfo:
    """What other parts of the engine (hosts files, DNS, ports) learn about an endpoint."""

    network_id: str
    network_name: str
    bridge: str
    ip: str
    prefixlen: int
    gateway: str
    mac: str
    aliases: tuple[str, ...]
    is_default_bridge: bool
    interface: str  # inside the container: eth0, eth1, ...


def primary_network(mode: str) -> str | None:
    """The network a NetworkMode names: None for host, none and container:X."""
    if mode in ("host", "none") or mode.startswith("container:"):
        return None
    return model.DEFAULT_BRIDGE if mode in ("", "default", "bridge") else mode


class AttachMixin(_Base):
    def netns_path(self, cid: str) -> str:
        return str(self.netns_dir / cid)

    def has_netns(self, cid: str) -> bool:
        """Whether the engine made (and still holds) a namespace for this container; a set
        lookup, since inspect and ps ask for every container."""
        return cid in self.namespaces

    # --- validation at create ----------------------------------------------------------------
    def check_container_networks(self, mode: str, endpoints_config: dict | None) -> dict:
        """Validate a create's NetworkMode and NetworkingConfig.EndpointsConfig; return the
        endpoint configs keyed by network name, the primary network first."""
        configs = {(model.DEFAULT_BRIDGE if k == "default" else k): v for k, v in (endpoints_config or {}).items()}
        primary = primary_network(mode)
        if primary is None:
            others = [k for k in configs if k != mode]
            if mode in ("host", "none") and others:
                raise InvalidArgument(f"Container cannot be connected to network endpoints: {mode}, "
                                      + ", ".join(others))
            return {}
        if primary == model.DEFAULT_BRIDGE and not self.cfg.default_bridge_enabled:
            return {}
        out: dict[str, dict] = {}
        for name in [primary, *[k for k in configs if k != primary]]:
            try:
                net = self.get(name)
            except NotFound as e:  # a 404 would make the docker CLI try to pull the image
                raise InvalidArgument(e.message) from None
            if net.builtin and net.name != model.DEFAULT_BRIDGE:
                raise InvalidArgument(f"container cannot be connected to both {primary} and {name}")
            if net.name in out:  # the same network by name and by id
                continue
            cfg = dict(configs.get(net.name) or configs.get(net.id) or configs.get(name) or {})
            self._check_endpoint_config(net, cfg)
            out[net.name] = cfg
        return out

    def _check_endpoint_config(self, net: Network, cfg: dict) -> None:
        ipcfg = cfg.get("IPAMConfig") or {}
        ip = ipcfg.get("IPv4Address")
        if ip and net.is_default:
            raise InvalidArgument("user specified IP address is supported on user defined networks only")
        if ip:
            assert net.pool is not None
            if parse_address(ip, "IPv4 address") not in net.pool.subnet:
                raise InvalidArgument(f"invalid endpoint settings:\nno configured subnet or ip-range contain the "
                                      f"IP address {ip}")
        if cfg.get("Aliases") and net.is_default:
            raise InvalidArgument("network-scoped alias is supported only for containers in user defined networks")

    # --- start and stop ----------------------------------------------------------------------
    def setup_container(self, cid: str, name: str, mode: str, configs: dict[str, dict]) -> str | None:
        """Create the container's namespace and plug it into its networks (in `configs` order).
        Returns the namespace path, or None when the container uses another one (host, container:X)."""
        if mode == "host":
            with self.lock:
                self.members[mode][cid] = name  # shown by `network inspect host`
        if mode == "none":
            # Nothing to configure from outside: the runtime makes the namespace itself and
            # raises lo in it (as runc does), sparing a netns file, a bind mount and netlink.
            with self.lock:
                if cid in self.namespaces:  # a file left by an engine from before this change
                    self._release(cid)
                self.members[mode][cid] = name
            return None
        if mode == "host" or mode.startswith("container:"):
            return None
        path = self.netns_path(cid)
        with self.lock:
            self._release(cid)  # leftovers of an earlier run that was not cleaned up
            self.netns_dir.mkdir(parents=True, exist_ok=True)
            sock = netns.create(path, self.spare_ns.take())
            self.spare_ns.refill()  # the next start's, made while this one goes on
            self.namespaces.add(cid)
            try:
                with netdev.inside(sock) as ipr:
                    if not configs:
                        netdev.lo_up(ipr)
                    routed = False  # a new namespace has no default route until we add one
                    for i, (net_name, cfg) in enumerate(configs.items()):
                        net = self.get(net_name)  # lo comes up in the first interface's batch
                        ep = self._plug(net, cid, name, path, f"eth{i}", cfg, ipr, routed, lo=i == 0)
                        routed = routed or bool(ep.gateway)
            except BaseException:
                self._release(cid)
                raise
        return path

    def release_container(self, cid: str) -> None:
        """Unplug every endpoint of the container and remove its namespace (idempotent)."""
        with self.lock:
            if cid in self.namespaces or any(cid in n.endpoints for n in self.nets.values()):
                self._release(cid)
            else:  # host or container:X: nothing on the host to undo
                for members in self.members.values():
                    members.pop(cid, None)

    def _release(self, cid: str) -> None:
        for members in self.members.values():
            members.pop(cid, None)
        for net in list(self.nets.values()):
            if cid in net.endpoints:
                self._unplug(net, cid)
        self.namespaces.discard(cid)
        netns.remove(self.netns_path(cid))

    def _plug(self, net: Network, cid: str, name: str, path: str, inner: str, cfg: dict, ipr: Any,
              routed: bool | None = None, lo: bool = False) -> Endpoint:
        """`routed`: whether the namespace has a default route already (None: ask it); `lo`:
        bring lo up in the same batch (the namespace's first interface)."""
        if net.driver != "bridge" or net.pool is None:
            raise InvalidArgument(f"container cannot be connected to network {net.name}")
        if cid in net.endpoints:
            raise Forbidden(f"endpoint with name {name} already exists in network {net.name}")
        self._check_endpoint_config(net, cfg)
        requested = (cfg.get("IPAMConfig") or {}).get("IPv4Address") or None
        ip = str(net.pool.allocate(cid, requested))
        epid = new_id()
        ep = Endpoint(id=epid, container_id=cid, container_name=name, network_id=net.id, ip=ip,
                      prefixlen=net.pool.subnet.prefixlen, gateway="" if net.internal else str(net.pool.gateway),
                      mac=cfg.get("MacAddress") or netdev.mac_for(ip), ifname=model.veth_name(self.prefix, epid),
                      inner=inner, aliases=list(cfg.get("Aliases") or []), ipam_config=cfg.get("IPAMConfig"))
        try:
            netdev.add_veth(ep.ifname, path, inner, ep.mac, net.bridge, net.mtu, isolated=not net.icc)
            if routed is None:
                routed = netdev.has_default_route(ipr)
            route = ep.gateway if ep.gateway and not routed else None
            netdev.configure(ipr, inner, ip, ep.prefixlen, route, lo=lo)
        except BaseException:
            net.pool.release(ip)
            netdev.delete_link(ep.ifname)
            raise
        net.endpoints[cid] = ep
        self._save_endpoint_change(net, journal.plug_line(net, ep))
        self._event("connect", net, container=cid)
        return ep

    def _unplug(self, net: Network, cid: str, wait: bool = False) -> None:
        """`wait`: delete the veth now (hot unplug), else in the background (the container is gone)."""
        ep = net.endpoints.pop(cid, None)
        if ep is None:
            return
        if wait:
            with contextlib.suppress(Exception):
                netdev.delete_link(ep.ifname)
        else:
            self._reap(ep.ifname)
        if net.pool is not None:
            net.pool.release_owner(cid)
        self._save_endpoint_change(net, journal.unplug_line(cid))
        self._event("disconnect", net, container=cid)

    # --- hot-plug ----------------------------------------------------------------------------
    def connect_running(self, cid: str, name: str, net_ref: str, cfg: dict) -> None:
        """Plug a running container (whose namespace this engine made) into one more network."""
        with self.lock:
            net = self.get(net_ref)
            path = self.netns_path(cid)
            if not self.has_netns(cid):
                raise Forbidden("container sharing network namespace with another container or host cannot be "
                                "connected to any other network")
            used = {ep.inner for n in self.nets.values() for ep in n.endpoints.values() if ep.container_id == cid}
            inner = next(f"eth{i}" for i in range(len(used) + 1) if f"eth{i}" not in used)
            with netdev.inside(netns.open_socket(path)) as ipr:
                self._plug(net, cid, name, path, inner, cfg, ipr)

    def disconnect_running(self, cid: str, net_ref: str) -> None:
        with self.lock:
            net = self.get(net_ref)
            if cid not in net.endpoints:
                raise Forbidden(f"container {cid} is not connected to network {net.name}")
            self._unplug(net, cid, wait=True)

    # --- what other parts of the engine ask --------------------------------------------------
    def endpoints(self, cid: str) -> list[EndpointInfo]:
        with self.lock:
            out = [EndpointInfo(network_id=n.id, network_name=n.name, bridge=n.bridge, ip=ep.ip,
                                prefixlen=ep.prefixlen, gateway=ep.gateway, mac=ep.mac, aliases=tuple(ep.aliases),
                                is_default_bridge=n.is_default, interface=ep.inner)
                   for n in self.nets.values() for ep in n.endpoints.values() if ep.container_id == cid]
        return sorted(out, key=lambda e: e.interface)

    def endpoint(self, cid: str, net_ref: str) -> tuple[Network, Endpoint | None]:
        net = self.get(net_ref)
        return net, net.endpoints.get(cid)

    def resolve(self, cid: str, name: str) -> list[str]:
        """IPv4s of containers named `name` (name, network alias or short id) that share a
        user-defined network with `cid`; [] otherwise, as on Docker's default bridge."""
        name = name.rstrip(".").lower()
        ips: list[str] = []
        with self.lock:
            for net in self.nets.values():
                if net.builtin or cid not in net.endpoints:
                    continue
                for ep in net.endpoints.values():
                    names = {ep.container_name.lower(), ep.container_id[:12], *(a.lower() for a in ep.aliases)}
                    if name in names and ep.ip not in ips:
                        ips.append(ep.ip)
        return ips

    def users(self, net_ref: str) -> list[str]:
        try:
            return list(self.get(net_ref).endpoints)
        except NotFound:
            return []

