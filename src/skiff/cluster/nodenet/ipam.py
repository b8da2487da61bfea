"""Node IPAM, as kube-controller-manager's range allocator: each Node gets the first free
/mask block of the cluster CIDR as its spec.podCIDR. Pure."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator

DEFAULT_MASK = 24  # --node-cidr-mask-size for IPv4


def next_pod_cidr(cluster_cidr: str, taken: list[str], mask: int = DEFAULT_MASK) -> str | None:
    """The first /mask block of `cluster_cidr` that overlaps none of `taken`; None when full."""
    return next(free_pod_cidrs(cluster_cidr, taken, mask), None)


def free_pod_cidrs(cluster_cidr: str, taken: list[str], mask: int = DEFAULT_MASK) -> Iterator[str]:
    """The /mask blocks of `cluster_cidr` that overlap none of `taken`, in order: one pass over the
    blocks serves a whole round of nodes (a per-node scan was quadratic with 1,000 nodes)."""
    cluster = ipaddress.ip_network(cluster_cidr, strict=False)
    if cluster.version != 4 or mask < cluster.prefixlen:
        raise ValueError(f"cluster CIDR {cluster_cidr} cannot be split into /{mask} node ranges")
    exact: set[ipaddress.IPv4Network] = set()
    other: list[ipaddress.IPv4Network] = []
    for t in taken:
        try:
            net = ipaddress.ip_network(t, strict=False)
        except ValueError:
            continue
        if isinstance(net, ipaddress.IPv4Network) and net.overlaps(cluster):
            (exact.add(net) if net.prefixlen == mask else other.append(net))
    for block in cluster.subnets(new_prefix=mask):
        if block not in exact and not any(block.overlaps(u) for u in other):
            yield str(block)
