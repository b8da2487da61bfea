"""The DaemonSet controller: one pod on every eligible node (nodeSelector, required node
affinity, taints the pod tolerates — with the tolerations every daemon pod gets), a pod for
each node that joins, none on nodes that stop qualifying; RollingUpdate replaces pods of an
old template at most maxUnavailable at a time, OnDelete only when the user deletes them.

Daemon pods are created with `spec.nodeName` set and a matchFields node affinity naming the
node, so they land where they belong whether or not a scheduler binds them.
"""

from __future__ import annotations

import asyncio
import copy
import hashlib
import json
import math
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from skiff.cluster.client.errors import StatusError
from skiff.cluster.controllers import podutil, revisions
from skiff.cluster.controllers.base import NODES, PODS, Controller, ControllerContext, object_path
from skiff.cluster.scheduler.plugins.nodeaffinity import requirement_matches
from skiff.cluster.scheduler.plugins.tainttoleration import tolerated

DAEMONSETS = "/apis/apps/v1/daemonsets"
HASH_LABEL = "controller-revision-hash"
GENERATION_LABEL = "pod-template-generation"
Obj = dict[str, Any]

# what kube's daemon controller adds to every daemon pod (AddOrUpdateDaemonPodTolerations)
AUTO_TOLERATIONS: list[Obj] = [
    {"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute"},
    {"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute"},
    {"key": "node.kubernetes.io/disk-pressure", "operator": "Exists", "effect": "NoSchedule"},
    {"key": "node.kubernetes.io/memory-pressure", "operator": "Exists", "effect": "NoSchedule"},
    {"key": "node.kubernetes.io/pid-pressure", "operator": "Exists", "effect": "NoSchedule"},
    {"key": "node.kubernetes.io/unschedulable", "operator": "Exists", "effect": "NoSchedule"},
]
HOST_NETWORK_TOLERATION = {"key": "node.kubernetes.io/network-unavailable", "operator": "Exists",
                           "effect": "NoSchedule"}


# --- pure rules -------------------------------------------------------------------------------
def pod_tolerations(template_spec: Obj) -> list[Obj]:
    own = list(template_spec.get("tolerations") or [])
    extra = AUTO_TOLERATIONS + ([HOST_NETWORK_TOLERATION] if template_spec.get("hostNetwork") else [])
    return own + [t for t in extra if t not in own]


def should_run(template_spec: Obj, node: Obj) -> bool:
    """kube's NodeShouldRunDaemonPod: selector, required affinity, and no untolerated
    NoSchedule/NoExecute taint."""
    meta = node.get("metadata") or {}
    labels, name = meta.get("labels") or {}, meta.get("name", "")
    for k, v in (template_spec.get("nodeSelector") or {}).items():
        if labels.get(k) != v:
            return False
    required = (((template_spec.get("affinity") or {}).get("nodeAffinity") or {})
                .get("requiredDuringSchedulingIgnoredDuringExecution"))
    if required is not None:
        terms = required.get("nodeSelectorTerms") or []
        if not any(_term_matches(t, labels, name) for t in terms):
            return False
    tolerations = pod_tolerations(template_spec)
    for taint in (node.get("spec") or {}).get("taints") or []:
        if taint.get("effect") in ("NoSchedule", "NoExecute") and not tolerated(tolerations, taint):
            return False
    return True


def _term_matches(term: Obj, labels: dict[str, str], name: str) -> bool:
    exprs, fields = term.get("matchExpressions") or [], term.get("matchFields") or []
    if not exprs and not fields:
        return False
    return (all(requirement_matches(e, labels) for e in exprs)
            and all(requirement_matches(f, {"metadata.name": name}) for f in fields))


def template_hash(template: Obj) -> str:
    """A short stable hash of the pod template: pods of the current template carry it."""
    text = json.dumps(template, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:10]


def max_unavailable(ds: Obj, desired: int) -> int:
    strategy = (ds.get("spec") or {}).get("updateStrategy") or {}
    value = (strategy.get("rollingUpdate") or {}).get("maxUnavailable", 1)
    if isinstance(value, str) and value.endswith("%"):
        return max(1, math.ceil(desired * int(value[:-1]) / 100)) if desired else 0
    return max(1, int(value))


def daemon_pod(ds: Obj, node_name: str, revision: str) -> Obj:
    spec = (ds.get("spec") or {})
    template = copy.deepcopy(spec.get("template") or {})
    pod = podutil.pod_from_template(template, ds, ds["metadata"]["namespace"])
    pod["metadata"]["labels"][HASH_LABEL] = revision
    pod["metadata"]["labels"][GENERATION_LABEL] = str(ds["metadata"].get("generation", 1))
    pspec = pod["spec"]
    pspec["nodeName"] = node_name
    pspec["tolerations"] = pod_tolerations(pspec)
    affinity = dict(pspec.get("affinity") or {})
    affinity["nodeAffinity"] = {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
        {"matchFields": [{"key": "metadata.name", "operator": "In", "values": [node_name]}]}]}}
    pspec["affinity"] = affinity
    return pod


