"""`skiff agent`: a node agent, as `k3s agent` — the kubelet and an engine of its own.

The engine runs in this process (built with engine/daemon.py's builders) and serves its Docker
API on `<data-dir>/engine.sock`, so `docker -H unix://<data-dir>/engine.sock ps` lists the pod
containers under the kubelet's names.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import signal
import socket
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from skiff.cluster.dns.flags import DnsOptions
from skiff.cluster.dns.flags import add_flags as add_dns_flags
from skiff.cluster.dns.flags import options as dns_options
from skiff.common import gctune

log = logging.getLogger("skiff.agent")

DEFAULT_DATA_DIR = "/var/lib/skiff/agent"


@dataclass
class AgentOptions:
    server: str = ""
    token: str = ""
    data_dir: str = DEFAULT_DATA_DIR
    node_name: str = ""
    node_labels: list[str] = field(default_factory=list)
    node_taints: list[str] = field(default_factory=list)
    node_ip: str = ""
    pod_manifest_path: str = ""
    ca_file: str = ""
    cert_file: str = ""
    key_file: str = ""
    prefix: str = ""
    bip: str = ""
    engine_pod_subnet: bool = False
    kubelet_port: int = 10250
    dns: DnsOptions = field(default_factory=DnsOptions)
    disable_kube_proxy: bool = False
    disable_network_policy: bool = False
    debug: bool = False


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="skiff agent", description="Run a node agent (kubelet and its container "
                                "engine) that joins a skiff server, as `k3s agent` does.")
    p.add_argument("-s", "--server", required=True, help="the server to connect to, https://HOST:PORT")
    p.add_argument("-t", "--token", default=os.environ.get("SKIFF_TOKEN", ""),
                   help="the server's join token (or $SKIFF_TOKEN)")
    p.add_argument("--token-file", default="", help="file holding the join token (the server's <data-dir>/token)")
    p.add_argument("-d", "--data-dir", default=DEFAULT_DATA_DIR, help="folder to hold state (default %(default)s)")
    p.add_argument("--node-name", default="", help="node name (default: the host name)")
    p.add_argument("--node-label", action="append", default=[], help="KEY=VALUE label to register the node with "
                   "(repeatable)")
    p.add_argument("--node-taint", action="append", default=[], help="KEY[=VALUE]:EFFECT taint to register the "
                   "node with (repeatable)")
    p.add_argument("--node-ip", default="", help="the node's address (default: the one that reaches the server)")
    p.add_argument("--pod-manifest-path", default="", help="directory of static pod manifests")
    p.add_argument("--server-ca", dest="ca_file", default="", help="CA file to verify the server with")
    p.add_argument("--client-cert", dest="cert_file", default="", help="client certificate (instead of a token)")
    p.add_argument("--client-key", dest="key_file", default="", help="client key for --client-cert")
    p.add_argument("--prefix", default="", help="prefix of this node's host objects (cgroups, bridge; "
                   "default from the node name)")
    p.add_argument("--bip", default="", help="the pod bridge's address with its prefix length, e.g. 10.88.0.1/24")
    p.add_argument("--engine-pod-subnet", action="store_true", help="let the embedded engine pick the pod "
                   "bridge's subnet (published as the node's podCIDR) instead of taking the podCIDR the server "
                   "allocates from --cluster-cidr; for several agents sharing one host's network")
    p.add_argument("--kubelet-port", type=int, default=10250, help="port of the kubelet's HTTPS streaming server "
                   "(logs, exec, attach, port-forward; 0: a free port; default %(default)s)")
    p.add_argument("--disable-kube-proxy", action="store_true", help="do not route Services on this node "
                   "(the iptables rules kube-proxy would write)")
    p.add_argument("--disable-network-policy", action="store_true", help="do not enforce NetworkPolicies on this "
                   "node's pods (k3s's embedded network policy controller)")
    add_dns_flags(p)
    p.add_argument("--debug", action="store_true", help="debug logging")
    return p


def parse(argv: list[str]) -> AgentOptions:
    p = parser()
    a = p.parse_args(argv)
    token = a.token
    if a.token_file:
        try:
            token = Path(a.token_file).read_text().strip()
        except OSError as e:
            p.error(f"--token-file: {e.strerror}: {a.token_file}")
    dns = dns_options(p, a)
    return AgentOptions(dns=dns, server=a.server, token=token, data_dir=os.path.abspath(a.data_dir),
                        node_name=(a.node_name or socket.gethostname()).lower(), node_labels=a.node_label,
                        node_taints=a.node_taint, node_ip=a.node_ip, pod_manifest_path=a.pod_manifest_path,
                        ca_file=a.ca_file, cert_file=a.cert_file, key_file=a.key_file, prefix=a.prefix,
                        bip=a.bip, engine_pod_subnet=a.engine_pod_subnet, kubelet_port=a.kubelet_port,
                        disable_kube_proxy=a.disable_kube_proxy,
                        disable_network_policy=a.disable_network_policy, debug=a.debug)


def parse_labels(items: list[str]) -> dict[str, str]:
    out = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ValueError(f"invalid node label {item!r}: want KEY=VALUE")
        out[key] = value
    return out


async def start_engine(data_dir: Path, prefix: str, bip: str) -> tuple[Any, Any]:
    """The embedded engine: services, networking, re-adopted containers, and its Docker API."""
    from aiohttp import web

    from skiff.engine.api.app import build_app
    from skiff.engine.containers.netedges import restore_running
    from skiff.engine.daemon import Options, build_services, lock_data_root

    root = data_dir / "engine"
    lock_data_root(root)
    opts = Options(data_root=str(root), hosts=[f"unix://{data_dir}/engine.sock"], prefix=prefix, bip=bip)
    ctx = build_services(opts)
    running = {c.id: (c.name, c.network_mode) for c in ctx.containers.store.all() if c.state.running}
    await asyncio.to_thread(ctx.network.startup, running)
    await asyncio.to_thread(ctx.containers.edges.clear_stale)
    await ctx.containers.restore()
    await restore_running(ctx.containers.edges, ctx.containers)
    runner = web.AppRunner(build_app(ctx), handler_cancellation=True, shutdown_timeout=0.1, access_log=None)
    await runner.setup()
    sock = data_dir / "engine.sock"
    with contextlib.suppress(FileNotFoundError):
        sock.unlink()
    await web.UnixSite(runner, str(sock)).start()
    os.chmod(sock, 0o660)
    return ctx, runner


async def stop_engine(ctx: Any, runner: Any) -> None:
    await runner.cleanup()
    with contextlib.suppress(Exception):
        await ctx.containers.shutdown()
    with contextlib.suppress(Exception):
        await ctx.containers.edges.close()
    with contextlib.suppress(Exception):
        await asyncio.to_thread(ctx.network.shutdown)
    with contextlib.suppress(Exception):
        await ctx.registry.close()


def bridge_subnet(ctx: Any) -> str:
    """The pods' subnet: the engine's default bridge (the node's spec.podCIDR)."""
    net = ctx.network.find("bridge")
    return str(net.pool.subnet) if net is not None and net.pool is not None else ""


async def allocated_bip(client: Any, node_name: str, timeout: float = 30) -> str:
    """The pod bridge address from the server's node IPAM: the Node is registered bare (the
    kubelet fills it in), the server gives it a spec.podCIDR, the bridge takes its first address.
    "" when none comes (a server without IPAM): the engine then picks a free subnet itself."""
    import ipaddress

    from skiff.cluster.client.errors import StatusError

    try:
        await client.create("/api/v1/nodes", {"apiVersion": "v1", "kind": "Node", "metadata": {"name": node_name}})
    except StatusError as e:
        if e.code != 409:
            raise
    deadline = asyncio.get_running_loop().time() + timeout
    while asyncio.get_running_loop().time() < deadline:
        cidr = ((await client.get(f"/api/v1/nodes/{node_name}")).get("spec") or {}).get("podCIDR")
        if cidr:
            net = ipaddress.ip_network(cidr, strict=False)
            return f"{next(net.hosts())}/{net.prefixlen}"
        await asyncio.sleep(0.2)
    log.warning("node %s got no podCIDR from the server in %ss: the engine picks the pod subnet", node_name, timeout)
    return ""


async def run_node(client: Any, data_dir: Path, node_name: str, node_ip: str, labels: dict[str, str],
                   taints: list[dict], manifest_path: str, prefix: str, bip: str, stop: asyncio.Event,
                   kubelet_port: int = 10250, ask_pod_cidr: bool = False, kube_proxy: bool = True,
                   dns: DnsOptions | None = None, network_policy: bool = True) -> None:
    """Engine + kubelet until `stop` is set; shared by `skiff agent` and `skiff server`'s own agent.
    With `ask_pod_cidr` (and no `bip`), the pod subnet comes from the server's node IPAM."""
    from skiff.cluster.dns.component import configure_kubelet, start_cluster_dns
    from skiff.cluster.kubelet.kubelet import Kubelet

    data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    if ask_pod_cidr and not bip:
        bip = await allocated_bip(client, node_name)
    ctx, runner = await start_engine(data_dir, prefix, bip)
    kubelet = Kubelet(client, ctx, node_name, data_dir, node_ip, labels, taints, manifest_path=manifest_path,
                      kubelet_port=kubelet_port)
    pod_cidr = bridge_subnet(ctx)
    kubelet.node.pod_cidr = pod_cidr
    configure_kubelet(kubelet, dns or DnsOptions())
    cluster_dns = None
    routes: asyncio.Task | None = None
    proxy = None
    netpol = None
    try:
        await kubelet.start()
        if pod_cidr:
            from skiff.cluster.nodenet.sync import RouteSync

            routes = asyncio.create_task(RouteSync(client, node_name, pod_cidr, node_ip, f"{prefix}-PODS").run())
        if kube_proxy:
            from skiff.cluster.proxy.proxier import Proxier

            bridge = ctx.network.find("bridge")
            proxy = Proxier(client, node_name, prefix, pod_cidr, bridge.bridge if bridge is not None else "")
            await proxy.start()
        if network_policy:
            from skiff.cluster.netpol.syncer import NetworkPolicySyncer

            netpol = NetworkPolicySyncer(client, node_name, prefix)
            await netpol.start()
        else:
            from skiff.cluster.netpol.syncer import remove_chains

            await asyncio.to_thread(remove_chains, prefix)
        cluster_dns = await start_cluster_dns(client, dns or DnsOptions(), node_name, node_ip, prefix)
        log.info("node %s ready (engine API on unix://%s/engine.sock)", node_name, data_dir)
        await stop.wait()
    finally:
        if cluster_dns is not None:  # its EndpointSlice and <prefix>dns0 go with it
            await cluster_dns.stop()
        if routes is not None:  # the routes stay: pods keep talking while the agent restarts
            routes.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await routes
        if netpol is not None:  # its chains go with it: no pod stays isolated by a stopped agent
            await netpol.stop()
        if proxy is not None:  # unlike the routes, Service rules go with the agent, as kube-proxy's cleanup
            await proxy.stop()
        await kubelet.stop()
        await client.close()
        await stop_engine(ctx, runner)


def main(argv: list[str] | None = None) -> int:
    opts = parse(list(sys.argv[1:] if argv is None else argv))
    gctune.for_long_lived_caches()
    logging.basicConfig(level=logging.DEBUG if opts.debug else logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if os.geteuid() != 0:
        print("skiff agent: must be run as root (it runs containers)", file=sys.stderr)
        return 1
    from skiff.cluster.client.aio import AsyncClient, make_ssl
    from skiff.cluster.kubelet.node import host_ip_for, parse_taint

    try:
        labels = parse_labels(opts.node_labels)
        taints = [parse_taint(t) for t in opts.node_taints]
    except ValueError as e:
        print(f"skiff agent: {e}", file=sys.stderr)
        return 1
    if not opts.token and not opts.cert_file:
        print("skiff agent: --token or --client-cert is required to join the server", file=sys.stderr)
        return 1
    prefix = opts.prefix or ("sa" + "".join(ch for ch in opts.node_name if ch.isalnum())[:8])

    async def amain() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        client = AsyncClient(opts.server, opts.token, make_ssl(opts.ca_file, opts.cert_file, opts.key_file))
        await run_node(client, Path(opts.data_dir), opts.node_name, opts.node_ip or host_ip_for(opts.server),
                       labels, taints, opts.pod_manifest_path, prefix, opts.bip, stop, opts.kubelet_port,
                       ask_pod_cidr=not opts.engine_pod_subnet, kube_proxy=not opts.disable_kube_proxy, dns=opts.dns,
                       network_policy=not opts.disable_network_policy)

    try:
        asyncio.run(amain())
    except Exception as e:  # noqa: BLE001 - said plainly, as the engine does
        print(f"skiff agent: {getattr(e, 'message', e)}", file=sys.stderr)
        return 1
    return 0


async def run_in_server(opts: Any, url: str) -> None:
    """`skiff server`'s own node agent (unless --disable-agent): data under `<data-dir>/agent`,
    authenticated with the server's admin client certificate."""
    import hashlib

    from skiff.cluster.client.aio import AsyncClient, make_ssl
    from skiff.cluster.kubelet.node import host_ip_for, parse_taint

    if os.geteuid() != 0:
        log.warning("not root: this server runs no node agent (start it as root, or pass --disable-agent)")
        return
    tls_dir = Path(opts.data_dir) / "tls"
    tls = make_ssl(str(tls_dir / "server-ca.crt"), str(tls_dir / "client-admin.crt"), str(tls_dir / "client-admin.key"))
    tls.check_hostname = False  # loopback or the bind address; the CA still authenticates the server
    client = AsyncClient(url, tls=tls)
    data_dir = Path(opts.data_dir).absolute() / "agent"
    name = (opts.node_name or socket.gethostname()).lower()
    prefix = "sn" + hashlib.sha256(str(data_dir).encode()).hexdigest()[:6]  # unique per server data dir
    node_ip = getattr(opts, "node_ip", "") or host_ip_for(url)  # the server chose it (its --node-ip or primary IPv4)
    await run_node(client, data_dir, name, node_ip, parse_labels(opts.node_labels),
                   [parse_taint(t) for t in opts.node_taints], "", prefix, "", asyncio.Event(),
                   kube_proxy=not getattr(opts, "disable_kube_proxy", False), dns=getattr(opts, "dns", None),
                   network_policy=not getattr(opts, "disable_network_policy", False))
