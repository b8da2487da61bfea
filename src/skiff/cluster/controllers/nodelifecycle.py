"""The node lifecycle controller (kube-controller-manager's `node-lifecycle-controller`) with its
taint-based eviction manager.

Every `--node-monitor-period` it looks at each node's Lease and Ready heartbeat: a node silent
for longer than `--node-monitor-grace-period` gets its kubelet conditions set Unknown and its
pods marked not Ready; nodes are tainted unreachable (Ready Unknown) or not-ready (Ready False),
NoExecute taints being added at most `--node-eviction-rate` nodes a second per zone; pods on a
NoExecute-tainted node are deleted once their toleration runs out, so their controllers replace
them elsewhere. When the kubelet is back the taints go.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from skiff.cluster.client.errors import StatusError
from skiff.cluster.controllers import nodehealth as health
from skiff.cluster.controllers.base import NODES, PODS, Controller, ControllerContext, object_path

log = logging.getLogger("skiff.controllers.nodelifecycle")
Obj = dict[str, Any]
NODE_LEASES = "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases"
GRACE = 40.0  # kube's --node-monitor-grace-period
PERIOD = 5.0  # kube's --node-monitor-period
EVICTION_RATE = 0.1  # kube's --node-eviction-rate (nodes a second, per zone)
KEY = "monitor"


class NodeLifecycleController(Controller):
    name = "node-lifecycle-controller"

    def __init__(self, ctx: ControllerContext, clock: Callable[[], datetime] | None = None):
        super().__init__(ctx)
        opts = ctx.options
        self.grace = float(opts.get("node-monitor-grace-period", GRACE))
        self.period = float(opts.get("node-monitor-period") or min(PERIOD, max(self.grace / 4, 0.2)))
        self.rate = float(opts.get("node-eviction-rate", EVICTION_RATE))
        self.clock = clock or (lambda: datetime.now(UTC))
        self.limiters: dict[str, health.RateLimiter] = {}
        self.nodes = self.informer(NODES)
        self.pods = self.informer(PODS)
        self.leases = self.informer(NODE_LEASES)
        # one periodic pass over every node, as kube's monitorNodeHealth: heartbeats arrive far
        # too often (every node, every few seconds) to react to each
        self.queue.add(KEY)

    def _limiter(self, zone: str) -> health.RateLimiter:
        if zone not in self.limiters:
            self.limiters[zone] = health.RateLimiter(self.rate, time.monotonic)
        return self.limiters[zone]

    async def reconcile(self, key: str) -> None:
        try:
            now = self.clock()
            leases = {lease["metadata"]["name"]: lease for lease in self.leases.list()}
            pods_by_node: dict[str, list[Obj]] = {}
            for pod in self.pods.list():
                node_name = (pod.get("spec") or {}).get("nodeName")
                if node_name:
                    pods_by_node.setdefault(node_name, []).append(pod)
            for node in self.nodes.list():
                name = node["metadata"]["name"]
                try:
                    await self.monitor(node, leases.get(name), pods_by_node.get(name, []), now)
                except StatusError as e:
                    if e.code not in (404, 409):
                        raise
        finally:
            self.queue.add_after(KEY, self.period)

    async def monitor(self, node: Obj, lease: Obj | None, pods: list[Obj], now: datetime) -> None:
        name = node["metadata"]["name"]
        if health.is_stale(node, lease, now, self.grace):
            conditions = health.unknown_conditions(node, now)
            if conditions is not None:
                log.info("node %s: kubelet stopped posting node status", name)
                node = await self.client.merge_patch(f"{NODES}/{name}/status", {"status": {"conditions": conditions}})
                self.event(node, "Normal", "NodeNotReady", f"Node {name} status is now: NodeNotReady")
        if health.condition(node, "Ready") is None:
            return  # registering, never reported: left alone until its grace period runs out (as kube)
        if health.observed_ready(node) != "True":
            await self.mark_pods_not_ready(pods, now)  # idempotent: only pods still Ready are written
        node = await self.update_taints(node, now)
        await self.evict(node, pods, now)

    async def update_taints(self, node: Obj, now: datetime) -> Obj:
        taints = (node.get("spec") or {}).get("taints") or []
        wanted = health.wanted_taints(health.observed_ready(node))
        allow = not health.needs_no_execute(taints, wanted) or self._limiter(health.zone_of(node)).try_accept()
        new = health.reconcile_taints(taints, wanted, now, allow)
        if new is None:
            if not allow:
                self.queue.add_after(KEY, 1.0 / self.rate if self.rate > 0 else self.period)
            return node
        name = node["metadata"]["name"]
        return await self.client.merge_patch(f"{NODES}/{name}", {"spec": {"taints": new or None}})

    async def mark_pods_not_ready(self, pods: list[Obj], now: datetime) -> None:
        for pod in pods:
            conditions = health.pod_ready_false(pod, now)
            if conditions is None:
                continue
            meta = pod["metadata"]
            try:
                await self.client.merge_patch(object_path(PODS, meta["namespace"], meta["name"], "status"),
                                              {"status": {"conditions": conditions}})
            except StatusError as e:
                if e.code != 404:
                    raise

    async def evict(self, node: Obj, pods: list[Obj], now: datetime) -> None:
        """The taint manager: delete each pod whose NoExecute toleration ran out; wake up when the
        next one will."""
        taints = (node.get("spec") or {}).get("taints") or []
        soonest: float | None = None
        for pod in pods:
            meta = pod["metadata"]
            if meta.get("deletionTimestamp"):
                continue
            due = health.eviction_time(pod, taints, now)
            if due is None:
                continue
            wait = (due - now).total_seconds()
            if wait > 0:
                soonest = wait if soonest is None else min(soonest, wait)
                continue
            log.info("node %s: evicting pod %s/%s", node["metadata"]["name"], meta["namespace"], meta["name"])
            self.event(pod, "Normal", "TaintManagerEviction", f"Marking for deletion Pod {meta['namespace']}/"
                                                              f"{meta['name']}")
            try:
                await self.client.delete(object_path(PODS, meta["namespace"], meta["name"]),
                                         {"preconditions": {"uid": meta["uid"]}})
            except StatusError as e:
                if e.code not in (404, 409):
                    raise
        if soonest is not None and soonest < self.period:
            self.queue.add_after(KEY, soonest)
