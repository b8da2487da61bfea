"""`skiff controller-manager`: the controllers as a process of their own, like
kube-controller-manager, reaching the API server through a kubeconfig."""

from __future__ import annotations

import argparse
import logging
import sys

from skiff.cluster.client import leaderelection
from skiff.cluster.controllers import registry


def parser() -> argparse.ArgumentParser:
    names = ", ".join(e.name for e in registry.KNOWN)
    p = argparse.ArgumentParser(
        prog="skiff controller-manager",
        description="Run the controllers that make the cluster's objects come true (ReplicaSets, Deployments, "
                    "Endpoints, ...), as kube-controller-manager does.")
    p.add_argument("--kubeconfig", default="", help="path to a kubeconfig file with the API server and credentials "
                                                    "(default: $KUBECONFIG or ~/.kube/config)")
    p.add_argument("--master", default="", help="the address of the API server (overrides the kubeconfig's)")
    p.add_argument("--controllers", default="*",
                   help="a list of controllers to enable. '*' enables all on-by-default controllers, 'foo' enables "
                        f"the controller named 'foo', '-foo' disables the controller named 'foo'. All controllers: "
                        f"{names}")
    leaderelection.add_flags(p, "kube-controller-manager", "running the controllers")
    p.add_argument("--concurrent-replicaset-syncs", type=int, default=5,
                   help="ReplicaSets synced at once (default 5)")
    p.add_argument("--concurrent-deployment-syncs", type=int, default=5,
                   help="Deployments synced at once (default 5)")
    p.add_argument("--node-monitor-grace-period", type=float, default=40.0,
                   help="seconds a node may go without a heartbeat before it is marked unhealthy (default 40)")
    p.add_argument("--node-monitor-period", type=float, default=None,
                   help="seconds between checks of the nodes' heartbeats (default 5, or a quarter of a shorter "
                        "grace period)")
    p.add_argument("--node-eviction-rate", type=float, default=0.1,
                   help="nodes per second, per zone, whose pods are evicted when they fail (default 0.1)")
    p.add_argument("--root-ca-file", default="",
                   help="the CA bundle published to every namespace as the ConfigMap kube-root-ca.crt "
                        "(default: the CA the kubeconfig trusts)")
    p.add_argument("-v", "--v", type=int, default=0, help="log level: 4 and up logs debug (default 0)")
    return p


def _connection(path: str, master: str = ""):
    import os

    from skiff.cluster.client import kubeconfig, loader

    paths = [path] if path else kubeconfig.default_paths(dict(os.environ))
    return kubeconfig.resolve(loader.read_or_in_cluster(paths, explicit=bool(path)), server=master or None)


def root_ca(root_ca_file: str, conn) -> str:
    """--root-ca-file's bundle, else the CA the connection trusts (as kube-controller-manager falls back)."""
    from pathlib import Path

    if root_ca_file:
        return Path(root_ca_file).read_text()
    if conn.ca_data:
        return conn.ca_data.decode()
    return Path(conn.ca_file).read_text() if conn.ca_file else ""


def client_for(conn):
    """An AsyncClient authenticated as a resolved kubeconfig connection says."""
    from skiff.cluster.client.aio import AsyncClient
    from skiff.cluster.client.rest import ssl_context

    return AsyncClient(conn.server, conn.token or "", ssl_context(conn))


def client_from_kubeconfig(path: str, master: str = ""):
    """An AsyncClient authenticated as the kubeconfig's current context says."""
    return client_for(_connection(path, master))


def main(argv: list[str] | None = None) -> int:
    from skiff.cluster.controllers.manager import USER_AGENT, ControllerManager, ManagerOptions
    from skiff.common import aiorun, gctune
    from skiff.common.errors import SkiffError

    a = parser().parse_args(list(sys.argv[1:] if argv is None else argv))
    gctune.for_long_lived_caches()
    logging.basicConfig(level=logging.DEBUG if a.v >= 4 else logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        registry.select(a.controllers)
        conn = _connection(a.kubeconfig, a.master)
        client, ca = client_for(conn), root_ca(a.root_ca_file, conn)
    except (OSError, SkiffError) as e:
        print(f"skiff controller-manager: {e}", file=sys.stderr)
        return 1
    client.headers["User-Agent"] = USER_AGENT
    opts = ManagerOptions(
        controllers=a.controllers, leader_elect=a.leader_elect == "true",
        lease=leaderelection.config_from_flags(a),
        options={"replicaset-controller.workers": a.concurrent_replicaset_syncs,
                 "replicationcontroller-controller.workers": a.concurrent_replicaset_syncs,
                 "deployment-controller.workers": a.concurrent_deployment_syncs,
                 "node-monitor-grace-period": a.node_monitor_grace_period,
                 "node-monitor-period": a.node_monitor_period, "node-eviction-rate": a.node_eviction_rate,
                 "root-ca": ca})

    aiorun.run_until_signalled(lambda: ControllerManager(client, opts).run(), client.close)
    return 0
