"""Network devices through netlink (pyroute2): bridges, veth pairs, addresses and routes.

Host-side calls go through one `IPRoute` per thread (pyroute2's sync `IPRoute` is not
shared between threads). The per-container path (veth, addresses, routes, deletion) uses
`rtnl.py`'s raw batches instead, inside the container's namespace over a socket opened there
(`netns.create`/`netns.open_socket`).
"""

from __future__ import annotations

import contextlib
import os
import socket
import threading
from collections.abc import Iterator

from pyroute2 import IPRoute
from pyroute2.netlink.exceptions import NetlinkError

from skiff.common.errors import SkiffError
from skiff.engine.network import rtnl

_local = threading.local()

ENOENT, EEXIST, ENODEV = 2, 17, 19


class NetworkDeviceError(SkiffError):
    status = 500


_bridges: dict[str, int] = {}  # bridge name -> index, checked again whenever a veth add fails


def host() -> IPRoute:
    ipr = getattr(_local, "ipr", None)
    if ipr is None:
        ipr = _local.ipr = IPRoute()
    return ipr


def bridge_mac() -> str:
    """A random locally administered unicast MAC for a new bridge."""
    raw = bytearray(os.urandom(6))
    raw[0] = (raw[0] & 0xFE) | 0x02
    return ":".join(f"{b:02x}" for b in raw)


def mac_for(ip: str) -> str:
    """Docker's MAC for an IPv4 address: 02:42 followed by the address's four bytes."""
    return "02:42:" + ":".join(f"{int(b):02x}" for b in ip.split("."))


def _index(ipr: IPRoute, name: str) -> int | None:
    """One targeted request (`link_lookup` dumps every link, which grows with the containers)."""
    try:
        return ipr.link("get", ifname=name)[0]["index"]
    except NetlinkError as e:
        if e.code in (ENOENT, ENODEV):
            return None
        raise


def index_of(name: str) -> int | None:
    return _index(host(), name)


def link_kind(name: str) -> str | None:
    """"bridge", "veth", ... for an existing link ("" for a plain device); None when there is none."""
    try:
        msg = host().link("get", ifname=name)[0]
    except NetlinkError as e:
        if e.code in (ENOENT, ENODEV):
            return None
        raise
    info = msg.get_attr("IFLA_LINKINFO")
    return (info.get_attr("IFLA_INFO_KIND") if info else "") or ""


def links_with_prefix(prefix: str) -> list[str]:
    names = [link.get_attr("IFLA_IFNAME") for link in host().get_links()]
    return [n for n in names if n and n.startswith(prefix)]


def _fail(what: str, e: NetlinkError) -> NetworkDeviceError:
    return NetworkDeviceError(f"{what}: {os.strerror(e.code) if e.code else e}")


def ensure_bridge(name: str, address: str | None, prefixlen: int, mtu: int = 0, exclusive: bool = True) -> int:
    """Create the bridge if missing, give it `address/prefixlen` (with `exclusive`, as its only
    IPv4 address: a bridge of ours may carry one from an earlier configuration), bring it up."""
    ipr = host()
    idx = index_of(name)
    try:
        if idx is None:
            extra: dict = {"mtu": mtu} if mtu else {}
            # A bridge's MAC otherwise follows the lowest MAC among its ports, so the gateway's MAC
            # changed whenever a veth came or went and containers dropped traffic to it for seconds.
            # Setting one pins it (addr_assign_type NET_ADDR_SET), as dockerd does.
            ipr.link("add", ifname=name, kind="bridge", address=bridge_mac(), **extra)
            idx = index_of(name)
            assert idx is not None
        if address:
            have = {(a.get_attr("IFA_ADDRESS"), a["prefixlen"]) for a in ipr.get_addr(index=idx, family=socket.AF_INET)}
            for addr, plen in have - {(address, prefixlen)} if exclusive else ():
                ipr.addr("del", index=idx, address=addr, prefixlen=plen)
            if (address, prefixlen) not in have:
                ipr.addr("add", index=idx, address=address, prefixlen=prefixlen)
        ipr.link("set", index=idx, state="up")
    except NetlinkError as e:
        raise _fail(f"cannot set up bridge {name}", e) from None
    _bridges[name] = idx
    return idx


