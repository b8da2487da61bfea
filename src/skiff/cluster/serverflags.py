"""`skiff server` flags, named as k3s names them."""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field

from skiff.cluster.dns.flags import DnsOptions
from skiff.cluster.dns.flags import add_flags as add_dns_flags
from skiff.cluster.dns.flags import options as dns_options

DEFAULT_DATA_DIR = "/var/lib/skiff/server"
DEFAULT_KUBECONFIG = "/etc/skiff/kubeconfig.yaml"


@dataclass
class ServerOptions:
    data_dir: str = DEFAULT_DATA_DIR
    https_listen_port: int = 6443
    bind_address: str = "0.0.0.0"
    advertise_address: str = ""
    tls_san: list[str] = field(default_factory=list)
    write_kubeconfig: str = DEFAULT_KUBECONFIG
    write_kubeconfig_mode: str = ""
    datastore_endpoint: str = ""
    token: str = ""
    token_auth_file: str = ""
    authorization_mode: str = "Node,RBAC"
    cluster_cidr: str = "10.42.0.0/16"
    service_cidr: str = "10.43.0.0/16"
    disable_agent: bool = False
    disable_kube_proxy: bool = False
    disable_network_policy: bool = False
    disable_controllers: bool = False
    controllers: str = "*"
    node_monitor_grace_period: float = 40.0
    node_eviction_rate: float = 0.1
    disable_scheduler: bool = False
    node_name: str = ""
    node_ip: str = ""
    node_labels: list[str] = field(default_factory=list)
    node_taints: list[str] = field(default_factory=list)
    dns: DnsOptions = field(default_factory=DnsOptions)
    debug: bool = False


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="skiff server",
        description="Run the control plane (API server; scheduler, controllers and node agent as they land), "
                    "as `k3s server` does.")
    p.add_argument("-d", "--data-dir", default=DEFAULT_DATA_DIR, help="folder to hold state (default %(default)s)")
    p.add_argument("--https-listen-port", type=int, default=6443, help="HTTPS listen port (default %(default)s)")
    p.add_argument("--bind-address", default="0.0.0.0", help="bind address (default %(default)s)")
    p.add_argument("--advertise-address", default="",
                   help="address the API server advertises to members and pods (the `kubernetes` Service's "
                        "endpoint; default: the bind address, else --node-ip, else the host's primary IPv4)")
    p.add_argument("--tls-san", action="append", default=[],
                   help="add additional hostnames or IPv4/IPv6 addresses as Subject Alternative Names on the "
                        "server TLS cert (repeatable)")
    p.add_argument("-o", "--write-kubeconfig", default=DEFAULT_KUBECONFIG,
                   help="write the admin kubeconfig to this file (default %(default)s)")
    p.add_argument("--write-kubeconfig-mode", default="", help="write kubeconfig with this mode (e.g. 644)")
    p.add_argument("--datastore-endpoint", default="",
                   help="storage: empty for embedded SQLite in the data dir, http://HOST:2379[,...] for etcd")
    p.add_argument("-t", "--token", default="", help="shared secret nodes use to join the cluster")
    p.add_argument("--token-auth-file", default="",
                   help="static bearer tokens, one 'token,user,uid,\"group1,group2\"' line each")
    p.add_argument("--authorization-mode", default="Node,RBAC",
                   help="ordered list of authorizers: Node, RBAC, AlwaysAllow, AlwaysDeny (default %(default)s); "
                        "see docs/security.md")
    p.add_argument("--cluster-cidr", default="10.42.0.0/16", help="pod IP range (default %(default)s)")
    p.add_argument("--service-cidr", default="10.43.0.0/16", help="service IP range (default %(default)s)")
    p.add_argument("--disable-agent", action="store_true", help="do not run a node agent on this host")
    p.add_argument("--disable-kube-proxy", action="store_true", help="the server's own agent does not route "
                   "Services (no iptables rules for them on this host)")
    p.add_argument("--disable-network-policy", action="store_true", help="the server's own agent does not "
                   "enforce NetworkPolicies (k3s's embedded network policy controller)")
    p.add_argument("--disable-controller-manager", "--disable-controllers", dest="disable_controllers",
                   action="store_true", help="do not run the controller manager")
    p.add_argument("--controllers", default="*",
                   help="controllers to run: '*' all on by default, 'foo' enables foo, '-foo' disables foo "
                        "(kube-controller-manager's --controllers; default %(default)s)")
    p.add_argument("--node-monitor-grace-period", type=float, default=40.0,
                   help="seconds a node may go without a heartbeat before it is marked unhealthy (default 40)")
    p.add_argument("--node-eviction-rate", type=float, default=0.1,
                   help="nodes per second, per zone, whose pods are evicted when they fail (default 0.1)")
    p.add_argument("--disable-scheduler", action="store_true", help="do not run the scheduler")
    p.add_argument("--node-name", default="", help="node name of this host's agent")
    p.add_argument("--node-ip", default="", help="IPv4 address this host's node registers as its InternalIP "
                   "(default: the host's primary IPv4, or the bind address when one is given)")
    p.add_argument("--node-label", action="append", default=[], help="label for this host's node (repeatable)")
    p.add_argument("--node-taint", action="append", default=[], help="taint for this host's node (repeatable)")
    add_dns_flags(p)
    p.add_argument("--debug", action="store_true", help="debug logging")
    return p


def parse(argv: list[str]) -> ServerOptions:
    p = parser()
    a = p.parse_args(argv)
    _check_controllers(p, a.controllers)
    for flag, value in (("--node-ip", a.node_ip), ("--advertise-address", a.advertise_address)):
        if value and not _is_ip(value):
            p.error(f"{flag}: invalid IP address {value!r}")
    from skiff.cluster.apiserver.authz.authorizer import parse_modes

    try:
        parse_modes(a.authorization_mode)
    except ValueError as e:
        p.error(f"--authorization-mode: {e}")
    if a.node_monitor_grace_period <= 0 or a.node_eviction_rate < 0:
        p.error("--node-monitor-grace-period must be positive and --node-eviction-rate not negative")
    return ServerOptions(
        dns=dns_options(p, a), data_dir=a.data_dir, https_listen_port=a.https_listen_port, bind_address=a.bind_address,
        advertise_address=a.advertise_address, tls_san=a.tls_san, write_kubeconfig=a.write_kubeconfig,
        write_kubeconfig_mode=a.write_kubeconfig_mode, datastore_endpoint=a.datastore_endpoint, token=a.token,
        token_auth_file=a.token_auth_file, authorization_mode=a.authorization_mode,
        cluster_cidr=a.cluster_cidr, service_cidr=a.service_cidr,
        disable_agent=a.disable_agent, disable_kube_proxy=a.disable_kube_proxy,
        disable_network_policy=a.disable_network_policy, disable_scheduler=a.disable_scheduler,
        node_name=a.node_name, node_ip=a.node_ip, node_labels=a.node_label,
        node_taints=a.node_taint, debug=a.debug, disable_controllers=a.disable_controllers,
        controllers=a.controllers, node_monitor_grace_period=a.node_monitor_grace_period,
        node_eviction_rate=a.node_eviction_rate)


def _check_controllers(p: argparse.ArgumentParser, spec: str) -> None:
    """A bad --controllers stops the server at once rather than its controller manager later."""
    from skiff.cluster.controllers.registry import select
    from skiff.common.errors import InvalidArgument

    try:
        select(spec)
    except InvalidArgument as e:
        p.error(f"--controllers: {e}")


def _is_ip(text: str) -> bool:
    import ipaddress

    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True
