"""`skiff server`'s in-process scheduler: a client to the server's own HTTPS port, as the
admin client certificate (kube-scheduler in k3s talks to its API server the same way)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from skiff.cluster.client.aio import AsyncClient, make_ssl

log = logging.getLogger("skiff.scheduler")
USER_AGENT = "skiff-scheduler/v1.32.0 (linux/amd64) kubernetes/scheduler"


def client_for(server: str, tls_dir: Path) -> AsyncClient:
    tls = make_ssl(str(tls_dir / "server-ca.crt"), str(tls_dir / "client-admin.crt"), str(tls_dir / "client-admin.key"))
    tls.check_hostname = False  # loopback; the CA still authenticates the server
    client = AsyncClient(server, tls=tls)
    client.headers["User-Agent"] = USER_AGENT
    return client


async def run_in_server(opts: Any, ctx: Any) -> None:
    from skiff.cluster.scheduler.scheduler import Scheduler
    from skiff.cluster.server import server_url

    if getattr(opts, "disable_scheduler", False):
        return
    client = client_for(server_url(opts), Path(opts.data_dir) / "tls")
    try:
        await Scheduler(client).run()
    finally:
        await client.close()
