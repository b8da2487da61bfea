"""The Endpoints controller: for every Service with a selector, a v1 Endpoints object of the
same name listing its pods' IPs and ports (ready ones in addresses, the rest in
notReadyAddresses); removed with the Service."""

from __future__ import annotations

from skiff.cluster.client.errors import StatusError
from skiff.cluster.client.informers import split_key
from skiff.cluster.controllers import endpoints_util as eu
from skiff.cluster.controllers.base import ENDPOINTS, object_path
from skiff.cluster.controllers.servicepods import ServicePodsController

HEADLESS_LABEL = "service.kubernetes.io/headless"


class EndpointsController(ServicePodsController):
    name = "endpoints-controller"
    workers = 5

    async def reconcile(self, key: str) -> None:
        ns, name = split_key(key)
        path = object_path(ENDPOINTS, ns, name)
        service = self.services.get(key)
        if service is None:  # the Service is gone: so are its Endpoints
            await self._delete(path)
            return
        if eu.service_selector(service) is None:
            return  # a Service without a selector: its Endpoints are written by hand
        labels = dict((service.get("metadata") or {}).get("labels") or {})
        if (service.get("spec") or {}).get("clusterIP") == "None":
            labels[HEADLESS_LABEL] = ""
        subsets = eu.endpoints_subsets(service, self.pods_in(ns))
        try:
            current = await self.client.get(path)
        except StatusError as e:
            if e.code != 404:
                raise
            body: dict = {"apiVersion": "v1", "kind": "Endpoints", "metadata": {"name": name, "namespace": ns,
                                                                         "labels": labels}}
            if subsets:
                body["subsets"] = subsets
            await self.client.create(object_path(ENDPOINTS, ns, None), body)
            return
        if (current.get("subsets") or []) == subsets and (current["metadata"].get("labels") or {}) == labels:
            return
        current["subsets"] = subsets or None
        current["metadata"]["labels"] = labels
        if not subsets:
            current.pop("subsets")
        await self.client.replace(path, current)

    async def _delete(self, path: str) -> None:
        try:
            await self.client.delete(path)
        except StatusError as e:
            if e.code != 404:
                raise
