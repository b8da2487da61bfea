"""The agent's route loop: watch the Nodes, keep this node's routes to the others' pods."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from skiff.cluster.nodenet import apply
from skiff.cluster.nodenet.routes import desired_routes, route_changes

log = logging.getLogger("skiff.nodenet")

RESYNC_SECONDS = 2.0  # nodes join and change address rarely; a short poll is simple and enough


class RouteSync:
    def __init__(self, client: Any, node_name: str, own_cidr: str, own_ip: str, chain: str):
        self.client = client
        self.node_name = node_name
        self.own_cidr = own_cidr
        self.own_ip = own_ip
        self.chain = chain  # our nat chain (named from the agent's prefix)
        self.last_errors: list[str] = []
        self.nat_for: list[str] | None = None  # the destinations our nat chain was last built for

    async def sync_once(self) -> None:
        nodes = (await self.client.get("/api/v1/nodes")).get("items") or []
        desired = desired_routes(nodes, self.node_name, self.own_cidr, self.own_ip)
        current = await asyncio.to_thread(apply.installed_routes)
        add, delete = route_changes(current, desired)
        if add or delete:
            log.info("pod routes: +%s -%s", [f"{r.dest} via {r.via}" for r in add], [r.dest for r in delete])
            errors = await asyncio.to_thread(apply.apply_routes, add, delete)
            if errors != self.last_errors:
                for e in errors:
                    log.warning("%s", e)
                self.last_errors = errors
        dests = [r.dest for r in desired]
        if dests != self.nat_for:
            if dests:
                await asyncio.to_thread(apply.apply_nat, self.chain, self.own_cidr, dests)
            else:  # nobody to reach (or nobody yet): no chain of ours, a stale one removed
                await asyncio.to_thread(apply.remove_nat, self.chain)
            self.nat_for = dests

    async def run(self) -> None:
        while True:
            try:
                await self.sync_once()
            except asyncio.CancelledError:
                raise
            except Exception as e:  # noqa: BLE001 - the server may be away; try again next round
                log.debug("pod route sync: %s", e)
            await asyncio.sleep(RESYNC_SECONDS)
