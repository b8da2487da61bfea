"""Network and endpoint records, host object names, and Docker's JSON views of them. Pure."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from skiff.common.errors import InvalidArgument
from skiff.engine.network.ipam import Pool

DEFAULT_BRIDGE = "bridge"  # the default network's name, as in Docker
BUILTIN_NAMES = ("bridge", "host", "none")

OPT_DEFAULT_BRIDGE = "com.docker.network.bridge.default_bridge"
OPT_ICC = "com.docker.network.bridge.enable_icc"
OPT_MASQ = "com.docker.network.bridge.enable_ip_masquerade"
OPT_HOST_BINDING = "com.docker.network.bridge.host_binding_ipv4"
OPT_BRIDGE_NAME = "com.docker.network.bridge.name"
OPT_MTU = "com.docker.network.driver.mtu"

IFNAMSIZ = 15  # longest interface name Linux takes
AUX_OWNER = "aux:"  # IPAM owner prefix of addresses reserved with --aux-address


def bridge_name(prefix: str, network_id: str) -> str:
    return (f"{prefix}-{network_id}")[:IFNAMSIZ]


def veth_name(prefix: str, endpoint_id: str) -> str:
    return (f"{prefix}v{endpoint_id}")[:IFNAMSIZ]


def is_engine_link(prefix: str, name: str) -> bool:
    """Whether an interface name is one this instance makes: `<P>0`, `<P>-<hex>`, `<P>v<hex>`."""
    if not name.startswith(prefix):
        return False
    rest = name[len(prefix):]
    if rest == "0":
        return True
    return len(rest) > 1 and rest[0] in "-v" and all(ch in "0123456789abcdef" for ch in rest[1:])


def parse_bool_option(options: dict, key: str, default: bool) -> bool:
    value = options.get(key)
    if value is None or value == "":
        return default
    text = str(value).lower()
    if text in ("1", "t", "true"):
        return True
    if text in ("0", "f", "false"):
        return False
    raise InvalidArgument(f'failed to parse option {key}: strconv.ParseBool: parsing "{value}": invalid syntax')


@dataclass
class Endpoint:
    id: str
    container_id: str
    container_name: str
    network_id: str
    ip: str
    prefixlen: int
    gateway: str  # "" on internal networks: no default route
    mac: str
    ifname: str  # the host end of the veth pair
    inner: str  # the interface name inside the container: eth0, eth1, ...
    aliases: list[str] = field(default_factory=list)
    ipam_config: dict | None = None  # the requested IPAMConfig, shown back in inspect

    def to_dict(self) -> dict:
        return dict(self.__dict__)

    @classmethod
    def from_dict(cls, d: dict) -> Endpoint:
        return cls(**{k: v for k, v in d.items() if k in cls.__dataclass_fields__})


@dataclass
class Network:
    id: str
    name: str
    driver: str  # bridge | host | null
    created: str
    bridge: str = ""  # interface name, for bridge networks
    internal: bool = False
    attachable: bool = False
    options: dict = field(default_factory=dict)
    labels: dict = field(default_factory=dict)
    pool: Pool | None = None
    external_bridge: bool = False  # `-b BRIDGE`: the engine uses it but neither creates nor deletes it
    endpoints: dict[str, Endpoint] = field(default_factory=dict)  # by container id

    @property
    def is_default(self) -> bool:
        return self.name == DEFAULT_BRIDGE

    @property
    def builtin(self) -> bool:
        return self.name in BUILTIN_NAMES

    @property
    def icc(self) -> bool:
        return parse_bool_option(self.options, OPT_ICC, True)

    @property
    def masquerade(self) -> bool:
        return parse_bool_option(self.options, OPT_MASQ, True) and not self.internal

    @property
    def mtu(self) -> int:
        try:
            return int(self.options.get(OPT_MTU) or 0)
        except ValueError:
            return 0

    def to_dict(self) -> dict:
        d = {k: v for k, v in self.__dict__.items() if k not in ("pool", "endpoints")}
        d["pool"] = self.pool.to_dict() if self.pool else None
        d["endpoints"] = {cid: ep.to_dict() for cid, ep in self.endpoints.items()}
        return d

    @classmethod
    def from_dict(cls, d: dict) -> Network:
        d = dict(d)
        pool = Pool.from_dict(d["pool"]) if d.get("pool") else None
        eps = {cid: Endpoint.from_dict(e) for cid, e in (d.get("endpoints") or {}).items()}
        d.update(pool=pool, endpoints=eps)
        return cls(**{k: v for k, v in d.items() if k in cls.__dataclass_fields__})


def ipam_config(net: Network) -> list[dict] | None:
    if net.pool is None:
        return None if net.driver != "bridge" else []
    cfg: dict[str, Any] = {"Subnet": str(net.pool.subnet), "Gateway": str(net.pool.gateway)}
    if net.pool.ip_range is not None:
        cfg["IPRange"] = str(net.pool.ip_range)
    aux = {owner[len(AUX_OWNER):]: ip for ip, owner in net.pool.allocated.items() if owner.startswith(AUX_OWNER)}
    if aux:
        cfg["AuxiliaryAddresses"] = aux
    return [cfg]


def network_view(net: Network, with_containers: bool = True) -> dict:
    """NetworkResource / NetworkInspect as dockerd shows it."""
    containers: dict[str, Any] = {}
    if with_containers:
        for cid, ep in net.endpoints.items():
            containers[cid] = {"Name": ep.container_name, "EndpointID": ep.id, "MacAddress": ep.mac,
                               "IPv4Address": f"{ep.ip}/{ep.prefixlen}", "IPv6Address": ""}
    return {
        "Name": net.name, "Id": net.id, "Created": net.created, "Scope": "local", "Driver": net.driver,
        "EnableIPv4": net.driver == "bridge", "EnableIPv6": False,
        "IPAM": {"Driver": "default", "Options": None if net.builtin else {}, "Config": ipam_config(net)},
        "Internal": net.internal, "Attachable": net.attachable, "Ingress": False, "ConfigFrom": {"Network": ""},
        "ConfigOnly": False, "Containers": containers, "Options": dict(net.options), "Labels": dict(net.labels),
    }


def endpoint_settings(net: Network, ep: Endpoint | None, requested: dict | None) -> dict:
    """One entry of a container's NetworkSettings.Networks; empty addresses while not running."""
    requested = requested or {}
    aliases = requested.get("Aliases")
    out = {
        "IPAMConfig": requested.get("IPAMConfig"), "Links": requested.get("Links"),
        "Aliases": list(aliases) if aliases else None, "MacAddress": ep.mac if ep else "",
        "DriverOpts": requested.get("DriverOpts"), "GwPriority": 0, "NetworkID": net.id,
        "EndpointID": ep.id if ep else "", "Gateway": ep.gateway if ep else "", "IPAddress": ep.ip if ep else "",
        "IPPrefixLen": ep.prefixlen if ep else 0, "IPv6Gateway": "", "GlobalIPv6Address": "",
        "GlobalIPv6PrefixLen": 0, "DNSNames": None,
    }
    if ep and not net.builtin:
        out["DNSNames"] = [ep.container_name, *(ep.aliases or []), ep.container_id[:12]]
    return out


