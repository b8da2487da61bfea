"""Node and pod objects for the scheduler's unit tests, and a cluster built from them."""

from __future__ import annotations

import itertools
from typing import Any

from skiff.cluster.scheduler.cache import Cache
from skiff.cluster.scheduler.framework import CycleState, Framework, Snapshot
from skiff.cluster.scheduler.nodeinfo import NodeInfo, PodInfo
from skiff.cluster.scheduler.plugins.registry import default_plugins

_uids = itertools.count(1)


def node(name: str, cpu: str = "4", memory: str = "8Gi", pods: str = "110", labels: dict | None = None,
         taints: list | None = None, unschedulable: bool = False, images: list | None = None,
         extra: dict | None = None) -> dict[str, Any]:
    alloc = {"cpu": cpu, "memory": memory, "pods": pods, **(extra or {})}
    return {"metadata": {"name": name, "labels": {"kubernetes.io/hostname": name, **(labels or {})}},
            "spec": {"taints": taints or [], "unschedulable": unschedulable},
            "status": {"allocatable": alloc, "capacity": alloc, "images": images or []}}


def pod(name: str, cpu: str | None = None, memory: str | None = None, ns: str = "default", labels: dict | None = None,
        priority: int = 0, node_name: str = "", created: str = "2026-01-01T00:00:00Z", **spec: Any) -> PodInfo:
    requests = {k: v for k, v in (("cpu", cpu), ("memory", memory)) if v is not None}
    container: dict[str, Any] = {"name": "c", "image": spec.pop("image", "busybox")}
    if requests:
        container["resources"] = {"requests": requests}
    if "ports" in spec:
        container["ports"] = spec.pop("ports")
    body = {"containers": [container], "priority": priority, **spec}
    if node_name:
        body["nodeName"] = node_name
    return PodInfo.from_object({"metadata": {"name": name, "namespace": ns, "uid": f"uid-{next(_uids)}",
                                             "labels": labels or {}, "creationTimestamp": created},
                                "spec": body})


def info(obj: dict[str, Any], *pods: PodInfo) -> NodeInfo:
    n = NodeInfo.from_object(obj)
    for p in pods:
        n.add_pod(p)
    return n


def cluster(*nodes: dict[str, Any], pods: tuple[PodInfo, ...] = ()) -> Cache:
    cache = Cache()
    for n in nodes:
        cache.set_node(n)
    for p in pods:
        cache.set_pod(p)
    return cache


def framework() -> Framework:
    fw = Framework(default_plugins(None))
    fw.plugin("DefaultPreemption").framework = fw
    return fw


def prefiltered(plugin: Any, p: PodInfo, snapshot: Snapshot | None = None) -> CycleState:
    state = CycleState()
    if hasattr(plugin, "pre_filter"):
        plugin.pre_filter(state, p, snapshot or Snapshot([]))
    return state
