"""ControllerRevisions for DaemonSets and StatefulSets: one per pod template, named
`<owner>-<template hash>`, numbered in order of use. Going back to an older template renumbers
its revision as the newest, which is what `kubectl rollout history` and `rollout undo` read."""

from __future__ import annotations

from typing import Any

from skiff.cluster.client.errors import StatusError
from skiff.cluster.client.informers import ApiClient, Informer
from skiff.cluster.controllers import podutil
from skiff.cluster.controllers.base import object_path

REVISIONS = "/apis/apps/v1/controllerrevisions"
Obj = dict[str, Any]


def revision_data(template: Obj) -> Obj:
    """What kubectl applies on undo: the template, replacing the current one wholesale."""
    return {"spec": {"template": {**template, "$patch": "replace"}}}


def owned(revisions: Informer, owner: Obj) -> list[Obj]:
    uid = owner["metadata"]["uid"]
    return [r for r in revisions.list(owner["metadata"]["namespace"])
            if (ref := podutil.controller_ref(r)) is not None and ref.get("uid") == uid]


async def ensure(client: ApiClient, revisions: Informer, owner: Obj, name: str) -> None:
    """The revision `name` holds the owner's current template and has the highest number."""
    ns = owner["metadata"]["namespace"]
    mine = owned(revisions, owner)
    top = max((int(r.get("revision") or 0) for r in mine), default=0)
    existing = next((r for r in mine if r["metadata"]["name"] == name), None)
    if existing is not None:
        if int(existing.get("revision") or 0) < top:  # rolled back to it: it is the newest again
            await client.merge_patch(object_path(REVISIONS, ns, name), {"revision": top + 1})
        return
    template = (owner.get("spec") or {}).get("template") or {}
    body = {"apiVersion": "apps/v1", "kind": "ControllerRevision",
            "metadata": {"name": name, "labels": dict(((owner.get("spec") or {}).get("selector") or {})
                                                      .get("matchLabels") or {}),
                         "ownerReferences": [podutil.owner_ref(owner)]},
            "data": revision_data(template), "revision": top + 1}
    try:
        await client.create(object_path(REVISIONS, ns, None), body)
    except StatusError as e:
        if e.code != 409:
            raise


def template_of(revision: Obj | None) -> Obj | None:
    template = dict((((revision or {}).get("data") or {}).get("spec") or {}).get("template") or {})
    template.pop("$patch", None)
    return template or None
