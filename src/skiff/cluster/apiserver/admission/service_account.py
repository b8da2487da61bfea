"""ServiceAccount: a pod without one runs as `default`, which must exist in its namespace.

The `default` account itself is made by the server's service-account loop (see
`apiserver/lifecycle.py`) when a namespace appears, as the service-account controller does.
Token volumes are not mounted yet (no token controller).
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from skiff.cluster.apimachinery.errors import forbidden
from skiff.cluster.apiserver.admission import Attributes, Base

if TYPE_CHECKING:
    from skiff.cluster.apiserver.context import ApiContext

DEFAULT = "default"
DEFAULT_ACCOUNT_WAIT = 2.0  # seconds a pod in a brand-new namespace waits for its `default` account


async def _exists(ctx: ApiContext, namespace: str, name: str) -> bool:
    """Whether the account exists; `default` is waited for briefly, since the loop that makes it
    runs just after the namespace's creation."""
    deadline = asyncio.get_running_loop().time() + (DEFAULT_ACCOUNT_WAIT if name == DEFAULT else 0)
    while True:
        if await ctx.get_object("", "serviceaccounts", namespace, name) is not None:
            return True
        if asyncio.get_running_loop().time() >= deadline:
            return False
        await asyncio.sleep(0.05)


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
        if not await _exists(ctx, a.namespace, name):
            raise forbidden("pods", a.name, f"error looking up service account {a.namespace}/{name}: "
                            f'serviceaccount "{name}" not found')
