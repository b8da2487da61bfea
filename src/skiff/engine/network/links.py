"""Legacy container links (`--link name:alias` on the default bridge), as data. Pure.

A link gives the source container /etc/hosts lines for the target and environment
variables describing it, formed as dockerd forms them (daemon/links), and shows in
HostConfig.Links as "/target:/source/alias".
"""

from __future__ import annotations

from dataclasses import dataclass

from skiff.common.errors import InvalidArgument


@dataclass(frozen=True)
class LinkTarget:
    """What the source container learns about a linked container."""

    name: str  # the target's name, no leading "/"
    hostname: str
    ip: str
    exposed: tuple[str, ...] = ()  # "5432/tcp", ...
    env: tuple[str, ...] = ()  # the target's Config.Env


def parse_link(spec: str) -> tuple[str, str]:
    """"name:alias" or "name" → (target name, alias), leading slashes dropped as dockerd does."""
    name, _, alias = spec.partition(":")
    name = name.strip("/")
    alias = (alias or name).strip("/")
    if not name:
        raise InvalidArgument(f"invalid link specification: {spec}")
    return name, alias


def api_form(source_name: str, spec: str, target_name: str) -> str:
    """HostConfig.Links as inspect shows it: "/db:/web/db"."""
    _, alias = parse_link(spec)
    return f"/{target_name.lstrip('/')}:/{source_name.lstrip('/')}/{alias}"


def _port_sort_key(key: str) -> tuple[int, int]:
    port, _, proto = key.partition("/")
    return int(port), 0 if (proto or "tcp") == "tcp" else 1


def link_env(source_name: str, alias: str, target: LinkTarget) -> list[str]:
    """ALIAS_PORT, ALIAS_PORT_<n>_<PROTO>[_ADDR|_PORT|_PROTO], range _START/_END, ALIAS_NAME and
    ALIAS_ENV_<var> (HOME and PATH left out), in dockerd's order."""
    prefix = alias.upper().replace("-", "_")
    env: list[str] = []
    ports: list[tuple[int, str]] = []
    for key in sorted(target.exposed, key=_port_sort_key):
        num, _, kind = key.partition("/")
        ports.append((int(num), kind or "tcp"))
    start = end = (0, "")
    for i, (port, proto) in enumerate(ports):
        if i == 0:
            start = end = (port, proto)
            env.append(f"{prefix}_PORT={proto}://{target.ip}:{port}")
        p = f"{prefix}_PORT_{port}_{proto.upper()}"
        env += [f"{p}={proto}://{target.ip}:{port}", f"{p}_ADDR={target.ip}", f"{p}_PORT={port}",
                f"{p}_PROTO={proto}"]
        if port == end[0] + 1 and proto == start[1]:
            end = (port, proto)
            if i < len(ports) - 1:
                continue
        if end != start:
            p = f"{prefix}_PORT_{start[0]}_{start[1].upper()}"
            env += [f"{p}_START={start[1]}://{target.ip}:{start[0]}", f"{p}_PORT_START={start[0]}",
                    f"{p}_END={end[1]}://{target.ip}:{end[0]}", f"{p}_PORT_END={end[0]}"]
        start = end = (port, proto)
    env.append(f"{prefix}_NAME=/{source_name.lstrip('/')}/{alias}")
    for var in target.env:
        key, sep, value = var.partition("=")
        if sep and key not in ("HOME", "PATH"):
            env.append(f"{prefix}_ENV_{key}={value}")
    return env


def hosts_entries(alias: str, target: LinkTarget) -> list[tuple[str, str]]:
    """(ip, names) lines for the source's /etc/hosts: the alias, the target's hostname and name."""
    names = [alias]
    for n in (target.hostname, target.name):
        if n and n not in names:
            names.append(n)
    return [(target.ip, " ".join(names))]
