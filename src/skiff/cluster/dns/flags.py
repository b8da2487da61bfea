"""The kubelet's DNS flags, shared by `skiff agent` and `skiff server` (standard library only,
so the command line starts fast)."""

from __future__ import annotations

import argparse
import ipaddress
from dataclasses import dataclass

DEFAULT_CLUSTER_DNS = "10.43.0.10"  # k3s's: the tenth address of the default service CIDR
DEFAULT_CLUSTER_DOMAIN = "cluster.local"
DEFAULT_RESOLV_CONF = "/etc/resolv.conf"


@dataclass
class DnsOptions:
    """--cluster-dns, --cluster-domain and --resolv-conf."""

    cluster_dns: str = DEFAULT_CLUSTER_DNS
    cluster_domain: str = DEFAULT_CLUSTER_DOMAIN
    resolv_conf: str = DEFAULT_RESOLV_CONF


def add_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("--cluster-dns", default=DEFAULT_CLUSTER_DNS,
                   help="IPv4 address of the cluster DNS service, served by every node and written into pods' "
                        "resolv.conf (default %(default)s)")
    p.add_argument("--cluster-domain", default=DEFAULT_CLUSTER_DOMAIN,
                   help="cluster domain (default %(default)s)")
    p.add_argument("--resolv-conf", default=DEFAULT_RESOLV_CONF,
                   help="the node's resolver file: upstream servers of the cluster DNS and the base of pods' "
                        "resolv.conf under dnsPolicy Default (default %(default)s)")


def options(p: argparse.ArgumentParser, a: argparse.Namespace) -> DnsOptions:
    try:
        ipaddress.IPv4Address(a.cluster_dns)
    except ValueError:
        p.error(f"--cluster-dns: {a.cluster_dns!r} is not an IPv4 address")
    domain = a.cluster_domain.strip().strip(".").lower()
    if not domain or any(not label or len(label) > 63 for label in domain.split(".")):
        p.error(f"--cluster-domain: {a.cluster_domain!r} is not a DNS domain")
    return DnsOptions(a.cluster_dns, domain, a.resolv_conf)
