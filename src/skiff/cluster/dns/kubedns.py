"""The `kube-system/kube-dns` Service and each node's EndpointSlice of it, shaped as k3s's
CoreDNS ones so `kubectl get svc -n kube-system kube-dns` reads the same (pure, apart from
`ensure_service`, which the server runs in process)."""

from __future__ import annotations

import ipaddress
import logging
from typing import Any

log = logging.getLogger("skiff.dns")

NAMESPACE = "kube-system"
SERVICE = "kube-dns"
SERVICE_NAME_LABEL = "kubernetes.io/service-name"
MANAGED_BY_LABEL = "endpointslice.kubernetes.io/managed-by"
MANAGED_BY = "skiff-agent"


def service(cluster_dns: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1", "kind": "Service",
        "metadata": {"name": SERVICE, "namespace": NAMESPACE,
                     "labels": {"k8s-app": "kube-dns", "kubernetes.io/cluster-service": "true",
                                "kubernetes.io/name": "CoreDNS"},
                     "annotations": {"prometheus.io/port": "9153", "prometheus.io/scrape": "true"}},
        "spec": {"type": "ClusterIP", "clusterIP": cluster_dns, "clusterIPs": [cluster_dns],
                 "ports": [{"name": "dns", "port": 53, "protocol": "UDP", "targetPort": 53},
                           {"name": "dns-tcp", "port": 53, "protocol": "TCP", "targetPort": 53},
                           {"name": "metrics", "port": 9153, "protocol": "TCP", "targetPort": 9153}]},
    }


def slice_name(node_name: str) -> str:
    return f"{SERVICE}-{node_name}"[:253]


def endpoint_address(node_ip: str, cluster_dns: str) -> str:
    """The node's IP; for a node known by a loopback address (one host, tests) the cluster DNS
    address itself, which every node serves locally: a DNAT to 127.0.0.1 from a pod is dropped."""
    return cluster_dns if ipaddress.ip_address(node_ip).is_loopback else node_ip


def node_slice(node_name: str, address: str) -> dict[str, Any]:
    """This node's DNS server as an endpoint of kube-dns (udp and tcp 53 at `address`)."""
    return {
        "apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice", "addressType": "IPv4",
        "metadata": {"name": slice_name(node_name), "namespace": NAMESPACE,
                     "labels": {SERVICE_NAME_LABEL: SERVICE, MANAGED_BY_LABEL: MANAGED_BY,
                                "k8s-app": "kube-dns"}},
        "endpoints": [{"addresses": [address], "conditions": {"ready": True, "serving": True, "terminating": False},
                       "nodeName": node_name}],
        "ports": [{"name": "dns", "port": 53, "protocol": "UDP"}, {"name": "dns-tcp", "port": 53, "protocol": "TCP"}],
    }


async def ensure_service(ctx: Any, cluster_dns: str) -> None:
    """Create kube-system/kube-dns unless it exists (the server's start-up, in process)."""
    from skiff.cluster.apimachinery.errors import ApiError
    from skiff.cluster.apiserver import lifecycle

    try:
        await lifecycle.ensure(ctx, lifecycle._res("", "services"), service(cluster_dns))
    except ApiError as e:
        log.warning("cannot create %s/%s with clusterIP %s: %s", NAMESPACE, SERVICE, cluster_dns, e)
