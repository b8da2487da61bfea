"""Output formats of `kubectl get` and friends, as pure functions of the objects.

Tables come from the server (meta.k8s.io Table); this module lays them out the way
kubectl's tabwriter does (columns padded by three spaces, the last one not padded).
"""

from __future__ import annotations

import functools
import json
from typing import Any

from skiff.cluster.client.paths import Resource


def align(rows: list[list[str]], padding: int = 3, minwidth: int = 6) -> str:
    """kubectl's tabwriter (minwidth 6, padding 3): every column but the last padded to its
    widest cell plus `padding`."""
    return RunningTable(padding, minwidth).format(rows)


class RunningTable:
    """Columns whose widths persist across calls: `get --watch` prints each event's row with the
    widths of the table printed before it, widening them only when a cell needs it."""

    def __init__(self, padding: int = 3, minwidth: int = 6, initial: list[int] | None = None):
        self.padding = padding
        self.minwidth = minwidth
        self.widths: list[int] = list(initial or [])

    def format(self, rows: list[list[str]]) -> str:
        if not rows:
            return ""
        for row in rows:
            for i, cell in enumerate(row[:-1]):
                if i >= len(self.widths):
                    self.widths.append(self.minwidth)
                self.widths[i] = max(self.widths[i], len(cell) + self.padding)
        lines = []
        for row in rows:
            parts = [cell.ljust(self.widths[i]) for i, cell in enumerate(row[:-1])]
            parts.append(row[-1] if row else "")
            lines.append("".join(parts))
        return "\n".join(lines) + "\n"


def cell_text(value: Any) -> str:
    if value is None:
        return "<none>"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (dict, list)):
        return json.dumps(value, separators=(",", ":"))
    return str(value)


def labels_text(labels: dict[str, str] | None) -> str:
    if not labels:
        return "<none>"
    return ",".join(f"{k}={v}" for k, v in sorted(labels.items()))


def table_rows(table: dict[str, Any], wide: bool = False, with_namespace: bool = False, show_labels: bool = False,
               kind_prefix: str = "", header: bool = True, label_columns: list[str] | None = None,
               no_headers: bool = False) -> list[list[str]]:
    """The rows (header first) kubectl prints for a server Table."""
    columns = table.get("columnDefinitions") or []
    shown = [i for i, c in enumerate(columns) if wide or not c.get("priority")]
    out: list[list[str]] = []
    extra_label_cols = label_columns or []
    if header and not no_headers:
        head = [str(columns[i].get("name", "")).upper() for i in shown]
        if with_namespace:
            head.insert(0, "NAMESPACE")
        head += [c.rsplit("/", 1)[-1].upper() for c in extra_label_cols]
        if show_labels:
            head.append("LABELS")
        out.append(head)
    for row in table.get("rows") or []:
        cells = row.get("cells") or []
        meta = ((row.get("object") or {}).get("metadata")) or {}
        values = [cell_text(cells[i]) if i < len(cells) else "" for i in shown]
        if kind_prefix and values:
            values[0] = f"{kind_prefix}/{values[0]}"
        if with_namespace:
            values.insert(0, meta.get("namespace", ""))
        labels = meta.get("labels") or {}
        values += [labels.get(c, "") for c in extra_label_cols]
        if show_labels:
            values.append(labels_text(labels))
        out.append(values)
    return out


def name_line(res: Resource, obj: dict[str, Any]) -> str:
    """`-o name`: `pod/web`, `deployment.apps/front`."""
    return f"{res.kind_qualified}/{(obj.get('metadata') or {}).get('name', '')}"


def kind_name(obj: dict[str, Any]) -> str:
    """The `kind[.group]/name` of an object from its own apiVersion and kind (for -f results)."""
    group = (obj.get("apiVersion") or "").rpartition("/")[0]
    kind = (obj.get("kind") or "").lower()
    name = (obj.get("metadata") or {}).get("name") or "<unknown>"  # a review kind's answer has none
    return f"{kind}.{group}/{name}" if group else f"{kind}/{name}"


def as_list(items: list[dict[str, Any]]) -> dict[str, Any]:
    return {"apiVersion": "v1", "items": items, "kind": "List", "metadata": {"resourceVersion": ""}}


def to_json(obj: Any) -> str:
    return json.dumps(obj, indent=4, ensure_ascii=False, sort_keys=True) + "\n"


