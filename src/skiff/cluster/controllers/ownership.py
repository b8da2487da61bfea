"""Claiming dependents by selector and controller ownerReference (kube's ControllerRefManager):
keep what we own and still select, adopt matching orphans, release what no longer matches."""

from __future__ import annotations

from typing import Any

from skiff.cluster.apimachinery.selectors import LabelSelector
from skiff.cluster.client.errors import StatusError
from skiff.cluster.client.informers import ApiClient
from skiff.cluster.controllers import podutil
from skiff.cluster.controllers.base import object_path

Obj = dict[str, Any]


async def claim(client: ApiClient, owner: Obj, selector: LabelSelector, candidates: list[Obj],
                collection: str) -> list[Obj]:
    uid = owner["metadata"]["uid"]
    deleting = bool(owner["metadata"].get("deletionTimestamp"))
    mine = []
    for obj in candidates:
        ref = podutil.controller_ref(obj)
        matches = selector.matches(obj["metadata"].get("labels"))
        if ref is not None:
            if ref.get("uid") != uid:
                continue
            if matches or deleting:
                mine.append(obj)
            else:
                await release(client, owner, obj, collection)
        elif matches and not deleting and not obj["metadata"].get("deletionTimestamp"):
            adopted = await adopt(client, owner, obj, collection)
            if adopted is not None:
                mine.append(adopted)
    return mine


def _path(obj: Obj, collection: str) -> str:
    return object_path(collection, obj["metadata"].get("namespace", ""), obj["metadata"]["name"])


async def adopt(client: ApiClient, owner: Obj, obj: Obj, collection: str) -> Obj | None:
    refs = list(obj["metadata"].get("ownerReferences") or []) + [podutil.owner_ref(owner)]
    patch = {"metadata": {"ownerReferences": refs, "resourceVersion": obj["metadata"].get("resourceVersion"),
                          "uid": obj["metadata"].get("uid")}}
    try:
        return await client.merge_patch(_path(obj, collection), patch)
    except StatusError as e:
        if e.code in (404, 409, 422):  # gone or changed: its next event brings it back
            return None
        raise


async def release(client: ApiClient, owner: Obj, obj: Obj, collection: str) -> None:
    uid = owner["metadata"]["uid"]
    refs = [r for r in obj["metadata"].get("ownerReferences") or [] if r.get("uid") != uid]
    patch = {"metadata": {"ownerReferences": refs or None, "uid": obj["metadata"].get("uid")}}
    try:
        await client.merge_patch(_path(obj, collection), patch)
    except StatusError as e:
        if e.code not in (404, 409, 422):
            raise
