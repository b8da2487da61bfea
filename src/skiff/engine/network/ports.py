"""Published ports as data: validation of HostConfig.PortBindings, the list of host ports a
container asks for (`-p`, `-P`), host-port choice from the ephemeral range, and the
NetworkSettings.Ports view. Pure: the caller supplies "is this port free" and does the binding.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from skiff.common.errors import InvalidArgument

PROTOS = ("tcp", "udp", "sctp")
DEFAULT_EPHEMERAL = (32768, 60999)  # Linux's default ip_local_port_range
_PORT_KEY = re.compile(r"^(\d+)(?:-(\d+))?(?:/([a-zA-Z]+))?$")


@dataclass(frozen=True)
class PortRequest:
    """One container port to publish: host_lo == 0 means any free port from the ephemeral range;
    host_lo < host_hi (`-p 8000-8010:80`) means the first free one in that range."""

    proto: str
    container_port: int
    host_ip: str = ""
    host_lo: int = 0
    host_hi: int = 0

    @property
    def key(self) -> str:
        return f"{self.container_port}/{self.proto}"


@dataclass(frozen=True)
class PortBinding:
    """A host port chosen and held for a container port."""

    proto: str
    container_port: int
    host_ip: str  # "" means every address (0.0.0.0)
    host_port: int

    @property
    def key(self) -> str:
        return f"{self.container_port}/{self.proto}"

    @property
    def bind_ip(self) -> str:
        return self.host_ip or "0.0.0.0"

    def to_api(self) -> dict:
        return {"HostIp": self.bind_ip, "HostPort": str(self.host_port)}

    def to_record(self) -> list:
        return [self.proto, self.container_port, self.host_ip, self.host_port]

    @classmethod
    def from_record(cls, r: list) -> PortBinding:
        return cls(str(r[0]), int(r[1]), str(r[2]), int(r[3]))


def split_port_key(key: str) -> tuple[int, int, str]:
    """"80/tcp" or "8000-8010/udp" → (lo, hi, proto), with dockerd's wording on bad input."""
    m = _PORT_KEY.match(key.strip())
    if not m:
        raise InvalidArgument(f'invalid port specification: "{_port_part(key)}"')
    lo = int(m.group(1))
    hi = int(m.group(2)) if m.group(2) else lo
    proto = (m.group(3) or "tcp").lower()
    if not (0 < lo <= 65535 and 0 < hi <= 65535) or hi < lo:
        raise InvalidArgument(f'invalid port specification: "{_port_part(key)}"')
    if proto not in PROTOS:
        raise InvalidArgument(f"invalid proto: {proto}")
    return lo, hi, proto


def _port_part(key: str) -> str:
    return key.partition("/")[0]


def _host_range(text: str) -> tuple[int, int]:
    """A binding's HostPort: "" (any), "8080", or "8000-8010"."""
    if not text:
        return 0, 0
    lo_s, dash, hi_s = text.partition("-")
    try:
        lo = int(lo_s)
        hi = int(hi_s) if dash else lo
    except ValueError:
        raise InvalidArgument(f'invalid port specification: "{text}"') from None
    if not (0 <= lo <= 65535 and 0 <= hi <= 65535) or hi < lo:
        raise InvalidArgument(f'invalid port specification: "{text}"')
    return lo, hi


def _host_ip(text: str) -> str:
    if text in ("", "0.0.0.0"):
        return ""
    try:
        ipaddress.ip_address(text)
    except ValueError:
        raise InvalidArgument(f"invalid IP address: {text}") from None
    return text


def validate_bindings(bindings: dict | None) -> None:
    """dockerd's create-time check of HostConfig.PortBindings (400 with its message)."""
    for key, binds in (bindings or {}).items():
        split_port_key(key)
        for b in binds or []:
            _host_range(str((b or {}).get("HostPort") or ""))
            _host_ip(str((b or {}).get("HostIp") or ""))


