"""`kubectl get` columns of the rbac.authorization.k8s.io kinds, as Kubernetes prints them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from skiff.cluster.api.printers import AGE, NAME, Column, Obj, register
from skiff.cluster.apimachinery.duration import age

GROUP = "rbac.authorization.k8s.io"
CREATED_AT = Column("Created At", format="date", description="CreationTimestamp is a timestamp representing the "
                                                             "server time when this object was created.")


def _role_row(o: Obj, now: datetime) -> list[Any]:
    meta = o.get("metadata") or {}
    return [meta.get("name", ""), meta.get("creationTimestamp", "")]


def _binding_row(o: Obj, now: datetime) -> list[Any]:
    meta = o.get("metadata") or {}
    ref = o.get("roleRef") or {}
    users, groups, accounts = [], [], []
    for s in o.get("subjects") or []:
        kind = s.get("kind")
        if kind == "User":
            users.append(s.get("name", ""))
        elif kind == "Group":
            groups.append(s.get("name", ""))
        elif kind == "ServiceAccount":
            accounts.append(f"{s.get('namespace', '')}/{s.get('name', '')}")
    return [meta.get("name", ""), f"{ref.get('kind', '')}/{ref.get('name', '')}",
            age(meta.get("creationTimestamp"), now), ", ".join(users), ", ".join(groups), ", ".join(accounts)]


_BINDING = (NAME, Column("Role"), AGE, Column("Users", priority=1), Column("Groups", priority=1),
            Column("ServiceAccounts", priority=1))
register(GROUP, "Role", (NAME, CREATED_AT), _role_row)
register(GROUP, "ClusterRole", (NAME, CREATED_AT), _role_row)
register(GROUP, "RoleBinding", _BINDING, _binding_row)
register(GROUP, "ClusterRoleBinding", _BINDING, _binding_row)
