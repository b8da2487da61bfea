"""kubectl's client-side validation against /openapi/v2, for kinds the server cannot check fields of.

kubectl validates an object itself when the kind's PATCH takes no `fieldValidation` (the
create-only review kinds): unknown fields, missing required fields and wrong JSON types, in
kube-openapi's words (`ValidationError(Kind.spec.x): unknown field "y" in io.k8s...`). Keys are
visited in sorted order, a kind's missing required fields after its keys. Pure: the swagger
definitions and the object in, messages out.
"""

from __future__ import annotations

from typing import Any

Definitions = dict[str, dict[str, Any]]
REF_PREFIX = "#/definitions/"


def definition_for(definitions: Definitions, group: str, version: str, kind: str) -> str | None:
    """The definition carrying the kind's x-kubernetes-group-version-kind (None: kubectl skips it)."""
    wanted = {"group": group, "version": version, "kind": kind}
    for name, schema in definitions.items():
        if wanted in (schema.get("x-kubernetes-group-version-kind") or []):
            return name
    return None


def _actual(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, dict):
        return "map"
    if isinstance(value, list):
        return "array"
    return "string"


class _Walk:
    def __init__(self, definitions: Definitions):
        self.definitions = definitions
        self.errors: list[str] = []

    def error(self, path: str, message: str) -> None:
        self.errors.append(f"ValidationError({path}): {message}")

    def visit(self, schema: dict[str, Any], schema_path: str, value: Any, path: str) -> None:
        """`schema_path` names the schema as kube-openapi does (definition, then field names);
        `path` names the value (Kind.spec.list[0])."""
        if "$ref" in schema:
            name = schema["$ref"].removeprefix(REF_PREFIX)
            self.visit(self.definitions.get(name, {}), name, value, path)
            return
        kind = self._schema_kind(schema)
        actual = _actual(value)
        if kind == "kind":
            if actual != "map":
                self.error(path, f'invalid type for {schema_path}: got "{actual}", expected "map"')
                return
            self._kind(schema, schema_path, value, path)
        elif kind == "map":
            if actual != "map":
                self.error(path, f'invalid type for {schema_path}: got "{actual}", expected "map"')
                return
            sub = schema.get("additionalProperties")
            for key in sorted(value):
                if isinstance(sub, dict) and value[key] is not None:
                    self.visit(sub, schema_path, value[key], f"{path}.{key}")
        elif kind == "array":
            if actual != "array":
                self.error(path, f'invalid type for {schema_path}: got "{actual}", expected "array"')
                return
            for i, item in enumerate(value):
                if item is None:
                    self.error(path, f'unknown object type "nil" in {path}[{i}]')
                    continue
                self.visit(schema.get("items") or {}, schema_path, item, f"{path}[{i}]")
        elif kind in ("integer", "number", "boolean"):
            numeric = ("integer", "number")
            fits = actual in numeric if kind in numeric else actual == kind
            if not fits:
                self.error(path, f'invalid type for {schema_path}: got "{actual}", expected "{kind}"')
        # strings take any scalar, and a schema without a type takes anything

    @staticmethod
    def _schema_kind(schema: dict[str, Any]) -> str:
        kind = schema.get("type", "")
        if kind in ("", "object"):
            if "properties" in schema:
                return "kind"
            return "map" if kind == "object" else ""
        return kind

    def _kind(self, schema: dict[str, Any], schema_path: str, value: dict[str, Any], path: str) -> None:
        fields = schema.get("properties") or {}
        for key in sorted(value):
            if value[key] is None:
                continue
            if key not in fields:
                self.error(path, f'unknown field "{key}" in {schema_path}')
                continue
            self.visit(fields[key], f"{schema_path}.{key}", value[key], f"{path}.{key}")
        for field in schema.get("required") or []:
            if value.get(field) is None:
                self.error(path, f'missing required field "{field}" in {schema_path}')


def validate(definitions: Definitions, obj: dict[str, Any]) -> list[str]:
    """kube-openapi's errors for one object (none when its kind has no definition)."""
    group, _, version = (obj.get("apiVersion") or "").rpartition("/")
    kind = obj.get("kind") or ""
    name = definition_for(definitions, group, version, kind)
    if name is None:
        return []
    walk = _Walk(definitions)
    walk.visit(definitions[name], name, obj, kind)
    return walk.errors


def message(source: str, errors: list[str]) -> str:
    """kubectl's error line for a refused file (several errors in [brackets], as Go aggregates them)."""
    text = errors[0] if len(errors) == 1 else "[" + ", ".join(errors) + "]"
    return (f'error validating "{source}": error validating data: {text}; '
            "if you choose to ignore these errors, turn validation off with --validate=false")
