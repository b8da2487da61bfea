"""Served versus stored versions: one storage shape per kind, converted on the way in and out.

A kind served in several versions is stored in one of them, as kube-apiserver's storage
version: HorizontalPodAutoscalers as autoscaling/v2 (autoscaling/v1 requests see them
through `conversion`), and Events as core/v1 under /registry/events/ (events.k8s.io/v1
shares that storage). Objects are converted to the request's version before anything
(patches, admission, validation) sees them, and back to the storage version when written.
"""

from __future__ import annotations

from typing import Any

from skiff.cluster.api import registry
from skiff.cluster.api.conversion import convert
from skiff.cluster.api.registry import Resource

Obj = dict[str, Any]

# (group, kind) -> (storage group, storage version)
_STORAGE = {
    ("autoscaling", "HorizontalPodAutoscaler"): ("autoscaling", "v2"),
    ("events.k8s.io", "Event"): ("", "v1"),
}


def storage_resource(res: Resource) -> Resource:
    """The resource whose version and storage prefix objects of `res` are kept in."""
    target = _STORAGE.get((res.group, res.kind))
    if target is None or (res.group, res.version) == target:
        return res
    found = registry.find_kind(target[0], target[1], res.kind)
    return found if found is not None else res


def storage_group(res: Resource) -> str:
    """The group whose storage prefix holds `res` (events.k8s.io Events live with core Events)."""
    return storage_resource(res).group


def to_storage(res: Resource, obj: Obj) -> Obj:
    """`obj`, written through `res`, in its storage version."""
    stored = storage_resource(res)
    return obj if stored is res else convert(obj, stored)


def to_served(res: Resource, obj: Obj) -> Obj:
    """A stored object as `res`'s version presents it, apiVersion and kind set."""
    out = convert(obj, res)
    out["apiVersion"] = res.group_version
    out["kind"] = res.kind
    return out
