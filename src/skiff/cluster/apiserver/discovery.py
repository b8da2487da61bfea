"""Discovery documents built from the kinds registry: legacy (/api, /apis, /apis/G/V) and aggregated (v2)."""

from __future__ import annotations

import base64
import hashlib
from typing import Any

from skiff.cluster.api import registry
from skiff.cluster.api.registry import Resource

AGGREGATED_TYPE = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"


def wants_aggregated(accept: str) -> bool:
    for part in accept.split(","):
        params = dict(p.strip().split("=", 1) for p in part.split(";")[1:] if "=" in p)
        if params.get("g") == "apidiscovery.k8s.io" and params.get("as") == "APIGroupDiscoveryList":
            return params.get("v") == "v2"
        if part.split(";")[0].strip() in ("application/json", "*/*"):
            return False
    return False


def _storage_hash(res: Resource) -> str:
    digest = hashlib.sha256(f"{res.group}/{res.version}/{res.kind}".encode()).digest()
    return base64.b64encode(digest[:8]).decode()


def _verbs(res: Resource) -> list[str]:
    return sorted(res.verbs)


def resource_list(group: str, version: str) -> dict[str, Any] | None:
    resources = registry.resources_in(group, version)
    if not resources:
        return None
    out: list[dict[str, Any]] = []
    for r in sorted(resources, key=lambda r: r.plural):
        entry: dict[str, Any] = {"name": r.plural, "singularName": r.singular, "namespaced": r.namespaced,
                                 "kind": r.kind, "verbs": _verbs(r)}
        if r.short_names:
            entry["shortNames"] = list(r.short_names)
        if r.categories:
            entry["categories"] = list(r.categories)
        entry["storageVersionHash"] = _storage_hash(r)
        out.append(entry)
        for sub in r.subresources:
            s = registry.subresource(r, sub)
            if s is None:
                continue
            e: dict[str, Any] = {"name": f"{r.plural}/{sub}", "singularName": "", "namespaced": r.namespaced,
                                 "kind": s.kind, "verbs": list(s.verbs)}
            if s.group != r.group or s.version != r.version:
                e["group"], e["version"] = s.group, s.version
            out.append(e)
    gv = f"{group}/{version}" if group else version
    return {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv, "resources": out}


def api_versions(server_address: str) -> dict[str, Any]:
    return {"kind": "APIVersions", "versions": ["v1"],
            "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}]}


def api_group(group: str) -> dict[str, Any] | None:
    versions = registry.versions_of(group)
    if not group or not versions:
        return None
    entries = [{"groupVersion": f"{group}/{v}", "version": v} for v in versions]
    return {"kind": "APIGroup", "apiVersion": "v1", "name": group, "versions": entries,
            "preferredVersion": entries[0]}


def api_group_list() -> dict[str, Any]:
    groups = [g for g in (api_group(name) for name in registry.groups() if name) if g]
    for g in groups:
        del g["kind"], g["apiVersion"]
    return {"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}


def _aggregated_resource(r: Resource) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "resource": r.plural,
        "responseKind": {"group": r.group, "version": r.version, "kind": r.kind},
        "scope": "Namespaced" if r.namespaced else "Cluster",
        "singularResource": r.singular,
        "verbs": _verbs(r),
    }
    if r.short_names:
        entry["shortNames"] = list(r.short_names)
    if r.categories:
        entry["categories"] = list(r.categories)
    subs = []
    for name in r.subresources:
        s = registry.subresource(r, name)
        if s is not None:
            subs.append({"subresource": name, "responseKind": {"group": s.group, "version": s.version,
                                                                "kind": s.kind}, "verbs": list(s.verbs)})
    if subs:
        entry["subresources"] = subs
    return entry


def aggregated(core: bool) -> dict[str, Any]:
    """APIGroupDiscoveryList for /api (core=True) or /apis."""
    items = []
    for group in registry.groups():
        if (group == "") != core:
            continue
        versions = []
        for v in registry.versions_of(group):
            resources = sorted(registry.resources_in(group, v), key=lambda r: r.plural)
            versions.append({"version": v, "resources": [_aggregated_resource(r) for r in resources],
                             "freshness": "Current"})
        items.append({"metadata": {"name": group} if group else {}, "versions": versions})
    return {"kind": "APIGroupDiscoveryList", "apiVersion": "apidiscovery.k8s.io/v2", "metadata": {},
            "items": items}
