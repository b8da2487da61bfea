"""The strategic merge patch client-side `kubectl apply` sends for built-in kinds: a three-way
diff (last applied, new configuration, live object) walked along the kind's OpenAPI schema.

Lists the schema marks `patchStrategy: merge` are diffed element by element by their merge key:
changed elements carry only their changes, dropped ones a `$patch: delete`, and
`$setElementOrder/<field>` keeps the configuration's order; primitive merge lists send the
additions and `$deleteFromPrimitiveList/<field>`. Other lists are replaced whole, and only when
the configuration changed them (the live copy holds server defaults). Pure: the schema is a
`SchemaNode`, None meaning unknown (then everything below is handled as JSON merge patch does).
"""

from __future__ import annotations

from typing import Any

from skiff.cluster.apimachinery.fieldschema import SchemaNode


def three_way(original: dict[str, Any] | None, modified: dict[str, Any], live: dict[str, Any],
              node: SchemaNode | None) -> dict[str, Any]:
    return _map(original or {}, modified, live if isinstance(live, dict) else {}, node)


def _map(original: dict[str, Any], modified: dict[str, Any], live: dict[str, Any],
         node: SchemaNode | None) -> dict[str, Any]:
    patch: dict[str, Any] = {}
    for key, want in modified.items():
        have = live.get(key)
        before = original.get(key)
        child = node.child(key) if node is not None else None
        if isinstance(want, dict) and isinstance(have, dict):
            sub = _map(before if isinstance(before, dict) else {}, want, have, child)
            if sub:
                patch[key] = sub
        elif isinstance(want, list) and child is not None and "merge" in child.patch_strategies:
            _merge_list(patch, key, before if isinstance(before, list) else [], want,
                        have if isinstance(have, list) else [], child)
        elif isinstance(want, list):
            if (want != before or have is None) and want != have:
                patch[key] = want
        elif want != have:
            patch[key] = want
    for key in original:
        if key not in modified and key in live:
            patch[key] = None
    return patch


def _merge_list(patch: dict[str, Any], key: str, before: list[Any], want: list[Any], have: list[Any],
                node: SchemaNode) -> None:
    merge_key = node.merge_key
    if not merge_key or not all(isinstance(i, dict) for i in want):
        added = [v for v in want if v not in have]
        removed = [v for v in before if v not in want and v in have]
        if added:
            patch[key] = added
        if removed:
            patch[f"$deleteFromPrimitiveList/{key}"] = removed
        if added or removed:
            patch[f"$setElementOrder/{key}"] = list(want)
        return
    live_by_key = {i.get(merge_key): i for i in have if isinstance(i, dict)}
    before_by_key = {i.get(merge_key): i for i in before if isinstance(i, dict)}
    wanted_keys = {i.get(merge_key) for i in want}
    entries: list[dict[str, Any]] = []
    items = node.items()
    for item in want:
        k = item.get(merge_key)
        current = live_by_key.get(k)
        if current is None:
            entries.append(item)
            continue
        sub = _map(before_by_key.get(k) or {}, item, current, items)
        if sub:
            entries.append({merge_key: k, **sub})
    for k in before_by_key:
        if k not in wanted_keys and k in live_by_key:
            entries.append({merge_key: k, "$patch": "delete"})
    if entries:
        patch[key] = entries
        patch[f"$setElementOrder/{key}"] = [{merge_key: i.get(merge_key)} for i in want]
