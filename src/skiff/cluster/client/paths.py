"""REST paths of the Kubernetes API, built from (group, version, plural, namespace, name)."""

from __future__ import annotations

from typing import NamedTuple
from urllib.parse import quote, urlencode


class Resource(NamedTuple):
    """One API resource as discovery describes it. (A NamedTuple, not a dataclass: the CLI
    starts faster without importing dataclasses.)"""

    group: str
    version: str
    plural: str
    kind: str
    namespaced: bool = True
    singular: str = ""
    short_names: tuple[str, ...] = ()
    verbs: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    subresources: tuple[str, ...] = ()

    @property
    def group_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def qualified(self) -> str:
        """`deployments.apps`, `pods`: how kubectl names a resource in messages."""
        return f"{self.plural}.{self.group}" if self.group else self.plural

    @property
    def kind_qualified(self) -> str:
        """`deployment.apps`, `pod`: the prefix of `-o name` output."""
        name = self.kind.lower()
        return f"{name}.{self.group}" if self.group else name


def group_version_prefix(group: str, version: str) -> str:
    return f"/apis/{group}/{version}" if group else f"/api/{version}"


def resource_path(group: str, version: str, plural: str, namespace: str | None = None,
                  name: str | None = None, subresource: str | None = None) -> str:
    """`/apis/apps/v1/namespaces/ns/deployments/web/scale` and its shorter forms."""
    parts = [group_version_prefix(group, version)]
    if namespace:
        parts.append("namespaces/" + quote(namespace, safe=""))
    parts.append(plural)
    if name is not None:
        parts.append(quote(name, safe=""))
        if subresource:
            parts.append(subresource)
    return "/".join(parts)


def path_for(res: Resource, namespace: str | None = None, name: str | None = None,
             subresource: str | None = None) -> str:
    return resource_path(res.group, res.version, res.plural, namespace if res.namespaced else None,
                         name, subresource)


def with_query(path: str, params: dict[str, object] | None) -> str:
    """Append the query parameters whose value is not None (booleans as `true`/`false`)."""
    if not params:
        return path
    items: list[tuple[str, str]] = []
    for key, value in params.items():
        if value is None:
            continue
        if isinstance(value, bool):
            value = "true" if value else "false"
        if isinstance(value, (list, tuple)):
            items.extend((key, str(v)) for v in value)
        else:
            items.append((key, str(value)))
    return f"{path}?{urlencode(items)}" if items else path


def split_api_version(api_version: str) -> tuple[str, str]:
    """`apps/v1` → ("apps", "v1"); `v1` → ("", "v1")."""
    group, _, version = api_version.rpartition("/")
    return group, version
