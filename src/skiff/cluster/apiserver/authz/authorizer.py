"""The authorization modes in order (`--authorization-mode`), and Kubernetes' Forbidden error."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from skiff.cluster.apimachinery.errors import ApiError, forbidden
from skiff.cluster.apiserver.authz import node
from skiff.cluster.apiserver.authz.attributes import Attributes
from skiff.cluster.apiserver.authz.index import RbacIndex
from skiff.cluster.apiserver.authz.rules import Rule

if TYPE_CHECKING:
    from skiff.cluster.apiserver.context import ApiContext

MODES = ("AlwaysAllow", "AlwaysDeny", "Node", "RBAC")
MASTERS = "system:masters"


def parse_modes(text: str) -> tuple[str, ...]:
    """`Node,RBAC` -> ('Node', 'RBAC'); ValueError on an unknown or repeated mode."""
    modes = tuple(m.strip() for m in text.split(",") if m.strip())
    if not modes:
        raise ValueError("at least one authorization mode must be passed")
    for m in modes:
        if m not in MODES:
            raise ValueError(f'authorization-mode "{m}" is not a valid mode (valid: {", ".join(MODES)})')
    if len(set(modes)) != len(modes):
        raise ValueError(f"authorization-mode {text!r} has duplicates")
    return modes


class Authorizer:
    def __init__(self, modes: tuple[str, ...], ctx: ApiContext | None = None, index: RbacIndex | None = None):
        self.modes = modes
        self.ctx = ctx
        self.index = index or RbacIndex()
        self.always_allow = modes[0] == "AlwaysAllow"

    async def authorize(self, a: Attributes) -> tuple[bool, str]:
        """Allowed, or not with the reasons the modes gave (joined as upstream's union authorizer)."""
        if MASTERS in a.user.groups:  # the admin certificate: most requests, decided at once
            return True, ""
        reasons: list[str] = []
        for mode in self.modes:
            if mode == "AlwaysAllow":
                return True, ""
            if mode == "AlwaysDeny":
                return False, "Everything is forbidden."
            if mode == "Node":
                decision, why = await node.authorize(a, self._pods)
                if decision == node.ALLOW:
                    return True, ""
            else:
                allowed, why = self.index.allowed(a)
                if allowed:
                    return True, ""
            if why:
                reasons.append(why)
        return False, ", ".join(reasons)

    async def _pods(self, namespace: str) -> list[dict[str, Any]]:
        if self.ctx is None:
            return []
        return await self.ctx.list_objects("", "pods", namespace)

    def rules_for(self, a: Attributes, namespace: str) -> tuple[list[Rule], list[str], bool]:
        """The rules the user has in `namespace` (SelfSubjectRulesReview): (rules, errors, incomplete)."""
        if self.always_allow or MASTERS in a.user.groups:
            return [{"verbs": ["*"], "apiGroups": ["*"], "resources": ["*"]},
                    {"verbs": ["*"], "nonResourceURLs": ["*"]}], [], False
        rules, errors = self.index.rules_for(a.user, namespace) if "RBAC" in self.modes else ([], [])
        return rules, errors, "Node" in self.modes and bool(node.node_name(a))


def forbidden_error(a: Attributes, reason: str) -> ApiError:
    """`pods is forbidden: User "x" cannot list resource "pods" in API group "" in the namespace "default"`."""
    user = a.user.name
    if not a.resource_request:
        why = f'User "{user}" cannot {a.verb} path "{a.path}"' + (f": {reason}" if reason else "")
        return ApiError(403, "Forbidden", f"forbidden: {why}", {})
    scope = f' in the namespace "{a.namespace}"' if a.namespace else " at the cluster scope"
    why = (f'User "{user}" cannot {a.verb} resource "{a.resource_with_subresource}" in API group '
           f'"{a.api_group}"{scope}') + (f": {reason}" if reason else "")
    return forbidden(a.resource, a.name, why, a.api_group)
