"""Server-side apply and managedFields bookkeeping (what fieldmanager does).

Each managedFields entry records which fields a manager set, per (manager, operation,
subresource). An apply merges the applied configuration into the live object, removes
fields this manager applied before and no longer applies (unless someone else owns them),
and fails with 409 naming the other manager when it would change a field that manager
owns — unless forced, which moves the ownership.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

from skiff.cluster.apimachinery import fieldset
from skiff.cluster.apimachinery.errors import apply_conflict, bad_request
from skiff.cluster.apimachinery.fieldschema import SchemaNode
from skiff.cluster.apimachinery.fieldset import Path
from skiff.cluster.apimachinery.meta import now_rfc3339
from skiff.cluster.apimachinery.patch import strip_directives

Obj = dict[str, Any]

# Finds a kind's schema from apiVersion and kind when a caller passes none; cluster/api
# registers it (apimachinery cannot import the kinds), so managedFields always know the
# list types and atomic fields.
SchemaLookup = Callable[[str, str], SchemaNode | None]
_schema_lookup: SchemaLookup | None = None


def use_schema_lookup(lookup: SchemaLookup) -> None:
    global _schema_lookup
    _schema_lookup = lookup


def _schema(obj: Obj | None, given: SchemaNode | None) -> SchemaNode | None:
    if given is not None or _schema_lookup is None or not obj:
        return given
    return _schema_lookup(str(obj.get("apiVersion", "")), str(obj.get("kind", "")))


class Entry:
    __slots__ = ("manager", "operation", "api_version", "time", "subresource", "fields")

    def __init__(self, manager: str, operation: str, api_version: str, time: str, subresource: str,
                 fields: set[Path]):
        self.manager, self.operation, self.api_version = manager, operation, api_version
        self.time, self.subresource, self.fields = time, subresource, fields

    @classmethod
    def parse(cls, raw: Obj) -> Entry:
        return cls(raw.get("manager", ""), raw.get("operation", "Update"), raw.get("apiVersion", ""),
                   raw.get("time", ""), raw.get("subresource", ""), fieldset.from_fields_v1(raw.get("fieldsV1")))

    def same_owner(self, manager: str, operation: str, subresource: str) -> bool:
        return (self.manager, self.operation, self.subresource) == (manager, operation, subresource)

    def printed(self) -> str:
        """How a conflict names this manager (fieldmanager's printManager)."""
        text = f'"{self.manager}"'
        if self.subresource:
            text += f' with subresource "{self.subresource}"'
        if self.operation == "Update":
            text += f" using {self.api_version}"
        return text

    def dump(self) -> Obj:
        out: Obj = {"manager": self.manager, "operation": self.operation, "apiVersion": self.api_version}
        if self.time:
            out["time"] = self.time
        out["fieldsType"] = "FieldsV1"
        out["fieldsV1"] = fieldset.to_fields_v1(self.fields)
        if self.subresource:
            out["subresource"] = self.subresource
        return out


def read_entries(obj: Obj | None) -> list[Entry]:
    raw = ((obj or {}).get("metadata") or {}).get("managedFields") or []
    return [Entry.parse(e) for e in raw if isinstance(e, dict)]


def write_entries(obj: Obj, entries: list[Entry]) -> None:
    kept = [e.dump() for e in entries if e.fields]
    md = obj.setdefault("metadata", {})
    if kept:
        md["managedFields"] = kept
    else:
        md.pop("managedFields", None)


def _tracked(values: dict[Path, Any], subresource: str) -> dict[Path, Any]:
    """The fields an operation may own: a main-resource write never owns status (the server
    resets it), a status write owns only status."""
    if subresource == "status":
        return {p: v for p, v in values.items() if p[0] == "f:status"}
    return {p: v for p, v in values.items() if p[0] != "f:status"}


def _parents(paths: Any) -> set[Path]:
    return {p[:i] for p in paths for i in range(1, len(p))}


def _changed(old: dict[Path, Any], new: dict[Path, Any]) -> set[Path]:
    """Paths added, and leaves whose value differs."""
    return {p for p, v in new.items() if p not in old or (v is not fieldset.MEMBER and old[p] != v)}


def update_managed_fields(old: Obj | None, new: Obj, manager: str, operation: str = "Update",
                          kind_schema: SchemaNode | None = None, subresource: str = "",
                          now: datetime | None = None) -> None:
    """Record in new.metadata.managedFields that `manager` set what changed from old to new."""
    kind_schema = _schema(new, kind_schema)
    new_md = new.setdefault("metadata", {})
    if "managedFields" not in new_md and old is not None:
        entries = read_entries(old)
    else:
        entries = read_entries(new)
    old_values = _tracked(fieldset.field_values(old, kind_schema), subresource) if old is not None else {}
    new_values = _tracked(fieldset.field_values(new, kind_schema), subresource)
    changed = _changed(old_values, new_values)
    removed = set(old_values) - set(new_values)
    mine = None
    for entry in entries:
        entry.fields -= removed
        if entry.same_owner(manager, operation, subresource):
            mine = entry
        else:
            entry.fields -= changed
    if changed:
        stamp = now_rfc3339(now)
        if mine is None:
            mine = Entry(manager, operation, str(new.get("apiVersion", "")), stamp, subresource, set())
            entries.append(mine)
        mine.fields |= changed
        mine.time = stamp
        mine.api_version = str(new.get("apiVersion", mine.api_version))
    write_entries(new, entries)


# ---- apply -----------------------------------------------------------------------------------

def _find_item(items: list[Any], item: Any, keys: tuple[str, ...]) -> int:
    for i, candidate in enumerate(items):
        if isinstance(candidate, dict) and isinstance(item, dict) and all(
                candidate.get(k) == item[k] for k in keys if k in item):
            return i
    return -1


def merge_applied(live: Any, applied: Any, node: SchemaNode | None) -> Any:
    """The applied configuration laid over the live object, list items matched by their keys."""
    if isinstance(applied, dict) and not (node is not None and node.atomic):
        result = copy.deepcopy(live) if isinstance(live, dict) else {}
        for key, value in applied.items():
            if value is None:
                result.pop(key, None)
            else:
                result[key] = merge_applied(result.get(key), value, node.child(key) if node else None)
        return result
    if isinstance(applied, list) and node is not None and node.list_type in ("map", "set"):
        result_list = copy.deepcopy(live) if isinstance(live, list) else []
        items = node.items()
        for item in applied:
            if node.list_type == "set":
                if item not in result_list:
                    result_list.append(copy.deepcopy(item))
                continue
            i = _find_item(result_list, item, node.list_map_keys)
            if i >= 0:
                result_list[i] = merge_applied(result_list[i], item, items)
            else:
                result_list.append(copy.deepcopy(item))
        return result_list
    return copy.deepcopy(applied)


def server_side_apply(live: Obj | None, applied: Obj, manager: str, force: bool,
                      kind_schema: SchemaNode | None, subresource: str = "",
                      now: datetime | None = None) -> Obj:
    """The object after `manager` applies `applied`; ApiError 409 on conflicts unless forced."""
    if not manager:
        raise bad_request("PATCH, application/apply-patch+yaml requests must have a fieldManager")
    if not isinstance(applied, dict):
        raise bad_request("apply configuration must be an object")
    applied = strip_directives(applied)
    kind_schema = _schema(applied, kind_schema)
    applied_md = applied.get("metadata") or {}
    if applied_md.get("managedFields"):
        raise bad_request("metadata.managedFields must be nil")
    applied_values = _tracked(fieldset.field_values(applied, kind_schema), subresource)
    applied_set = set(applied_values)
    applied_parents = _parents(applied_set)
    entries = read_entries(live)
    base: Obj = copy.deepcopy(live) if live is not None else {}

    conflicts: list[tuple[Entry, Path]] = []
    for entry in entries:
        if entry.same_owner(manager, "Apply", subresource):
            continue
        for path in entry.fields & applied_set:
            if path in applied_parents:
                continue  # only leaves carry values that can conflict
            found, live_value = fieldset.value_at(base, path)
            if found and live_value != applied_values[path]:
                conflicts.append((entry, path))
    if conflicts and not force:
        conflicts.sort(key=lambda c: (c[0].manager, fieldset.path_text(c[1])))
        raise apply_conflict([(e.printed(), fieldset.path_text(p)) for e, p in conflicts])
    for entry, path in conflicts:
        entry.fields.discard(path)

    result = merge_applied(base, applied, kind_schema)
    mine = next((e for e in entries if e.same_owner(manager, "Apply", subresource)), None)
    if mine is not None:
        others: set[Path] = set()
        for entry in entries:
            if entry is not mine:
                others |= entry.fields
        removed: list[Path] = []
        kept_parents = _parents(others | applied_set)
        for path in sorted(mine.fields - applied_set - others, key=len):
            if any(path[:len(r)] == r for r in removed):
                continue  # its parent is gone already
            if any(path[:i] in applied_set and path[:i] not in applied_parents for i in range(1, len(path))):
                continue  # inside something still applied as a whole (an atomic selector)
            if path not in kept_parents:
                fieldset.remove_path(result, path)
                removed.append(path)
    else:
        mine = Entry(manager, "Apply", "", "", subresource, set())
        entries.append(mine)
    api_version = str(applied.get("apiVersion") or result.get("apiVersion", ""))
    for key in ("apiVersion", "kind"):
        if key in applied:
            result[key] = applied[key]
    unchanged = (mine.fields == applied_set and mine.api_version == api_version and not conflicts
                 and _without_managed(result) == _without_managed(base))
    mine.fields = applied_set
    mine.api_version = api_version
    if not unchanged or not mine.time:
        mine.time = now_rfc3339(now)  # a no-op apply leaves the object exactly as it was
    write_entries(result, entries)
    return result


def _without_managed(obj: Obj) -> Obj:
    md = {k: v for k, v in (obj.get("metadata") or {}).items() if k != "managedFields"}
    return {**obj, "metadata": md}


def dump_fields(obj: Obj) -> str:
    """managedFields as compact JSON (for debugging and tests)."""
    return json.dumps(((obj.get("metadata") or {}).get("managedFields") or []), sort_keys=True)
