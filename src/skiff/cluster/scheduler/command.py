"""`skiff scheduler`: the scheduler as a process of its own, like kube-scheduler, reaching the API
server through a kubeconfig (or, as `skiff server` starts it, the server's own certificates)."""

from __future__ import annotations

import argparse
import asyncio
import logging
import socket
import sys
import uuid
from pathlib import Path
from typing import Any

from skiff.cluster.client import leaderelection
from skiff.common import aiorun, gctune

log = logging.getLogger("skiff.scheduler")


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="skiff scheduler",
        description="Assign every pending pod to a node (filter, score, bind through pods/binding), "
                    "as kube-scheduler does.")
    p.add_argument("--kubeconfig", default="", help="path to a kubeconfig file with the API server and credentials "
                                                    "(default: $KUBECONFIG or ~/.kube/config)")
    p.add_argument("--master", default="", help="the address of the API server (overrides the kubeconfig's)")
    leaderelection.add_flags(p, "kube-scheduler", "scheduling")
    # how `skiff server` starts its own scheduler: the server's CA and admin client certificate
    p.add_argument("--server-tls-dir", default="", help=argparse.SUPPRESS)
    p.add_argument("-v", "--v", type=int, default=0, help="log level: 4 and up logs debug (default 0)")
    return p


def make_client(a: argparse.Namespace) -> Any:
    from skiff.cluster.scheduler.component import USER_AGENT, client_for

    if a.server_tls_dir:
        return client_for(a.master, Path(a.server_tls_dir))
    from skiff.cluster.controllers.command import client_from_kubeconfig

    client = client_from_kubeconfig(a.kubeconfig, a.master)
    client.headers["User-Agent"] = USER_AGENT
    return client


async def schedule(client: Any, a: argparse.Namespace) -> None:
    """Run the scheduler until cancelled; behind a lease when --leader-elect=true."""
    from skiff.cluster.scheduler.scheduler import Scheduler

    async def lead() -> None:
        await Scheduler(client).run()

    if a.leader_elect != "true":
        await lead()
        return
    identity = f"{socket.gethostname()}_{uuid.uuid4()}"  # kube-scheduler's form
    lease = leaderelection.config_from_flags(a, identity)
    elector = leaderelection.LeaderElector(client, lease)
    log.info("attempting to acquire leader lease %s/%s as %s", lease.namespace, lease.name, lease.identity)
    try:
        await elector.run(lead)
    finally:
        await asyncio.shield(elector.release())


def main(argv: list[str] | None = None) -> int:
    from skiff.common.errors import SkiffError

    a = parser().parse_args(list(sys.argv[1:] if argv is None else argv))
    gctune.for_long_lived_caches()
    logging.basicConfig(level=logging.DEBUG if a.v >= 4 else logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if a.server_tls_dir and not a.master:
        print("skiff scheduler: --server-tls-dir needs --master", file=sys.stderr)
        return 1
    try:
        client = make_client(a)
    except SkiffError as e:
        print(f"skiff scheduler: {e}", file=sys.stderr)
        return 1

    aiorun.run_until_signalled(lambda: schedule(client, a), client.close)
    return 0