def plan(ds: Obj, nodes: list[Obj], pods: list[Obj], now: datetime) -> tuple[list[str], list[Obj], Obj]:
    """(nodes needing a pod, pods to delete, status) for one DaemonSet and its pods."""
    spec = ds.get("spec") or {}
    template = spec.get("template") or {}
    revision = template_hash(template)
    min_ready = int(spec.get("minReadySeconds") or 0)
    by_node: dict[str, list[Obj]] = {}
    for p in pods:
        by_node.setdefault((p.get("spec") or {}).get("nodeName") or "", []).append(p)
    create: list[str] = []
    delete: list[Obj] = []
    desired = scheduled = misscheduled = ready = available = updated = 0
    old_running: list[Obj] = []
    for node in nodes:
        name = node["metadata"]["name"]
        here = by_node.pop(name, [])
        failed = [p for p in here if (p.get("status") or {}).get("phase") == "Failed"]
        alive = [p for p in here if podutil.is_active(p)]
        delete += failed
        if should_run(template.get("spec") or {}, node):
            desired += 1
            if not alive:
                if not any((p.get("metadata") or {}).get("deletionTimestamp") for p in here):
                    create.append(name)
                continue
            scheduled += 1
            keep = sorted(alive, key=lambda p: p["metadata"].get("creationTimestamp") or "")[0]
            delete += [p for p in alive if p is not keep]
            ready += podutil.is_ready(keep)
            available += podutil.is_available(keep, min_ready, now)
            if keep["metadata"].get("labels", {}).get(HASH_LABEL) == revision:
                updated += 1
            else:
                old_running.append(keep)
        elif alive:
            misscheduled += 1
            delete += alive
    for leftovers in by_node.values():  # pods on nodes that are gone
        delete += [p for p in leftovers if podutil.is_active(p) or (p.get("status") or {}).get("phase") == "Failed"]
    strategy = (spec.get("updateStrategy") or {}).get("type") or "RollingUpdate"
    if strategy == "RollingUpdate" and old_running:
        unavailable = desired - available
        budget = max_unavailable(ds, desired) - unavailable
        # replace unavailable old pods first: they cost nothing more
        old_running.sort(key=lambda p: podutil.is_available(p, min_ready, now))
        for p in old_running:
            if not podutil.is_available(p, min_ready, now):
                delete.append(p)
            elif budget > 0:
                delete.append(p)
                budget -= 1
    status = {"currentNumberScheduled": scheduled, "numberMisscheduled": misscheduled,
              "desiredNumberScheduled": desired, "numberReady": ready, "updatedNumberScheduled": updated,
              "numberAvailable": available, "numberUnavailable": max(0, desired - available),
              "observedGeneration": ds["metadata"].get("generation")}
    return create, delete, {k: v for k, v in status.items() if v or k in (
        "currentNumberScheduled", "numberMisscheduled", "desiredNumberScheduled", "numberReady")}


# --- the controller --------------------------------------------------------------------------
class DaemonSetController(Controller):
    name = "daemonset-controller"
    workers = 2

    def __init__(self, ctx: ControllerContext, now: Callable[[], datetime] = lambda: datetime.now(UTC)):
        super().__init__(ctx)
        self.now = now
        self.sets = self.informer(DAEMONSETS)
        self.nodes = self.informer(NODES)
        self.pods = self.informer(PODS)
        self.revisions = self.informer(revisions.REVISIONS)
        self.sets.add_handler(self.enqueue, lambda old, new: self.enqueue(new))
        self.nodes.add_handler(self._all, lambda old, new: self._node_changed(old, new), self._all)
        self.pods.add_handler(self._pod, lambda old, new: self._pod(new), self._pod)

    def _all(self, _node: Obj | None = None) -> None:
        for ds in self.sets.list():
            self.enqueue(ds)

    def _node_changed(self, old: Obj, new: Obj) -> None:
        if ((old.get("metadata") or {}).get("labels") != (new.get("metadata") or {}).get("labels")
                or (old.get("spec") or {}).get("taints") != (new.get("spec") or {}).get("taints")):
            self._all()

    def _pod(self, pod: Obj) -> None:
        ref = podutil.controller_ref(pod)
        if ref is not None and ref.get("kind") == "DaemonSet":
            self.queue.add(f"{pod['metadata'].get('namespace', '')}/{ref.get('name')}")

    async def reconcile(self, key: str) -> None:
        ds = self.sets.get(key)
        if ds is None or ds["metadata"].get("deletionTimestamp"):
            return
        ns, uid = ds["metadata"]["namespace"], ds["metadata"]["uid"]
        pods = [p for p in self.pods.list(ns) if (r := podutil.controller_ref(p)) is not None and r.get("uid") == uid]
        now = self.now()
        create, delete, status = plan(ds, self.nodes.list(), pods, now)
        revision = template_hash((ds.get("spec") or {}).get("template") or {})
        await revisions.ensure(self.client, self.revisions, ds, f"{ds['metadata']['name']}-{revision}")
        results = await asyncio.gather(
            *(self.client.create(object_path(PODS, ns, None), daemon_pod(ds, n, revision)) for n in create),
            *(self.client.delete(object_path(PODS, ns, p["metadata"]["name"])) for p in delete
              if not p["metadata"].get("deletionTimestamp")),
            return_exceptions=True)
        await self._write_status(ds, status)
        for result in results:
            if isinstance(result, BaseException) and not (isinstance(result, StatusError)
                                                          and result.code in (404, 409)):
                raise result
        min_ready = int((ds.get("spec") or {}).get("minReadySeconds") or 0)
        waits = [w for p in pods if (w := podutil.seconds_until_available(p, min_ready, now)) is not None]
        if waits:
            self.queue.add_after(key, min(waits) + 0.05)

    async def _write_status(self, ds: Obj, status: Obj) -> None:
        old = ds.get("status") or {}
        if {k: old.get(k) for k in status} == status and set(old) <= set(status) | {"conditions", "collisionCount"}:
            return
        patch = {"status": {k: status.get(k) for k in (set(old) | set(status)) - {"conditions", "collisionCount"}}}
        meta = ds["metadata"]
        try:
            await self.client.merge_patch(object_path(DAEMONSETS, meta["namespace"], meta["name"], "status"), patch)
        except StatusError as e:
            if e.code != 404:
                raise
