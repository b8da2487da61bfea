"""`skiff server`: the control plane in one process, like `k3s server`.

Today it runs the API server (HTTPS, SQLite or etcd storage, generated PKI and admin
kubeconfig) and its start-up loops. The scheduler, the controller manager and the node agent
join through `COMPONENTS` as their issues land; each is an async function given the
options and an in-process API context, started after the API server is ready.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import ssl
import sys
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

from aiohttp import web

from skiff.cluster.apiserver import certs, kubeconfig, lifecycle, satokens
from skiff.cluster.apiserver.admission import AdmissionChain, default_plugins
from skiff.cluster.apiserver.app import make_app
from skiff.cluster.apiserver.authn import Authenticator
from skiff.cluster.apiserver.authz import sync as authz_sync
from skiff.cluster.apiserver.authz.authorizer import Authorizer, parse_modes
from skiff.cluster.apiserver.authz.escalation import EscalationCheck
from skiff.cluster.apiserver.context import ApiContext, Settings
from skiff.cluster.apiserver.metrics import Metrics
from skiff.cluster.apiserver.objects import ObjectStore
from skiff.cluster.kubelet.node import primary_ipv4
from skiff.cluster.scheduler.component import run_in_server as run_scheduler
from skiff.cluster.serverflags import ServerOptions, parse
from skiff.cluster.storage import open_store
from skiff.cluster.storage.compactor import Compactor
from skiff.common import gctune

log = logging.getLogger("skiff.server")

# Later components: (name, starter). The agent is skipped under --disable-agent.
Component = Callable[[ServerOptions, ApiContext], Coroutine[Any, Any, None]]
COMPONENTS: list[tuple[str, Component]] = [("scheduler", run_scheduler)]


async def _controller_manager(opts: ServerOptions, ctx: ApiContext) -> None:
    """kube-controller-manager's job, in process (unless --disable-controller-manager)."""
    if opts.disable_controllers:
        return
    from skiff.cluster.controllers.inserver import run_in_server

    await run_in_server(server_url(opts), Path(opts.data_dir) / "tls", opts.controllers,
                        {"node-monitor-grace-period": opts.node_monitor_grace_period,
                         "node-eviction-rate": opts.node_eviction_rate})


COMPONENTS.append(("controller-manager", _controller_manager))


async def _node_ipam(opts: ServerOptions, ctx: ApiContext) -> None:
    """Nodes' spec.podCIDR from --cluster-cidr (kube-controller-manager's node IPAM; off with it)."""
    if opts.disable_controllers:
        return
    from skiff.cluster.client.aio import AsyncClient, make_ssl
    from skiff.cluster.nodenet.allocator import NodeIpam

    tls_dir = Path(opts.data_dir) / "tls"
    tls = make_ssl(str(tls_dir / "server-ca.crt"), str(tls_dir / "client-admin.crt"), str(tls_dir / "client-admin.key"))
    tls.check_hostname = False  # loopback or the bind address; the CA still authenticates the server
    client = AsyncClient(server_url(opts), tls=tls)
    try:
        await NodeIpam(client, opts.cluster_cidr).run()
    finally:
        await client.close()


COMPONENTS.append(("node-ipam", _node_ipam))


async def _agent(opts: ServerOptions, ctx: ApiContext) -> None:
    """The node agent for this host (kubelet and its engine), unless --disable-agent."""
    from skiff.cluster.agent import run_in_server

    await run_in_server(opts, server_url(opts))


COMPONENTS.append(("agent", _agent))


async def _kube_dns(opts: ServerOptions, ctx: ApiContext) -> None:
    """kube-system/kube-dns with the --cluster-dns address; every node agent serves it."""
    from skiff.cluster.dns.kubedns import ensure_service

    await ensure_service(ctx, opts.dns.cluster_dns)


COMPONENTS.append(("kube-dns", _kube_dns))


