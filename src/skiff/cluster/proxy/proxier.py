"""The node agent's Service proxy: informers on Services and EndpointSlices, a debounced sync that
renders every rule (pure, `rules.render`) and applies only what changed in one
`iptables-restore --noflush` batch of our own chains, conntrack clean-up for UDP, stale chains of
a crashed agent removed at start, everything removed at a clean stop."""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from skiff.cluster.client.informers import SharedInformerFactory
from skiff.cluster.client.syncloop import SyncLoop
from skiff.cluster.proxy import conntrack, hairpin, model, restore, rules
from skiff.cluster.proxy.chains import ProxyChains, proxy_prefix
from skiff.cluster.proxy.servicelb import ServiceLB
from skiff.engine.network.iptables import Iptables, render_setup

log = logging.getLogger("skiff.proxy")

SERVICES = "/api/v1/services"
ENDPOINTSLICES = "/apis/discovery.k8s.io/v1/endpointslices"
DEBOUNCE_SECONDS = 0.05  # events within this window are one sync (a rollout writes slices in bursts)
FULL_SYNC_SECONDS = 300.0  # a full rewrite now and then repairs anything done to our chains by hand
RETRY_SECONDS = 1.0


def bridge_netfilter() -> bool:
    """Whether bridged frames go through iptables in this network namespace (br_netfilter)."""
    try:
        return Path("/proc/sys/net/bridge/bridge-nf-call-iptables").read_text().strip() == "1"
    except OSError:  # br_netfilter not loaded
        return False


@dataclass
class SyncStats:
    syncs: int = 0
    last_seconds: float = 0.0  # how long the last sync took (render + restore)
    last_chains: int = 0  # chains written or deleted by it
    last_applied: float = 0.0  # time.monotonic() when its rules were in the kernel


class Proxier:
    def __init__(self, client: Any, node_name: str, agent_prefix: str, pod_cidr: str = "", bridge: str = ""):
        self.client = client
        self.bridge = bridge  # the pod bridge, whose ports get hairpin mode
        self.chains = ProxyChains(proxy_prefix(agent_prefix))
        self.node = rules.NodeView(node_name, pod_cidr, bridge_netfilter())
        self.iptables = Iptables(self.chains.prefix)
        self.iptables.chains = self.chains  # setup/teardown then handle the proxy's chains and jumps
        self.factory = SharedInformerFactory(client)
        self.services = self.factory.informer(SERVICES)
        self.slices = self.factory.informer(ENDPOINTSLICES)
        self.loop = SyncLoop(self.sync, "service proxy sync", DEBOUNCE_SECONDS, FULL_SYNC_SECONDS, RETRY_SECONDS)
        self.loop.watch(self.services, self.slices)
        self.lb = ServiceLB(client, self.factory, node_name)
        self.applied: rules.Ruleset | None = None  # what the kernel holds, None: unknown (full sync)
        self.routed: conntrack.Snapshot = {}
        self.render_cache = rules.RenderCache()
        self.stats = SyncStats()

    async def start(self, timeout: float = 30) -> None:
        """Informers synced, stale chains replaced by current rules, then the sync loop."""
        self.factory.start()
        await self.factory.wait_for_sync(timeout)
        await self.loop.run_once()
        self.loop.start()
        self.lb.start()
        log.info("service proxy: %d service ports, chains %s-*", len(self.routed), self.chains.prefix)

    async def stop(self, remove_rules: bool = True) -> None:
        await self.lb.stop()
        await self.loop.stop()
        await self.factory.stop()
        if remove_rules:
            await asyncio.to_thread(self.iptables.teardown)

    async def sync(self, full: bool = False) -> None:
        """Rules for what the informers hold; `full` rewrites every chain, else only the changed."""
        if full:
            self.applied = None
        started = time.monotonic()
        # the caches are read here, on the loop; rendering (a few ms per hundred Services) and
        # the restore run in a thread so the kubelet sharing this loop is not held up
        services, slices = self.services.list(), self.slices.list()
        routed, want, written = await asyncio.to_thread(self._render_and_apply, services, slices, self.applied)
        self.applied = want
        if self.bridge:
            await asyncio.to_thread(hairpin.enable, self.bridge)
        self.stats.last_applied = time.monotonic()
        after = conntrack.snapshot(routed)
        stale = conntrack.stale_entries(self.routed, after)
        self.routed = after
        if stale:
            await asyncio.to_thread(conntrack.clear, stale)
        self.stats.syncs += 1
        self.stats.last_seconds = self.stats.last_applied - started
        self.stats.last_chains = written
        log.debug("service proxy sync: %d chains in %.3fs", written, self.stats.last_seconds)

    def _render_and_apply(self, services: list[dict], slices: list[dict], applied: rules.Ruleset | None
                          ) -> tuple[list[model.ServiceEndpoints], rules.Ruleset, int]:
        routed = model.build(services, slices)
        want = rules.render(self.chains, self.node, routed, self.render_cache)
        if applied is None:
            return routed, want, self._apply_full(want)
        changed, gone = restore.diff(applied, want)
        self.iptables.restore(restore.restore_text(changed, gone))
        return routed, want, len(changed) + len(gone)

    def _apply_full(self, want: rules.Ruleset) -> int:
        """Jumps from the built-in chains ensured, every chain of ours rewritten, stale ones gone."""
        saved = self.iptables.save()
        self.iptables.restore(render_setup(self.chains, saved))
        changed, gone = restore.diff(None, want, restore.existing_chains(self.chains, saved))
        self.iptables.restore(restore.restore_text(changed, gone))
        return len(changed) + len(gone)
