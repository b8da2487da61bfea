"""A request as authorizers see it, as kube-apiserver's RequestInfo and authorizer.Attributes."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from skiff.cluster.apiserver import paths
from skiff.cluster.apiserver.authn import User


@dataclass(frozen=True)
class Attributes:
    user: User
    verb: str
    resource_request: bool
    api_group: str = ""
    api_version: str = ""
    resource: str = ""
    subresource: str = ""
    namespace: str = ""
    name: str = ""
    path: str = ""

    @property
    def resource_with_subresource(self) -> str:
        return f"{self.resource}/{self.subresource}" if self.subresource else self.resource


def from_request(user: User, method: str, path: str, query: Mapping[str, str]) -> Attributes:
    """What a request asks for. Resource paths (/api/v1/..., /apis/G/V/...) give a resource
    request; everything else (discovery, /healthz, /metrics, /openapi) a path with the method as verb."""
    watching = query.get("watch", "") in ("1", "true", "True")
    info = paths.parse(method, path, watching)
    if info is None:
        return Attributes(user, method.lower(), False, path=path)
    name = info.name
    if info.verb in ("list", "watch", "deletecollection") and not name:
        # a list of one object by name is authorized as that object (kubectl get -w NAME)
        for term in query.get("fieldSelector", "").split(","):
            key, _, value = term.partition("=")
            if key == "metadata.name" and value and not value.startswith("="):
                name = value
    return Attributes(user, info.verb, True, info.group, info.version, info.resource,
                      _top_subresource(info.subresource), info.namespace, name, path)


def _top_subresource(sub: str) -> str:
    """`proxy/some/path` is subresource `proxy`."""
    return sub.split("/", 1)[0]


def for_resource(user: User, verb: str, group: str, resource: str, subresource: str = "",
                 namespace: str = "", name: str = "") -> Attributes:
    return Attributes(user, verb, True, group, "", resource, subresource, namespace, name)


def for_path(user: User, verb: str, path: str) -> Attributes:
    return Attributes(user, verb, False, path=path)
