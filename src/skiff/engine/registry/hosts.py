"""Where a registry lives and how to talk to it: host names, plain http or TLS (pure)."""

from __future__ import annotations

import ipaddress

from skiff.oci.reference import DEFAULT_DOMAIN

DOCKER_HUB_API = "registry-1.docker.io"
DOCKER_HUB_AUTH_KEY = "https://index.docker.io/v1/"  # the key docker login uses in config.json
DOCKER_HUB_INDEX = "index.docker.io"


def api_host(domain: str) -> str:
    """The host that serves `/v2/` for a reference's domain."""
    return DOCKER_HUB_API if domain == DEFAULT_DOMAIN else domain


def index_host(domain: str) -> str:
    """The host that serves `/v1/search`."""
    return DOCKER_HUB_INDEX if domain == DEFAULT_DOMAIN else domain


def normalize_server(server: str) -> str:
    """`docker login`'s SERVER argument → the registry domain (`https://h:5000/v1/` → `h:5000`)."""
    s = server.strip()
    for prefix in ("https://", "http://"):
        if s.startswith(prefix):
            s = s[len(prefix):]
    s = s.split("/", 1)[0]
    if s in ("", "index.docker.io", "registry-1.docker.io", "docker.io", "registry.hub.docker.com"):
        return DEFAULT_DOMAIN
    return s


def auth_key(domain: str) -> str:
    """The key of a registry in config.json's `auths` (Docker Hub keeps its legacy URL)."""
    return DOCKER_HUB_AUTH_KEY if domain == DEFAULT_DOMAIN else domain


def _host_only(hostport: str) -> str:
    if hostport.startswith("["):
        return hostport[1:].split("]", 1)[0]
    return hostport.rsplit(":", 1)[0] if hostport.count(":") == 1 else hostport


def is_insecure(domain: str, insecure: list[str]) -> bool:
    """Plain http is allowed for listed registries (host, host:port or CIDR) and for loopback, as Docker does."""
    host = _host_only(domain)
    if host == "localhost":
        return True
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        ip = None
    if ip is not None and ip.is_loopback:
        return True
    for entry in insecure:
        entry = normalize_server(entry) if "://" in entry else entry.strip()
        if entry in (domain, host):
            return True
        if "/" in entry and ip is not None:
            try:
                if ip in ipaddress.ip_network(entry, strict=False):
                    return True
            except ValueError:
                continue
    return False
