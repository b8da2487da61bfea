"""JSON merge patch (RFC 7386), JSON patch (RFC 6902) and strategic merge patch.

All return a new object and never change their inputs. Strategic merge takes merge keys
and strategies from the kind's schema (a `fieldschema.SchemaNode`; None = no knowledge,
so lists are replaced as in a merge patch), and honours the directives kubectl sends:
`$patch: replace|delete|merge`, `$retainKeys`, `$deleteFromPrimitiveList/<field>` and
`$setElementOrder/<field>`.
"""

from __future__ import annotations

import copy
from typing import Any

from skiff.cluster.apimachinery.errors import ApiError, bad_request
from skiff.cluster.apimachinery.fieldschema import SchemaNode

MAX_JSON_PATCH_OPERATIONS = 10000


# ---- JSON merge patch ------------------------------------------------------------------------

def json_merge_patch(obj: Any, patch: Any) -> Any:
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = copy.deepcopy(obj) if isinstance(obj, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = json_merge_patch(result.get(key), value)
    return result


# ---- JSON patch ------------------------------------------------------------------------------

def _unprocessable(message: str) -> ApiError:
    return ApiError(422, "Invalid", message)


def _pointer(path: Any) -> list[str]:
    if not isinstance(path, str):
        raise bad_request(f"invalid JSON pointer: {path!r}")
    if path == "":
        return []
    if not path.startswith("/"):
        raise _unprocessable(f'JSON pointer must be empty or start with a "/": "{path}"')
    return [p.replace("~1", "/").replace("~0", "~") for p in path[1:].split("/")]


def _index(container: list[Any], token: str, path: str, allow_end: bool) -> int:
    if token == "-" and allow_end:
        return len(container)
    if not token.isdigit() or (len(token) > 1 and token.startswith("0")):
        raise _unprocessable(f'invalid array index "{token}" in path "{path}"')
    idx = int(token)
    if idx > len(container) or (idx == len(container) and not allow_end):
        raise _unprocessable(f"Unable to access invalid index: {idx}: invalid index referenced")
    return idx


def _parent(doc: Any, tokens: list[str], path: str) -> Any:
    current = doc
    for token in tokens[:-1]:
        if isinstance(current, dict):
            if token not in current:
                raise _unprocessable(f'doc is missing path: "{path}": missing value')
            current = current[token]
        elif isinstance(current, list):
            current = current[_index(current, token, path, False)]
        else:
            raise _unprocessable(f'doc is missing path: "{path}": missing value')
    return current


def _get(doc: Any, path: str) -> Any:
    tokens = _pointer(path)
    if not tokens:
        return doc
    parent = _parent(doc, tokens, path)
    last = tokens[-1]
    if isinstance(parent, dict):
        if last not in parent:
            raise _unprocessable(f'doc is missing path: "{path}": missing value')
        return parent[last]
    if isinstance(parent, list):
        return parent[_index(parent, last, path, False)]
    raise _unprocessable(f'doc is missing path: "{path}": missing value')


def _add(doc: Any, path: str, value: Any) -> Any:
    tokens = _pointer(path)
    if not tokens:
        return value
    parent = _parent(doc, tokens, path)
    last = tokens[-1]
    if isinstance(parent, dict):
        parent[last] = value
    elif isinstance(parent, list):
        parent.insert(_index(parent, last, path, True), value)
    else:
        raise _unprocessable(f'add operation does not apply: doc is missing path: "{path}": missing value')
    return doc


def _remove(doc: Any, path: str) -> tuple[Any, Any]:
    tokens = _pointer(path)
    if not tokens:
        raise _unprocessable("unable to remove the whole document")
    parent = _parent(doc, tokens, path)
    last = tokens[-1]
    if isinstance(parent, dict):
        if last not in parent:
            raise _unprocessable(f"Unable to remove nonexistent key: {last}: missing value")
        return doc, parent.pop(last)
    if isinstance(parent, list):
        return doc, parent.pop(_index(parent, last, path, False))
    raise _unprocessable(f'remove operation does not apply: doc is missing path: "{path}": missing value')


def _from(op: dict[str, Any]) -> str:
    source = op.get("from")
    if not isinstance(source, str):
        raise bad_request(f"missing from in {op.get('op')} operation")
    return source


def json_patch(obj: Any, ops: Any) -> Any:
    """Apply RFC 6902 operations; 400 for a malformed patch, 422 when one does not apply."""
    if not isinstance(ops, list):
        raise bad_request("json: cannot unmarshal object into Go value of type jsonpatch.Patch")
    if len(ops) > MAX_JSON_PATCH_OPERATIONS:
        raise ApiError(413, "RequestEntityTooLarge",
                       f"Request entity too large: The allowed maximum operations in a JSON patch is "
                       f"{MAX_JSON_PATCH_OPERATIONS}, got {len(ops)}")
    doc = copy.deepcopy(obj)
    for op in ops:
        if not isinstance(op, dict):
            raise bad_request("json: cannot unmarshal array into Go value of type jsonpatch.Operation")
        kind = op.get("op")
        path = op.get("path")
        if not isinstance(path, str):
            raise bad_request(f"missing or invalid path in {kind} operation")
        if kind in ("add", "replace", "test") and "value" not in op:
            raise _unprocessable(f"missing value for {kind} operation")
        if kind == "add":
            doc = _add(doc, path, copy.deepcopy(op["value"]))
        elif kind == "remove":
            doc, _ = _remove(doc, path)
        elif kind == "replace":
            _get(doc, path)  # must exist
            if _pointer(path):
                doc, _ = _remove(doc, path)
            doc = _add(doc, path, copy.deepcopy(op["value"]))
        elif kind == "move":
            source = _from(op)
            if path.startswith(source + "/"):
                raise _unprocessable(f'move operation does not apply: "{path}" is a child of "{source}"')
            doc, value = _remove(doc, source)
            doc = _add(doc, path, value)
        elif kind == "copy":
            doc = _add(doc, path, copy.deepcopy(_get(doc, _from(op))))
        elif kind == "test":
            if _get(doc, path) != op["value"]:
                raise _unprocessable(f"testing value {path} failed: test failed")
        else:
            raise bad_request(f"Unexpected kind: {kind}")
    return doc


# ---- strategic merge patch -------------------------------------------------------------------

DIRECTIVE = "$patch"
RETAIN_KEYS = "$retainKeys"
DELETE_FROM_PRIMITIVE = "$deleteFromPrimitiveList/"
SET_ELEMENT_ORDER = "$setElementOrder/"


def strip_directives(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: strip_directives(v) for k, v in value.items() if not k.startswith("$")}
    if isinstance(value, list):
        return [strip_directives(v) for v in value if not (isinstance(v, dict) and DIRECTIVE in v and len(v) <= 2
                                                           and v.get(DIRECTIVE) in ("replace", "delete"))]
    return value


def strategic_merge_patch(obj: dict[str, Any], patch: dict[str, Any], kind_schema: SchemaNode | None) -> dict[str, Any]:
    if not isinstance(patch, dict):
        raise bad_request("strategic merge patch must be a JSON object")
    result = _merge_map(copy.deepcopy(obj) if isinstance(obj, dict) else {}, patch, kind_schema)
    return result if result is not None else {}


def _merge_map(original: dict[str, Any], patch: dict[str, Any], node: SchemaNode | None) -> dict[str, Any] | None:
    directive = patch.get(DIRECTIVE)
    if directive == "replace":
        return strip_directives(patch)
    if directive == "delete":
        return None
    if directive not in (None, "merge"):
        raise bad_request(f"Unknown patch type: {directive}")
    for key, values in patch.items():
        if key.startswith(DELETE_FROM_PRIMITIVE):
            field = key[len(DELETE_FROM_PRIMITIVE):]
            if isinstance(original.get(field), list):
                original[field] = [v for v in original[field] if v not in (values or [])]
    for key, value in patch.items():
        if key.startswith("$"):
            continue
        child = node.child(key) if node is not None else None
        if value is None:
            original.pop(key, None)
        elif isinstance(value, dict) and not (child is not None and child.atomic):
            current = original.get(key)
            base: dict[str, Any] = current if isinstance(current, dict) else {}
            merged = _merge_map(base, value, child)
            if merged is None:
                original.pop(key, None)
            else:
                original[key] = merged
        elif isinstance(value, list) and child is not None and "merge" in child.patch_strategies:
            current_list = original.get(key)
            base_list: list[Any] = current_list if isinstance(current_list, list) else []
            order = patch.get(SET_ELEMENT_ORDER + key)
            original[key] = _merge_list(base_list, value, child, order)
        else:
            original[key] = strip_directives(copy.deepcopy(value))
    for key, order in patch.items():
        if key.startswith(SET_ELEMENT_ORDER):
            field = key[len(SET_ELEMENT_ORDER):]
            child = node.child(field) if node is not None else None
            if field not in patch and isinstance(original.get(field), list) and child is not None:
                original[field] = _reorder(original[field], order, child.merge_key)
    retain = patch.get(RETAIN_KEYS)
    if isinstance(retain, list):
        for key in list(original):
            if key not in retain:
                del original[key]
    return original


def _key_of(item: Any, merge_key: str) -> Any:
    return item.get(merge_key) if isinstance(item, dict) else item


def _merge_list(original: list[Any], patch: list[Any], node: SchemaNode, order: Any) -> list[Any]:
    merge_key = node.merge_key
    items = node.items()
    if any(isinstance(p, dict) and p.get(DIRECTIVE) == "replace" for p in patch):
        return strip_directives([p for p in patch if not (isinstance(p, dict) and p.get(DIRECTIVE) == "replace")])
    result = list(original)
    if not merge_key:  # a list of primitives merged as a set
        for value in patch:
            if value not in result:
                result.append(copy.deepcopy(value))
        return _reorder(result, order, "", original) if isinstance(order, list) else result
    for p in patch:
        if not isinstance(p, dict):
            raise bad_request(f"merging an object in json but data type is not map, got {p!r}")
        if merge_key not in p:
            shown = " ".join(f"{k}:{v}" for k, v in sorted(p.items()))
            raise bad_request(f"map: map[{shown}] does not contain declared merge key: {merge_key}")
        key = p.get(merge_key)
        if p.get(DIRECTIVE) == "delete":
            result = [r for r in result if _key_of(r, merge_key) != key]
            continue
        for i, r in enumerate(result):
            if isinstance(r, dict) and r.get(merge_key) == key:
                merged = _merge_map(copy.deepcopy(r), p, items)
                if merged is None:
                    result.pop(i)
                else:
                    result[i] = merged
                break
        else:
            result.append(strip_directives(copy.deepcopy(p)))
    return _reorder(result, order, merge_key, original) if isinstance(order, list) else result


def _reorder(items: list[Any], order: list[Any], merge_key: str, live: list[Any] | None = None) -> list[Any]:
    """$setElementOrder (strategicpatch's normalizeElementOrder): the listed elements in the
    patch's order; the others in their live order, each placed before the first listed
    element that came after it in the live list."""
    live_keys = [repr(_key_of(i, merge_key)) for i in (items if live is None else live)]
    wanted = [repr(_key_of(o, merge_key)) for o in order]

    def live_index(item: Any) -> int:
        key = repr(_key_of(item, merge_key))
        return live_keys.index(key) if key in live_keys else -1

    listed = sorted((i for i in items if repr(_key_of(i, merge_key)) in wanted),
                    key=lambda i: wanted.index(repr(_key_of(i, merge_key))))
    others = [i for i in items if repr(_key_of(i, merge_key)) not in wanted]
    others.sort(key=lambda i: (live_index(i) < 0, live_index(i)))
    out: list[Any] = []
    i = j = 0
    while i < len(others) or j < len(listed):
        if i >= len(others):
            out.append(listed[j])
            j += 1
        elif j >= len(listed):
            out.append(others[i])
            i += 1
        else:
            left, right = live_index(others[i]), live_index(listed[j])
            if left >= 0 and right >= 0 and left < right:
                out.append(others[i])
                i += 1
            else:
                out.append(listed[j])
                j += 1
    return out
