"""`kubectl explain`: field documentation from the server's /openapi/v3 (kubectl's plaintext layout)."""

from __future__ import annotations

import sys
import textwrap
from typing import Any

from skiff.cli.kubectl import options
from skiff.cli.kubectl.session import BareError, CommandError, Session
from skiff.cluster.client.discovery import UnknownResource

HELP = """Describe fields and structure of various resources.

Examples:
  kubectl explain pods
  kubectl explain pods.spec.containers
  kubectl explain deployment.spec.strategy --recursive"""

PREFIXES = ("#/components/schemas/", "#/definitions/")  # OpenAPI v3, v2


class ExplainError(CommandError):
    """A bad field path: kubectl prints the page header it had written before the error."""

    def __init__(self, header: str, message: str):
        self.header = header
        super().__init__(message)


def _deref(schemas: dict[str, Any], node: dict[str, Any]) -> tuple[dict[str, Any], str]:
    """The schema a node points to (through $ref or allOf[$ref]) and its type name ('' if inline)."""
    ref = node.get("$ref")
    if not ref and len(node.get("allOf") or []) == 1:
        ref = node["allOf"][0].get("$ref")
    prefix = next((p for p in PREFIXES if ref and ref.startswith(p)), None)
    if ref and prefix:
        name = ref[len(prefix):]
        return schemas.get(name, {}), name.rsplit(".", 1)[-1]
    return node, ""


def type_name(schemas: dict[str, Any], node: dict[str, Any]) -> str:
    """`string`, `[]Container`, `map[string]string`, `ObjectMeta`, `Object`. Pure."""
    target, name = _deref(schemas, node)
    if name:
        if target.get("type") == "string" or (not target.get("properties") and target.get("format")):
            return name if name in ("Quantity", "IntOrString") else "string"
        return name
    kind = node.get("type")
    if kind == "array":
        return "[]" + type_name(schemas, node.get("items") or {})
    if kind == "object" and isinstance(node.get("additionalProperties"), dict):
        return "map[string]" + type_name(schemas, node["additionalProperties"])
    if kind == "object" or (not kind and node.get("properties")):
        return "Object"
    if node.get("x-kubernetes-int-or-string"):
        return "IntOrString"
    return kind or "Object"


