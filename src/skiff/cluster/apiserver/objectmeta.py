"""The metadata rules every kind shares (rest.BeforeCreate / BeforeUpdate upstream). Pure functions."""

from __future__ import annotations

from typing import Any

from skiff.cluster.api.registry import Resource
from skiff.cluster.apimachinery import fielderrors
from skiff.cluster.apimachinery.errors import ApiError, bad_request, invalid
from skiff.cluster.apimachinery.meta import generate_name, metadata, new_uid, now_rfc3339

SYSTEM_FIELDS = ("uid", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds",
                 "generation", "selfLink", "resourceVersion")


def check_type(res: Resource, obj: dict[str, Any]) -> None:
    """apiVersion and kind, when given, must be this endpoint's (a missing one is filled in)."""
    api_version, kind = obj.get("apiVersion"), obj.get("kind")
    group_of = (api_version or "").rpartition("/")[0]
    if api_version and group_of != res.group:
        raise bad_request(f"the API version in the data ({api_version}) does not match the expected API "
                          f"version ({res.group_version})")
    if kind and kind != res.kind:
        raise bad_request(f"the kind in the data ({kind}) does not match the expected kind ({res.kind})")
    if not isinstance(obj.get("metadata", {}), dict):
        raise bad_request(f'unable to decode "metadata": json: cannot unmarshal into Go struct field '
                          f"{res.kind}.metadata of type v1.ObjectMeta")
    obj["apiVersion"], obj["kind"] = res.group_version, res.kind


def check_namespace(res: Resource, obj: dict[str, Any], namespace: str) -> None:
    meta = metadata(obj)
    if not res.namespaced:
        meta.pop("namespace", None)
        return
    given = meta.get("namespace") or ""
    if given and namespace and given != namespace:
        raise bad_request("the namespace of the provided object does not match the namespace sent on the request")
    meta["namespace"] = namespace or given


def fill_on_create(res: Resource, obj: dict[str, Any]) -> None:
    meta = metadata(obj)
    for f in SYSTEM_FIELDS:
        meta.pop(f, None)
    if not meta.get("name") and meta.get("generateName"):
        meta["name"] = generate_name(meta["generateName"])
    if not meta.get("name"):
        raise invalid(res.kind, "", [fielderrors.required("metadata.name", "name or generateName is required")],
                      res.group)
    meta["uid"] = new_uid()
    meta["creationTimestamp"] = now_rfc3339()


def carry_on_update(res: Resource, new: dict[str, Any], old: dict[str, Any]) -> None:
    """Fields a client cannot change through an update keep their stored values."""
    meta, old_meta = metadata(new), old["metadata"]
    if meta.get("name") != old_meta.get("name"):
        raise bad_request(f'the name of the object ({meta.get("name")}) does not match the name on the URL '
                          f'({old_meta.get("name")})')
    for f in ("uid", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds", "selfLink"):
        if f in old_meta:
            meta[f] = old_meta[f]
        else:
            meta.pop(f, None)
    if "generation" in old_meta:
        # A client cannot move it back; the kind's strategy (or a scale) bumps it when the spec changes.
        meta["generation"] = max(int(meta.get("generation") or 0), int(old_meta["generation"]))
    else:
        meta.pop("generation", None)
    if meta.get("deletionTimestamp"):
        added = set(meta.get("finalizers") or []) - set(old_meta.get("finalizers") or [])
        if added:
            raise invalid(res.kind, meta["name"], [fielderrors.forbidden(
                "metadata.finalizers", "no new finalizers can be added if the object is being deleted, "
                f"found new finalizers {sorted(added)!r}".replace("'", '"'))], res.group)


def finished_deleting(obj: dict[str, Any]) -> bool:
    """True when an object marked for deletion has no finalizers left (and so must go)."""
    meta = obj.get("metadata") or {}
    if not meta.get("deletionTimestamp") or meta.get("finalizers"):
        return False
    if obj.get("kind") == "Namespace" and (obj.get("spec") or {}).get("finalizers"):
        return False
    return True


def precondition_error(res: Resource, name: str, what: str, want: str, have: str) -> ApiError:
    from skiff.cluster.apimachinery.errors import conflict

    label = "UID" if what == "uid" else "ResourceVersion"
    return conflict(res.plural, name, f"Precondition failed: {label} in precondition: {want}, "
                    f"{label} in object meta: {have}", res.group)
