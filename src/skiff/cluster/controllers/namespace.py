"""The namespace controller: a namespace being deleted is emptied — every namespaced resource
discovery lists that can be listed and deleted, each object through the ordinary delete, so
finalizers and graceful pod deletion hold the namespace in Terminating until they are done —
and then its `kubernetes` finalizer is removed through `/finalize`, which lets it go.

The API server runs the same job in process (`apiserver/lifecycle.py`) so that a server without
a controller manager still finishes namespaces; both are idempotent, whichever acts first wins.
"""

from __future__ import annotations

import logging
from typing import Any

from skiff.cluster.client.errors import StatusError
from skiff.cluster.controllers.base import NAMESPACES, Controller, ControllerContext

log = logging.getLogger("skiff.controllers.namespace")
RETRY = 1.0  # seconds between passes while contents are still finalizing
Obj = dict[str, Any]


def namespaced_collections(core: Obj, groups: list[tuple[str, Obj]]) -> list[str]:
    """Collection paths with a `{ns}` placeholder, from /api/v1 and each group's preferred
    version document: namespaced, listable, deletable, not a subresource."""
    out = []
    for prefix, doc in [("/api/v1", core)] + groups:
        for r in doc.get("resources") or []:
            verbs = set(r.get("verbs") or [])
            if "/" in r.get("name", "") or not r.get("namespaced") or not {"list", "delete"} <= verbs:
                continue
            out.append(f"{prefix}/namespaces/{{ns}}/{r['name']}")
    return out


class NamespaceController(Controller):
    name = "namespace-controller"
    workers = 2

    def __init__(self, ctx: ControllerContext):
        super().__init__(ctx)
        self.namespaces = self.informer(NAMESPACES)
        self.namespaces.add_handler(self._changed, lambda old, new: self._changed(new))

    def _changed(self, ns: Obj) -> None:
        if (ns.get("metadata") or {}).get("deletionTimestamp"):
            self.queue.add(ns["metadata"]["name"])

    async def discover(self) -> list[str]:
        core = await self.client.get("/api/v1")
        groups = []
        for g in (await self.client.get("/apis")).get("groups") or []:
            gv = (g.get("preferredVersion") or {}).get("groupVersion")
            if not gv:
                continue
            try:
                groups.append((f"/apis/{gv}", await self.client.get(f"/apis/{gv}")))
            except StatusError as e:
                log.warning("namespace controller: discovery of %s failed: %s", gv, e)
        return namespaced_collections(core, groups)

    async def reconcile(self, key: str) -> None:
        ns = self.namespaces.get(key)
        if ns is None or not ns["metadata"].get("deletionTimestamp"):
            return
        left = 0
        for collection in await self.discover():
            path = collection.format(ns=key)
            try:
                items = (await self.client.get(path)).get("items") or []
            except StatusError as e:
                if e.code in (404, 405):
                    continue
                raise
            for obj in items:
                if obj["metadata"].get("deletionTimestamp"):
                    left += 1  # finalizers or a grace period still hold it
                    continue
                try:
                    answer = await self.client.delete(f"{path}/{obj['metadata']['name']}")
                except StatusError as e:
                    if e.code not in (404, 409):
                        raise
                    continue
                # an object that is only marked comes back with its deletionTimestamp
                if answer.get("kind") != "Status" and (answer.get("metadata") or {}).get("deletionTimestamp"):
                    left += 1
        if left:
            self.queue.add_after(key, RETRY)
            return
        finalizers = [f for f in (ns.get("spec") or {}).get("finalizers") or [] if f != "kubernetes"]
        if finalizers == ((ns.get("spec") or {}).get("finalizers") or []):
            return
        body = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": key, "resourceVersion":
                                                                      ns["metadata"].get("resourceVersion")},
                "spec": {"finalizers": finalizers}}
        try:
            await self.client.replace(f"/api/v1/namespaces/{key}/finalize", body)
        except StatusError as e:
            if e.code == 409:  # changed meanwhile (maybe the API server's own loop finished it)
                self.queue.add_after(key, RETRY)
            elif e.code != 404:
                raise
