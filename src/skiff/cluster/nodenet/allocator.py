"""The server's node-IPAM loop: Nodes registered without a podCIDR get one from --cluster-cidr
(an agent started without --bip waits for it and builds its pod bridge on it)."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from skiff.cluster.client.errors import StatusError
from skiff.cluster.nodenet.ipam import free_pod_cidrs
from skiff.cluster.nodenet.routes import pod_cidrs

log = logging.getLogger("skiff.node-ipam")

POLL_SECONDS = 2.0


class NodeIpam:
    def __init__(self, client: Any, cluster_cidr: str):
        self.client = client
        self.cluster_cidr = cluster_cidr
        self.exhausted_for: set[str] = set()  # nodes already told there is no room (said once)

    async def allocate_once(self) -> None:
        nodes = (await self.client.get("/api/v1/nodes")).get("items") or []
        free = free_pod_cidrs(self.cluster_cidr, [c for n in nodes for c in pod_cidrs(n)])
        for node in nodes:
            name = node["metadata"]["name"]
            if (node.get("spec") or {}).get("podCIDR"):
                continue
            cidr = next(free, None)
            if cidr is None:
                if name not in self.exhausted_for:
                    log.warning("node %s: CIDRNotAvailable: no remaining CIDRs left to allocate in %s",
                                name, self.cluster_cidr)
                    self.exhausted_for.add(name)
                continue
            try:
                await self.client.merge_patch(f"/api/v1/nodes/{name}", {"spec": {"podCIDR": cidr,
                                                                                   "podCIDRs": [cidr]}})
            except StatusError as e:
                log.debug("node %s: podCIDR %s not set: %s", name, cidr, e)
                continue
            log.info("node %s: podCIDR %s", name, cidr)

    async def run(self) -> None:
        while True:
            try:
                await self.allocate_once()
            except asyncio.CancelledError:
                raise
            except Exception as e:  # noqa: BLE001 - the next round tries again
                log.debug("node ipam: %s", e)
            await asyncio.sleep(POLL_SECONDS)
