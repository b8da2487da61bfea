"""How objects leave the server: as they are, as a server-side Table, or as metadata only."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from skiff.cluster.api import printers
from skiff.cluster.apimachinery.errors import not_acceptable
from skiff.cluster.apiserver.call import Call

INCLUDE_OBJECT = ("None", "Metadata", "Object")


def partial_metadata(obj: dict[str, Any]) -> dict[str, Any]:
    return {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": obj.get("metadata", {})}


def table(call: Call, objs: list[dict[str, Any]], list_meta: dict[str, Any] | None) -> dict[str, Any]:
    """A meta.k8s.io/v1 Table of the objects; rows carry what includeObject asks (default: metadata)."""
    include = call.query.get("includeObject", "Metadata") or "Metadata"
    if include not in INCLUDE_OBJECT:
        raise not_acceptable(f"includeObject must be one of None, Metadata, Object, got {include!r}")
    out = printers.table(call.res, objs, True, datetime.now(UTC))
    for row, obj in zip(out.get("rows", []), objs, strict=False):
        if include == "None":
            row.pop("object", None)
        elif include == "Metadata":
            row["object"] = partial_metadata(obj)
        else:
            row["object"] = obj
    out["kind"], out["apiVersion"] = "Table", "meta.k8s.io/v1"
    if list_meta is None:
        list_meta = {"resourceVersion": objs[0]["metadata"].get("resourceVersion", "")} if objs else {}
    out["metadata"] = list_meta
    return out


def render_one(call: Call, obj: dict[str, Any]) -> dict[str, Any]:
    obj = call.stamp(obj)
    if call.wanted.as_kind == "Table":
        return table(call, [obj], None)
    if call.wanted.as_kind.startswith("PartialObjectMetadata"):
        return partial_metadata(obj)
    return obj


def render_list(call: Call, objs: list[dict[str, Any]], list_meta: dict[str, Any]) -> dict[str, Any]:
    objs = [call.stamp(obj) for obj in objs]
    if call.wanted.as_kind == "Table":
        return table(call, objs, list_meta)
    if call.wanted.as_kind.startswith("PartialObjectMetadata"):
        return {"kind": "PartialObjectMetadataList", "apiVersion": "meta.k8s.io/v1", "metadata": list_meta,
                "items": [partial_metadata(o) for o in objs]}
    return {"kind": call.res.list_kind, "apiVersion": call.res.group_version, "metadata": list_meta,
            "items": objs}