def _element(schemas: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    """The schema whose fields a path continues into: arrays and maps step into their items."""
    target, _ = _deref(schemas, node)
    if target.get("type") == "array":
        return _element(schemas, target.get("items") or {})
    if target.get("type") == "object" and isinstance(target.get("additionalProperties"), dict) and not target.get("properties"):
        return _element(schemas, target["additionalProperties"])
    return target


def wrap(text: str, indent: int, width: int = 80) -> str:
    lines = []
    for para in text.split("\n"):
        if not para.strip():
            lines.append(" " * indent)
            continue
        lines += textwrap.wrap(para, width - indent, break_long_words=False, break_on_hyphens=False) or [""]
    return "\n".join((" " * indent + line) if line.strip() else " " * indent for line in lines) + "\n"


def render(schemas: dict[str, Any], root: str, group: str, version: str, kind: str, path: list[str],
           recursive: bool = False) -> str:
    """The page kubectl explain prints for KIND[.field...]. Pure."""
    node = schemas.get(root)
    if node is None:
        raise CommandError(f"couldn't find resource for \"{kind}\"")
    out = (f"GROUP:      {group}\n" if group else "") + f"KIND:       {kind}\nVERSION:    {version}\n\n"
    field_line = ""
    description = node.get("description", "")
    walked = []
    for part in path:
        current = _element(schemas, node)
        props = current.get("properties") or {}
        if part not in props:
            raise ExplainError(out, f'field "{part}" does not exist')
        child = props[part]
        walked.append(part)
        target = _element(schemas, child)
        field_line = f"FIELD: {part} <{type_name(schemas, child)}>\n\n"
        description = "\n".join(d for d in (child.get("description", ""), target.get("description", "")
                                            if target is not child else "") if d)
        node = child
    out += field_line
    if field_line:
        out += "\n"
    out += "DESCRIPTION:\n" + wrap(description or "<empty>", 4) + "    \n"
    fields = _element(schemas, node)
    props = fields.get("properties") or {}
    if props:
        out += "FIELDS:\n"
        if recursive:
            out += _recursive(schemas, fields, 2, set())
        else:
            required = set(fields.get("required") or [])
            for name in sorted(props):
                child = props[name]
                req = " -required-" if name in required else ""
                out += f"  {name}\t<{type_name(schemas, child)}>{req}\n"
                out += wrap(child.get("description", "<no description>"), 4) + "\n"
    return out + "\n"


def _recursive(schemas: dict[str, Any], node: dict[str, Any], indent: int, seen: set[int]) -> str:
    out = ""
    required = set(node.get("required") or [])
    for name in sorted(node.get("properties") or {}):
        child = node["properties"][name]
        req = " -required-" if name in required else ""
        out += " " * indent + f"{name}\t<{type_name(schemas, child)}>{req}\n"
        inner = _element(schemas, child)
        if inner.get("properties") and id(inner) not in seen:
            out += _recursive(schemas, inner, indent + 2, seen | {id(inner)})
    return out


def run(word: str, argv: list[str]) -> int:
    p = options.parser("explain", HELP)
    p.add_argument("target", nargs="?", metavar="TYPE[.FIELD]...")
    p.add_argument("--recursive", action="store_true", help="When true, print the name of all the fields recursively.")
    p.add_argument("--api-version", default="", help="Use given api-version (group/version) of the resource.")
    p.add_argument("-o", "--output", default="plaintext", help="Format in which to render the schema (plaintext).")
    opts = p.parse_intermixed_args(argv)
    if not opts.target:
        raise CommandError("You must specify the type of resource to explain. Use \"kubectl api-resources\" for a "
                           "complete list of supported resources.")
    session = Session(opts)
    type_word, *path = opts.target.split(".")
    try:
        res = session.resource(type_word)
    except UnknownResource as e:
        raise BareError(str(e)) from None
    group, version = res.group, res.version
    if opts.api_version:
        group, _, version = opts.api_version.rpartition("/")
    schemas = _schemas(session, group, version, res.kind)
    root = _root_for(schemas, group, version, res.kind)
    try:
        sys.stdout.write(render(schemas, root, group, version, res.kind, path, opts.recursive))
    except ExplainError as e:
        sys.stdout.write(e.header)
        raise
    return 0


def _schemas(session: Session, group: str, version: str, kind: str) -> dict[str, Any]:
    """The schemas of one group/version from /openapi/v3, or all of /openapi/v2 on a server
    without v3 (as kubectl falls back)."""
    from skiff.cluster.client.errors import StatusError

    try:
        index = session.client.request("GET", "/openapi/v3")
    except StatusError as e:
        if e.code not in (404, 406):
            raise
        doc = session.client.request("GET", "/openapi/v2")
        return doc.get("definitions") or {}
    key = f"apis/{group}/{version}" if group else f"api/{version}"
    entry = (index.get("paths") or {}).get(key)
    if not entry:
        raise CommandError(f"couldn't find resource for \"{group}/{version}, Kind={kind}\"")
    doc = session.client.request("GET", entry.get("serverRelativeURL") or f"/openapi/v3/{key}")
    return (doc.get("components") or {}).get("schemas") or {}


def _root_for(schemas: dict[str, Any], group: str, version: str, kind: str) -> str:
    for name, schema in schemas.items():
        for gvk in schema.get("x-kubernetes-group-version-kind") or []:
            if gvk.get("group", "") == group and gvk.get("version") == version and gvk.get("kind") == kind:
                return name
    raise CommandError(f"couldn't find resource for \"{group}/{version}, Kind={kind}\"")
