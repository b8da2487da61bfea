"""Compose `ports` (short `[ip:][host:]container[/proto]`, ranges, or the long mapping) and
`expose` entries → the create body's ExposedPorts and PortBindings. Pure."""

from __future__ import annotations

from skiff.compose.errors import ConfigError


def _range(text: str, spec: str) -> tuple[int, int]:
    lo, dash, hi = text.partition("-")
    try:
        a, b = int(lo), int(hi) if dash else int(lo)
    except ValueError:
        raise ConfigError(f"Invalid port \"{spec}\", should be [[remote_ip:]remote_port[-remote_port]:]"
                          "port[/protocol]") from None
    if not (0 < a <= 65535 and 0 < b <= 65535 and a <= b):
        raise ConfigError(f'Invalid port "{spec}": out of range')
    return a, b


def parse_port(entry) -> list[tuple[str, str, str]]:
    """One `ports` entry → [(container port/proto, host ip, host port)]."""
    if isinstance(entry, dict):
        target = entry.get("target")
        if target is None:
            raise ConfigError(f"ports entry {entry} is invalid, target is required.")
        proto = entry.get("protocol", "tcp")
        published = entry.get("published")
        return [(f"{target}/{proto}", str(entry.get("host_ip", "")), "" if published is None else str(published))]
    spec = str(entry)
    text, _, proto = spec.partition("/")
    proto = proto or "tcp"
    if proto not in ("tcp", "udp", "sctp"):
        raise ConfigError(f'Invalid port "{spec}": unknown protocol "{proto}"')
    parts = text.rsplit(":", 2)
    ip = host = ""
    if len(parts) == 3:
        ip, host, container = parts
    elif len(parts) == 2:
        host, container = parts
    else:
        container = parts[0]
    if ip:
        import ipaddress

        try:
            ipaddress.ip_address(ip.strip("[]"))
        except ValueError:
            raise ConfigError(f'Invalid port "{spec}": "{ip}" is not an IP address') from None
    c_lo, c_hi = _range(container, spec)
    out = []
    if host:
        h_lo, h_hi = _range(host, spec)
        if h_hi - h_lo != c_hi - c_lo and h_lo != h_hi:
            raise ConfigError(f'Invalid port "{spec}": port ranges don\'t match in length')
    for i, port in enumerate(range(c_lo, c_hi + 1)):
        hp = ""
        if host:
            hp = str(h_lo + i) if h_hi != h_lo else str(h_lo)
        out.append((f"{port}/{proto}", ip, hp))
    return out


def port_config(ports: list, expose: list) -> tuple[dict, dict]:
    """(ExposedPorts, PortBindings)."""
    exposed: dict[str, dict] = {}
    bindings: dict[str, list[dict]] = {}
    for entry in ports:
        for key, ip, host in parse_port(entry):
            exposed[key] = {}
            bindings.setdefault(key, []).append({"HostIp": ip, "HostPort": host})
    for entry in expose:
        text, _, proto = str(entry).partition("/")
        lo, hi = _range(text, str(entry))
        for port in range(lo, hi + 1):
            exposed[f"{port}/{proto or 'tcp'}"] = {}
    return exposed, bindings
