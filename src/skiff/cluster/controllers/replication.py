"""The ReplicationController controller: the shared replica logic on v1 ReplicationControllers,
whose selector is a plain label map (defaulted from the template's labels)."""

from __future__ import annotations

from skiff.cluster.apimachinery.selectors import LabelSelector
from skiff.cluster.controllers.base import REPLICATIONCONTROLLERS
from skiff.cluster.controllers.replicamanager import ReplicaKind, ReplicaManager


def rc_selector(rc: dict) -> LabelSelector:
    spec = rc.get("spec") or {}
    labels = spec.get("selector") or ((spec.get("template") or {}).get("metadata") or {}).get("labels")
    return LabelSelector.from_set(labels) if labels else LabelSelector(nothing=True)


class ReplicationControllerController(ReplicaManager):
    name = "replicationcontroller-controller"
    replica_kind = ReplicaKind("ReplicationController", REPLICATIONCONTROLLERS, rc_selector)

    @property
    def component(self) -> str:
        return "replication-controller"  # the Event source kube uses for RCs
