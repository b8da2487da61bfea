"""The node agent's NetworkPolicy enforcement: informers on NetworkPolicies, Pods and Namespaces,
a debounced sync that builds every pod firewall of this node (`model.build`), renders our chains
(`rules.render`) and writes only what changed in one `iptables-restore --noflush` batch. Stale
chains of a crashed agent go at start (full sync), everything goes at a clean stop, and our jump
is kept first in FORWARD (an engine's chains there accept bridge traffic)."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from skiff.cluster.client.informers import SharedInformerFactory
from skiff.cluster.client.syncloop import SyncLoop
from skiff.cluster.netpol import model, rules
from skiff.cluster.proxy import restore
from skiff.cluster.proxy.proxier import bridge_netfilter
from skiff.cluster.proxy.rules import Ruleset
from skiff.engine.network.iptables import Iptables, parse_save, render_setup

log = logging.getLogger("skiff.netpol")

POLICIES = "/apis/networking.k8s.io/v1/networkpolicies"
PODS = "/api/v1/pods"
NAMESPACES = "/api/v1/namespaces"
DEBOUNCE_SECONDS = 0.05  # a rollout changes many pods at once: one sync for the burst
FULL_SYNC_SECONDS = 60.0  # a full rewrite now and then repairs what was done to our chains or jump
RETRY_SECONDS = 1.0


def jump_first(chains: rules.NetpolChains, saved: str) -> str:
    """Restore text that makes our jump the first rule of FORWARD ("" when it already is)."""
    _, saved_rules = parse_save(saved)
    forward = [r for r in saved_rules if r.table == rules.FILTER and r.chain == "FORWARD"]
    jump = chains.jumps()[0]
    if forward and tuple(forward[0].args) == jump.args and sum(tuple(r.args) == jump.args for r in forward) == 1:
        return ""
    lines = ["*filter", *(jump.line("-D") for r in forward if tuple(r.args) == jump.args), jump.line("-I"), "COMMIT"]
    return "\n".join(lines) + "\n"


def remove_chains(agent_prefix: str) -> None:
    """Every chain of ours and the jump to it: what an agent running with enforcement off does at
    start, so a crashed run's rules isolate no pod."""
    chains = rules.NetpolChains(rules.netpol_prefix(agent_prefix))
    iptables = Iptables(chains.prefix)
    iptables.chains = chains
    iptables.teardown()


class NetworkPolicySyncer:
    def __init__(self, client: Any, node_name: str, agent_prefix: str):
        self.node_name = node_name
        self.chains = rules.NetpolChains(rules.netpol_prefix(agent_prefix))
        self.iptables = Iptables(self.chains.prefix)
        self.iptables.chains = self.chains  # teardown finds our chains and jump by prefix
        self.factory = SharedInformerFactory(client)
        self.policies = self.factory.informer(POLICIES)
        self.pods = self.factory.informer(PODS)
        self.namespaces = self.factory.informer(NAMESPACES)
        self.loop = SyncLoop(self.sync, "network policy sync", DEBOUNCE_SECONDS, FULL_SYNC_SECONDS, RETRY_SECONDS)
        self.loop.watch(self.policies, self.pods, self.namespaces)
        self.applied: Ruleset | None = None  # what the kernel holds; None: unknown, next sync is full
        self.syncs = 0

    async def start(self, timeout: float = 30) -> None:
        self.factory.start()
        await self.factory.wait_for_sync(timeout)
        await self.loop.run_once()
        self.loop.start()
        log.info("network policy: chains %s-*", self.chains.prefix)
        if not bridge_netfilter():  # k3s loads br_netfilter; we leave the host's sysctls alone
            log.warning("net.bridge.bridge-nf-call-iptables is not 1 here: traffic between two pods of this "
                        "node bypasses iptables and NetworkPolicies do not apply to it")

    async def stop(self) -> None:
        await self.loop.stop()
        await self.factory.stop()
        await asyncio.to_thread(self.iptables.teardown)

    async def sync(self, full: bool = False) -> None:
        if full:
            self.applied = None
        policies, pods, namespaces = self.policies.list(), self.pods.list(), self.namespaces.list()
        self.applied = await asyncio.to_thread(self._render_and_apply, policies, pods, namespaces, self.applied)
        self.syncs += 1

    def _render_and_apply(self, policies: list[dict], pods: list[dict], namespaces: list[dict],
                          applied: Ruleset | None) -> Ruleset:
        firewalls = model.build(policies, pods, namespaces, self.node_name)
        want = rules.render(self.chains, firewalls)
        if applied is None:
            # our dispatch chain and the jump to it, then every chain rewritten and stale ones gone
            self.iptables.restore(render_setup(self.chains, self.iptables.save()))
            saved = self.iptables.save()
            changed, gone = restore.diff(None, want, restore.existing_chains(self.chains, saved))
            self.iptables.restore(restore.restore_text(changed, gone))
            self.iptables.restore(jump_first(self.chains, saved))
        else:
            changed, gone = restore.diff(applied, want)
            self.iptables.restore(restore.restore_text(changed, gone))
        return want
