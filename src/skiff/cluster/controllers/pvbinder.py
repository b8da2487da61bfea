"""The PersistentVolume binder with a hostPath provisioner (what k3s's local-path provisioner
gives a single-node cluster): a Pending claim is bound to the smallest Available volume of its
storage class with enough capacity and the access modes it asks for; when none fits, a
hostPath volume `pvc-<claim uid>` under `root` is made for it (reclaimPolicy Delete). A
volume whose claim is gone is deleted (Delete) or marked Released (Retain).

The API serves no StorageClass kind yet, so every class is provisioned the same way.
"""

from __future__ import annotations

from typing import Any

from skiff.cluster.apimachinery.quantity import parse_quantity
from skiff.cluster.client.errors import StatusError
from skiff.cluster.controllers.base import Controller, ControllerContext, object_path

PVS = "/api/v1/persistentvolumes"
PVCS = "/api/v1/persistentvolumeclaims"
ROOT = "/var/lib/skiff/storage"
PROVISIONER = "skiff.io/hostpath"
Obj = dict[str, Any]


def requested(claim: Obj) -> float:
    text = (((claim.get("spec") or {}).get("resources") or {}).get("requests") or {}).get("storage") or "0"
    return float(parse_quantity(str(text)))


def capacity(pv: Obj) -> float:
    return float(parse_quantity(str(((pv.get("spec") or {}).get("capacity") or {}).get("storage") or "0")))


def class_of(obj: Obj) -> str:
    return (obj.get("spec") or {}).get("storageClassName") or ""


def fits(pv: Obj, claim: Obj) -> bool:
    spec = pv.get("spec") or {}
    ref = spec.get("claimRef")
    if ref is not None:
        cmeta = claim["metadata"]
        return ref.get("name") == cmeta["name"] and ref.get("namespace") == cmeta["namespace"] and \
            ref.get("uid") in (None, "", cmeta.get("uid"))
    if (pv.get("status") or {}).get("phase", "Available") != "Available":
        return False
    modes = set((claim.get("spec") or {}).get("accessModes") or [])
    return class_of(pv) == class_of(claim) and modes <= set(spec.get("accessModes") or []) and \
        capacity(pv) >= requested(claim)


def best_volume(pvs: list[Obj], claim: Obj) -> Obj | None:
    """A volume pre-bound to this claim first, else the smallest one that fits."""
    fitting = [pv for pv in pvs if fits(pv, claim)]
    fitting.sort(key=lambda pv: ((pv.get("spec") or {}).get("claimRef") is None, capacity(pv)))
    return fitting[0] if fitting else None


def provisioned_volume(claim: Obj, root: str) -> Obj:
    meta, spec = claim["metadata"], claim.get("spec") or {}
    name = f"pvc-{meta['uid']}"
    size = (((spec.get("resources") or {}).get("requests") or {}).get("storage")) or "1Gi"
    pv: Obj = {"apiVersion": "v1", "kind": "PersistentVolume",
               "metadata": {"name": name, "annotations": {"pv.kubernetes.io/provisioned-by": PROVISIONER}},
               "spec": {"capacity": {"storage": size}, "accessModes": spec.get("accessModes") or ["ReadWriteOnce"],
                        "persistentVolumeReclaimPolicy": "Delete",
                        "hostPath": {"path": f"{root}/{meta['namespace']}_{meta['name']}_{name}",
                                     "type": "DirectoryOrCreate"},
                        "claimRef": claim_ref(claim)}}
    if class_of(claim):
        pv["spec"]["storageClassName"] = class_of(claim)
    return pv


def claim_ref(claim: Obj) -> Obj:
    meta = claim["metadata"]
    return {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "namespace": meta["namespace"],
            "name": meta["name"], "uid": meta.get("uid"), "resourceVersion": meta.get("resourceVersion")}


class PersistentVolumeBinder(Controller):
    name = "persistentvolume-binder-controller"

    def __init__(self, ctx: ControllerContext):
        super().__init__(ctx)
        self.root = str(ctx.options.get("pv-hostpath-root", ROOT))
        self.claims = self.informer(PVCS)
        self.volumes = self.informer(PVS)
        self.claims.add_handler(self._claim, lambda old, new: self._claim(new), lambda c: self._volumes_changed())
        self.volumes.add_handler(lambda pv: self._volumes_changed(), lambda old, new: self._volumes_changed())

    def _claim(self, claim: Obj) -> None:
        self.queue.add("claim:" + claim["metadata"]["namespace"] + "/" + claim["metadata"]["name"])

    def _volumes_changed(self) -> None:
        self.queue.add("volumes")
        for claim in self.claims.list():
            if (claim.get("status") or {}).get("phase") != "Bound":
                self._claim(claim)

    async def reconcile(self, key: str) -> None:
        if key == "volumes":
            await self._release_volumes()
            return
        claim = self.claims.get(key.removeprefix("claim:"))
        if claim is None or claim["metadata"].get("deletionTimestamp"):
            return
        if (claim.get("status") or {}).get("phase") == "Bound":
            return
        pv = best_volume(self.volumes.list(), claim)
        if pv is None:
            try:
                pv = await self.client.create(PVS, provisioned_volume(claim, self.root))
            except StatusError as e:
                if e.code != 409:
                    raise
                pv = await self.client.get(object_path(PVS, "", f"pvc-{claim['metadata']['uid']}"))
        await self._bind(pv, claim)

    async def _bind(self, pv: Obj, claim: Obj) -> None:
        name = pv["metadata"]["name"]
        if not (pv.get("spec") or {}).get("claimRef"):
            pv = await self.client.merge_patch(object_path(PVS, "", name), {"spec": {"claimRef": claim_ref(claim)}})
        await self.client.merge_patch(object_path(PVS, "", name, "status"), {"status": {"phase": "Bound"}})
        cmeta = claim["metadata"]
        path = object_path(PVCS, cmeta["namespace"], cmeta["name"])
        if (claim.get("spec") or {}).get("volumeName") != name:
            await self.client.merge_patch(path, {"spec": {"volumeName": name}, "metadata": {"annotations": {
                "pv.kubernetes.io/bind-completed": "yes", "pv.kubernetes.io/bound-by-controller": "yes"}}})
        spec = pv.get("spec") or {}
        await self.client.merge_patch(path + "/status", {"status": {
            "phase": "Bound", "accessModes": spec.get("accessModes"), "capacity": spec.get("capacity")}})

    async def _release_volumes(self) -> None:
        for pv in self.volumes.list():
            ref = (pv.get("spec") or {}).get("claimRef")
            phase = (pv.get("status") or {}).get("phase")
            if ref is None or phase in ("Released", "Failed"):
                continue
            claim = self.claims.get(f"{ref.get('namespace')}/{ref.get('name')}")
            if claim is not None and (not ref.get("uid") or claim["metadata"].get("uid") == ref.get("uid")):
                continue
            if phase != "Bound":
                continue  # pre-bound to a claim not made yet
            name = pv["metadata"]["name"]
            try:
                if (pv.get("spec") or {}).get("persistentVolumeReclaimPolicy") == "Delete":
                    await self.client.delete(object_path(PVS, "", name))
                else:
                    await self.client.merge_patch(object_path(PVS, "", name, "status"),
                                                  {"status": {"phase": "Released"}})
            except StatusError as e:
                if e.code != 404:
                    raise