def build_context(opts: ServerOptions, store, reader=None) -> ApiContext:
    metrics = Metrics()
    holder: list[ApiContext] = []
    chain = AdmissionChain(lambda: holder[0], default_plugins())
    authn = Authenticator(Path(opts.token_auth_file) if opts.token_auth_file else None, opts.token)
    ctx = ApiContext(ObjectStore(store, metrics, reader), metrics, authn, chain,
                     Settings(service_cidr=opts.service_cidr, cluster_cidr=opts.cluster_cidr,
                              advertise_address=advertised(opts), https_port=opts.https_listen_port))
    holder.append(ctx)
    return ctx


def enable_authorization(ctx: ApiContext, modes: str) -> Authorizer:
    """--authorization-mode: the authorizer every request passes, and RBAC's escalation check in admission."""
    authz = Authorizer(parse_modes(modes), ctx)
    ctx.authorizer = authz
    ctx.admission.plugins.append(EscalationCheck(authz))
    return authz


def join_token(data_dir: Path, given: str) -> str:
    """The node-join token, as k3s keeps server/node-token: `--token`, else the one this data dir
    already has, else a new random one; written to `<data-dir>/token` (mode 0600) either way."""
    import secrets

    path = data_dir / "token"
    token = given or (path.read_text().strip() if path.exists() else "") or secrets.token_hex(24)
    if not path.exists() or path.read_text().strip() != token:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(token + "\n")
    return token


def _wildcard(address: str) -> bool:
    return address in ("", "0.0.0.0", "::")


def advertised(opts: ServerOptions) -> str:
    """The address the `kubernetes` Service's endpoints point at (once `resolve_addresses` ran:
    the chosen one; before, loopback for a server on every address)."""
    if opts.advertise_address:
        return opts.advertise_address
    return opts.bind_address if not _wildcard(opts.bind_address) else "127.0.0.1"


def resolve_addresses(opts: ServerOptions, primary: Callable[[], str]) -> tuple[str, str]:
    """(advertise address, this host's node IP), as k3s chooses them: given flags first; a server
    bound to one address uses it; a server on every address uses the host's primary IPv4
    (`primary()`, the default route's source), which pods can reach through a DNAT, unlike
    127.0.0.1. Pure apart from calling `primary` when it is needed."""
    bound = "" if _wildcard(opts.bind_address) else opts.bind_address
    node_ip = opts.node_ip or bound
    advertise = opts.advertise_address or bound or node_ip
    if not (node_ip and advertise):
        host = primary()
        node_ip, advertise = node_ip or host, advertise or host
    return advertise, node_ip


def serving_names(opts: ServerOptions) -> list[str]:
    """Names and addresses the serving certificate covers: certs' defaults, --tls-san, the advertise
    address and node IP, and what pods use (the `kubernetes` cluster IP, its full DNS name)."""
    from skiff.cluster.apiserver.services import first_ip

    extra = (*opts.tls_san, opts.advertise_address, opts.node_ip, first_ip(opts.service_cidr),
             f"kubernetes.default.svc.{opts.dns.cluster_domain}")
    return certs.serving_names(opts.bind_address, tuple(a for a in extra if a))


def ssl_context(pki: certs.Pki) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    # Python's forward-secret AEAD/SHA-2 suites, at security level 0 only so that a TLS 1.2 client
    # sending no signature_algorithms (busybox wget in pods) is answered with the SHA-1 ECDSA
    # signature RFC 5246 implies, as Go's kube-apiserver does; OpenSSL 3 otherwise refuses it.
    ctx.set_ciphers("@SECLEVEL=0:ECDHE+AESGCM:ECDHE+CHACHA20:ECDHE+AES:!aNULL:!eNULL:!SHA1")
    ctx.load_cert_chain(pki.serving_cert, pki.serving_key)
    ctx.load_verify_locations(cafile=str(pki.ca_cert))
    ctx.verify_mode = ssl.CERT_OPTIONAL  # a client certificate is one way in; tokens are the other
    ctx.set_alpn_protocols(["http/1.1"])
    return ctx


