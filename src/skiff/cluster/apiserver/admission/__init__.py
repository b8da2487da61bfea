"""Admission: plugins that mutate (admit) and then check (validate) a write before it is stored.

The order is kube-apiserver's: NamespaceLifecycle, LimitRanger, ServiceAccount, Priority,
DefaultTolerationSeconds, ResourceQuota. A plugin reads other objects through the
`ApiContext` (storage), never through a handler.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from skiff.cluster.api.registry import Resource
    from skiff.cluster.apiserver.authn import User
    from skiff.cluster.apiserver.context import ApiContext


@dataclass
class Attributes:
    operation: str  # CREATE | UPDATE | DELETE
    res: Resource
    subresource: str
    namespace: str
    name: str
    obj: dict[str, Any]
    old: dict[str, Any] | None
    dry_run: bool
    user: User | None
    options: dict[str, Any] = field(default_factory=dict)

    @property
    def kind(self) -> str:
        return self.res.kind

    def is_core(self, kind: str) -> bool:
        return self.res.group == "" and self.res.kind == kind


class Plugin(Protocol):
    name: str

    async def admit(self, ctx: ApiContext, a: Attributes) -> None: ...

    async def validate(self, ctx: ApiContext, a: Attributes) -> None: ...


class AdmissionChain:
    def __init__(self, ctx_ref: Any, plugins: list[Plugin]):
        self._ctx_ref = ctx_ref  # a callable returning the ApiContext (built after the chain)
        self.plugins = plugins

    async def admit(self, a: Attributes) -> None:
        ctx = self._ctx_ref()
        for p in self.plugins:
            await p.admit(ctx, a)

    async def validate(self, a: Attributes) -> None:
        ctx = self._ctx_ref()
        for p in self.plugins:
            await p.validate(ctx, a)


def default_plugins() -> list[Plugin]:
    from skiff.cluster.apiserver.admission.default_toleration import DefaultTolerationSeconds
    from skiff.cluster.apiserver.admission.limit_ranger import LimitRanger
    from skiff.cluster.apiserver.admission.namespace_lifecycle import NamespaceLifecycle
    from skiff.cluster.apiserver.admission.priority import Priority
    from skiff.cluster.apiserver.admission.resource_quota import ResourceQuota
    from skiff.cluster.apiserver.admission.service_account import ServiceAccount

    return [NamespaceLifecycle(), LimitRanger(), ServiceAccount(), Priority(), DefaultTolerationSeconds(),
            ResourceQuota()]


class Base:
    """A plugin that does nothing unless it overrides a step."""

    name = "base"

    async def admit(self, ctx: ApiContext, a: Attributes) -> None:
        return None

    async def validate(self, ctx: ApiContext, a: Attributes) -> None:
        return None
