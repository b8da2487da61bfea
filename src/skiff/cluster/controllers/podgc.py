"""The pod garbage collector: deletes terminated pods (Succeeded or Failed) beyond
--terminated-pod-gc-threshold (kube's default 12500; oldest first), pods bound to nodes that no
longer exist, and unscheduled pods already being deleted. Runs every `period` seconds."""

from __future__ import annotations

import logging
from typing import Any

from skiff.cluster.client.errors import StatusError
from skiff.cluster.controllers.base import NODES, PODS, Controller, ControllerContext, object_path

log = logging.getLogger("skiff.controllers.podgc")
Obj = dict[str, Any]
THRESHOLD = 12500
PERIOD = 20.0  # kube's gcCheckPeriod


def terminated(pod: Obj) -> bool:
    return (pod.get("status") or {}).get("phase") in ("Succeeded", "Failed")


def to_collect(pods: list[Obj], node_names: set[str], threshold: int, suspects: set[str]) -> list[Obj]:
    """The pods to delete, as pure logic. A pod whose node is missing is collected only if it
    was missing at the previous pass too (`suspects`, updated here): a node may be registering
    (kube quarantines for 40 s)."""
    out: list[Obj] = []
    done = sorted((p for p in pods if terminated(p)), key=lambda p: p["metadata"].get("creationTimestamp") or "")
    if threshold > 0 and len(done) > threshold:
        out += done[:len(done) - threshold]
    chosen = {id(p) for p in out}
    missing: set[str] = set()
    for p in pods:
        if id(p) in chosen:
            continue
        node = (p.get("spec") or {}).get("nodeName")
        if node and node not in node_names:
            uid = p["metadata"].get("uid", "")
            if uid in suspects:
                out.append(p)  # orphaned: its node is gone
            missing.add(uid)
        elif not node and p["metadata"].get("deletionTimestamp"):
            out.append(p)  # never scheduled, so no kubelet will finish deleting it
    suspects.clear()
    suspects.update(missing)
    return out


class PodGCController(Controller):
    name = "pod-garbage-collector-controller"

    def __init__(self, ctx: ControllerContext):
        super().__init__(ctx)
        self.threshold = int(ctx.options.get("terminated-pod-gc-threshold", THRESHOLD))
        self.period = float(ctx.options.get(f"{self.name}.period", PERIOD))
        self.pods = self.informer(PODS)
        self.nodes = self.informer(NODES)
        self.nodes.add_handler(on_delete=lambda node: self.queue.add("gc"))
        self.suspects: set[str] = set()
        self.queue.add("gc")

    async def reconcile(self, key: str) -> None:
        try:
            node_names = {n["metadata"]["name"] for n in self.nodes.list()}
            for pod in to_collect(self.pods.list(), node_names, self.threshold, self.suspects):
                meta = pod["metadata"]
                try:
                    await self.client.delete(object_path(PODS, meta["namespace"], meta["name"]),
                                             {"gracePeriodSeconds": 0, "preconditions": {"uid": meta["uid"]}})
                except StatusError as e:
                    if e.code not in (404, 409):
                        raise
        finally:
            self.queue.add_after("gc", self.period)