def requests(exposed: Iterable[str] | None, bindings: dict | None, publish_all: bool) -> list[PortRequest]:
    """The host ports a container start must bind: every PortBindings entry, and with
    PublishAllPorts (`-P`) one ephemeral port for each exposed port that has no binding."""
    out: list[PortRequest] = []
    bindings = bindings or {}
    for key in sorted(bindings, key=_sort_key):
        lo, hi, proto = split_port_key(key)
        for b in bindings[key] or [{}]:
            h_lo, h_hi = _host_range(str((b or {}).get("HostPort") or ""))
            ip = _host_ip(str((b or {}).get("HostIp") or ""))
            for i, port in enumerate(range(lo, hi + 1)):
                if h_lo and lo != hi:  # ranges map one to one (`-p 8000-8001:80-81` sent unsplit)
                    out.append(PortRequest(proto, port, ip, h_lo + i, h_lo + i))
                else:
                    out.append(PortRequest(proto, port, ip, h_lo, h_hi))
    if publish_all:
        bound = {r.key for r in out}
        for key in sorted(exposed or [], key=_sort_key):
            lo, hi, proto = split_port_key(key)
            for port in range(lo, hi + 1):
                if f"{port}/{proto}" not in bound:
                    out.append(PortRequest(proto, port))
    return out


def _sort_key(key: str) -> tuple[int, str]:
    port, _, proto = key.partition("/")
    try:
        return int(port.partition("-")[0]), proto
    except ValueError:
        return 0, key


def read_ephemeral_range(path: str = "/proc/sys/net/ipv4/ip_local_port_range") -> tuple[int, int]:
    try:
        with open(path) as f:
            lo, hi = (int(x) for x in f.read().split()[:2])
        return lo, hi
    except (OSError, ValueError):
        return DEFAULT_EPHEMERAL


class PortChooser:
    """Picks host ports. Ephemeral picks go round-robin from after the last one given, as
    dockerd's allocator does, so a port just released is not handed out again at once."""

    def __init__(self, ephemeral: tuple[int, int] = DEFAULT_EPHEMERAL):
        self.lo, self.hi = ephemeral
        self._next = self.lo

    def choose(self, req: PortRequest, usable: Callable[[str, str, int], bool]) -> int | None:
        """A host port for `req` for which usable(ip, proto, port) holds, or None."""
        if req.host_lo:
            for port in range(req.host_lo, req.host_hi + 1):
                if usable(req.host_ip, req.proto, port):
                    return port
            return None
        size = self.hi - self.lo + 1
        for i in range(size):
            port = self.lo + (self._next - self.lo + i) % size
            if usable(req.host_ip, req.proto, port):
                self._next = port + 1 if port < self.hi else self.lo
                return port
        return None


def ports_view(exposed: Iterable[str] | None, bound: Iterable[PortBinding]) -> dict[str, list[dict] | None]:
    """NetworkSettings.Ports of a running container: each exposed port → its host bindings, or
    null when it is not published."""
    view: dict[str, list[dict] | None] = {}
    for key in exposed or []:
        try:
            lo, hi, proto = split_port_key(key)
        except InvalidArgument:
            continue
        for port in range(lo, hi + 1):
            view.setdefault(f"{port}/{proto}", None)
    for b in bound:
        entry = view.get(b.key) or []
        entry.append(b.to_api())
        view[b.key] = entry
    return dict(sorted(view.items(), key=lambda kv: _sort_key(kv[0])))


def bind_failed_message(b: PortBinding, allocated: bool) -> str:
    """dockerd's words for a host port it cannot have."""
    if allocated:
        return f"Bind for {b.bind_ip}:{b.host_port} failed: port is already allocated"
    family = "4" if ":" not in b.bind_ip else "6"
    return (f"failed to bind host port for {b.bind_ip}:{b.host_port}/{b.proto}: "
            f"listen {b.proto}{family} {b.bind_ip}:{b.host_port}: bind: address already in use")


def no_free_port_message(req: PortRequest) -> str:
    if req.host_lo:
        return f"Bind for {req.host_ip or '0.0.0.0'}:{req.host_lo}-{req.host_hi} failed: port is already allocated"
    return "all ports are allocated"
