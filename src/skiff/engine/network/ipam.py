"""IP address management: pure bookkeeping of subnets and the addresses handed out in them.

No I/O here: the network service persists `Pool.to_dict()` and rebuilds with
`Pool.from_dict()`, so allocations survive an engine restart.
"""

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass, field

from skiff.common.errors import Conflict, Forbidden, InvalidArgument

IPv4Network = ipaddress.IPv4Network
IPv4Address = ipaddress.IPv4Address

# Where networks without --subnet get their subnet, in Docker's default order.
DEFAULT_POOLS = [IPv4Network(f"172.{i}.0.0/16") for i in range(17, 32)] + [
    IPv4Network(f"192.168.{i}.0/20") for i in range(0, 256, 16)
]


def parse_subnet(text: str) -> IPv4Network:
    try:
        net = ipaddress.ip_network(text, strict=False)
    except ValueError as e:
        raise InvalidArgument(f"invalid CIDR address: {text}") from e
    if not isinstance(net, IPv4Network):
        raise InvalidArgument(f"invalid subnet {text}: only IPv4 subnets are supported")
    if net.prefixlen > 30:
        raise InvalidArgument(f"invalid subnet {text}: a /{net.prefixlen} has no room for containers")
    return net


def parse_address(text: str, what: str = "address") -> IPv4Address:
    try:
        return IPv4Address(text)
    except ValueError as e:
        raise InvalidArgument(f"invalid {what}: {text!r} is not an IPv4 address") from e


def check_no_overlap(new: IPv4Network, existing: Iterable[tuple[str, IPv4Network]]) -> None:
    """dockerd answers 403 with this message (libnetwork's ForbiddenError)."""
    for _name, net in existing:
        if new.overlaps(net):
            raise Forbidden("invalid pool request: Pool overlaps with other one on this address space")


def pick_default_subnet(existing: Iterable[IPv4Network]) -> IPv4Network:
    taken = list(existing)
    for pool in DEFAULT_POOLS:
        if not any(pool.overlaps(t) for t in taken):
            return pool
    raise Conflict("could not find an available, non-overlapping IPv4 address pool among the defaults to assign to the network")


@dataclass
class Pool:
    """One subnet: its gateway, the range containers draw from, and who holds which address."""

    subnet: IPv4Network
    gateway: IPv4Address
    ip_range: IPv4Network | None = None
    allocated: dict[str, str] = field(default_factory=dict)  # address -> owner (container or endpoint id)
    _cursor: int = 0  # last address handed out, as an int: allocation goes round, as Docker's does

    @classmethod
    def create(cls, subnet: str, gateway: str | None = None, ip_range: str | None = None) -> "Pool":
        net = parse_subnet(subnet)
        rng = parse_subnet(ip_range) if ip_range else None
        if rng is not None and not rng.subnet_of(net):
            raise InvalidArgument(f"ip-range {rng} is not contained in subnet {net}")
        gw = parse_address(gateway, "gateway") if gateway else next(net.hosts())
        if gw not in net or gw in (net.network_address, net.broadcast_address):
            raise InvalidArgument(f"gateway {gw} is not a usable address of subnet {net}")
        return cls(net, gw, rng)

    def _usable(self, ip: IPv4Address) -> bool:
        net = self.ip_range or self.subnet
        return ip in net and ip not in (self.subnet.network_address, self.subnet.broadcast_address, self.gateway)

    def allocate(self, owner: str, preferred: str | None = None) -> IPv4Address:
        if preferred:
            ip = parse_address(preferred)
            if ip not in self.subnet:
                raise InvalidArgument(f"invalid endpoint settings:\nno configured subnet or ip-range contain the "
                                      f"IP address {ip}")
            if ip in (self.subnet.network_address, self.subnet.broadcast_address):
                raise InvalidArgument(f"IP address {ip} is the network or broadcast address of {self.subnet}")
            # As in Docker, a requested address may lie outside --ip-range: the range only steers dynamic picks.
            if ip == self.gateway or str(ip) in self.allocated:
                raise Conflict(f"Address already in use: {ip}")
            self.allocated[str(ip)] = owner
            return ip
        net = self.ip_range or self.subnet
        first, last = int(net.network_address), int(net.broadcast_address)
        size = last - first + 1
        start = self._cursor if first <= self._cursor <= last else first
        for step in range(1, size + 1):
            ip = IPv4Address(first + (start - first + step) % size)
            if self._usable(ip) and str(ip) not in self.allocated:
                self.allocated[str(ip)] = owner
                self._cursor = int(ip)
                return ip
        raise Conflict(f"no available IPv4 addresses on this network's address pools: {net} is full")

    def release(self, ip: str | IPv4Address) -> None:
        self.allocated.pop(str(ip), None)

    def release_owner(self, owner: str) -> None:
        for ip in [ip for ip, who in self.allocated.items() if who == owner]:
            del self.allocated[ip]

    def to_dict(self) -> dict:
        return {
            "subnet": str(self.subnet),
            "gateway": str(self.gateway),
            "ip_range": str(self.ip_range) if self.ip_range else None,
            "allocated": dict(self.allocated),
            "cursor": self._cursor,
        }

    @classmethod
    def from_dict(cls, d: dict) -> "Pool":
        pool = cls.create(d["subnet"], d["gateway"], d.get("ip_range"))
        pool.allocated = dict(d.get("allocated", {}))
        pool._cursor = int(d.get("cursor", 0))
        return pool
