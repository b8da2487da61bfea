"""Field sets in the managedFields `FieldsV1` format (structured-merge-diff's paths).

A path is a tuple of path elements: `f:<field>` (struct field or map key),
`k:{"name":"c"}` (a list-map item by its keys), `v:<json>` (a set item) and `i:<n>`
(only for lists with no schema). A set holds leaves, list items and map nodes; FieldsV1
nests them, with `.` marking a member that also has members below it.
"""

from __future__ import annotations

import json
from typing import Any

from skiff.cluster.apimachinery.fieldschema import SchemaNode

Path = tuple[str, ...]

# Fields the server owns; apply and managedFields never track them (fieldmanager's stripmeta).
STRIPPED: frozenset[Path] = frozenset({
    ("f:apiVersion",), ("f:kind",), ("f:metadata", "f:name"), ("f:metadata", "f:namespace"),
    ("f:metadata", "f:uid"), ("f:metadata", "f:resourceVersion"), ("f:metadata", "f:generation"),
    ("f:metadata", "f:creationTimestamp"), ("f:metadata", "f:managedFields"), ("f:metadata", "f:selfLink"),
    ("f:metadata", "f:deletionTimestamp"), ("f:metadata", "f:deletionGracePeriodSeconds"),
    ("f:metadata", "f:generateName"),
})


def _compact(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def item_key(item: Any, keys: tuple[str, ...]) -> str:
    """`k:{"containerPort":80,"protocol":"TCP"}`: the key fields present, in schema order."""
    present = {k: item[k] for k in keys if isinstance(item, dict) and k in item}
    return "k:" + _compact(present)


class _Member:
    """The value recorded for a path that has members below it (a map, a list item)."""

    def __repr__(self) -> str:
        return "<member>"


MEMBER: Any = _Member()


def field_values(obj: Any, node: SchemaNode | None) -> dict[Path, Any]:
    """Every tracked path of `obj` with its value (MEMBER for paths with members below),
    server-owned metadata left out."""
    out: dict[Path, Any] = {}
    _walk(obj, node, (), out)
    return {p: v for p, v in out.items() if p[:2] not in STRIPPED and p[:1] not in STRIPPED}


def field_set(obj: Any, node: SchemaNode | None) -> set[Path]:
    return set(field_values(obj, node))


# Struct fields Go declares by value, not by pointer: present even when unset, so setting
# them sets only their fields. Other optional structs are pointers, whose setting is itself
# a member of the set (FieldsV1 shows it as ".").
_VALUE_STRUCTS = frozenset({
    "f:metadata", "f:spec", "f:status", "f:template", "f:strategy", "f:updateStrategy", "f:resources",
    "f:jobTemplate", "f:nodeInfo", "f:daemonEndpoints", "f:loadBalancer", "f:involvedObject", "f:source",
    "f:scaleTargetRef", "f:target", "f:current", "f:regarding", "f:describedObject", "f:metric", "f:typeMeta",
})


def _pointer_struct(path: Path) -> bool:
    last = path[-1]
    return last.startswith("f:") and last not in _VALUE_STRUCTS


def _walk(value: Any, node: SchemaNode | None, path: Path, out: dict[Path, Any]) -> None:
    if node is not None and node.atomic and path:
        out[path] = value
        return
    if isinstance(value, dict):
        if path and (not value or node is None or node.is_map or node.free_form or _pointer_struct(path)):
            out[path] = MEMBER if value else {}
        if node is not None and node.free_form and path:
            out[path] = value
            return
        for key, sub in value.items():
            _walk(sub, node.child(key) if node is not None else None, path + (f"f:{key}",), out)
    elif isinstance(value, list) and node is not None and node.list_type in ("map", "set"):
        items = node.items()
        for item in value:
            if node.list_type == "map":
                element = path + (item_key(item, node.list_map_keys),)
                out[element] = MEMBER
                _walk(item, items, element, out)
            else:
                out[path + ("v:" + _compact(item),)] = item
    elif path:
        out[path] = value


def value_at(obj: Any, path: Path) -> tuple[bool, Any]:
    """(found, value) of a path in an object."""
    current = obj
    for element in path:
        kind, _, rest = element.partition(":")
        if kind == "f":
            if not isinstance(current, dict) or rest not in current:
                return False, None
            current = current[rest]
        elif kind == "k":
            wanted = json.loads(rest)
            match = [i for i in current or [] if isinstance(i, dict)
                     and all(i.get(k) == v for k, v in wanted.items())] if isinstance(current, list) else []
            if not match:
                return False, None
            current = match[0]
        elif kind == "v":
            wanted = json.loads(rest)
            if not isinstance(current, list) or wanted not in current:
                return False, None
            current = wanted
        elif kind == "i":
            if not isinstance(current, list) or int(rest) >= len(current):
                return False, None
            current = current[int(rest)]
    return True, current


def remove_path(obj: Any, path: Path) -> None:
    """Delete what a path names from `obj` (a field, a list item, a set value)."""
    if not path:
        return
    found, parent = value_at(obj, path[:-1])
    if not found:
        return
    kind, _, rest = path[-1].partition(":")
    if kind == "f" and isinstance(parent, dict):
        parent.pop(rest, None)
    elif kind in ("k", "v") and isinstance(parent, list):
        wanted = json.loads(rest)
        for i, item in enumerate(parent):
            hit = (isinstance(item, dict) and all(item.get(k) == v for k, v in wanted.items())) if kind == "k" \
                else item == wanted
            if hit:
                del parent[i]
                return


def to_fields_v1(paths: set[Path]) -> dict[str, Any]:
    root: dict[str, Any] = {}
    for path in sorted(paths):
        node = root
        for element in path:
            node = node.setdefault(element, {})
    # a member that has children is marked with "."
    for path in paths:
        node = root
        for element in path:
            node = node[element]
        if node and "." not in node:
            node["."] = {}
    return _sorted(root)


def _sorted(tree: dict[str, Any]) -> dict[str, Any]:
    return {k: _sorted(tree[k]) for k in sorted(tree, key=lambda k: (k != ".", k))}


def from_fields_v1(tree: dict[str, Any] | None) -> set[Path]:
    out: set[Path] = set()

    def walk(node: dict[str, Any], path: Path) -> None:
        if path and (not node or "." in node):
            out.add(path)
        for key, sub in node.items():
            if key != ".":
                walk(sub or {}, path + (key,))

    walk(tree or {}, ())
    return out


def path_text(path: Path) -> str:
    """How a conflict names a field: `.spec.containers[name="nginx"].image`."""
    out = ""
    for element in path:
        kind, _, rest = element.partition(":")
        if kind == "f":
            out += "." + rest
        elif kind == "k":
            pairs = json.loads(rest)
            out += "[" + ",".join(f"{k}={_compact(v)}" for k, v in pairs.items()) + "]"
        elif kind == "v":
            out += f"[={rest}]"
        else:
            out += f"[{rest}]"
    return out
