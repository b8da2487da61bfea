"""Node IPAM, as kube-controller-manager's range allocator: each Node gets the first free
/mask block of the cluster CIDR as its spec.podCIDR. Pure."""

from __future__ import annotations

import ipaddress

DEFAULT_MASK = 24  # --node-cidr-mask-size for IPv4


def next_pod_cidr(cluster_cidr: str, taken: list[str], mask: int = DEFAULT_MASK) -> str | None:
    """The first /mask block of `cluster_cidr` that overlaps none of `taken`; None when full."""
    cluster = ipaddress.ip_network(cluster_cidr, strict=False)
    if cluster.version != 4 or mask < cluster.prefixlen:
        raise ValueError(f"cluster CIDR {cluster_cidr} cannot be split into /{mask} node ranges")
    used = []
    for t in taken:
        try:
            used.append(ipaddress.ip_network(t, strict=False))
        except ValueError:
            continue
    for block in cluster.subnets(new_prefix=mask):
        if not any(block.overlaps(u) for u in used if u.version == 4):
            return str(block)
    return None
