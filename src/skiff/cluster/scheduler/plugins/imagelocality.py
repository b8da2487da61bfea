"""ImageLocality: prefer nodes that already hold the pod's images, weighted by how few nodes do."""

from __future__ import annotations

from skiff.cluster.scheduler.framework import MAX_NODE_SCORE, OK, SKIP, CycleState, Snapshot, Status
from skiff.cluster.scheduler.nodeinfo import NodeInfo, PodInfo, normalize_image

MB = 1024 * 1024
MIN_THRESHOLD = 23 * MB  # kube-scheduler's bounds for the summed image score
MAX_CONTAINER_THRESHOLD = 1000 * MB



class ImageLocality:
    name = "ImageLocality"
    weight = 1

    def pre_score(self, state: CycleState, pod: PodInfo, nodes: list[NodeInfo], snapshot: Snapshot) -> Status:
        images = [normalize_image(c.get("image") or "") for c in pod.spec.get("containers") or []]
        if not any(i in snapshot.image_nodes for i in images):
            return Status(SKIP)
        total = len(snapshot.nodes) or 1
        spread = {i: snapshot.image_nodes.get(i, 0) / total for i in set(images)}
        state["ImageLocality"] = (images, spread)
        return OK

    def score(self, state: CycleState, pod: PodInfo, node: NodeInfo) -> int:
        images, spread = state["ImageLocality"]
        total = sum(int(node.images[i] * spread[i]) for i in images if i in node.images)
        high = MAX_CONTAINER_THRESHOLD * len(images)
        total = min(max(total, MIN_THRESHOLD), high)
        return MAX_NODE_SCORE * (total - MIN_THRESHOLD) // (high - MIN_THRESHOLD)
