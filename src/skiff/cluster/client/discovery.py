"""Discovery: the server's resources as `Resource` records, and kubectl's name resolution.

`parse_aggregated` and `resolve` are pure; `fetch` makes the two requests (/api and /apis,
aggregated discovery) or falls back to the per-group-version documents.
"""

from __future__ import annotations

from typing import Any

from skiff.cluster.client.paths import Resource

AGGREGATED = ("application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,"
              "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json")


class UnknownResource(Exception):
    """No resource of that name: kubectl's `the server doesn't have a resource type "x"`."""

    def __init__(self, name: str):
        self.name = name
        super().__init__(f'the server doesn\'t have a resource type "{name}"')


def parse_aggregated(doc: dict[str, Any]) -> list[Resource]:
    """Resources of an APIGroupDiscoveryList, every version, preferred version first per group."""
    out: list[Resource] = []
    for group in doc.get("items") or []:
        gname = (group.get("metadata") or {}).get("name", "")
        for ver in group.get("versions") or []:
            for r in ver.get("resources") or []:
                kind = (r.get("responseKind") or {}).get("kind", "")
                out.append(Resource(
                    group=gname, version=ver.get("version", ""), plural=r.get("resource", ""), kind=kind,
                    namespaced=r.get("scope") == "Namespaced", singular=r.get("singularResource") or kind.lower(),
                    short_names=tuple(r.get("shortNames") or ()), verbs=tuple(r.get("verbs") or ()),
                    categories=tuple(r.get("categories") or ()),
                    subresources=tuple(s.get("subresource", "") for s in r.get("subresources") or ())))
    return out


def parse_resource_list(doc: dict[str, Any]) -> list[Resource]:
    """Resources of one APIResourceList (legacy discovery); subresources fold into their parent."""
    group, _, version = (doc.get("groupVersion") or "").rpartition("/")
    out: dict[str, Resource] = {}
    subs: dict[str, list[str]] = {}
    for r in doc.get("resources") or []:
        name = r.get("name", "")
        if "/" in name:
            parent, _, sub = name.partition("/")
            subs.setdefault(parent, []).append(sub)
            continue
        out[name] = Resource(group=group, version=version, plural=name, kind=r.get("kind", ""),
                             namespaced=bool(r.get("namespaced")), singular=r.get("singularName") or r.get("kind", "").lower(),
                             short_names=tuple(r.get("shortNames") or ()), verbs=tuple(r.get("verbs") or ()),
                             categories=tuple(r.get("categories") or ()))
    return [res._replace(subresources=tuple(subs.get(res.plural, ()))) for res in out.values()]


def _matches(res: Resource, word: str) -> bool:
    return word in (res.plural, res.singular, res.kind.lower()) or word in res.short_names


def resolve(resources: list[Resource], name: str) -> Resource:
    """`po`, `pods`, `Pod`, `deploy`, `deployments.apps`, `deployments.v1.apps` → the resource.

    The first match in discovery order wins (core first, preferred versions first), as kubectl's
    RESTMapper prefers them."""
    word = name.lower()
    for res in resources:
        if _matches(res, word):
            return res
    # fully qualified forms: resource.group or resource.version.group
    head, _, rest = word.partition(".")
    if rest.endswith(".") and rest.count(".") == 1:  # `pods.v1.`: a version of the core group
        for res in resources:
            if _matches(res, head) and res.group == "" and res.version == rest[:-1]:
                return res
    if rest:
        version, _, group = rest.partition(".")
        for res in resources:
            if not _matches(res, head):
                continue
            if res.group == rest or (group and res.group == group and res.version == version):
                return res
    raise UnknownResource(name)


def by_kind(resources: list[Resource], api_version: str, kind: str) -> Resource:
    """The resource that serves objects of this apiVersion and kind (for -f manifests)."""
    group, _, version = api_version.rpartition("/")
    for res in resources:
        if res.kind == kind and res.group == group and res.version == version:
            return res
    raise UnknownResource(kind)


def in_category(resources: list[Resource], category: str) -> list[Resource]:
    """The resources of a category (`all`), one version each, in discovery order."""
    seen: set[tuple[str, str]] = set()
    out = []
    for res in resources:
        if category in res.categories and (res.group, res.plural) not in seen:
            seen.add((res.group, res.plural))
            out.append(res)
    return out


def preferred(resources: list[Resource]) -> list[Resource]:
    """One entry per (group, resource): the first version discovery lists."""
    seen: set[tuple[str, str]] = set()
    out = []
    for res in resources:
        if (res.group, res.plural) not in seen:
            seen.add((res.group, res.plural))
            out.append(res)
    return out


def fetch(client: Any) -> list[Resource]:
    """All resources the server serves, via aggregated discovery when it answers with it."""
    core = client.request("GET", "/api", accept=AGGREGATED)
    groups = client.request("GET", "/apis", accept=AGGREGATED)
    if core.get("kind") == "APIGroupDiscoveryList" and groups.get("kind") == "APIGroupDiscoveryList":
        return parse_aggregated(core) + parse_aggregated(groups)
    out = []
    for version in core.get("versions") or ["v1"]:
        out += parse_resource_list(client.request("GET", f"/api/{version}"))
    for group in groups.get("groups") or []:
        pref = (group.get("preferredVersion") or {}).get("groupVersion")
        versions = [v["groupVersion"] for v in group.get("versions") or []]
        for gv in sorted(versions, key=lambda v: v != pref):
            out += parse_resource_list(client.request("GET", f"/apis/{gv}"))
    return out


def api_versions(resources: list[Resource]) -> list[str]:
    return sorted({r.group_version for r in resources})
