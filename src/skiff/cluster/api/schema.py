"""The official Kubernetes 1.32 schemas (shipped by the `kubernetes-validate` package).

Used for what the Go decoder does before any validation runs: type errors
(`json: cannot unmarshal string into Go struct field DeploymentSpec.spec.replicas of type
int32`) and unknown fields (`unknown field "spec.containers[0].containersPort"`), and for
the patch strategies and merge keys strategic merge patch needs.
"""

from __future__ import annotations

import functools
import importlib.resources
from typing import Any

import orjson

from skiff.cluster.api import registry
from skiff.cluster.apimachinery import apply, quantity
from skiff.cluster.apimachinery.fieldschema import SchemaNode

KUBERNETES_VERSION = "v1.32.0"
QUANTITY = "io.k8s.apimachinery.pkg.api.resource.Quantity"
_REF_PREFIX = "#/$defs/"


@functools.cache
def definitions() -> dict[str, dict[str, Any]]:
    """Definition name (io.k8s.api.core.v1.Pod) -> its JSON schema."""
    path = (importlib.resources.files("kubernetes_validate")
            / f"kubernetes-json-schema/{KUBERNETES_VERSION}-local/_definitions.json")
    return orjson.loads(path.read_bytes())["$defs"]


def resolve(schema: dict[str, Any] | None) -> dict[str, Any]:
    """Follow `$ref`s; {} (anything goes) when unknown."""
    seen = 0
    while schema and "$ref" in schema and seen < 16:
        schema = definitions().get(schema["$ref"].removeprefix(_REF_PREFIX), {})
        seen += 1
    return schema or {}


def ref_name(schema: dict[str, Any] | None) -> str:
    return str((schema or {}).get("$ref", "")).removeprefix(_REF_PREFIX)


def definition(name: str) -> dict[str, Any]:
    return definitions().get(name, {})


def types_of(schema: dict[str, Any]) -> set[str]:
    t = schema.get("type")
    if t is None:
        return set()
    return {t} if isinstance(t, str) else set(t)


def property_schema(schema: dict[str, Any], name: str) -> dict[str, Any] | None:
    """The schema of field `name` of an object schema (a struct property or a map value)."""
    schema = resolve(schema)
    props = schema.get("properties")
    if props is not None and name in props:
        return props[name]
    extra = schema.get("additionalProperties")
    if isinstance(extra, dict):
        return extra
    return None


def items_schema(schema: dict[str, Any]) -> dict[str, Any] | None:
    return resolve(schema).get("items")


def is_free_form(schema: dict[str, Any]) -> bool:
    """Fields the decoder does not check: RawExtension, preserve-unknown-fields, untyped."""
    schema = resolve(schema)
    return (schema.get("x-kubernetes-preserve-unknown-fields") is True
            or (not schema.get("properties") and "additionalProperties" not in schema
                and not types_of(schema) - {"null"} and "oneOf" not in schema and "items" not in schema))


# ---- per-schema facts the walks below ask for every field of every write ------------------

SchemaInfo = tuple[dict[str, Any], dict[str, Any], frozenset[str], bool]
_INFO: dict[int, SchemaInfo] = {}
_INFO_LIMIT = 100_000


@functools.cache
def _root(definition_name: str) -> dict[str, Any]:
    """The schema `{"$ref": ...}` of a definition, one object per name (so _info can key it)."""
    return {"$ref": _REF_PREFIX + definition_name}


def _info(schema: dict[str, Any]) -> SchemaInfo:
    """(schema, resolved schema, its types but null, free-form?), computed once per schema object.
    Keyed by id(); the entry holds the schema itself, so the id cannot be reused while cached."""
    got = _INFO.get(id(schema))
    if got is not None and got[0] is schema:
        return got
    target = resolve(schema)
    got = (schema, target, frozenset(types_of(target) - {"null"}), is_free_form(target))
    if len(_INFO) > _INFO_LIMIT:
        _INFO.clear()
    _INFO[id(schema)] = got
    return got


