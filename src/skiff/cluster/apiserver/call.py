"""One resource request as handlers see it: the resource, the parsed path, the query, the body, the caller."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from multidict import MultiMapping

from skiff.cluster.api.registry import Resource
from skiff.cluster.apimachinery.errors import bad_request
from skiff.cluster.apiserver.authn import User
from skiff.cluster.apiserver.context import ApiContext
from skiff.cluster.apiserver.negotiation import Wanted
from skiff.cluster.apiserver.objects import list_prefix, object_key
from skiff.cluster.apiserver.paths import RequestInfo
from skiff.cluster.apiserver.versions import storage_group, to_served

FIELD_VALIDATION = ("Strict", "Warn", "Ignore")


@dataclass
class Call:
    ctx: ApiContext
    res: Resource
    info: RequestInfo
    query: MultiMapping[str]
    content_type: str
    body: bytes
    user: User
    wanted: Wanted = field(default_factory=Wanted)
    user_agent: str = ""
    warnings: list[str] = field(default_factory=list)

    @property
    def namespace(self) -> str:
        """The namespace of the objects this call touches ('' for cluster-scoped and all-namespace lists)."""
        return self.info.namespace if self.res.namespaced else ""

    @property
    def key(self) -> str:
        return object_key(storage_group(self.res), self.res.plural, self.namespace, self.info.name)

    @property
    def prefix(self) -> str:
        return list_prefix(storage_group(self.res), self.res.plural, self.namespace)

    def key_for(self, namespace: str, name: str) -> str:
        return object_key(storage_group(self.res), self.res.plural, namespace if self.res.namespaced else "", name)

    @property
    def dry_run(self) -> bool:
        values = self.query.getall("dryRun", [])
        for v in values:
            if v != "All":
                raise bad_request(f'Invalid dryRun value "{v}". Allowed values: All')
        return bool(values)

    @property
    def field_validation(self) -> str:
        value = self.query.get("fieldValidation", "") or "Warn"
        if value not in FIELD_VALIDATION:
            raise bad_request(f"fieldValidation must be one of Ignore, Warn, Strict, got {value!r}")
        return value

    @property
    def field_manager(self) -> str:
        """fieldManager, or the client's name from its User-Agent, as kube-apiserver derives it."""
        manager = self.query.get("fieldManager", "")
        if manager:
            if len(manager) > 128:
                raise bad_request("fieldManager: Too long: may not be more than 128 bytes")
            return manager
        return (self.user_agent.split("/", 1)[0] or "unknown")[:128]

    def int_param(self, name: str) -> int | None:
        raw = self.query.get(name)
        if raw is None or raw == "":
            return None
        try:
            return int(raw)
        except ValueError:
            raise bad_request(f'invalid value for {name}: "{raw}" is not an integer') from None

    def warn(self, text: str) -> None:
        self.warnings.append(text)

    def stamp(self, obj: dict[str, Any]) -> dict[str, Any]:
        """A stored object as this request's version presents it (converted when the versions differ)."""
        return to_served(self.res, obj)
