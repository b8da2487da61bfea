"""NamespaceLifecycle: no new objects in a missing or terminating namespace; the system namespaces stay."""

from __future__ import annotations

from typing import TYPE_CHECKING

from skiff.cluster.apimachinery.errors import forbidden, not_found
from skiff.cluster.apiserver.admission import Attributes, Base

if TYPE_CHECKING:
    from skiff.cluster.apiserver.context import ApiContext

IMMORTAL = frozenset({"default", "kube-system", "kube-public"})
# Kinds that may still be created in a terminating namespace (what upstream exempts).
ALLOWED_WHILE_TERMINATING = frozenset({"Event", "SubjectAccessReview", "TokenReview", "LocalSubjectAccessReview"})


class NamespaceLifecycle(Base):
    name = "NamespaceLifecycle"

    async def validate(self, ctx: ApiContext, a: Attributes) -> None:
        if a.is_core("Namespace") and a.operation == "DELETE" and a.name in IMMORTAL:
            raise forbidden("namespaces", a.name, "this namespace may not be deleted")
        if a.operation != "CREATE" or not a.res.namespaced or a.subresource:
            return
        ns = await ctx.get_object("", "namespaces", "", a.namespace)
        if ns is None:  # the cache may not have seen a namespace made a moment ago: ask storage
            ns = await ctx.get_object("", "namespaces", "", a.namespace, fresh=True)
        if ns is None:
            raise not_found("namespaces", a.namespace)
        terminating = ns["metadata"].get("deletionTimestamp") or (ns.get("status") or {}).get("phase") == \
            "Terminating"
        if terminating and a.kind not in ALLOWED_WHILE_TERMINATING:
            raise forbidden(a.res.plural, a.name, f"unable to create new content in namespace {a.namespace} "
                            "because it is being terminated", a.res.group)
