"""Objects from `-f`: files, directories (.yaml, .yml, .json), `-` for stdin; multi-document
YAML and List kinds expand to their objects. Errors carry kubectl's wording."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from skiff.cli.kubectl.session import CommandError

EXTENSIONS = (".json", ".yaml", ".yml")


@dataclass
class Manifest:
    obj: dict[str, Any]
    source: str  # the file name, or "STDIN"
    unmapped: bool = False  # no resource serves its kind (reported by `placed`)


def files(paths: list[str], recursive: bool = False) -> list[str]:
    out: list[str] = []
    for path in paths:
        if path == "-" or path.startswith(("http://", "https://")):
            out.append(path)
            continue
        if not os.path.exists(path):
            raise CommandError(f'the path "{path}" does not exist')
        if os.path.isdir(path):
            for root, dirs, names in os.walk(path):
                dirs.sort()
                out += [os.path.join(root, n) for n in sorted(names) if n.endswith(EXTENSIONS)]
                if not recursive:
                    break
        else:
            out.append(path)
    return out


def parse_documents(text: str, source: str) -> list[dict[str, Any]]:
    """The objects of one file's text, Lists expanded. Pure."""
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        docs = list(yaml.load_all(text, Loader=loader))
    except yaml.YAMLError as e:
        raise CommandError(f"error parsing {source}: error converting YAML to JSON: yaml: {_yaml_problem(e)}") from None
    out: list[dict[str, Any]] = []
    for doc in docs:
        if doc is None:
            continue
        if not isinstance(doc, dict):
            raise CommandError(f"error validating \"{source}\": error validating data: invalid object to validate")
        _check_typed(doc, source)
        if doc.get("kind", "").endswith("List") and isinstance(doc.get("items"), list):
            for item in doc["items"]:
                if isinstance(item, dict):
                    _check_typed(item, source)
                    out.append(item)
            continue
        out.append(doc)
    return out


def _check_typed(doc: dict[str, Any], source: str) -> None:
    missing = [k for k in ("apiVersion", "kind") if not doc.get(k)]
    if missing:
        raise CommandError(f'error validating "{source}": error validating data: [{", ".join(f"{k} not set" for k in missing)}]; '
                           "if you choose to ignore these errors, turn validation off with --validate=false")


def _yaml_problem(e: Any) -> str:
    # go-yaml names the line where the unfinished construct began, which PyYAML calls the context
    mark = getattr(e, "context_mark", None) or getattr(e, "problem_mark", None)
    problem = getattr(e, "problem", None) or str(e)
    if mark is not None:
        return f"line {mark.line + 1}: {problem}"
    return problem


def load(paths: list[str], recursive: bool = False, verb: str = "create") -> list[Manifest]:
    out: list[Manifest] = []
    for path in files(paths, recursive):
        if path == "-":
            text, source = sys.stdin.read(), "STDIN"
        elif path.startswith(("http://", "https://")):
            import urllib.request

            with urllib.request.urlopen(path, timeout=30) as resp:
                text, source = resp.read().decode(), path
        else:
            with open(path, encoding="utf-8") as f:
                text, source = f.read(), path
        out += [Manifest(obj, source) for obj in parse_documents(text, source)]
    if not out:
        raise CommandError(f"no objects passed to {verb}")
    return out


def mapping_error(m: Manifest) -> str:
    meta = m.obj.get("metadata") or {}
    return (f'resource mapping not found for name: "{meta.get("name", "")}" namespace: "{meta.get("namespace", "")}" '
            f'from "{m.source}": no matches for kind "{m.obj.get("kind")}" in version "{m.obj.get("apiVersion")}"\n'
            "ensure CRDs are installed first")


def resource_of(session: Any, m: Manifest) -> Any:
    """The API resource that serves this manifest's apiVersion and kind (kubectl's mapping error if none)."""
    from skiff.cluster.client.discovery import UnknownResource

    try:
        return session.resource_for(m.obj.get("apiVersion", ""), m.obj.get("kind", ""))
    except UnknownResource:
        raise CommandError(mapping_error(m)) from None


def placed(session: Any, items: list[Manifest]) -> Iterator[tuple[Manifest, Any, str | None]]:
    """(manifest, resource, namespace) for each manifest whose kind the server serves, the
    namespace also set on the object (kubectl sends and records it); kubectl's mapping error
    on stderr for the others (marked `unmapped`)."""
    from skiff.cluster.client.discovery import UnknownResource

    for m in items:
        meta = m.obj.setdefault("metadata", {}) or {}
        try:
            res = session.resource_for(m.obj.get("apiVersion", ""), m.obj.get("kind", ""))
        except UnknownResource:
            sys.stderr.write(f"error: {mapping_error(m)}\n")
            m.unmapped = True
            continue
        ns = session.ns_for(res, meta.get("namespace"))
        if ns:
            meta["namespace"] = ns
        yield m, res, ns
