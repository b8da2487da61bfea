"""The service-account controller: every active namespace has a ServiceAccount `default`,
made again if deleted. (The API server's in-process loop does the same for servers without a
controller manager; a create that finds it there is fine.)"""

from __future__ import annotations

from typing import Any

from skiff.cluster.client.errors import StatusError
from skiff.cluster.controllers.base import NAMESPACES, Controller, ControllerContext

SERVICEACCOUNTS = "/api/v1/serviceaccounts"
DEFAULT = "default"
Obj = dict[str, Any]


class ServiceAccountController(Controller):
    name = "serviceaccount-controller"

    def __init__(self, ctx: ControllerContext):
        super().__init__(ctx)
        self.namespaces = self.informer(NAMESPACES)
        self.accounts = self.informer(SERVICEACCOUNTS)
        self.namespaces.add_handler(self._namespace, lambda old, new: self._namespace(new))
        self.accounts.add_handler(on_delete=self._account_deleted)

    def _namespace(self, ns: Obj) -> None:
        self.queue.add(ns["metadata"]["name"])

    def _account_deleted(self, sa: Obj) -> None:
        if sa["metadata"].get("name") == DEFAULT:
            self.queue.add(sa["metadata"].get("namespace", ""))

    async def reconcile(self, key: str) -> None:
        ns = self.namespaces.get(key)
        if ns is None or ns["metadata"].get("deletionTimestamp") or (ns.get("status") or {}).get(
                "phase") == "Terminating":
            return
        if self.accounts.get(f"{key}/{DEFAULT}") is not None:
            return
        try:
            await self.client.create(f"/api/v1/namespaces/{key}/serviceaccounts",
                                     {"apiVersion": "v1", "kind": "ServiceAccount",
                                      "metadata": {"name": DEFAULT, "namespace": key}})
        except StatusError as e:
            if e.code not in (409, 403):  # exists already, or the namespace began terminating
                raise
