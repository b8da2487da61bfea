"""The ReplicaSet controller: the shared replica logic on apps/v1 ReplicaSets."""

from __future__ import annotations

from skiff.cluster.apimachinery.selectors import LabelSelector
from skiff.cluster.controllers.base import REPLICASETS
from skiff.cluster.controllers.replicamanager import ReplicaKind, ReplicaManager


def replicaset_selector(rs: dict) -> LabelSelector:
    return LabelSelector.from_object((rs.get("spec") or {}).get("selector"))


class ReplicaSetController(ReplicaManager):
    name = "replicaset-controller"
    replica_kind = ReplicaKind("ReplicaSet", REPLICASETS, replicaset_selector)
