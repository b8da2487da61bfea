"""Server-side table printing: the meta.k8s.io/v1 Table `kubectl get` renders.

Each kind has Kubernetes' columns (pkg/printers/internalversion); columns with priority 1
are the ones `-o wide` adds. The kinds' row functions live in print_core and print_apps.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from skiff.cluster.api.registry import Resource

Obj = dict[str, Any]


@dataclass(frozen=True)
class Column:
    name: str
    type: str = "string"
    priority: int = 0
    format: str = ""
    description: str = ""

    def definition(self) -> Obj:
        return {"name": self.name, "type": self.type, "format": self.format,
                "description": self.description or self.name, "priority": self.priority}


NAME = Column("Name", format="name", description="Name must be unique within a namespace.")
AGE = Column("Age", description="CreationTimestamp is a timestamp representing the server time when this "
                                "object was created.")


@dataclass(frozen=True)
class Printer:
    columns: tuple[Column, ...]
    row: Callable[[Obj, datetime], list[Any]]


_PRINTERS: dict[tuple[str, str], Printer] = {}


def register(group: str, kind: str, columns: tuple[Column, ...],
             row: Callable[[Obj, datetime], list[Any]]) -> None:
    _PRINTERS[(group, kind)] = Printer(columns, row)


def _default_printer() -> Printer:
    from skiff.cluster.apimachinery.duration import age

    return Printer((NAME, AGE), lambda o, now: [(o.get("metadata") or {}).get("name", ""),
                                                 age((o.get("metadata") or {}).get("creationTimestamp"), now)])


def printer_for(res: Resource) -> Printer:
    _load()
    return _PRINTERS.get((res.group, res.kind)) or _default_printer()


def table(res: Resource, objs: list[Obj], wide: bool, now: datetime) -> Obj:
    """The Table for `objs`; wide=False leaves out the priority-1 (wide) columns."""
    printer = printer_for(res)
    keep = [i for i, c in enumerate(printer.columns) if wide or c.priority == 0]
    rows = []
    for obj in objs:
        cells = printer.row(obj, now)
        rows.append({"cells": [cells[i] for i in keep], "object": obj})
    return {
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": {},
        "columnDefinitions": [printer.columns[i].definition() for i in keep],
        "rows": rows,
    }


def _load() -> None:
    # the row modules register themselves on import (they import this module, hence late)
    for module in ("skiff.cluster.api.print_core", "skiff.cluster.api.print_apps", "skiff.cluster.api.print_rbac"):
        importlib.import_module(module)
