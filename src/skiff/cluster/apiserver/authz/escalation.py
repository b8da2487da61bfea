"""Escalation prevention: a Role, ClusterRole or binding may grant only what its writer holds,
unless the writer has `escalate` (roles) or `bind` (bindings) on it. An admission step, run
on create and update of rbac.authorization.k8s.io objects."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from skiff.cluster.apimachinery.errors import forbidden
from skiff.cluster.apiserver.authz.attributes import for_resource
from skiff.cluster.apiserver.authz.authorizer import MASTERS, Authorizer
from skiff.cluster.apiserver.authz.index import GROUP
from skiff.cluster.apiserver.authz.rules import Rule, describe, uncovered

if TYPE_CHECKING:
    from skiff.cluster.apiserver.admission import Attributes as Admission
    from skiff.cluster.apiserver.context import ApiContext

ROLE_KINDS = {"roles": "Role", "clusterroles": "ClusterRole"}
BINDING_KINDS = {"rolebindings": "RoleBinding", "clusterrolebindings": "ClusterRoleBinding"}


class EscalationCheck:
    name = "RBACEscalation"

    def __init__(self, authz: Authorizer):
        self.authz = authz

    async def admit(self, ctx: ApiContext, a: Admission) -> None:
        return None

    async def validate(self, ctx: ApiContext, a: Admission) -> None:
        if a.res.group != GROUP or a.operation not in ("CREATE", "UPDATE") or a.user is None or a.subresource:
            return
        if MASTERS in a.user.groups or "RBAC" not in self.authz.modes:
            return
        plural = a.res.plural
        ns = a.namespace if a.res.namespaced else ""
        if plural in ROLE_KINDS:
            verb, ref_resource, ref_name, granted = "escalate", plural, a.name, a.obj.get("rules") or []
        else:
            ref = a.obj.get("roleRef") or {}
            ref_resource = "clusterroles" if ref.get("kind") == "ClusterRole" else "roles"
            verb, ref_name = "bind", ref.get("name", "")
            granted = self._role_rules(ref_resource, ns, ref_name)
        allowed, _ = await self.authz.authorize(for_resource(a.user, verb, GROUP, ref_resource, namespace=ns,
                                                             name=ref_name))
        if allowed:
            return
        if plural == "clusterroles" and a.obj.get("aggregationRule"):  # it would gain whatever others grant
            raise forbidden(plural, a.name, "must have cluster-admin privileges to use the aggregationRule", GROUP)
        owned, _ = self.authz.index.rules_for(a.user, ns)
        missing = uncovered(owned, granted)
        if missing:
            groups = " ".join(f'"{g}"' for g in a.user.groups)
            why = (f'user "{a.user.name}" (groups=[{groups}]) is attempting to grant RBAC permissions not '
                   "currently held:\n" + "\n".join(describe(m) for m in missing))
            raise forbidden(plural, a.name, why, GROUP)

    def _role_rules(self, resource: str, ns: str, name: str) -> list[Rule]:
        role: dict[str, Any] | None
        if resource == "clusterroles":
            role = self.authz.index.cluster_roles.get(name)
        else:
            role = self.authz.index.roles.get((ns, name))
        return (role or {}).get("rules") or []
