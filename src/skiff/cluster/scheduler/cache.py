"""The scheduler's view of the cluster: node infos kept current by watch events, plus assumed
pods (placed by a cycle, their binding still in flight) so the next cycle sees them at once.

Updates are incremental: a pod event touches one NodeInfo's totals; the snapshot (the node
list a cycle iterates) is rebuilt only when nodes come or go.
"""

from __future__ import annotations

from typing import Any

from skiff.cluster.scheduler.framework import Snapshot
from skiff.cluster.scheduler.nodeinfo import NodeInfo, PodInfo
from skiff.cluster.scheduler.window import ChangeFeed


class Cache:
    def __init__(self) -> None:
        self.nodes: dict[str, NodeInfo] = {}  # includes placeholders for pods' unknown nodes
        self.pod_node: dict[str, str] = {}  # pod key -> node it is counted on
        self.assumed: set[str] = set()
        self._snapshot: Snapshot | None = None
        self.affinity_index: dict[str, str] = {}  # pods with pod (anti-)affinity terms -> their node
        self.image_nodes: dict[str, int] = {}  # image -> how many nodes hold it (ImageLocality's spread)
        # unbound pods that preemption nominated to a node: node -> pod key -> pod
        self.nominated: dict[str, dict[str, PodInfo]] = {}
        self.nominated_node: dict[str, str] = {}
        self.changes = ChangeFeed()  # every node change, for the algorithm's per-signature windows

    def _count_images(self, info: NodeInfo | None, sign: int) -> None:
        if info is not None and info.obj:
            for image in info.images:
                left = self.image_nodes.get(image, 0) + sign
                if left > 0:
                    self.image_nodes[image] = left
                else:
                    self.image_nodes.pop(image, None)

    # nodes
    def set_node(self, obj: dict[str, Any]) -> bool:
        """Add or update a node; True when it is new."""
        name = (obj.get("metadata") or {}).get("name") or ""
        info = self.nodes.get(name)
        new = info is None or not info.obj
        self._count_images(info, -1)
        if info is None:
            info = self.nodes[name] = NodeInfo.from_object(obj)
        else:
            info.set_node(obj)
        self.changes.touched(name, info.generation)
        self._count_images(info, +1)
        if new:
            self._snapshot = None
        return new

    def remove_node(self, name: str) -> None:
        info = self.nodes.get(name)
        if info is None:
            return
        self._count_images(info, -1)
        if info.pods:
            info.obj = {}  # keep the pods counted until their own deletes arrive
        else:
            del self.nodes[name]
        self._snapshot = None

    def node_names(self) -> list[str]:
        return [n for n, info in self.nodes.items() if info.obj]

    # pods
    def _place(self, pod: PodInfo, node: str) -> None:
        old = self.pod_node.get(pod.key)
        if old is not None and old != node:
            self._unplace(pod.key)
        info = self.nodes.get(node)
        if info is None:
            info = self.nodes[node] = NodeInfo({}, name=node)
        info.add_pod(pod)
        self.changes.touched(node, info.generation)
        self.pod_node[pod.key] = node
        if pod.has_pod_affinity:
            self.affinity_index[pod.key] = node

    def _unplace(self, key: str) -> PodInfo | None:
        node = self.pod_node.pop(key, None)
        self.affinity_index.pop(key, None)
        if node is None:
            return None
        info = self.nodes.get(node)
        pod = info.remove_pod(key) if info is not None else None
        if info is not None:
            self.changes.touched(node, info.generation)
            if not info.obj and not info.pods:
                del self.nodes[node]
        return pod

    def set_pod(self, pod: PodInfo) -> None:
        """A bound pod from the informer (confirms an assumed one)."""
        self.assumed.discard(pod.key)
        self._place(pod, pod.node_name)

    def set_nominated(self, pod: PodInfo, node: str) -> None:
        """Record (or, with node "", clear) the node an unbound pod was nominated to."""
        self.clear_nomination(pod.key)
        if node:
            self.nominated.setdefault(node, {})[pod.key] = pod
            self.nominated_node[pod.key] = node

    def clear_nomination(self, key: str) -> None:
        old = self.nominated_node.pop(key, None)
        if old is not None:
            self.nominated.get(old, {}).pop(key, None)
            if not self.nominated.get(old):
                self.nominated.pop(old, None)

    def confirm(self, key: str, obj: dict[str, Any]) -> bool:
        """The watch shows an assumed pod bound where it was assumed: keep its parsed info."""
        if key not in self.assumed:
            return False
        node = self.pod_node.get(key)
        info = self.nodes.get(node) if node else None
        pod = info.pods.get(key) if info is not None else None
        meta, spec = obj.get("metadata") or {}, obj.get("spec") or {}
        if (pod is None or pod.uid != meta.get("uid") or spec.get("nodeName") != node
                or meta.get("deletionTimestamp") or (obj.get("status") or {}).get("phase") in ("Succeeded", "Failed")):
            return False
        self.assumed.discard(key)
        pod.obj = obj
        pod.spec = spec
        return True

    def remove_pod(self, key: str) -> PodInfo | None:
        self.assumed.discard(key)
        return self._unplace(key)

    def assume(self, pod: PodInfo, node: str) -> None:
        self.assumed.add(pod.key)
        self._place(pod, node)

    def forget(self, key: str) -> None:
        """An assumed pod whose binding failed."""
        if key in self.assumed:
            self.assumed.discard(key)
            self._unplace(key)

    def is_assumed(self, key: str) -> bool:
        return key in self.assumed

    def has_pod(self, key: str) -> bool:
        return key in self.pod_node

    def snapshot(self) -> Snapshot:
        if self._snapshot is None:
            self._snapshot = Snapshot([info for info in self.nodes.values() if info.obj], self.image_nodes,
                                      self.affinity_index, self.nominated, self.changes)
        self._snapshot.refresh()
        return self._snapshot
