"""Pure service-to-pod logic the Endpoints and EndpointSlice controllers share: which pods back
a Service, what port each service port reaches on each pod, and the grouping of addresses."""

from __future__ import annotations

from typing import Any

from skiff.cluster.apimachinery.selectors import LabelSelector
from skiff.cluster.controllers import podutil

Obj = dict[str, Any]
SERVICE_NAME_LABEL = "kubernetes.io/service-name"
MANAGED_BY_LABEL = "endpointslice.kubernetes.io/managed-by"
MANAGED_BY = "endpointslice-controller.k8s.io"
MAX_ENDPOINTS_PER_SLICE = 100


def service_selector(service: Obj) -> LabelSelector | None:
    """None for a Service without a selector: its endpoints are someone else's to write."""
    selector = (service.get("spec") or {}).get("selector")
    return LabelSelector.from_set(selector) if selector else None


def backing_pods(service: Obj, pods: list[Obj]) -> list[Obj]:
    """Pods the service selects that have an IP and are not finished (or being deleted, unless
    the service publishes not-ready addresses)."""
    selector = service_selector(service)
    if selector is None:
        return []
    publish_not_ready = bool((service.get("spec") or {}).get("publishNotReadyAddresses"))
    out = []
    for pod in pods:
        status, meta = pod.get("status") or {}, pod.get("metadata") or {}
        if not status.get("podIP") or status.get("phase") in ("Succeeded", "Failed"):
            continue
        if meta.get("deletionTimestamp") and not publish_not_ready:
            continue
        if selector.matches(meta.get("labels")):
            out.append(pod)
    return sorted(out, key=lambda p: (p["status"]["podIP"], p["metadata"]["name"]))


def target_port(service_port: Obj, pod: Obj) -> int | None:
    """The pod's port for this service port: a number as is, a name looked up in its containers."""
    target = service_port.get("targetPort", service_port.get("port"))
    if isinstance(target, int):
        return target
    if isinstance(target, str) and target.isdigit():
        return int(target)
    for c in (pod.get("spec") or {}).get("containers") or []:
        for p in c.get("ports") or []:
            if p.get("name") == target and p.get("protocol", "TCP") == service_port.get("protocol", "TCP"):
                return int(p["containerPort"])
    return None


def endpoint_ports(service: Obj, pod: Obj) -> tuple[tuple[str, int, str], ...]:
    """(name, port, protocol) for each service port this pod can serve."""
    out = []
    for sp in (service.get("spec") or {}).get("ports") or []:
        port = target_port(sp, pod)
        if port is not None:
            out.append((sp.get("name", ""), port, sp.get("protocol", "TCP")))
    return tuple(out)


def is_ready_for(service: Obj, pod: Obj) -> bool:
    return bool((service.get("spec") or {}).get("publishNotReadyAddresses")) or podutil.is_ready(pod)


def dns_hostname(service: Obj, pod: Obj) -> str:
    """The endpoint's hostname (a DNS name under a headless Service): the pod's, when its
    subdomain is this Service, as the endpoint controllers set it."""
    spec = pod.get("spec") or {}
    same_ns = (pod["metadata"].get("namespace") or "") == ((service.get("metadata") or {}).get("namespace") or "")
    if spec.get("hostname") and spec.get("subdomain") == (service.get("metadata") or {}).get("name") and same_ns:
        return spec["hostname"]
    return ""


def target_ref(pod: Obj) -> Obj:
    meta = pod["metadata"]
    return {"kind": "Pod", "namespace": meta.get("namespace", ""), "name": meta["name"], "uid": meta.get("uid", "")}


def endpoints_subsets(service: Obj, pods: list[Obj]) -> list[Obj]:
    """v1 Endpoints subsets: addresses grouped by the ports they serve, ready apart from not ready."""
    groups: dict[tuple, Obj] = {}
    for pod in backing_pods(service, pods):
        ports = endpoint_ports(service, pod)
        if not ports and (service.get("spec") or {}).get("ports"):
            continue
        subset = groups.setdefault(ports, {"addresses": [], "notReadyAddresses": []})
        address: Obj = {"ip": pod["status"]["podIP"], "targetRef": target_ref(pod)}
        if hostname := dns_hostname(service, pod):
            address["hostname"] = hostname
        if (pod.get("spec") or {}).get("nodeName"):
            address["nodeName"] = pod["spec"]["nodeName"]
        subset["addresses" if is_ready_for(service, pod) else "notReadyAddresses"].append(address)
    out = []
    for ports, subset in sorted(groups.items()):
        entry: Obj = {k: v for k, v in subset.items() if v}
        if ports:
            entry["ports"] = [{"name": n, "port": p, "protocol": proto} if n else {"port": p, "protocol": proto}
                              for n, p, proto in ports]
        out.append(entry)
    return out


def slice_endpoints(service: Obj, pods: list[Obj]) -> list[tuple[list[Obj], list[Obj]]]:
    """EndpointSlice contents: (ports, endpoints) per port group, at most 100 endpoints a slice."""
    groups: dict[tuple, list[Obj]] = {}
    for pod in backing_pods(service, pods):
        ports = endpoint_ports(service, pod)
        if not ports and (service.get("spec") or {}).get("ports"):
            continue
        ready = is_ready_for(service, pod)
        terminating = bool(pod["metadata"].get("deletionTimestamp"))
        ep: Obj = {"addresses": [pod["status"]["podIP"]],
                   "conditions": {"ready": ready and not terminating, "serving": ready, "terminating": terminating},
                   "targetRef": target_ref(pod)}
        if hostname := dns_hostname(service, pod):
            ep["hostname"] = hostname
        if (pod.get("spec") or {}).get("nodeName"):
            ep["nodeName"] = pod["spec"]["nodeName"]
        groups.setdefault(ports, []).append(ep)
    out = []
    for ports, eps in sorted(groups.items()):
        port_list = [{"name": n, "port": p, "protocol": proto} for n, p, proto in ports]
        for i in range(0, len(eps), MAX_ENDPOINTS_PER_SLICE):
            out.append((port_list, eps[i:i + MAX_ENDPOINTS_PER_SLICE]))
    return out


def services_selecting(services: list[Obj], labels: dict[str, str] | None) -> list[Obj]:
    return [s for s in services if (sel := service_selector(s)) is not None and sel.matches(labels)]
