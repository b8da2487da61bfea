"""The building blocks of kubectl's describe output: a leveled writer over Go's tabwriter,
labels/annotations/events sections, timestamps, and the generic (unstructured) describer. Pure."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from skiff.cli.kubectl.tabwriter import tabwrite

LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"
MAX_ANNOTATION = 140
ACRONYMS = {"API", "URL", "UID", "OSB", "GUID"}


class Writer:
    """kubectl's PrefixWriter: two spaces per level; `flush` ends every tabwriter block."""

    def __init__(self) -> None:
        self.done: list[str] = []
        self.buf: list[str] = []

    def write(self, level: int, text: str) -> None:
        self.buf.append("  " * level + text)

    def flush(self) -> None:
        if self.buf:
            self.done.append(tabwrite("".join(self.buf)))
            self.buf = []

    def text(self) -> str:
        self.flush()
        return "".join(self.done)


def parse_time(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def rfc1123z(value: str | None) -> str:
    """`Sun, 22 Nov 2026 18:07:34 +0000`, as describe prints timestamps."""
    t = parse_time(value)
    return t.strftime("%a, %d %b %Y %H:%M:%S %z") if t else "<unset>"


def since(value: str | None, now: datetime | None = None) -> str:
    """kubectl's translateTimestampSince (`5m`, `<unknown>`)."""
    from skiff.cluster.apimachinery.duration import age

    return age(value, now or datetime.now(UTC))


def labels_multiline(w: Writer, title: str, labels: dict[str, str] | None, level: int = 0) -> None:
    if not labels:
        w.write(level, f"{title}:\t<none>\n")
        return
    for i, key in enumerate(sorted(labels)):
        w.write(level, (f"{title}:\t" if i == 0 else "\t") + f"{key}={labels[key]}\n")


def annotations_multiline(w: Writer, title: str, annotations: dict[str, str] | None, level: int = 0) -> None:
    shown = {k: v for k, v in (annotations or {}).items() if k != LAST_APPLIED}
    if not shown:
        w.write(level, f"{title}:\t<none>\n")
        return
    for i, key in enumerate(sorted(shown)):
        prefix = f"{title}:\t" if i == 0 else "\t"
        value = shown[key].removesuffix("\n")
        if len(value) + len(key) + 2 > MAX_ANNOTATION or "\n" in value:
            # long or multi-line values go under their key, each line cut at the limit
            w.write(level, f"{prefix}{key}:\n")
            for line in value.split("\n"):
                cut = line if len(line) <= MAX_ANNOTATION - 2 else line[:MAX_ANNOTATION - 2] + "..."
                w.write(level, f"\t  {cut}\n")
        else:
            w.write(level, f"{prefix}{key}: {value}\n")


def object_header(w: Writer, meta: dict[str, Any], namespace: bool = True) -> None:
    """Name, Namespace, Labels, Annotations: how most describers start."""
    w.write(0, f"Name:\t{meta.get('name', '')}\n")
    if namespace:
        w.write(0, f"Namespace:\t{meta.get('namespace', '')}\n")
    labels_multiline(w, "Labels", meta.get("labels"))
    annotations_multiline(w, "Annotations", meta.get("annotations"))


def events_section(w: Writer, events: list[dict[str, Any]] | None, now: datetime | None = None) -> None:
    if events is None:
        return
    if not events:
        w.write(0, "Events:\t<none>\n")
        return
    w.flush()
    w.write(0, "Events:\n  Type\tReason\tAge\tFrom\tMessage\n")
    w.write(1, "----\t------\t----\t----\t-------\n")

    def first(e: dict[str, Any]) -> str:
        return e.get("firstTimestamp") or e.get("eventTime") or (e.get("metadata") or {}).get("creationTimestamp") or ""

    for e in sorted(events, key=lambda e: e.get("lastTimestamp") or first(e)):
        count = e.get("count") or 0
        if count > 1:
            interval = f"{since(e.get('lastTimestamp'), now)} (x{count} over {since(first(e), now)})"
        else:
            interval = since(first(e), now)
        source = (e.get("source") or {}).get("component") or e.get("reportingComponent") or ""
        w.write(1, f"{e.get('type', '')}\t{e.get('reason', '')}\t{interval}\t{source}\t{(e.get('message') or '').strip()}\n")


_CAMEL = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|[0-9]+")


def smart_label(field: str) -> str:
    """`holderIdentity` → `Holder Identity`, `uid` → `UID` (kubectl's smartLabelFor)."""
    if any(not (c.isalpha() or c == "-") for c in field):
        return field
    parts = _CAMEL.findall(field) or [field]
    return " ".join(p.upper() if p.upper() in ACRONYMS else p[:1].upper() + p[1:] for p in parts)


def go_scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "<nil>"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e21:
        return str(int(value))
    return str(value)


def unstructured(w: Writer, level: int, content: dict[str, Any], prefix: str, skip: set[str]) -> None:
    for field in sorted(content):
        path = f"{prefix}.{field}"
        if path in skip:
            continue
        value = content[field]
        if isinstance(value, dict):
            w.write(level, f"{smart_label(field)}:\n")
            unstructured(w, level + 1, value, path, skip)
        elif isinstance(value, list):
            w.write(level, f"{smart_label(field)}:\n")
            for child in value:
                if isinstance(child, dict):
                    unstructured(w, level + 1, child, path, skip)
                else:
                    w.write(level + 1, f"{go_scalar(child)}\n")
        else:
            w.write(level, f"{smart_label(field)}:\t{go_scalar(value)}\n")


GENERIC_SKIP = {".metadata.managedFields", ".metadata.name", ".metadata.namespace", ".metadata.labels",
                ".metadata.annotations"}


def generic(obj: dict[str, Any], events: list[dict[str, Any]] | None) -> str:
    meta = obj.get("metadata") or {}
    w = Writer()
    object_header(w, meta)
    unstructured(w, 0, obj, "", GENERIC_SKIP)
    events_section(w, events)
    return w.text()
