"""The controller manager: the selected controllers on one shared informer factory, optionally
behind leader election so that only one of several managers acts at a time."""

from __future__ import annotations

import asyncio
import logging
import socket
import uuid
from dataclasses import dataclass, field
from typing import Any

from skiff.cluster.client.informers import ApiClient, SharedInformerFactory
from skiff.cluster.client.leaderelection import LeaderElector, LeaseConfig
from skiff.cluster.controllers import registry
from skiff.cluster.controllers.base import Controller, ControllerContext
from skiff.cluster.controllers.events import EventRecorder

log = logging.getLogger("skiff.controller-manager")
USER_AGENT = "kube-controller-manager/v1.32.0 (linux/amd64) skiff"


@dataclass
class ManagerOptions:
    controllers: str = "*"
    leader_elect: bool = True
    lease: LeaseConfig = field(default_factory=LeaseConfig)
    resync: float = 0.0  # kube's --min-resync-period is 12h; events carry our changes, resync is a safety net
    options: dict[str, Any] = field(default_factory=dict)


def default_identity() -> str:
    return f"{socket.gethostname()}_{uuid.uuid4()}"


class ControllerManager:
    def __init__(self, client: ApiClient, opts: ManagerOptions):
        self.client = client
        self.opts = opts
        self.names = registry.select(opts.controllers)
        self.controllers: list[Controller] = []
        self.factory: SharedInformerFactory | None = None
        self.started = asyncio.Event()
        if not opts.lease.identity:
            opts.lease.identity = default_identity()

    async def run_controllers(self) -> None:
        """Start the controllers; runs until cancelled (leadership lost or shutdown)."""
        factory = SharedInformerFactory(self.client, self.opts.resync)
        ctx = ControllerContext(self.client, factory, self.opts.options, EventRecorder(self.client))
        self.factory = factory
        self.controllers = []
        for name in self.names:
            try:
                self.controllers.append(registry.load(name)(ctx))
            except Exception:  # one broken controller must not keep the others from running
                log.exception("cannot start %s", name)
        factory.start()
        try:
            await factory.wait_for_sync()
            log.info("started controllers: %s", ", ".join(c.name for c in self.controllers))
            self.started.set()
            await asyncio.gather(*(c.run() for c in self.controllers))
        finally:
            self.started.clear()
            await factory.stop()

    async def run(self) -> None:
        if not self.opts.leader_elect:
            await self.run_controllers()
            return
        elector = LeaderElector(self.client, self.opts.lease)
        log.info("attempting to acquire leader lease %s/%s as %s", self.opts.lease.namespace,
                 self.opts.lease.name, self.opts.lease.identity)
        try:
            await elector.run(self.run_controllers)
        finally:
            await asyncio.shield(elector.release())
