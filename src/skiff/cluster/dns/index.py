"""The cluster DNS's in-memory view of Services and EndpointSlices (pure).

Informer events go in (`set_service`, `delete_service`, `set_slice`, `delete_slice`); the
resolver reads `service()`, `endpoints()`, `reverse()` and `has_namespace()`, each a dict
lookup, so a query never waits on the API server. Names are kept lowercase: DNS comparisons
are case-insensitive.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import Any

Obj = dict[str, Any]

CLUSTER_IP = "ClusterIP"
HEADLESS = "Headless"
EXTERNAL = "ExternalName"


@dataclass(frozen=True)
class Port:
    name: str  # lowercase; "" when unnamed (no SRV record)
    port: int
    protocol: str  # lowercase: tcp, udp, sctp


@dataclass(frozen=True)
class Endpoint:
    ip: str
    hostname: str  # lowercase; "" when the endpoint has none

    @property
    def label(self) -> str:
        """The endpoint's name under its Service: its hostname, else its address dashed
        (CoreDNS's choice for the spec's "unique, system-assigned identifier")."""
        return self.hostname or self.ip.replace(".", "-").replace(":", "-")


@dataclass
class ServiceEntry:
    namespace: str
    name: str
    kind: str  # CLUSTER_IP, HEADLESS or EXTERNAL
    cluster_ips: list[str] = field(default_factory=list)
    external_name: str = ""
    ports: list[Port] = field(default_factory=list)


@dataclass
class SliceEntry:
    service: str
    ports: list[Port]
    ready: list[Endpoint]


def _meta(obj: Obj) -> tuple[str, str]:
    meta = obj.get("metadata") or {}
    return (meta.get("namespace") or "default").lower(), (meta.get("name") or "").lower()


def service_entry(obj: Obj) -> ServiceEntry:
    ns, name = _meta(obj)
    spec = obj.get("spec") or {}
    ports = [Port((p.get("name") or "").lower(), int(p.get("port") or 0), (p.get("protocol") or "TCP").lower())
             for p in spec.get("ports") or []]
    if spec.get("type") == "ExternalName":
        return ServiceEntry(ns, name, EXTERNAL, external_name=(spec.get("externalName") or "").rstrip("."),
                            ports=ports)
    ips = [ip for ip in (spec.get("clusterIPs") or [spec.get("clusterIP") or ""]) if ip]
    if not ips or ips == ["None"]:
        return ServiceEntry(ns, name, HEADLESS, ports=ports)
    return ServiceEntry(ns, name, CLUSTER_IP, cluster_ips=ips, ports=ports)


def slice_entry(obj: Obj) -> SliceEntry | None:
    """None for a slice that names no Service (it serves no DNS name)."""
    service = ((obj.get("metadata") or {}).get("labels") or {}).get("kubernetes.io/service-name", "")
    if not service:
        return None
    ports = [Port((p.get("name") or "").lower(), int(p.get("port") or 0), (p.get("protocol") or "TCP").lower())
             for p in obj.get("ports") or [] if p.get("port")]
    ready: list[Endpoint] = []
    for ep in obj.get("endpoints") or []:
        if (ep.get("conditions") or {}).get("ready") is False:  # unset means ready (the API's rule)
            continue
        hostname = (ep.get("hostname") or "").lower()
        ready.extend(Endpoint(ip, hostname) for ip in ep.get("addresses") or [])
    return SliceEntry(service.lower(), ports, ready)


def fqdn(*labels: str) -> str:
    return ".".join(labels)


class ClusterIndex:
    def __init__(self, domain: str = "cluster.local"):
        self.domain = domain.lower().strip(".")
        self.generation = 0  # bumped on every change: the SOA serial
        self._services: dict[tuple[str, str], ServiceEntry] = {}
        self._slices: dict[tuple[str, str], SliceEntry] = {}  # (ns, slice name)
        self._by_service: dict[tuple[str, str], set[str]] = {}  # (ns, service) → slice names
        self._namespaces: dict[str, int] = {}  # ns → services in it
        self._ptr: dict[str, dict[tuple[str, str], list[str]]] = {}  # ip → owning service → names
        self._ptr_owned: dict[tuple[str, str], list[str]] = {}  # service → ips it put in _ptr

    # --- events ------------------------------------------------------------------------
    def set_service(self, obj: Obj) -> None:
        entry = service_entry(obj)
        key = (entry.namespace, entry.name)
        if key not in self._services:
            self._namespaces[entry.namespace] = self._namespaces.get(entry.namespace, 0) + 1
        self._services[key] = entry
        self._changed(key)

    def delete_service(self, obj: Obj) -> None:
        key = _meta(obj)
        if self._services.pop(key, None) is not None:
            left = self._namespaces.get(key[0], 1) - 1
            if left:
                self._namespaces[key[0]] = left
            else:
                self._namespaces.pop(key[0], None)
        self._changed(key)

    def set_slice(self, obj: Obj) -> None:
        ns, name = _meta(obj)
        entry = slice_entry(obj)
        old = self._slices.pop((ns, name), None)
        if old is not None and (entry is None or old.service != entry.service):
            self._by_service.get((ns, old.service), set()).discard(name)
            self._changed((ns, old.service))
        if entry is not None:
            self._slices[(ns, name)] = entry
            self._by_service.setdefault((ns, entry.service), set()).add(name)
            self._changed((ns, entry.service))

    def delete_slice(self, obj: Obj) -> None:
        ns, name = _meta(obj)
        old = self._slices.pop((ns, name), None)
        if old is not None:
            names = self._by_service.get((ns, old.service), set())
            names.discard(name)
            if not names:
                self._by_service.pop((ns, old.service), None)
            self._changed((ns, old.service))

    # --- reads -------------------------------------------------------------------------
    def service(self, namespace: str, name: str) -> ServiceEntry | None:
        return self._services.get((namespace, name))

    def has_namespace(self, namespace: str) -> bool:
        return namespace in self._namespaces

    def endpoints(self, namespace: str, service: str) -> list[tuple[Endpoint, list[Port]]]:
        """Ready endpoints of the service's slices with their slice's ports; an address in
        two slices counts once."""
        seen: set[str] = set()
        out = []
        for slice_name in sorted(self._by_service.get((namespace, service), ())):
            entry = self._slices[(namespace, slice_name)]
            for ep in entry.ready:
                if ep.ip not in seen:
                    seen.add(ep.ip)
                    out.append((ep, entry.ports))
        return out

    def reverse(self, ip: str) -> list[str]:
        owners = self._ptr.get(ip) or {}
        return sorted({n for names in owners.values() for n in names})

    # --- upkeep ------------------------------------------------------------------------
    def _changed(self, key: tuple[str, str]) -> None:
        """Redo the PTR names the service owns (cluster IPs, or headless endpoints' names)."""
        self.generation += 1
        for ip in self._ptr_owned.pop(key, []):
            owners = self._ptr.get(ip)
            if owners is not None:
                owners.pop(key, None)
                if not owners:
                    self._ptr.pop(ip, None)
        entry = self._services.get(key)
        if entry is None:
            return
        ns, name = key
        pairs: list[tuple[str, str]] = []
        if entry.kind == CLUSTER_IP:
            pairs = [(ip, fqdn(name, ns, "svc", self.domain)) for ip in entry.cluster_ips]
        elif entry.kind == HEADLESS:
            pairs = [(ep.ip, fqdn(ep.label, name, ns, "svc", self.domain)) for ep, _ in self.endpoints(ns, name)]
        for ip, target in pairs:
            ip = _canonical_ip(ip)
            self._ptr.setdefault(ip, {}).setdefault(key, []).append(target)
            self._ptr_owned.setdefault(key, []).append(ip)


def _canonical_ip(ip: str) -> str:
    try:
        return str(ipaddress.ip_address(ip))
    except ValueError:
        return ip
