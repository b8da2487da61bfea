"""The controller manager inside `skiff server` (as k3s runs kube-controller-manager in its
server process): it still talks to the API server over HTTPS, as the admin client, so that
it could move to another process or machine unchanged."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from skiff.cluster.client.aio import AsyncClient, make_ssl
from skiff.cluster.controllers.manager import USER_AGENT, ControllerManager, ManagerOptions

log = logging.getLogger("skiff.controller-manager")


async def run_in_server(url: str, tls_dir: Path, controllers: str = "*", options: dict[str, Any] | None = None) -> None:
    tls = make_ssl(str(tls_dir / "server-ca.crt"), str(tls_dir / "client-admin.crt"), str(tls_dir / "client-admin.key"))
    tls.check_hostname = False  # loopback or a bind address; the CA still authenticates the server
    client = AsyncClient(url, tls=tls)
    client.headers["User-Agent"] = USER_AGENT
    try:
        opts = {"root-ca": (tls_dir / "server-ca.crt").read_text(), **(options or {})}  # what pods trust the server by
        await ControllerManager(client, ManagerOptions(controllers=controllers, options=opts)).run()
    finally:
        await client.close()
