"""Roles, ClusterRoles and their bindings in memory, indexed by subject: what RBAC reads per request.

Fed from the watch cache (`sync.py`), never from storage per request. A user's rules are found
through the bindings naming the user, one of its groups, or (for a service account) the account.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from skiff.cluster.apiserver.authn import User
from skiff.cluster.apiserver.authz.attributes import Attributes
from skiff.cluster.apiserver.authz.rules import Rule, allows

SA_PREFIX = "system:serviceaccount:"
GROUP = "rbac.authorization.k8s.io"
KINDS = ("roles", "clusterroles", "rolebindings", "clusterrolebindings")


@dataclass(frozen=True)
class Binding:
    namespace: str  # "" for a ClusterRoleBinding
    name: str
    role_kind: str  # Role | ClusterRole
    role_name: str
    subjects: tuple[tuple[str, str], ...]  # subject keys (see subject_key)


def subject_key(subject: dict[str, Any], binding_namespace: str) -> tuple[str, str]:
    kind = subject.get("kind", "")
    if kind == "ServiceAccount":
        ns = subject.get("namespace") or binding_namespace
        return ("User", f"{SA_PREFIX}{ns}:{subject.get('name', '')}")  # matched as its user name
    return (kind, subject.get("name", ""))


def user_keys(user: User) -> list[tuple[str, str]]:
    return [("User", user.name), *(("Group", g) for g in user.groups)]


class RbacIndex:
    def __init__(self) -> None:
        self.cluster_roles: dict[str, dict[str, Any]] = {}
        self.roles: dict[tuple[str, str], dict[str, Any]] = {}
        self.bindings: dict[tuple[str, str, str], Binding] = {}  # (kind, namespace, name)
        # subject key -> ClusterRoleBindings / (namespace -> RoleBindings) naming it
        self._cluster_by_subject: dict[tuple[str, str], set[Binding]] = {}
        self._ns_by_subject: dict[tuple[str, str], dict[str, set[Binding]]] = {}
        self.generation = 0  # bumped on every change (aggregation and callers' caches)

    # --- updates -------------------------------------------------------------------------
    def apply(self, resource: str, obj: dict[str, Any], deleted: bool = False) -> None:
        meta = obj.get("metadata") or {}
        name, ns = meta.get("name", ""), meta.get("namespace", "")
        self.generation += 1
        if resource == "clusterroles":
            if deleted:
                self.cluster_roles.pop(name, None)
            else:
                self.cluster_roles[name] = obj
        elif resource == "roles":
            if deleted:
                self.roles.pop((ns, name), None)
            else:
                self.roles[(ns, name)] = obj
        elif resource in ("rolebindings", "clusterrolebindings"):
            ns = ns if resource == "rolebindings" else ""
            self._unbind(resource, ns, name)
            if not deleted:
                self._bind(resource, ns, name, obj)

    def _bind(self, resource: str, ns: str, name: str, obj: dict[str, Any]) -> None:
        ref = obj.get("roleRef") or {}
        keys = tuple(subject_key(s, ns) for s in obj.get("subjects") or [])
        b = Binding(ns, name, ref.get("kind", ""), ref.get("name", ""), keys)
        self.bindings[(resource, ns, name)] = b
        for key in keys:
            if ns:
                self._ns_by_subject.setdefault(key, {}).setdefault(ns, set()).add(b)
            else:
                self._cluster_by_subject.setdefault(key, set()).add(b)

    def _unbind(self, resource: str, ns: str, name: str) -> None:
        old = self.bindings.pop((resource, ns, name), None)
        if old is None:
            return
        for key in old.subjects:
            if ns:
                per_ns = self._ns_by_subject.get(key, {})
                per_ns.get(ns, set()).discard(old)
                if not per_ns.get(ns):
                    per_ns.pop(ns, None)
                if not per_ns:
                    self._ns_by_subject.pop(key, None)
            else:
                found = self._cluster_by_subject.get(key)
                if found is not None:
                    found.discard(old)
                    if not found:
                        self._cluster_by_subject.pop(key, None)

    # --- reads ---------------------------------------------------------------------------
    def bindings_for(self, user: User, namespace: str) -> Iterator[Binding]:
        """ClusterRoleBindings naming the user, then RoleBindings in `namespace` naming it."""
        keys = user_keys(user)
        for key in keys:
            yield from self._cluster_by_subject.get(key, ())
        if namespace:
            for key in keys:
                yield from self._ns_by_subject.get(key, {}).get(namespace, ())

    def role_rules(self, b: Binding) -> tuple[list[Rule] | None, str]:
        """The rules a binding grants, or None and Kubernetes' error when its role is missing."""
        if b.role_kind == "ClusterRole":
            role = self.cluster_roles.get(b.role_name)
            if role is None:
                return None, f'clusterrole.{GROUP} "{b.role_name}" not found'
        else:
            role = self.roles.get((b.namespace, b.role_name))
            if role is None:
                return None, f'role.{GROUP} "{b.role_name}" not found'
        return role.get("rules") or [], ""

    def rules_for(self, user: User, namespace: str) -> tuple[list[Rule], list[str]]:
        """Every rule the user has in `namespace` ('' : cluster-wide only), and the errors met."""
        rules: list[Rule] = []
        errors: list[str] = []
        for b in self.bindings_for(user, namespace):
            got, err = self.role_rules(b)
            if got is None:
                errors.append(err)
            else:
                rules.extend(got)
        return rules, errors

    def allowed(self, a: Attributes) -> tuple[bool, str]:
        """RBAC's decision: allowed, or not and the reason (errors met on the way, as upstream)."""
        errors: list[str] = []
        seen: set[Binding] = set()
        for b in self.bindings_for(a.user, a.namespace):
            if b in seen:
                continue
            seen.add(b)
            got, err = self.role_rules(b)
            if got is None:
                errors.append(err)
                continue
            for rule in got:
                if allows(rule, a):
                    return True, ""
        return False, ("RBAC: " + ", ".join(errors) if len(errors) == 1 else
                       "RBAC: [" + ", ".join(errors) + "]") if errors else ""
