"""ClusterIP and NodePort allocation for Services, as kube-apiserver's Service storage does it.

What is taken is read from the Services in storage (there is no separate allocation map to
drift); one lock in the server serialises allocate-and-store, so two creates never get the
same address. The first address of the range belongs to the `kubernetes` Service.
"""

from __future__ import annotations

import ipaddress
import random
from typing import Any

from skiff.cluster.apimachinery import fielderrors
from skiff.cluster.apimachinery.errors import invalid

NODE_PORTS = range(30000, 32768)
HEADLESS = "None"


def _network(cidr: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    return ipaddress.ip_network(cidr, strict=False)


def first_ip(cidr: str) -> str:
    """The `kubernetes` Service's address: the first host of the range (10.43.0.1)."""
    return str(_network(cidr).network_address + 1)


def taken(services: list[dict[str, Any]]) -> tuple[set[str], set[int]]:
    ips: set[str] = set()
    ports: set[int] = set()
    for svc in services:
        spec = svc.get("spec") or {}
        ips.update(ip for ip in spec.get("clusterIPs") or [spec.get("clusterIP")] if ip and ip != HEADLESS)
        ports.update(p["nodePort"] for p in spec.get("ports") or [] if isinstance(p, dict) and p.get("nodePort"))
    return ips, ports


def _needs_ip(spec: dict[str, Any]) -> bool:
    return spec.get("type", "ClusterIP") != "ExternalName" and spec.get("clusterIP") != HEADLESS


def allocate(obj: dict[str, Any], cidr: str, used_ips: set[str], used_ports: set[int],
             rng: random.Random | None = None) -> None:
    """Give a new Service its cluster IP and node ports (pure: the caller says what is taken)."""
    rng = rng or random.Random()
    spec = obj.setdefault("spec", {})
    name = (obj.get("metadata") or {}).get("name", "")
    if _needs_ip(spec):
        wanted = spec.get("clusterIP") or (spec.get("clusterIPs") or [None])[0]
        ip = _claim(name, cidr, wanted, used_ips, rng) if wanted else _free_ip(name, cidr, used_ips, rng)
        spec["clusterIP"], spec["clusterIPs"] = ip, [ip]
    elif spec.get("clusterIP") == HEADLESS:
        spec["clusterIPs"] = [HEADLESS]
    if spec.get("type") in ("NodePort", "LoadBalancer"):
        for i, port in enumerate(spec.get("ports") or []):
            if not isinstance(port, dict):
                continue
            if port.get("nodePort"):
                if port["nodePort"] in used_ports or port["nodePort"] not in NODE_PORTS:
                    why = ("provided port is already allocated" if port["nodePort"] in used_ports
                           else f"provided port is not in the valid range. The range of valid ports is "
                                f"{NODE_PORTS.start}-{NODE_PORTS.stop - 1}")
                    raise invalid("Service", name, [fielderrors.invalid(f"spec.ports[{i}].nodePort", port["nodePort"],
                                                                        why)])
            else:
                free = [p for p in NODE_PORTS if p not in used_ports]
                if not free:
                    raise invalid("Service", name, [fielderrors.invalid(f"spec.ports[{i}].nodePort", 0,
                                                                        "range is full")])
                port["nodePort"] = rng.choice(free)
            used_ports.add(port["nodePort"])


def _claim(name: str, cidr: str, wanted: str, used: set[str], rng: random.Random) -> str:
    def bad(why: str) -> Exception:
        return invalid("Service", name, [fielderrors.invalid("spec.clusterIPs", [wanted],
                                                             f"failed to allocate IP {wanted}: {why}")])
    try:
        addr = ipaddress.ip_address(wanted)
    except ValueError:
        raise invalid("Service", name, [fielderrors.invalid("spec.clusterIPs[0]", wanted,
                                                            "must be a valid IP address")]) from None
    if addr not in _network(cidr):
        raise bad(f"the provided IP ({wanted}) is not in the valid range. The range of valid IPs is {cidr}")
    if wanted in used:
        raise bad("provided IP is already allocated")
    return wanted


def _free_ip(name: str, cidr: str, used: set[str], rng: random.Random) -> str:
    net = _network(cidr)
    hosts = net.num_addresses - 2
    # Upstream keeps the lower part of the range for addresses asked for by hand; pick above it.
    low = max(2, min(hosts // 16, 256))
    for _ in range(64):
        ip = str(net.network_address + rng.randint(low, hosts))
        if ip not in used:
            return ip
    for offset in range(2, hosts + 1):
        ip = str(net.network_address + offset)
        if ip not in used:
            return ip
    raise invalid("Service", name, [fielderrors.invalid("spec.clusterIPs", [], "range is full")])


def carry_on_update(new: dict[str, Any], old: dict[str, Any]) -> None:
    """An update that leaves out the allocated IP or node ports keeps them (kubectl replace, apply)."""
    spec, old_spec = new.setdefault("spec", {}), old.get("spec") or {}
    if spec.get("type", "ClusterIP") == "ExternalName" or old_spec.get("type") == "ExternalName":
        return
    if not spec.get("clusterIP") and old_spec.get("clusterIP"):
        spec["clusterIP"] = old_spec["clusterIP"]
    if not spec.get("clusterIPs") and old_spec.get("clusterIPs"):
        spec["clusterIPs"] = list(old_spec["clusterIPs"])
    old_ports = {(p.get("port"), p.get("protocol", "TCP")): p.get("nodePort")
                 for p in old_spec.get("ports") or [] if isinstance(p, dict)}
    if spec.get("type") in ("NodePort", "LoadBalancer"):
        for port in spec.get("ports") or []:
            if isinstance(port, dict) and not port.get("nodePort"):
                kept = old_ports.get((port.get("port"), port.get("protocol", "TCP")))
                if kept:
                    port["nodePort"] = kept


def kubernetes_service(cidr: str, port: int) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Service",
            "metadata": {"name": "kubernetes", "namespace": "default",
                         "labels": {"component": "apiserver", "provider": "kubernetes"}},
            "spec": {"type": "ClusterIP", "clusterIP": first_ip(cidr),
                     "ports": [{"name": "https", "port": 443, "protocol": "TCP", "targetPort": port}],
                     "sessionAffinity": "None"}}


def kubernetes_endpoints(address: str, port: int) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Endpoints",
            "metadata": {"name": "kubernetes", "namespace": "default",
                         "labels": {"endpointslice.kubernetes.io/skip-mirror": "true"}},
            "subsets": [{"addresses": [{"ip": address}],
                         "ports": [{"name": "https", "port": port, "protocol": "TCP"}]}]}


def kubernetes_endpointslice(address: str, port: int) -> dict[str, Any]:
    """The slice kube-apiserver's endpoint reconciler keeps beside the Endpoints (what the proxy reads)."""
    family = "IPv6" if ":" in address else "IPv4"
    return {"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice", "addressType": family,
            "metadata": {"name": "kubernetes", "namespace": "default",
                         "labels": {"kubernetes.io/service-name": "kubernetes"}},
            "endpoints": [{"addresses": [address], "conditions": {"ready": True}}],
            "ports": [{"name": "https", "port": port, "protocol": "TCP"}]}


# What the reconciler owns in each bootstrap object; everything else (metadata, other spec
# fields a user set) is left as found.
RECONCILED_FIELDS = {"Service": (), "Endpoints": ("subsets",), "EndpointSlice": ("addressType", "endpoints", "ports")}


def corrected(current: dict[str, Any], desired: dict[str, Any]) -> dict[str, Any] | None:
    """`current` with the reconciled fields of `desired`, or None when it already matches (pure).
    For the Service only its ports are owned: the cluster IP cannot change in place."""
    kind = desired["kind"]
    out = {**current}
    if kind == "Service":
        spec = dict(current.get("spec") or {})
        if _port_keys(spec.get("ports")) == _port_keys(desired["spec"]["ports"]):
            return None
        spec["ports"] = desired["spec"]["ports"]
        out["spec"] = spec
        return out
    fields = RECONCILED_FIELDS[kind]
    if all(current.get(f) == desired.get(f) for f in fields):
        return None
    out.update({f: desired[f] for f in fields})
    return out


def _port_keys(ports: Any) -> list[tuple[Any, ...]]:
    return [tuple(p.get(k) for k in ("name", "port", "protocol", "targetPort"))
            for p in ports or [] if isinstance(p, dict)]
