"""The garbage collector: the ownerReferences graph across the workload kinds, and the three
ways of deleting an owner.

- background (kubectl's default): the owner goes at once; each dependent whose owners are all
  gone is then deleted (dependents that keep a live owner only lose the dangling reference);
- foreground: the API server marks the owner with the `foregroundDeletion` finalizer; we delete
  its dependents (blocking ones in foreground too) and drop the finalizer once no dependent with
  `blockOwnerDeletion` is left, which lets the owner go;
- orphan: the `orphan` finalizer; we remove the owner's reference from every dependent, then
  the finalizer.

Work items are object uids. An owner missing from our caches is looked up live before anything
is deleted on its account, as kube's collector does (the caches may lag). Owners of a kind we
do not watch are assumed to exist: deleting on a guess would lose data.
"""

from __future__ import annotations

import logging
from typing import Any

from skiff.cluster.client.errors import StatusError
from skiff.cluster.controllers import ownership
from skiff.cluster.controllers.base import Controller, ControllerContext, object_path

log = logging.getLogger("skiff.controllers.gc")
Obj = dict[str, Any]
ORPHAN = "orphan"
FOREGROUND = "foregroundDeletion"

# kind → collection of what the collector follows (owners and dependents alike)
COLLECTIONS: dict[str, str] = {
    "Pod": "/api/v1/pods",
    "ReplicationController": "/api/v1/replicationcontrollers",
    "Service": "/api/v1/services",
    "ConfigMap": "/api/v1/configmaps",
    "Secret": "/api/v1/secrets",
    "PersistentVolumeClaim": "/api/v1/persistentvolumeclaims",
    "ReplicaSet": "/apis/apps/v1/replicasets",
    "Deployment": "/apis/apps/v1/deployments",
    "DaemonSet": "/apis/apps/v1/daemonsets",
    "StatefulSet": "/apis/apps/v1/statefulsets",
    "ControllerRevision": "/apis/apps/v1/controllerrevisions",
    "Job": "/apis/batch/v1/jobs",
    "CronJob": "/apis/batch/v1/cronjobs",
    "EndpointSlice": "/apis/discovery.k8s.io/v1/endpointslices",
}


def refs_of(obj: Obj) -> list[Obj]:
    return list((obj.get("metadata") or {}).get("ownerReferences") or [])


def finalizers_of(obj: Obj) -> list[str]:
    return list((obj.get("metadata") or {}).get("finalizers") or [])


