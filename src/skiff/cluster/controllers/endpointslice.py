"""The EndpointSlice controller: for every Service with a selector, discovery.k8s.io/v1
EndpointSlices (`<service>-xxxxx`, owned by the Service, labelled kubernetes.io/service-name)
holding its pods' addresses with ready/serving/terminating conditions, at most 100 a slice."""

from __future__ import annotations

from typing import Any

from skiff.cluster.apimachinery.selectors import LabelSelector
from skiff.cluster.client.errors import StatusError
from skiff.cluster.client.informers import split_key
from skiff.cluster.controllers import endpoints_util as eu
from skiff.cluster.controllers import podutil
from skiff.cluster.controllers.base import ENDPOINTSLICES, object_path
from skiff.cluster.controllers.servicepods import ServicePodsController

Obj = dict[str, Any]


class EndpointSliceController(ServicePodsController):
    name = "endpointslice-controller"
    workers = 5

    def __init__(self, ctx):
        super().__init__(ctx)
        self.slices = self.informer(ENDPOINTSLICES)
        self.slices.add_handler(self._slice_changed, lambda old, new: self._slice_changed(new), self._slice_changed)

    def _slice_changed(self, sl: Obj) -> None:
        meta = sl.get("metadata") or {}
        if (meta.get("labels") or {}).get(eu.MANAGED_BY_LABEL) == eu.MANAGED_BY:
            service = (meta.get("labels") or {}).get(eu.SERVICE_NAME_LABEL)
            if service:
                self.queue.add(f"{meta.get('namespace', '')}/{service}")

    def owned_slices(self, ns: str, name: str) -> list[Obj]:
        selector = LabelSelector.from_set({eu.SERVICE_NAME_LABEL: name, eu.MANAGED_BY_LABEL: eu.MANAGED_BY})
        return sorted(self.slices.list(ns, selector), key=lambda s: s["metadata"]["name"])

    async def reconcile(self, key: str) -> None:
        ns, name = split_key(key)
        service = self.services.get(key)
        existing = self.owned_slices(ns, name)
        if service is None or eu.service_selector(service) is None:
            for sl in existing:  # the Service is gone (its slices are also garbage-collected by owner)
                await self._delete(sl)
            return
        wanted = eu.slice_endpoints(service, self.pods_in(ns))
        labels = {**((service.get("metadata") or {}).get("labels") or {}),
                  eu.SERVICE_NAME_LABEL: name, eu.MANAGED_BY_LABEL: eu.MANAGED_BY}
        if not wanted:  # an empty slice says "no endpoints" rather than "not yet computed"
            wanted = [([], [])]
        for i, (ports, endpoints) in enumerate(wanted):
            body: Obj = {"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice", "addressType": "IPv4",
                         "metadata": {"namespace": ns, "labels": labels,
                                      "ownerReferences": [podutil.owner_ref(service)]},
                         "endpoints": endpoints, "ports": ports}
            if i < len(existing):
                current = existing[i]
                if all(current.get(k) == body[k] for k in ("endpoints", "ports")) and \
                        current["metadata"].get("labels") == labels:
                    continue
                updated = dict(current)
                updated.update({"endpoints": endpoints, "ports": ports, "addressType": "IPv4"})
                updated["metadata"] = {**current["metadata"], "labels": labels}
                await self.client.replace(object_path(ENDPOINTSLICES, ns, current["metadata"]["name"]), updated)
            else:
                body["metadata"]["generateName"] = f"{name}-"
                await self.client.create(object_path(ENDPOINTSLICES, ns, None), body)
        for sl in existing[len(wanted):]:
            await self._delete(sl)

    async def _delete(self, sl: Obj) -> None:
        try:
            await self.client.delete(object_path(ENDPOINTSLICES, sl["metadata"]["namespace"], sl["metadata"]["name"]))
        except StatusError as e:
            if e.code != 404:
                raise