def server_url(opts: ServerOptions) -> str:
    host = opts.bind_address if opts.bind_address not in ("", "0.0.0.0", "::") else "127.0.0.1"
    host = f"[{host}]" if ":" in host else host
    return f"https://{host}:{opts.https_listen_port}"


def _cached_reader(store):
    """The storage engineer's watch cache in front of the store, when it is there."""
    try:
        from skiff.cluster.storage.cache import CachedStore
    except ImportError:
        return None
    return CachedStore(store)


async def run(opts: ServerOptions, stop: asyncio.Event) -> None:
    data_dir = Path(opts.data_dir)
    data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    opts.advertise_address, opts.node_ip = resolve_addresses(opts, primary_ipv4)
    pki = await asyncio.to_thread(certs.ensure_pki, data_dir, serving_names(opts))
    opts.token = join_token(data_dir, opts.token)
    store = open_store(opts.datastore_endpoint, str(data_dir))
    reader = _cached_reader(store)
    if reader is not None and hasattr(reader, "start"):
        await reader.start()
    ctx = build_context(opts, store, reader)
    ctx.settings.ca_pem = pki.ca_cert.read_text()
    ctx.authenticator.signer = satokens.Signer(satokens.load_or_create_key(pki.dir / "service-account.key"))
    ctx.settings.kubelet_client_cert, ctx.settings.kubelet_client_key = str(pki.admin_cert), str(pki.admin_key)
    authz = enable_authorization(ctx, opts.authorization_mode)
    runner = web.AppRunner(make_app(ctx), access_log=None, handle_signals=False, shutdown_timeout=5)
    await runner.setup()
    site = web.TCPSite(runner, opts.bind_address or "0.0.0.0", opts.https_listen_port,
                       ssl_context=ssl_context(pki), reuse_address=True)
    await site.start()
    tasks: list[asyncio.Task] = []
    try:
        await lifecycle.bootstrap(ctx)
        tasks.append(await authz_sync.start(ctx, authz))  # bootstrap RBAC policy, index loaded before ready
        kubeconfig.write(Path(opts.write_kubeconfig), server_url(opts), pki)
        if opts.write_kubeconfig_mode:
            os.chmod(opts.write_kubeconfig, int(opts.write_kubeconfig_mode, 8))
        ctx.ready = True
        log.info("skiff server ready at %s (kubeconfig %s)", server_url(opts), opts.write_kubeconfig)
        log.info("to join a node: skiff agent --server https://%s:%s --token-file %s (or --token \"$(cat %s)\")",
                 advertised(opts), opts.https_listen_port, data_dir / "token", data_dir / "token")
        tasks.append(asyncio.create_task(lifecycle.run_loops(ctx), name="namespace-loops"))
        # every 5 minutes, compact to the revision of 5 minutes before (as the apiserver does to etcd)
        tasks.append(asyncio.create_task(Compactor(store).run(), name="compactor"))
        for name, start in COMPONENTS:
            if (name == "agent" and opts.disable_agent) or (name == "scheduler" and opts.disable_scheduler):
                continue
            tasks.append(asyncio.create_task(start(opts, ctx), name=name))
        await stop.wait()
    finally:
        ctx.stop_watches()
        for t in tasks:
            t.cancel()
        for t in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await t
        await runner.cleanup()
        if reader is not None and hasattr(reader, "close"):
            await reader.close()
        await store.close()


def main(argv: list[str] | None = None) -> int:
    opts = parse(list(sys.argv[1:] if argv is None else argv))
    gctune.for_long_lived_caches()
    logging.basicConfig(level=logging.DEBUG if opts.debug else logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")

    async def amain() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        await run(opts, stop)

    try:
        asyncio.run(amain())
    except OSError as e:
        print(f"skiff server: {e}", file=sys.stderr)
        return 1
    return 0
