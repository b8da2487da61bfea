"""ServiceAccount admission, as kube-apiserver's plugin: a pod without an account runs as
`default`, which must exist in its namespace, and the account's imagePullSecrets when it names
none; unless automounting is off, the pod gets the
`kube-api-access-<5>` projected volume (a bound token, the root CA, its namespace) mounted
read-only at /var/run/secrets/kubernetes.io/serviceaccount in every container that does not
mount something there already, which is what in-cluster clients read.

The `default` account itself is made by the server's service-account loop (see
`apiserver/lifecycle.py`) when a namespace appears, as the service-account controller does.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from skiff.cluster.api import rootca
from skiff.cluster.apimachinery.errors import forbidden
from skiff.cluster.apiserver.admission import Attributes, Base

if TYPE_CHECKING:
    from skiff.cluster.apiserver.context import ApiContext

DEFAULT = "default"
DEFAULT_ACCOUNT_WAIT = 2.0  # seconds a pod in a brand-new namespace waits for its `default` account
TOKEN_MOUNT_PATH = "/var/run/secrets/kubernetes.io/serviceaccount"
VOLUME_PREFIX = "kube-api-access-"
TOKEN_EXPIRATION = 3607  # upstream's: an hour plus seven seconds, so a too-early expiry shows in audit logs
# k8s.io/apimachinery's rand.String alphabet: no vowels and no look-alike digits
_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"


def random_suffix(n: int = 5) -> str:
    return "".join(random.choice(_ALPHABET) for _ in range(n))


def token_volume(name: str) -> dict[str, Any]:
    """The projected volume the plugin adds, field for field as Kubernetes 1.32 writes it."""
    return {"name": name, "projected": {"sources": [
        {"serviceAccountToken": {"expirationSeconds": TOKEN_EXPIRATION, "path": "token"}},
        {"configMap": {"name": rootca.NAME, "items": [{"key": rootca.KEY, "path": "ca.crt"}]}},
        {"downwardAPI": {"items": [{"path": "namespace", "fieldRef": {"apiVersion": "v1",
                                                                      "fieldPath": "metadata.namespace"}}]}}],
        "defaultMode": 420}}


def should_automount(pod_spec: dict[str, Any], account: dict[str, Any] | None) -> bool:
    """The pod's automountServiceAccountToken wins over the account's; both unset means yes."""
    if pod_spec.get("automountServiceAccountToken") is not None:
        return bool(pod_spec["automountServiceAccountToken"])
    if account is not None and account.get("automountServiceAccountToken") is not None:
        return bool(account["automountServiceAccountToken"])
    return True


def mount_token(spec: dict[str, Any], suffix: Callable[[], str] = random_suffix) -> None:
    """Add the token volume and its mounts to a pod spec, in place (pure).

    A container that already mounts something at the token path keeps its own; a volume already
    named kube-api-access-* is reused rather than added twice."""
    volumes = spec.get("volumes") or []
    existing = next((v["name"] for v in volumes if str(v.get("name", "")).startswith(VOLUME_PREFIX)), "")
    name = existing or VOLUME_PREFIX + suffix()  # a fresh name cannot collide: no volume has the prefix
    needed = False
    for key in ("initContainers", "containers", "ephemeralContainers"):
        for c in spec.get(key) or []:
            mounts = c.get("volumeMounts") or []
            if any(m.get("mountPath") == TOKEN_MOUNT_PATH for m in mounts):
                continue
            c["volumeMounts"] = [*mounts, {"name": name, "readOnly": True, "mountPath": TOKEN_MOUNT_PATH}]
            needed = True
    if needed and not existing:
        spec["volumes"] = [*volumes, token_volume(name)]


def add_pull_secrets(spec: dict[str, Any], account: dict[str, Any]) -> None:
    """A pod naming no imagePullSecrets gets its account's (in place; pure)."""
    if not spec.get("imagePullSecrets") and account.get("imagePullSecrets"):
        spec["imagePullSecrets"] = [{"name": r.get("name", "")} for r in account["imagePullSecrets"]]


async def _account(ctx: ApiContext, namespace: str, name: str) -> dict[str, Any] | None:
    """The account, or None; `default` is waited for briefly, since the loop that makes it
    runs just after the namespace's creation."""
    deadline = asyncio.get_running_loop().time() + (DEFAULT_ACCOUNT_WAIT if name == DEFAULT else 0)
    while True:
        found = await ctx.get_object("", "serviceaccounts", namespace, name)
        if found is not None:
            return found
        if asyncio.get_running_loop().time() >= deadline:
            return None
        await asyncio.sleep(0.05)


def _is_mirror(obj: dict[str, Any]) -> bool:
    return bool((obj["metadata"].get("annotations") or {}).get("kubernetes.io/config.mirror"))


class ServiceAccount(Base):
    name = "ServiceAccount"

    async def admit(self, ctx: ApiContext, a: Attributes) -> None:
        if a.operation != "CREATE" or not a.is_core("Pod") or a.subresource:
            return
        spec = a.obj.setdefault("spec", {})
        if _is_mirror(a.obj):
            return  # mirror pods of static pods keep no service account and get no token
        name = spec.get("serviceAccountName") or spec.get("serviceAccount") or DEFAULT
        spec["serviceAccountName"] = name
        spec["serviceAccount"] = name
        account = await _account(ctx, a.namespace, name)
        if account is None:
            return  # refused by validate()
        if should_automount(spec, account):
            mount_token(spec)
        add_pull_secrets(spec, account)

    async def validate(self, ctx: ApiContext, a: Attributes) -> None:
        if a.operation != "CREATE" or not a.is_core("Pod") or a.subresource:
            return
        name = (a.obj.get("spec") or {}).get("serviceAccountName")
        if not name:
            return
        if await _account(ctx, a.namespace, name) is None:
            raise forbidden("pods", a.name, f"error looking up service account {a.namespace}/{name}: "
                            f'serviceaccount "{name}" not found')
