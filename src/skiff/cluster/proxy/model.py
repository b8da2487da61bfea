"""What the proxy needs of Services and EndpointSlices, as plain values (pure).

A `ServicePort` is one port of one Service (kube-proxy's ServicePortName `ns/name:port`); its
`Endpoint`s come from the EndpointSlices labelled `kubernetes.io/service-name`, matched by port
name and protocol, so a named targetPort is already resolved per endpoint (each slice carries the
numbers of the pods it holds)."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

Obj = dict[str, Any]

SERVICE_NAME_LABEL = "kubernetes.io/service-name"
DEFAULT_AFFINITY_SECONDS = 10800  # the API's default for sessionAffinityConfig.clientIP.timeoutSeconds
PROTOCOLS = ("TCP", "UDP", "SCTP")


@dataclass(frozen=True)
class ServicePort:
    namespace: str
    name: str
    port_name: str
    protocol: str  # TCP | UDP | SCTP
    port: int
    cluster_ip: str = ""  # IPv4 only, as the engine's bridges are
    node_port: int = 0
    external_ips: tuple[str, ...] = ()
    load_balancer_ips: tuple[str, ...] = ()  # status.loadBalancer.ingress[].ip
    affinity_seconds: int = 0  # 0: no session affinity
    external_local: bool = False  # externalTrafficPolicy: Local
    internal_local: bool = False  # internalTrafficPolicy: Local

    @property
    def key(self) -> str:
        """kube-proxy's ServicePortName, which the chain hashes and comments are made of."""
        return f"{self.namespace}/{self.name}:{self.port_name}" if self.port_name else \
            f"{self.namespace}/{self.name}"

    @property
    def has_external(self) -> bool:
        return bool(self.node_port or self.external_ips or self.load_balancer_ips)


@dataclass(frozen=True)
class Endpoint:
    ip: str
    port: int
    ready: bool = True
    serving: bool = True
    terminating: bool = False
    node_name: str = ""

    @property
    def address(self) -> str:
        return f"{self.ip}:{self.port}"


@dataclass
class ServiceEndpoints:
    """A service port and the endpoints the proxy may send its traffic to."""

    service: ServicePort
    endpoints: list[Endpoint] = field(default_factory=list)


def _ipv4(value: Any) -> str:
    try:
        return str(ipaddress.IPv4Address(str(value)))
    except ValueError:
        return ""


def service_ports(service: Obj) -> list[ServicePort]:
    """The ports the proxy routes: none for headless (clusterIP None) and ExternalName Services."""
    meta, spec = service.get("metadata") or {}, service.get("spec") or {}
    kind = spec.get("type") or "ClusterIP"
    if kind == "ExternalName":
        return []
    cluster_ip = _ipv4(spec.get("clusterIP"))
    if not cluster_ip:  # headless ("None") or not allocated: nothing to route
        return []
    affinity = 0
    if spec.get("sessionAffinity") == "ClientIP":
        cfg = ((spec.get("sessionAffinityConfig") or {}).get("clientIP") or {})
        affinity = int(cfg.get("timeoutSeconds") or DEFAULT_AFFINITY_SECONDS)
    external_ips = tuple(ip for ip in (_ipv4(x) for x in spec.get("externalIPs") or []) if ip)
    lb_ips: tuple[str, ...] = ()
    if kind == "LoadBalancer":
        ingress = ((service.get("status") or {}).get("loadBalancer") or {}).get("ingress") or []
        lb_ips = tuple(ip for ip in (_ipv4(i.get("ip")) for i in ingress if isinstance(i, dict)) if ip)
    out = []
    for p in spec.get("ports") or []:
        protocol = p.get("protocol") or "TCP"
        if protocol not in PROTOCOLS or not p.get("port"):
            continue
        out.append(ServicePort(
            namespace=meta.get("namespace") or "default", name=meta.get("name", ""), port_name=p.get("name") or "",
            protocol=protocol, port=int(p["port"]), cluster_ip=cluster_ip,
            node_port=int(p.get("nodePort") or 0) if kind in ("NodePort", "LoadBalancer") else 0,
            external_ips=external_ips, load_balancer_ips=lb_ips, affinity_seconds=affinity,
            external_local=spec.get("externalTrafficPolicy") == "Local" and kind in ("NodePort", "LoadBalancer"),
            internal_local=spec.get("internalTrafficPolicy") == "Local"))
    return out


def slice_service(sl: Obj) -> tuple[str, str] | None:
    """(namespace, service name) an EndpointSlice belongs to, None when it names none."""
    meta = sl.get("metadata") or {}
    name = (meta.get("labels") or {}).get(SERVICE_NAME_LABEL)
    return (meta.get("namespace") or "default", name) if name else None


def slice_endpoints(slices: Iterable[Obj], port_name: str, protocol: str) -> list[Endpoint]:
    """The endpoints for one service port across its slices, each once, in address order."""
    found: dict[str, Endpoint] = {}
    for sl in slices:
        if (sl.get("addressType") or "IPv4") != "IPv4":
            continue
        port = next((p.get("port") for p in sl.get("ports") or []
                     if (p.get("name") or "") == port_name and (p.get("protocol") or "TCP") == protocol), None)
        if not port:
            continue
        for ep in sl.get("endpoints") or []:
            cond = ep.get("conditions") or {}
            ready = cond.get("ready") is not False  # nil means ready, says the API
            serving = ready if cond.get("serving") is None else bool(cond["serving"])
            for ip in (ep.get("addresses") or [])[:1]:  # kube-proxy uses the first address
                ip = _ipv4(ip)
                if ip:
                    e = Endpoint(ip, int(port), ready, serving, bool(cond.get("terminating")), ep.get("nodeName") or "")
                    found.setdefault(e.address, e)
    return sorted(found.values(), key=lambda e: (ipaddress.IPv4Address(e.ip), e.port))


def usable(endpoints: list[Endpoint]) -> list[Endpoint]:
    """Ready endpoints; when there are none, the serving ones that are terminating (kube-proxy's
    fallback, so connections drain to pods still able to answer during a rollout)."""
    ready = [e for e in endpoints if e.ready]
    return ready or [e for e in endpoints if e.serving and e.terminating]


def build(services: Iterable[Obj], slices: Iterable[Obj]) -> list[ServiceEndpoints]:
    """Every routed service port with its endpoints, in a stable order."""
    by_service: dict[tuple[str, str], list[Obj]] = {}
    for sl in slices:
        owner = slice_service(sl)
        if owner:
            by_service.setdefault(owner, []).append(sl)
    out = []
    for svc in services:
        for sp in service_ports(svc):
            eps = slice_endpoints(by_service.get((sp.namespace, sp.name), []), sp.port_name, sp.protocol)
            out.append(ServiceEndpoints(sp, eps))
    return sorted(out, key=lambda s: (s.service.key, s.service.protocol))