# ---- unknown fields ------------------------------------------------------------------------


def unknown_fields(definition_name: str, obj: Any) -> list[str]:
    """Paths of fields the schema does not know, in Kubernetes' notation."""
    found: list[str] = []
    _walk_unknown(_root(definition_name), obj, "", found)
    return found


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _walk_unknown(schema: dict[str, Any], value: Any, path: str, found: list[str]) -> None:
    _, schema, _, free_form = _info(schema)
    if not schema or free_form:
        return
    if isinstance(value, dict):
        props = schema.get("properties")
        extra = schema.get("additionalProperties")
        for key, sub in value.items():
            if props is not None and key in props:
                if isinstance(sub, dict | list):  # a scalar has no fields of its own
                    _walk_unknown(props[key], sub, _join(path, key), found)
            elif isinstance(extra, dict):
                if isinstance(sub, dict | list):
                    _walk_unknown(extra, sub, _join(path, key), found)
            elif props is not None:
                found.append(_join(path, key))
    elif isinstance(value, list) and "items" in schema:
        for i, item in enumerate(value):
            _walk_unknown(schema["items"], item, f"{path}[{i}]", found)


# ---- type errors ---------------------------------------------------------------------------


def _json_kind(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def go_type(schema: dict[str, Any]) -> str:
    """The Go type name the decoder reports (`int32`, `[]v1.Container`, `map[string]string`)."""
    name = ref_name(schema)
    if name:
        target = resolve(schema)
        if "oneOf" in target:
            return "intstr.IntOrString" if name.endswith("IntOrString") else "resource.Quantity"
        if "properties" not in target:
            return go_type(target)
        parts = name.split(".")
        return f"{parts[-2]}.{parts[-1]}"
    types = types_of(schema) - {"null"}
    fmt = schema.get("format", "")
    if "integer" in types:
        return fmt or "int64"
    if "number" in types:
        return "float64"
    if "boolean" in types:
        return "bool"
    if "string" in types:
        return "[]uint8" if fmt == "byte" else "string"
    if "array" in types:
        return "[]" + go_type(schema.get("items") or {})
    if "object" in types and isinstance(schema.get("additionalProperties"), dict):
        return "map[string]" + go_type(schema["additionalProperties"])
    return "interface {}"


def _accepts(schema: dict[str, Any], value: Any, types: frozenset[str] | set[str] | None = None) -> bool:
    if value is None:
        return True  # JSON null decodes to the zero value of any Go type
    if "oneOf" in schema:
        return any(_accepts(s, value) for s in schema["oneOf"])
    if types is None:
        types = types_of(schema) - {"null"}
    if not types:
        return True
    if isinstance(value, bool):
        return "boolean" in types
    if isinstance(value, int):
        return bool(types & {"integer", "number"})
    if isinstance(value, float):
        return "number" in types or ("integer" in types and value.is_integer())
    if isinstance(value, str):
        return "string" in types
    if isinstance(value, list):
        return "array" in types
    return "object" in types


def type_error(definition_name: str, obj: Any) -> str | None:
    """The first decode error Go's json package would report for `obj`, or None."""
    return _walk_types(_root(definition_name), obj, "", "", definition_name)


def _walk_types(schema: dict[str, Any], value: Any, path: str, struct: str, holder: str) -> str | None:
    name = ref_name(schema)
    _, target, types, _ = _info(schema)
    if not target or target.get("x-kubernetes-preserve-unknown-fields") is True:
        return None
    if not _accepts(target, value, types):
        shown = _json_kind(value)
        if shown == "number" and isinstance(value, float):
            shown = f"number {value}"
        where = f"Go struct field {struct}.{path}" if struct else "Go value"
        return f"json: cannot unmarshal {shown} into {where} of type {go_type(schema)}"
    if name == QUANTITY and value is not None and not quantity.is_valid(value):
        return quantity.SYNTAX_ERROR
    if name and "properties" in target:
        holder = name.split(".")[-1]
    if isinstance(value, dict):
        props = target.get("properties")
        extra = target.get("additionalProperties")
        for key, sub in value.items():
            sub_schema = props.get(key) if props else None
            sub_path = ""
            if sub_schema is None:
                if not isinstance(extra, dict):
                    continue
                sub_schema, sub_path = extra, path  # Go names the map, not the key
            elif not isinstance(sub, dict | list) and "$ref" not in sub_schema and \
                    _accepts(sub_schema, sub, _info(sub_schema)[2]):
                continue  # a scalar its (plain) schema accepts: nothing below it to check
            else:
                sub_path = _join(path, key)
            err = _walk_types(sub_schema, sub, sub_path, holder, holder)
            if err:
                return err
    elif isinstance(value, list) and "items" in target:
        for item in value:
            err = _walk_types(target["items"], item, path, struct or holder, holder)
            if err:
                return err
    return None


def patch_meta(schema: dict[str, Any] | None) -> tuple[str, str, str]:
    """(patch strategy, merge key, list type) that a field's schema declares."""
    if not schema:
        return "", "", ""
    strategy = schema.get("x-kubernetes-patch-strategy", "")
    key = schema.get("x-kubernetes-patch-merge-key", "")
    list_type = schema.get("x-kubernetes-list-type", "")
    return strategy, key, list_type


@functools.cache
def node_for(definition_name: str) -> SchemaNode:
    """The kind's schema as a SchemaNode, for strategic merge patch and server-side apply."""
    return SchemaNode({"$ref": _REF_PREFIX + definition_name}, resolve)


def node_for_kind(api_version: str, kind: str) -> SchemaNode | None:
    res = registry.for_api_version(api_version, kind)
    return node_for(res.definition) if res is not None else None


apply.use_schema_lookup(node_for_kind)


def canonical_quantities(definition_name: str, obj: Any) -> None:
    """Rewrite every Quantity in `obj` in its canonical form (`0.5` -> `500m`, `1024Mi` -> `1Gi`),
    as the API server stores and returns them."""
    if _holds_quantities(definition_name):  # most kinds (events, config maps, ...) have none
        _canonical(_root(definition_name), obj, 0)


@functools.cache
def _holds_quantities(definition_name: str) -> bool:
    """Whether a Quantity can occur anywhere in an object of this definition."""
    seen: set[int] = set()
    todo: list[Any] = [definition(definition_name)]
    while todo:
        node = todo.pop()
        if isinstance(node, list):
            todo.extend(node)
            continue
        if not isinstance(node, dict) or id(node) in seen:
            continue
        seen.add(id(node))
        if ref_name(node) == QUANTITY:
            return True
        if "$ref" in node:
            todo.append(resolve(node))
        todo.extend(v for k, v in node.items() if k in ("properties", "additionalProperties", "items", "oneOf",
                                                        "anyOf", "allOf"))
        if isinstance(node.get("properties"), dict):
            todo.extend(node["properties"].values())
    return False


def _canonical(schema: dict[str, Any], value: Any, depth: int) -> Any:
    if depth > 40:
        return value
    if ref_name(schema) == QUANTITY:
        return str(quantity.parse(value)) if quantity.is_valid(value) else value
    target = _info(schema)[1]
    if isinstance(value, dict):
        props = target.get("properties") or {}
        extra = target.get("additionalProperties")
        for key, sub in value.items():
            sub_schema = props.get(key) if key in props else (extra if isinstance(extra, dict) else None)
            if sub_schema is not None and isinstance(sub, dict | list | str | int | float):
                new = _canonical(sub_schema, sub, depth + 1)
                if new is not sub:
                    value[key] = new
    elif isinstance(value, list) and isinstance(target.get("items"), dict):
        for i, item in enumerate(value):
            new = _canonical(target["items"], item, depth + 1)
            if new is not item:
                value[i] = new
    return value
