"""Label and field selectors of a list or watch, as one predicate over objects."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from skiff.cluster.api import strategy
from skiff.cluster.api.registry import Resource
from skiff.cluster.apimachinery.errors import bad_request
from skiff.cluster.apimachinery.selectors import FieldSelector, LabelSelector


@dataclass(frozen=True)
class Predicate:
    res: Resource
    labels: LabelSelector
    fields: FieldSelector

    @property
    def everything(self) -> bool:
        return self.labels.empty and self.fields.empty

    def matches(self, obj: dict[str, Any]) -> bool:
        if not self.labels.empty and not self.labels.matches((obj.get("metadata") or {}).get("labels") or {}):
            return False
        return self.fields.empty or self.fields.matches(strategy.field_set(self.res, obj))

    @property
    def name(self) -> str | None:
        """The one name `metadata.name=x` pins, so a list can read a single key."""
        return self.fields.value_of("metadata.name")


def predicate(res: Resource, label_text: str, field_text: str) -> Predicate:
    labels = LabelSelector.parse(label_text) if label_text else LabelSelector.everything()
    fields = FieldSelector.parse(field_text) if field_text else FieldSelector()
    if not fields.empty:
        supported = set(strategy.field_set(res, {"metadata": {}}))
        for field in fields.fields:
            if field not in supported:
                raise bad_request(f'field label not supported: {field}')
    return Predicate(res, labels, fields)
