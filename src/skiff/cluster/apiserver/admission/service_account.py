"""ServiceAccount: a pod without one runs as `default`, which must exist in its namespace.

The `default` account itself is made by the server's service-account loop (see
`apiserver/lifecycle.py`) when a namespace appears, as the service-account controller does.
Token volumes are not mounted yet (no token controller).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from skiff.cluster.apimachinery.errors import forbidden
from skiff.cluster.apiserver.admission import Attributes, Base

if TYPE_CHECKING:
    from skiff.cluster.apiserver.context import ApiContext

DEFAULT = "default"


class ServiceAccount(Base):
    name = "ServiceAccount"

    async def admit(self, ctx: ApiContext, a: Attributes) -> None:
        if a.operation != "CREATE" or not a.is_core("Pod") or a.subresource:
            return
        spec = a.obj.setdefault("spec", {})
        if (a.obj["metadata"].get("annotations") or {}).get("kubernetes.io/config.mirror"):
            return  # mirror pods of static pods keep no service account
        name = spec.get("serviceAccountName") or spec.get("serviceAccount") or DEFAULT
        spec["serviceAccountName"] = name
        spec["serviceAccount"] = name

    async def validate(self, ctx: ApiContext, a: Attributes) -> None:
        if a.operation != "CREATE" or not a.is_core("Pod") or a.subresource:
            return
        name = (a.obj.get("spec") or {}).get("serviceAccountName")
        if not name:
            return
        if await ctx.get_object("", "serviceaccounts", a.namespace, name) is None:
            raise forbidden("pods", a.name, f"error looking up service account {a.namespace}/{name}: "
                            f'serviceaccount "{name}" not found')