def matches(net: Network, filters: dict[str, list[str]]) -> bool:
    """`network ls --filter` (OR within a key, AND across keys)."""
    known = {"name", "id", "driver", "label", "type", "scope", "dangling"}
    for key in filters:
        if key not in known:
            raise InvalidArgument(f"invalid filter '{key}'")
    f = filters
    if f.get("name") and not any(v in net.name for v in f["name"]):
        return False
    if f.get("id") and not any(net.id.startswith(v) for v in f["id"]):
        return False
    if f.get("driver") and net.driver not in f["driver"]:
        return False
    if f.get("scope") and "local" not in f["scope"]:
        return False
    if f.get("type"):
        for v in f["type"]:
            if v not in ("custom", "builtin"):
                raise InvalidArgument(f"invalid filter: 'type'='{v}'")
        if ("builtin" if net.builtin else "custom") not in f["type"]:
            return False
    if f.get("label"):
        for v in f["label"]:
            k, sep, want = v.partition("=")
            if k not in net.labels or (sep and net.labels[k] != want):
                return False
    if f.get("dangling"):
        v = f["dangling"][0].lower()
        if v not in ("true", "false", "1", "0"):
            raise InvalidArgument(f'invalid filter \'dangling={f["dangling"][0]}\'')
        dangling = not net.endpoints and not net.builtin
        if dangling != (v in ("true", "1")):
            return False
    return True
