"""The event wiring both endpoint controllers share: a Service key for every change of a
Service, and of a pod for every Service selecting it (before or after the change)."""

from __future__ import annotations

from typing import Any

from skiff.cluster.controllers import endpoints_util as eu
from skiff.cluster.controllers.base import PODS, SERVICES, Controller, ControllerContext

Obj = dict[str, Any]


class ServicePodsController(Controller):
    def __init__(self, ctx: ControllerContext):
        super().__init__(ctx)
        self.services = self.informer(SERVICES)
        self.pods = self.informer(PODS)
        self.services.add_handler(self.enqueue, lambda old, new: self.enqueue(new), self.enqueue)
        self.pods.add_handler(self._pod_changed, self._pod_updated, self._pod_changed)

    def _pod_changed(self, pod: Obj) -> None:
        meta = pod.get("metadata") or {}
        for svc in eu.services_selecting(self.services.list(meta.get("namespace", "")), meta.get("labels")):
            self.enqueue(svc)

    def _pod_updated(self, old: Obj, new: Obj) -> None:
        if old["metadata"].get("labels") != new["metadata"].get("labels"):
            self._pod_changed(old)
        self._pod_changed(new)

    def pods_in(self, namespace: str) -> list[Obj]:
        return self.pods.list(namespace)
