"""`skiff registry serve [CONFIG.yml] [--addr HOST:PORT] [--root DIR]`: the registry server;
`skiff registry garbage-collect [CONFIG.yml] [--root DIR] [-d] [-m]`: its offline clean-up."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from pathlib import Path

from skiff.common.errors import SkiffError
from skiff.engine.registry.server.config import (
    DEFAULT_ADDR,
    DEFAULT_ROOT,
    ServerConfig,
    parse_config,
    split_addr,
)

log = logging.getLogger("skiff.registry")


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="skiff registry", description="Run a Docker registry (distribution v2 API).")
    sub = p.add_subparsers(dest="verb", required=True)
    s = sub.add_parser("serve", help="serve the registry API",
                       description="Serve the distribution (v2) API from filesystem storage. CONFIG.yml uses "
                                   "the reference registry's format; flags override it.")
    s.add_argument("config", nargs="?", help="configuration file (the reference registry's YAML)")
    s.add_argument("--addr", help=f"address to listen on, HOST:PORT (default {DEFAULT_ADDR})")
    s.add_argument("--root", help=f"storage root directory (default {DEFAULT_ROOT})")
    s.add_argument("--htpasswd", help="htpasswd file with bcrypt entries: require basic auth")
    s.add_argument("--realm", default=None, help="basic-auth realm (default basic-realm)")
    s.add_argument("--tls-cert", help="certificate (PEM) to serve https with; needs --tls-key")
    s.add_argument("--tls-key", help="private key (PEM) of --tls-cert")
    s.add_argument("-l", "--log-level", default="info", choices=["debug", "info", "warn", "error"])
    g = sub.add_parser("garbage-collect", help="delete blobs no manifest refers to",
                       description="Delete blobs that no manifest refers to. Run it while the registry is "
                                   "stopped: an upload in flight could lose its blob.")
    g.add_argument("config", nargs="?", help="configuration file (the reference registry's YAML)")
    g.add_argument("--root", help=f"storage root directory (default {DEFAULT_ROOT})")
    g.add_argument("-d", "--dry-run", action="store_true", help="only print what would be deleted")
    g.add_argument("-m", "--delete-untagged", action="store_true", help="also delete manifests no tag points at")
    return p


def garbage_collect(args: argparse.Namespace) -> int:
    from skiff.engine.registry.server.gc import collect
    from skiff.engine.registry.server.storage import Storage

    cfg = load_config(args)
    result = collect(Storage(cfg.root), dry_run=args.dry_run, delete_untagged=args.delete_untagged)
    verb = "would delete" if args.dry_run else "deleted"
    for ref in result.untagged_manifests:
        print(f"{verb} manifest {ref}")
    for digest in result.deleted:
        print(f"{verb} blob {digest}")
    print(f"{len(result.kept)} blobs marked, {len(result.deleted)} blobs {'eligible for deletion' if args.dry_run else 'deleted'}")
    return 0


def load_config(args: argparse.Namespace) -> ServerConfig:
    cfg = ServerConfig()
    if getattr(args, "config", None):
        try:
            cfg = parse_config(Path(args.config).read_text())
        except OSError as e:
            raise SkiffError(f"cannot read configuration {args.config}: {e.strerror}") from None
    if getattr(args, "addr", None):
        split_addr(args.addr)
        cfg.addr = args.addr
    if args.root:
        cfg.root = args.root
    if getattr(args, "htpasswd", None):
        cfg.htpasswd_path = args.htpasswd
    if getattr(args, "realm", None):
        cfg.realm = args.realm
    if getattr(args, "tls_cert", None) or getattr(args, "tls_key", None):
        if not (args.tls_cert and args.tls_key):
            raise SkiffError("--tls-cert and --tls-key go together")
        cfg.tls_cert, cfg.tls_key = args.tls_cert, args.tls_key
    return cfg


async def serve(cfg: ServerConfig, ready=None) -> None:
    from aiohttp import web

    from skiff.engine.registry.server.app import build_app

    runner = web.AppRunner(build_app(cfg), access_log=log if log.isEnabledFor(logging.DEBUG) else None)
    await runner.setup()
    host, port = cfg.host_port
    tls = None
    if cfg.tls_cert:
        import ssl

        tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        tls.load_cert_chain(cfg.tls_cert, cfg.tls_key)
    site = web.TCPSite(runner, host, port, ssl_context=tls)
    await site.start()
    bound = runner.addresses[0] if runner.addresses else (host, port)
    scheme = "https" if tls else "http"
    log.info("listening on %s://%s:%s, storage in %s", scheme, bound[0], bound[1], cfg.root)
    print(f"registry listening on {bound[0]}:{bound[1]} ({scheme})", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    await runner.cleanup()


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(list(sys.argv[1:] if argv is None else argv))
    level = getattr(args, "log_level", "info")
    logging.basicConfig(level=level.upper().replace("WARN", "WARNING"), stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        if args.verb == "garbage-collect":
            return garbage_collect(args)
        cfg = load_config(args)
        asyncio.run(serve(cfg))
    except SkiffError as e:
        print(f"skiff registry: {e.message}", file=sys.stderr)
        return 1
    except OSError as e:
        print(f"skiff registry: {e}", file=sys.stderr)
        return 1
    return 0
