"""`skiff engine`: dockerd's job. Parses dockerd-style flags, builds the services, serves the API.

On SIGTERM/SIGINT the engine stops serving and exits; containers keep running under their
shims and are re-adopted by the next engine on the same data root.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import fcntl
import grp
import logging
import os
import signal
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

log = logging.getLogger("skiff.engine")

DEFAULT_ROOT = "/var/lib/skiff/engine"
DEFAULT_HOST = "unix:///run/skiff/engine.sock"


class StartupError(Exception):
    """A reason the engine cannot start, said plainly."""


@dataclass
class Options:
    data_root: str = DEFAULT_ROOT
    hosts: list[str] = field(default_factory=lambda: [DEFAULT_HOST])
    prefix: str = "skiff"
    group: str = "skiff"
    log_level: str = "info"
    debug: bool = False
    dns: list[str] = field(default_factory=list)
    pidfile: str | None = None
    bip: str = ""
    bridge: str = ""
    fixed_cidr: str = ""
    icc: bool = True
    iptables: bool = True
    ip_forward: bool = True
    ip_masq: bool = True
    mtu: int = 0
    insecure_registries: list[str] = field(default_factory=list)


def _bool_flag(text: str) -> bool:
    """dockerd's boolean flags: `--icc=false`, `--iptables=0`, ... (Go's strconv.ParseBool)."""
    value = text.lower()
    if value in ("1", "t", "true"):
        return True
    if value in ("0", "f", "false"):
        return False
    raise argparse.ArgumentTypeError(f"invalid boolean value {text!r}")


def parse_args(argv: list[str]) -> Options:
    p = argparse.ArgumentParser(prog="skiff engine", description="Serve the Docker Engine API (dockerd's job).")
    p.add_argument("--data-root", "--root", dest="data_root", default=DEFAULT_ROOT,
                   help=f"root of persisted engine state (default {DEFAULT_ROOT})")
    p.add_argument("-H", "--host", dest="hosts", action="append", default=None,
                   help=f"socket to listen on, unix:///PATH or tcp://HOST:PORT, repeatable (default {DEFAULT_HOST})")
    p.add_argument("--prefix", default="skiff", help="instance prefix for cgroups and other host objects")
    p.add_argument("-G", "--group", default="skiff", help="group owning the unix socket (created if missing)")
    p.add_argument("-l", "--log-level", default="info", choices=["debug", "info", "warn", "error", "fatal"])
    p.add_argument("-D", "--debug", action="store_true", help="enable debug mode")
    p.add_argument("--dns", action="append", default=[], help="DNS server for containers")
    p.add_argument("-p", "--pidfile", default=None, help="path to write the daemon's pid")
    p.add_argument("--bip", default="", help="the default bridge's address with its prefix length, e.g. 10.9.0.1/24")
    p.add_argument("-b", "--bridge", default="", help='attach containers to this existing bridge; "none" disables '
                   "the default bridge")
    p.add_argument("--fixed-cidr", default="", help="IPv4 subnet of the default bridge that containers draw from")
    p.add_argument("--mtu", type=int, default=0, help="MTU of the default bridge and its containers' interfaces")
    for flag, what in (("--icc", "inter-container communication on the default bridge"),
                       ("--iptables", "iptables rules (NAT, isolation)"), ("--ip-forward", "net.ipv4.ip_forward"),
                       ("--ip-masq", "IP masquerading of outbound traffic")):
        p.add_argument(flag, type=_bool_flag, nargs="?", const=True, default=True, help=f"enable {what} "
                       "(default true)")
    p.add_argument("--insecure-registry", dest="insecure_registries", action="append", default=[],
                   help="registry (host[:port] or CIDR) reachable over plain http; repeatable")
    # Go's flag packages take `-b=br0` (a shorthand with `=`), as in the seed tutorials; argparse would keep the `=`
    a = p.parse_args([f"{x[:2]}{x[3:]}" if x.startswith("-b=") else x for x in argv])
    return Options(data_root=os.path.abspath(a.data_root), hosts=a.hosts or [DEFAULT_HOST], prefix=a.prefix,
                   group=a.group, log_level=a.log_level, debug=a.debug, dns=a.dns, pidfile=a.pidfile,
                   insecure_registries=a.insecure_registries, bip=a.bip, bridge=a.bridge, fixed_cidr=a.fixed_cidr,
                   icc=a.icc, iptables=a.iptables, ip_forward=a.ip_forward, ip_masq=a.ip_masq, mtu=a.mtu)


def parse_host(host: str) -> tuple[str, str | tuple[str, int]]:
    """`unix:///path` → ("unix", "/path"); `tcp://h:p` → ("tcp", (h, p)); a bare path is unix."""
    if host.startswith("unix://"):
        path = host[len("unix://"):]
        if not path.startswith("/"):
            raise StartupError(f"invalid host {host!r}: the unix socket path must be absolute")
        return "unix", path
    if host.startswith("/"):
        return "unix", host
    if host.startswith("tcp://"):
        hostport = host[len("tcp://"):].rstrip("/")
        h, _, port = hostport.rpartition(":")
        if not port.isdigit():
            raise StartupError(f"invalid host {host!r}: expected tcp://HOST:PORT")
        return "tcp", (h or "127.0.0.1", int(port))
    raise StartupError(f"invalid host {host!r}: use unix:///PATH or tcp://HOST:PORT")


def lock_data_root(root: Path) -> int:
    """Hold an exclusive lock on the data root for the engine's lifetime; a second engine fails."""
    root.mkdir(parents=True, exist_ok=True)
    fd = os.open(root / "engine.lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        other = os.pread(fd, 32, 0).decode(errors="replace").strip()
        os.close(fd)
        raise StartupError(f"another skiff engine (pid {other or '?'}) is already using data root {root}") from None
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
    return fd


def ensure_group(name: str) -> int:
    try:
        return grp.getgrnam(name).gr_gid
    except KeyError:
        pass
    r = subprocess.run(["groupadd", "--system", name], capture_output=True, text=True)
    if r.returncode not in (0, 9):  # 9: created meanwhile
        raise StartupError(f"cannot create group {name!r}: {r.stderr.strip()}")
    return grp.getgrnam(name).gr_gid


def engine_id(root: Path) -> str:
    path = root / "engine-id"
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        value = str(uuid.uuid4())
        path.write_text(value + "\n")
        return value


def make_runtime(root: Path, prefix: str):
    """The OCI runtime the containers run under (state in `root/runtime`)."""
    from skiff.engine.runtime.linux import LinuxRuntime

    runtime = LinuxRuntime(str(root / "runtime"), prefix=prefix, bin_dir=str(root / "bin"))
    runtime.start_fork_server()  # containers forked by a small helper, not by the ~40 MB engine
    return runtime


def build_services(opts: Options):
    """The engine's services, wired as docs/architecture.md describes."""
    from skiff.engine.api.context import EngineContext
    from skiff.engine.containers.service import ContainerService
    from skiff.engine.events import EventBus
    from skiff.engine.images.service import ImageService
    from skiff.engine.network.config import NetworkConfig
    from skiff.engine.network.service import NetworkService
    from skiff.engine.registry.service import RegistryService
    from skiff.engine.volumes.service import VolumeService

    root = Path(opts.data_root)
    events = EventBus()
    images = ImageService(root, events)
    volumes = VolumeService(root, events)
    runtime = make_runtime(root, opts.prefix)
    eid = engine_id(root)
    network = NetworkService(root, events, NetworkConfig(
        prefix=opts.prefix, bip=opts.bip, bridge=opts.bridge, fixed_cidr=opts.fixed_cidr, icc=opts.icc,
        iptables=opts.iptables, ip_forward=opts.ip_forward, ip_masq=opts.ip_masq, mtu=opts.mtu), eid)
    containers = ContainerService(root, images, runtime, volumes, events, opts.prefix, network=network)
    from skiff.engine.containers.netedges import install as install_edges

    install_edges(containers, network, list(opts.dns))  # links, etc files, ports, embedded DNS
    return EngineContext(images=images, containers=containers, volumes=volumes, events=events, network=network,
                         data_root=str(root), prefix=opts.prefix, debug=opts.debug, dns=list(opts.dns),
                         engine_id=eid, started_ns=time.time_ns(),
                         registry=RegistryService(images, root, opts.insecure_registries))


async def serve(opts: Options) -> None:
    from aiohttp import web

    from skiff.engine.api.app import build_app

    ctx = build_services(opts)
    running = {c.id: (c.name, c.network_mode) for c in ctx.containers.store.all() if c.state.running}
    try:
        await asyncio.to_thread(ctx.network.startup, running)
    except Exception as e:  # a bad --bip or -b, no netlink, iptables refusing: say so and stop
        raise StartupError(f"cannot set up networking: {getattr(e, 'message', e)}") from None
    await asyncio.to_thread(ctx.containers.edges.clear_stale)
    await ctx.containers.restore()
    from skiff.engine.containers.netedges import restore_running

    await restore_running(ctx.containers.edges, ctx.containers)
    # access log only when debugging: it costs a little on every request
    debug = opts.debug or opts.log_level == "debug"
    access = {"access_log": logging.getLogger("skiff.engine.access"), "access_log_format": '"%r" %s %Tfs'} \
        if debug else {"access_log": None}
    runner = web.AppRunner(build_app(ctx), handler_cancellation=True, shutdown_timeout=0.1, **access)
    await runner.setup()
    gid = ensure_group(opts.group) if any(parse_host(h)[0] == "unix" for h in opts.hosts) else 0
    sockets: list[str] = []
    for host in opts.hosts:
        kind, where = parse_host(host)
        if kind == "unix":
            assert isinstance(where, str)
            os.makedirs(os.path.dirname(where), exist_ok=True)
            with contextlib.suppress(FileNotFoundError):
                os.unlink(where)  # a stale socket: we hold the data-root lock
            await web.UnixSite(runner, where).start()
            os.chown(where, 0, gid)
            os.chmod(where, 0o660)
            sockets.append(where)
        else:
            assert isinstance(where, tuple)
            await web.TCPSite(runner, where[0], where[1]).start()
        log.info("API listening on %s", host)
    ctx.events.publish("daemon", "start", ctx.engine_id, {"name": os.uname().nodename})
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    log.info("shutting down; containers keep running")
    for path in sockets:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)
    t0 = time.monotonic()
    await runner.cleanup()
    log.debug("API stopped in %.3fs", time.monotonic() - t0)
    with contextlib.suppress(Exception):
        await ctx.containers.shutdown()
    with contextlib.suppress(Exception):
        await ctx.containers.edges.close()
    try:
        await asyncio.to_thread(ctx.network.shutdown)
    except Exception as e:
        log.warning("network clean-up at shutdown failed: %s", e)
    with contextlib.suppress(Exception):
        await ctx.registry.close()
    log.debug("services stopped in %.3fs", time.monotonic() - t0)


def _setup_logging(opts: Options) -> None:
    level = "debug" if opts.debug else opts.log_level
    levels = {"debug": logging.DEBUG, "info": logging.INFO, "warn": logging.WARNING, "error": logging.ERROR,
              "fatal": logging.CRITICAL}
    logging.basicConfig(level=levels[level], stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")


def main(argv: list[str] | None = None) -> int:
    opts = parse_args(list(sys.argv[1:] if argv is None else argv))
    _setup_logging(opts)
    if os.geteuid() != 0:
        print("skiff engine: must be run as root (it creates namespaces, mounts and cgroups)", file=sys.stderr)
        return 1
    try:
        for h in opts.hosts:
            parse_host(h)
        lock_fd = lock_data_root(Path(opts.data_root))
    except StartupError as e:
        print(f"skiff engine: {e}", file=sys.stderr)
        return 1
    if opts.pidfile:
        Path(opts.pidfile).write_text(f"{os.getpid()}\n")
    try:
        asyncio.run(serve(opts))
        log.debug("event loop closed")
    except StartupError as e:
        print(f"skiff engine: {e}", file=sys.stderr)
        return 1
    finally:
        if opts.pidfile:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(opts.pidfile)
        os.close(lock_fd)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