def bridge_addresses(name: str) -> list[tuple[str, int]]:
    """The IPv4 (address, prefixlen) of an existing bridge, for `-b BRIDGE`."""
    idx = index_of(name)
    if idx is None:
        return []
    return [(a.get_attr("IFA_ADDRESS"), a["prefixlen"]) for a in host().get_addr(index=idx, family=socket.AF_INET)]


def _host_rtnl() -> rtnl.Rtnl:
    """This thread's raw netlink socket in the engine's namespace (the per-container path)."""
    sock = getattr(_local, "rtnl", None)
    if sock is None:
        sock = _local.rtnl = rtnl.Rtnl()
    return sock


def delete_link(name: str) -> None:
    """Delete an interface (a veth's peer goes with it); a missing one is fine."""
    _bridges.pop(name, None)
    try:
        rtnl.delete_link(_host_rtnl(), name)
    except rtnl.RtnlError as e:
        raise NetworkDeviceError(f"cannot delete {name}: {e.strerror}") from None


def _bridge_index(name: str) -> int:
    idx = _bridges.get(name)
    if idx is None:
        idx = index_of(name)
        if idx is None:
            raise NetworkDeviceError(f"bridge {name} not found")
        _bridges[name] = idx
    return idx


def add_veth(host_name: str, netns_path: str, inner_name: str, mac: str, bridge: str, mtu: int = 0,
             isolated: bool = False) -> None:
    """A veth pair whose peer is born inside the namespace as `inner_name`, the host end
    enslaved to `bridge` and up; `isolated` keeps bridged traffic from reaching other isolated ports."""
    br = _bridge_index(bridge)
    fd = os.open(netns_path, os.O_RDONLY | os.O_CLOEXEC)
    try:  # one request: the pair, the peer inside the namespace, the host end on the bridge and up
        for attempt in (1, 2):
            try:
                rtnl.create_veth(_host_rtnl(), host_name, inner_name, fd, mac, br, mtu)
                break
            except rtnl.RtnlError:
                _bridges.pop(bridge, None)  # the bridge may have been re-created with another index
                if attempt == 2 or index_of(bridge) == br:
                    raise
                delete_link(host_name)
                br = _bridge_index(bridge)
    except rtnl.RtnlError as e:
        raise NetworkDeviceError(f"cannot create veth {host_name}: {e.strerror}") from None
    finally:
        os.close(fd)
    if isolated:
        try:
            host().brport("set", index=index_of(host_name), isolated=1)
        except NetlinkError as e:
            delete_link(host_name)
            raise _fail(f"cannot isolate {host_name} on {bridge}", e) from None


@contextlib.contextmanager
def inside(sock: socket.socket) -> Iterator[rtnl.Rtnl]:
    """Requests over a netlink socket opened in a container's namespace (closed on exit)."""
    with rtnl.Rtnl(sock) as conn:
        yield conn


def configure(conn: rtnl.Rtnl, ifname: str, ip: str, prefixlen: int, gateway: str | None, lo: bool) -> None:
    """Inside the namespace, in one batch: lo up (with `lo`), the address, the link up, the default route."""
    try:
        rtnl.configure_inside(conn, ifname, ip, prefixlen, gateway, lo)
    except rtnl.RtnlError as e:
        raise NetworkDeviceError(f"cannot configure {ifname}: {e.strerror}") from None


def lo_up(conn: rtnl.Rtnl) -> None:
    conn.request("set lo up", rtnl.RTM_SETLINK, 0, rtnl.link_up_body(rtnl.LOOPBACK_IFINDEX))


def has_default_route(conn: rtnl.Rtnl) -> bool:
    return conn.has_default_route()


def host_routes() -> list[tuple[str, str]]:
    """The host's IPv4 routes as (CIDR, device name), for picking subnets that overlap none."""
    ipr = host()
    names = {link["index"]: link.get_attr("IFLA_IFNAME") for link in ipr.get_links()}
    out = []
    for r in ipr.get_routes(family=socket.AF_INET):
        dst = r.get_attr("RTA_DST")
        if dst and r["dst_len"]:
            out.append((f"{dst}/{r['dst_len']}", names.get(r.get_attr("RTA_OIF"), "")))
    return out
