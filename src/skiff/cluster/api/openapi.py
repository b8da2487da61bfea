"""The /openapi/v2 and /openapi/v3 documents, built from the official 1.32 definitions.

Schemas come from `schema.definitions()` turned back into OpenAPI form (single types,
`#/definitions/` or `#/components/schemas/` refs, IntOrString as `int-or-string`). Paths
carry `x-kubernetes-group-version-kind`, `x-kubernetes-action` and the query parameters
kubectl looks for (`fieldValidation` on PATCH tells it the server validates fields).
"""

from __future__ import annotations

import functools
import hashlib
from typing import Any

import orjson

from skiff.cluster.api import registry, schema
from skiff.cluster.api.registry import Resource

Obj = dict[str, Any]
V2_REF = "#/definitions/"
V3_REF = "#/components/schemas/"
PATCH_DEFINITION = "io.k8s.apimachinery.pkg.apis.meta.v1.Patch"
PATCH_TYPES = ("application/apply-patch+yaml", "application/json-patch+json", "application/merge-patch+json",
               "application/strategic-merge-patch+json")


def _convert(node: Any, ref_prefix: str) -> Any:
    """A JSON-schema fragment from kubernetes-validate as OpenAPI would write it."""
    if isinstance(node, list):
        return [_convert(n, ref_prefix) for n in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        out: Obj = {"$ref": ref_prefix + schema.ref_name(node)}
        if "description" in node:
            out = {"description": node["description"], **out} if ref_prefix == V2_REF else \
                {"description": node["description"], "allOf": [out]}
        return out
    if "oneOf" in node:
        # Quantity and IntOrString: one string type in v2, a oneOf without a type in v3
        # (so `kubectl explain` names them: <map[string]Quantity>, <IntOrString>)
        kinds = [t for alt in node["oneOf"] for t in sorted(schema.types_of(alt) - {"null"})]
        out = {k: v for k, v in node.items() if k != "oneOf"}
        if ref_prefix == V3_REF:
            out["oneOf"] = [{"type": t} for t in (sorted(kinds) if "integer" in kinds else kinds)]
            return out
        out["type"] = "string"
        if "integer" in kinds:
            out["format"] = "int-or-string"
        return out
    out = {}
    for key, value in node.items():
        if key == "type":
            types = [value] if isinstance(value, str) else [t for t in value if t != "null"]
            if types:
                out["type"] = types[0]
        elif key in ("properties", "patternProperties"):
            out[key] = {k: _convert(v, ref_prefix) for k, v in value.items()}
        elif key in ("items", "additionalProperties"):
            out[key] = _convert(value, ref_prefix)
        else:
            out[key] = value
    props = out.get("properties")
    if isinstance(props, dict):
        for field in ("apiVersion", "kind"):
            if isinstance(props.get(field), dict):
                props[field] = {k: v for k, v in props[field].items() if k != "enum"}
    return out


def _all_definitions(ref_prefix: str) -> dict[str, Obj]:
    return {name: _convert(body, ref_prefix) for name, body in schema.definitions().items()}


def _closure(names: list[str]) -> list[str]:
    """The named definitions and every definition they reference."""
    seen: list[str] = []
    todo = list(names)
    defs = schema.definitions()
    while todo:
        name = todo.pop()
        if name in seen or name not in defs:
            continue
        seen.append(name)
        stack: list[Any] = [defs[name]]
        while stack:
            node = stack.pop()
            if isinstance(node, dict):
                if "$ref" in node:
                    todo.append(schema.ref_name(node))
                stack.extend(node.values())
            elif isinstance(node, list):
                stack.extend(node)
    return sorted(seen)


def _gvk(res: Resource) -> Obj:
    return {"group": res.group, "kind": res.kind, "version": res.version}


def _query(name: str, description: str, v3: bool) -> Obj:
    base: Obj = {"name": name, "in": "query", "description": description}
    if v3:
        base["schema"] = {"type": "string", "uniqueItems": True}
    else:
        base.update({"type": "string", "uniqueItems": True})
    return base


_WRITE_PARAMS = (
    ("dryRun", "When present, indicates that modifications should not be persisted."),
    ("fieldManager", "fieldManager is a name associated with the actor or entity that is making these changes."),
    ("fieldValidation", "fieldValidation instructs the server on how to handle objects in the request "
                        "containing unknown or duplicate fields. Valid values are: Ignore, Warn, Strict."),
)


def _base_path(res: Resource, namespaced: bool) -> str:
    prefix = "/api/v1" if not res.group else f"/apis/{res.group}/{res.version}"
    return f"{prefix}/namespaces/{{namespace}}/{res.plural}" if namespaced else f"{prefix}/{res.plural}"


def _op(res: Resource, action: str, ref: str, v3: bool, op_id: str, extra: list[Obj] | None = None) -> Obj:
    body_ref = {"$ref": ref + res.definition}
    response: Obj = {"description": "OK"}
    if v3:
        response["content"] = {"application/json": {"schema": body_ref}}
    else:
        response["schema"] = body_ref
    op: Obj = {
        "operationId": op_id,
        "tags": [res.group_version.replace("/", "_").replace(".", "")],
        "responses": {"200": response, "401": {"description": "Unauthorized"}},
        "x-kubernetes-action": action,
        "x-kubernetes-group-version-kind": _gvk(res),
        "parameters": list(extra or []),
    }
    if action in ("post", "put", "patch"):
        op["parameters"] += [_query(n, d, v3) for n, d in _WRITE_PARAMS]
        if action == "patch":
            op["parameters"].append(_query("force", "Force is going to \"force\" Apply requests.", v3))
        patch_ref = {"$ref": ref + PATCH_DEFINITION}
        if v3 and action == "patch":
            # kubectl computes strategic merge patches from v3 only where the PATCH accepts them
            op["requestBody"] = {"content": {t: {"schema": patch_ref} for t in PATCH_TYPES}, "required": True}
        elif v3:
            op["requestBody"] = {"content": {"application/json": {"schema": body_ref}}, "required": True}
        else:
            op["parameters"].append({"name": "body", "in": "body", "required": True,
                                     "schema": patch_ref if action == "patch" else body_ref})
            if action == "patch":
                op["consumes"] = list(PATCH_TYPES)
    return op


def _path_params(namespaced: bool, named: bool, v3: bool) -> list[Obj]:
    params = []
    for name, present in (("name", named), ("namespace", namespaced)):
        if present:
            p: Obj = {"name": name, "in": "path", "required": True, "description": f"{name} of the object"}
            if v3:
                p["schema"] = {"type": "string", "uniqueItems": True}
            else:
                p.update({"type": "string", "uniqueItems": True})
            params.append(p)
    return params


def _paths_for(res: Resource, v3: bool) -> dict[str, Obj]:
    ref = V3_REF if v3 else V2_REF
    base = _base_path(res, res.namespaced)
    kind = res.kind
    collection: Obj = {"parameters": _path_params(res.namespaced, False, v3)}
    item: Obj = {"parameters": _path_params(res.namespaced, True, v3)}
    verbs = set(res.verbs)
    if "list" in verbs:
        collection["get"] = _op(res, "list", ref, v3, f"list{kind}")
    if "create" in verbs:
        collection["post"] = _op(res, "post", ref, v3, f"create{kind}")
    if "get" in verbs:
        item["get"] = _op(res, "get", ref, v3, f"read{kind}")
    if "update" in verbs:
        item["put"] = _op(res, "put", ref, v3, f"replace{kind}")
    if "patch" in verbs:
        item["patch"] = _op(res, "patch", ref, v3, f"patch{kind}")
    if "delete" in verbs:
        item["delete"] = _op(res, "delete", ref, v3, f"delete{kind}")
    paths = {base: collection, f"{base}/{{name}}": item}
    for sub in ("status", "scale"):
        if sub in res.subresources:
            sub_res = res if sub == "status" else Resource("autoscaling", "v1", "Scale", res.plural, "scale",
                                                            res.namespaced)
            paths[f"{base}/{{name}}/{sub}"] = {
                "parameters": _path_params(res.namespaced, True, v3),
                "get": _op(sub_res, "get", ref, v3, f"read{kind}{sub.title()}"),
                "put": _op(sub_res, "put", ref, v3, f"replace{kind}{sub.title()}"),
                "patch": _op(sub_res, "patch", ref, v3, f"patch{kind}{sub.title()}"),
            }
    return paths


@functools.cache
def _v2() -> Obj:
    paths: dict[str, Obj] = {}
    for res in registry.all_resources():
        paths.update(_paths_for(res, v3=False))
    return {
        "swagger": "2.0",
        "info": {"title": "Kubernetes", "version": schema.KUBERNETES_VERSION},
        "paths": paths,
        "definitions": _all_definitions(V2_REF),
        "securityDefinitions": {"BearerToken": {"type": "apiKey", "name": "authorization", "in": "header"}},
        "security": [{"BearerToken": []}],
    }


def openapi_v2() -> Obj:
    return _v2()


def _gv_path(group: str, version: str) -> str:
    return f"api/{version}" if not group else f"apis/{group}/{version}"


@functools.cache
def _v3(group_version_path: str) -> Obj:
    for group in registry.groups():
        for version in registry.versions_of(group):
            if _gv_path(group, version) == group_version_path:
                resources = registry.resources_in(group, version)
                paths: dict[str, Obj] = {}
                for res in resources:
                    paths.update(_paths_for(res, v3=True))
                names = [r.definition for r in resources] + [PATCH_DEFINITION]
                if any("scale" in r.subresources for r in resources):
                    names.append("io.k8s.api.autoscaling.v1.Scale")
                defs = _all_definitions(V3_REF)
                return {
                    "openapi": "3.0.0",
                    "info": {"title": "Kubernetes", "version": schema.KUBERNETES_VERSION},
                    "paths": paths,
                    "components": {
                        "schemas": {n: defs[n] for n in _closure(names)},
                        "securitySchemes": {"BearerToken": {"type": "apiKey", "name": "authorization",
                                                            "in": "header"}},
                    },
                }
    return {}


def openapi_v3(group_version: str) -> Obj | None:
    """The document for `api/v1` or `apis/apps/v1` (with or without a leading `/openapi/v3/`)."""
    key = group_version.removeprefix("/").removeprefix("openapi/v3/").strip("/")
    doc = _v3(key)
    return doc or None


@functools.cache
def _hash(key: str) -> str:
    return hashlib.sha512(orjson.dumps(_v3(key), option=orjson.OPT_SORT_KEYS)).hexdigest().upper()


def openapi_v3_index() -> Obj:
    paths = {}
    for group in registry.groups():
        for version in registry.versions_of(group):
            key = _gv_path(group, version)
            paths[key] = {"serverRelativeURL": f"/openapi/v3/{key}?hash={_hash(key)}"}
    return {"paths": paths}
