"""Turn a request path and method into what the request is about, as kube-apiserver's RequestInfo does."""

from __future__ import annotations

from dataclasses import dataclass

# Subresources of a namespace object: /api/v1/namespaces/NAME/status is not "resource status in NAME".
NAMESPACE_SUBRESOURCES = frozenset({"status", "finalize"})


@dataclass(frozen=True)
class RequestInfo:
    verb: str  # get list watch create update patch delete deletecollection
    group: str
    version: str
    resource: str
    namespace: str = ""
    name: str = ""
    subresource: str = ""


def parse(method: str, path: str, watch: bool = False) -> RequestInfo | None:
    """The resource a path names, or None when it is not a resource path (discovery, /healthz...)."""
    parts = [p for p in path.split("/") if p]
    if len(parts) >= 3 and parts[0] == "api":
        group, version, rest = "", parts[1], parts[2:]
    elif len(parts) >= 4 and parts[0] == "apis":
        group, version, rest = parts[1], parts[2], parts[3:]
    else:
        return None
    namespace = ""
    if rest[0] == "namespaces" and len(rest) >= 2:
        namespace = rest[1]
        if len(rest) > 2 and rest[2] not in NAMESPACE_SUBRESOURCES:
            rest = rest[2:]
    resource = rest[0]
    name = rest[1] if len(rest) > 1 else ""
    subresource = "/".join(rest[2:])
    if len(rest) > 3 and resource != "namespaces" and rest[2] != "proxy":
        return None
    verb = _verb(method, bool(name), watch)
    if verb is None:
        return None
    return RequestInfo(verb, group, version, resource, namespace, name, subresource)


def _verb(method: str, named: bool, watch: bool) -> str | None:
    if method in ("GET", "HEAD"):
        if watch:
            return "watch"
        return "get" if named else "list"
    return {
        "POST": "create",
        "PUT": "update",
        "PATCH": "patch",
        "DELETE": "delete" if named else "deletecollection",
    }.get(method)
