"""The root-CA publisher: every active namespace has a ConfigMap `kube-root-ca.crt` whose
`ca.crt` is the bundle that verifies the API server, made again if deleted and put back if
edited (kube-controller-manager's root-ca-cert-publisher). Pods mount it through their
kube-api-access volume. (The API server's in-process loop makes it for servers without a
controller manager; a create that finds it there is fine.)

The bundle comes from the `root-ca` option: the manager's --root-ca-file, or the CA its
kubeconfig trusts, as upstream falls back to."""

from __future__ import annotations

import logging
from typing import Any

from skiff.cluster.api import rootca
from skiff.cluster.client.errors import StatusError
from skiff.cluster.controllers.base import NAMESPACES, Controller, ControllerContext

log = logging.getLogger("skiff.controllers.rootca")
CONFIGMAPS = "/api/v1/configmaps"
Obj = dict[str, Any]


def corrected(cm: Obj, ca: str) -> Obj | None:
    """The ConfigMap put right (only ca.crt in its data, the description annotation), or None
    when it already is."""
    annotations = cm["metadata"].get("annotations") or {}
    if cm.get("data") == {rootca.KEY: ca} and not cm.get("binaryData") and \
            annotations.get(rootca.DESCRIPTION_KEY) == rootca.DESCRIPTION:
        return None
    annotations = {**annotations, rootca.DESCRIPTION_KEY: rootca.DESCRIPTION}
    fixed = {**cm, "data": {rootca.KEY: ca}, "metadata": {**cm["metadata"], "annotations": annotations}}
    fixed.pop("binaryData", None)
    return fixed


class RootCACertPublisher(Controller):
    name = "root-ca-certificate-publisher-controller"

    def __init__(self, ctx: ControllerContext, root_ca: str | None = None):
        super().__init__(ctx)
        self.ca = root_ca if root_ca is not None else str(ctx.options.get("root-ca") or "")
        if not self.ca:
            log.warning("%s: no root CA (--root-ca-file, or a CA in the kubeconfig): nothing to publish", self.name)
        self.namespaces = self.informer(NAMESPACES)
        self.configmaps = self.informer(CONFIGMAPS)
        self.namespaces.add_handler(self._namespace, lambda old, new: self._namespace(new))
        self.configmaps.add_handler(on_update=lambda old, new: self._configmap(new), on_delete=self._configmap)

    @property
    def component(self) -> str:
        return "root-ca-cert-publisher"

    def _namespace(self, ns: Obj) -> None:
        self.queue.add(ns["metadata"]["name"])

    def _configmap(self, cm: Obj) -> None:
        if cm["metadata"].get("name") == rootca.NAME:
            self.queue.add(cm["metadata"].get("namespace", ""))

    async def reconcile(self, key: str) -> None:
        ns = self.namespaces.get(key)
        if not self.ca or ns is None or ns["metadata"].get("deletionTimestamp") or \
                (ns.get("status") or {}).get("phase") == "Terminating":
            return
        path = f"/api/v1/namespaces/{key}/configmaps"
        cm = self.configmaps.get(f"{key}/{rootca.NAME}")
        try:
            if cm is None:
                await self.client.create(path, rootca.configmap(key, self.ca))
                return
            fixed = corrected(cm, self.ca)
            if fixed is not None:
                await self.client.replace(f"{path}/{rootca.NAME}", fixed)
        except StatusError as e:
            if e.code not in (409, 403, 404):  # raced with another writer, or the namespace began terminating
                raise
