"""A walkable view of a kind's OpenAPI schema: what patches and apply need to know.

`SchemaNode` wraps one field's schema (the property entry, which carries the patch and
list extensions) plus a resolver for `$ref`s, so apimachinery stays free of any one
schema source. `None` where a node is expected means "unknown: lists are atomic".
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Resolver = Callable[[dict[str, Any]], dict[str, Any]]


class SchemaNode:
    __slots__ = ("raw", "resolved", "_resolve", "_children")

    def __init__(self, raw: dict[str, Any], resolve: Resolver):
        self.raw = raw
        self._resolve = resolve
        self.resolved = resolve(raw) if "$ref" in raw else raw
        self._children: dict[str, SchemaNode | None] = {}  # walked on every write: built once

    def child(self, name: str) -> SchemaNode | None:
        if name in self._children:
            return self._children[name]
        node = None
        props = self.resolved.get("properties")
        if props and name in props:
            node = SchemaNode(props[name], self._resolve)
        else:
            extra = self.resolved.get("additionalProperties")
            if isinstance(extra, dict):
                node = self._children.get("$additional") or SchemaNode(extra, self._resolve)
                self._children["$additional"] = node
        if len(self._children) < 256:  # map keys (labels, data) are unbounded
            self._children[name] = node
        return node

    def items(self) -> SchemaNode | None:
        if "$items" not in self._children:
            items = self.resolved.get("items")
            self._children["$items"] = SchemaNode(items, self._resolve) if isinstance(items, dict) else None
        return self._children["$items"]

    def _ext(self, key: str, default: Any) -> Any:
        return self.raw.get(key, self.resolved.get(key, default))

    @property
    def patch_strategies(self) -> tuple[str, ...]:
        return tuple(s for s in str(self._ext("x-kubernetes-patch-strategy", "")).split(",") if s)

    @property
    def merge_key(self) -> str:
        return str(self._ext("x-kubernetes-patch-merge-key", ""))

    @property
    def list_type(self) -> str:
        """`map`, `set` or `atomic` ('' when the schema does not say: treated as atomic)."""
        return str(self._ext("x-kubernetes-list-type", ""))

    @property
    def list_map_keys(self) -> tuple[str, ...]:
        keys = self._ext("x-kubernetes-list-map-keys", None)
        if keys:
            return tuple(keys)
        return (self.merge_key,) if self.merge_key else ()

    @property
    def is_map(self) -> bool:
        """A map of user keys (labels, data), as opposed to a struct with fixed fields."""
        return isinstance(self.resolved.get("additionalProperties"), dict) and not self.resolved.get("properties")

    @property
    def atomic(self) -> bool:
        """Replaced as a whole by apply: atomic maps/structs (LabelSelector) and atomic lists."""
        if self._ext("x-kubernetes-map-type", "") == "atomic":
            return True
        return "items" in self.resolved and self.list_type not in ("map", "set")

    @property
    def free_form(self) -> bool:
        return (self.resolved.get("x-kubernetes-preserve-unknown-fields") is True
                or (not self.resolved.get("properties") and "additionalProperties" not in self.resolved
                    and "items" not in self.resolved))