def go_key_less(a: str, b: str) -> bool:
    """go-yaml's map key order: runs of digits compare as numbers (`k2` < `k10`). Pure."""
    digits = False
    for i in range(min(len(a), len(b))):
        if a[i] == b[i]:
            digits = a[i].isdigit()
            continue
        al, bl = a[i].isalpha(), b[i].isalpha()
        if al and bl:
            return a[i] < b[i]
        if al or bl:
            return al if digits else bl
        an = bn = 0
        if a[i] == "0" or b[i] == "0":
            j = i - 1
            while j >= 0 and a[j].isdigit():
                if a[j] != "0":
                    an = bn = 1
                    break
                j -= 1
        ai = i
        while ai < len(a) and a[ai].isdigit():
            an = an * 10 + int(a[ai])
            ai += 1
        bi = i
        while bi < len(b) and b[bi].isdigit():
            bn = bn * 10 + int(b[bi])
            bi += 1
        if an != bn:
            return an < bn
        if ai != bi:
            return ai < bi
        return a[i] < b[i]
    return len(a) < len(b)


def _go_cmp(x: tuple[Any, Any], y: tuple[Any, Any]) -> int:
    a, b = str(x[0]), str(y[0])
    return -1 if go_key_less(a, b) else (1 if go_key_less(b, a) else 0)


_GO_KEY = functools.cmp_to_key(_go_cmp)
_DUMPER: Any = None


def _dumper() -> Any:
    """PyYAML's dumper with go-yaml's string styles: strings that would read back as another
    type (`"14"`, timestamps, `"true"`) in double quotes, multi-line strings as `|` blocks."""
    global _DUMPER
    if _DUMPER is None:
        import yaml

        base = getattr(yaml, "CSafeDumper", yaml.SafeDumper)

        class GoStyleDumper(base):  # type: ignore[misc,valid-type]
            pass

        def represent_str(dumper: Any, value: str) -> Any:
            tag = "tag:yaml.org,2002:str"
            if "\n" in value and not value.endswith((" ", "\t")) and value.strip():
                return dumper.represent_scalar(tag, value, style="|")
            # PyYAML reads a lone `*`, `&` or `!` as its `yaml` tag; go-yaml as a string it single-quotes
            resolved = dumper.resolve(yaml.ScalarNode, value, (True, False))
            if value in ("y", "Y", "n", "N") or resolved not in (tag, "tag:yaml.org,2002:yaml"):
                return dumper.represent_scalar(tag, value, style='"')
            return dumper.represent_scalar(tag, value)

        def represent_dict(dumper: Any, value: dict) -> Any:
            return dumper.represent_mapping("tag:yaml.org,2002:map", sorted(value.items(), key=_GO_KEY))

        GoStyleDumper.add_representer(str, represent_str)
        GoStyleDumper.add_representer(dict, represent_dict)
        _DUMPER = GoStyleDumper
    return _DUMPER


def to_yaml(obj: Any) -> str:
    """YAML as kubectl writes it: keys sorted, lists at their key's indentation."""
    import yaml

    return yaml.dump(obj, Dumper=_dumper(), default_flow_style=False, sort_keys=False, allow_unicode=True)


def custom_columns(spec: str, objects: list[dict[str, Any]], no_headers: bool = False) -> str:
    """`-o custom-columns=NAME:.metadata.name,IMAGE:.spec.containers[*].image`."""
    from skiff.cli.kubectl.jsonpath import lookup

    columns = []
    for part in spec.split(","):
        header, sep, expr = part.partition(":")
        if not sep or not expr:
            raise ValueError(f'unexpected custom-columns spec: {part}, expected <header>:<json-path-expr>')
        columns.append((header, expr))
    rows = [] if no_headers else [[h for h, _ in columns]]
    for obj in objects:
        row = []
        for _, expr in columns:
            values = lookup(expr, obj)
            row.append(",".join(go_value(v) for v in values) if values else "<none>")
        rows.append(row)
    return align(rows)


def without_managed_fields(obj: dict[str, Any]) -> dict[str, Any]:
    meta = obj.get("metadata")
    if isinstance(meta, dict) and "managedFields" in meta:
        obj = dict(obj)
        obj["metadata"] = {k: v for k, v in meta.items() if k != "managedFields"}
    return obj


def go_value(value: Any) -> str:
    """A value as Go's fmt prints it (custom-columns cells): `map[a:b]`, `[x y]`."""
    if isinstance(value, dict):
        return "map[" + " ".join(f"{k}:{go_value(v)}" for k, v in sorted(value.items())) + "]"
    if isinstance(value, list):
        return "[" + " ".join(go_value(v) for v in value) + "]"
    if value is None:
        return "<nil>"
    return cell_text(value)