class GarbageCollector(Controller):
    name = "garbage-collector-controller"
    workers = 5

    def __init__(self, ctx: ControllerContext):
        super().__init__(ctx)
        self.nodes: dict[str, tuple[str, Obj]] = {}  # uid → (collection, object)
        self.dependents: dict[str, set[str]] = {}  # owner uid → dependent uids
        for collection in COLLECTIONS.values():
            self._watch(collection)

    # --- the graph ------------------------------------------------------------------------------
    def _watch(self, collection: str) -> None:
        self.informer(collection).add_handler(
            lambda obj: self._upsert(collection, None, obj),
            lambda old, new: self._upsert(collection, old, new),
            self._removed)

    def _upsert(self, collection: str, old: Obj | None, obj: Obj) -> None:
        uid = obj["metadata"].get("uid", "")
        for ref in refs_of(old or {}):
            self.dependents.get(ref.get("uid", ""), set()).discard(uid)
        self.nodes[uid] = (collection, obj)
        for ref in refs_of(obj):
            self.dependents.setdefault(ref.get("uid", ""), set()).add(uid)
        meta = obj["metadata"]
        if refs_of(obj) or (meta.get("deletionTimestamp") and {ORPHAN, FOREGROUND} & set(finalizers_of(obj))):
            self.queue.add(uid)
        for ref in refs_of(obj):  # an owner waiting in foreground may be waiting for this one
            if ref.get("uid") in self.nodes:
                self.queue.add(ref["uid"])

    def _removed(self, obj: Obj) -> None:
        uid = obj["metadata"].get("uid", "")
        self.nodes.pop(uid, None)
        for ref in refs_of(obj):
            self.dependents.get(ref.get("uid", ""), set()).discard(uid)
            if ref.get("uid") in self.nodes:
                self.queue.add(ref["uid"])
        for dep in self.dependents.get(uid, set()):
            self.queue.add(dep)

    def dependents_of(self, uid: str) -> list[tuple[str, Obj]]:
        return [self.nodes[d] for d in sorted(self.dependents.get(uid, set())) if d in self.nodes]

    # --- reconcile ------------------------------------------------------------------------------
    async def reconcile(self, key: str) -> None:
        entry = self.nodes.get(key)
        if entry is None:
            return
        collection, obj = entry
        meta = obj["metadata"]
        if meta.get("deletionTimestamp"):
            if ORPHAN in finalizers_of(obj):
                await self._orphan_dependents(collection, obj)
                return
            if FOREGROUND in finalizers_of(obj):
                await self._delete_dependents(collection, obj)
                return
        if refs_of(obj):
            await self._check_owners(collection, obj)

    async def _orphan_dependents(self, collection: str, owner: Obj) -> None:
        for dep_collection, dep in self.dependents_of(owner["metadata"]["uid"]):
            await ownership.release(self.client, owner, dep, dep_collection)
        await self._drop_finalizer(collection, owner, ORPHAN)

    async def _delete_dependents(self, collection: str, owner: Obj) -> None:
        blocking = 0
        for dep_collection, dep in self.dependents_of(owner["metadata"]["uid"]):
            ref = next((r for r in refs_of(dep) if r.get("uid") == owner["metadata"]["uid"]), {})
            if ref.get("blockOwnerDeletion"):
                blocking += 1
            if not dep["metadata"].get("deletionTimestamp"):
                await self._delete(dep_collection, dep, "Foreground" if ref.get("blockOwnerDeletion") else "Background")
        if blocking == 0:
            await self._drop_finalizer(collection, owner, FOREGROUND)

    async def _check_owners(self, collection: str, obj: Obj) -> None:
        meta = obj["metadata"]
        if meta.get("deletionTimestamp"):
            return
        dangling, waiting = [], False
        for ref in refs_of(obj):
            state = await self._owner_state(ref, meta.get("namespace", ""))
            if state == "absent":
                dangling.append(ref)
            elif state == "foreground" and ref.get("blockOwnerDeletion"):
                waiting = True
        if waiting:
            await self._delete(collection, obj, "Foreground")
        elif dangling and len(dangling) == len(refs_of(obj)):
            await self._delete(collection, obj, "Background")
        elif dangling:
            gone = {r.get("uid") for r in dangling}
            patch = {"metadata": {"uid": meta["uid"],
                                  "ownerReferences": [r for r in refs_of(obj) if r.get("uid") not in gone]}}
            await self._patch(collection, obj, patch)

    async def _owner_state(self, ref: Obj, namespace: str) -> str:
        """"present", "foreground" (being deleted in foreground) or "absent"."""
        uid = ref.get("uid", "")
        entry = self.nodes.get(uid)
        owner = entry[1] if entry else None
        if owner is None:
            collection = COLLECTIONS.get(ref.get("kind", ""))
            if collection is None:
                return "present"
            try:
                owner = await self.client.get(object_path(collection, namespace, ref.get("name")))
            except StatusError as e:
                if e.code == 404:
                    return "absent"
                raise
            if owner["metadata"].get("uid") != uid:
                return "absent"
        if owner["metadata"].get("deletionTimestamp") and FOREGROUND in finalizers_of(owner):
            return "foreground"
        return "present"

    # --- writes ---------------------------------------------------------------------------------
    def _path(self, collection: str, obj: Obj) -> str:
        return object_path(collection, obj["metadata"].get("namespace", ""), obj["metadata"]["name"])

    async def _delete(self, collection: str, obj: Obj, policy: str) -> None:
        try:
            await self.client.delete(self._path(collection, obj), {
                "kind": "DeleteOptions", "apiVersion": "v1", "propagationPolicy": policy,
                "preconditions": {"uid": obj["metadata"]["uid"]}})
        except StatusError as e:
            if e.code not in (404, 409):
                raise

    async def _patch(self, collection: str, obj: Obj, patch: Obj) -> None:
        try:
            await self.client.merge_patch(self._path(collection, obj), patch)
        except StatusError as e:
            if e.code != 404:
                raise

    async def _drop_finalizer(self, collection: str, obj: Obj, finalizer: str) -> None:
        meta = obj["metadata"]
        left = [f for f in finalizers_of(obj) if f != finalizer]
        await self._patch(collection, obj, {"metadata": {"finalizers": left or None,
                                                         "resourceVersion": meta.get("resourceVersion")}})
