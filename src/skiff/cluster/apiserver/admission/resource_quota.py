"""ResourceQuota: a create that would take a namespace past a quota's `hard` is refused; `status.used` follows.

Usage is counted from the objects in storage at admission time (there is no quota controller
yet), for object counts (`pods`, `count/deployments.apps`, ...) and pod compute resources
(`requests.cpu`, `limits.memory`, `cpu`, `memory`).

Counting and storing are one step: a create in a namespace with quotas holds that namespace's
quota lock (ApiContext.quota_lock, taken in writes.py) from this check until its object is
stored, so racing creates cannot all see the same usage and together pass `hard`. The lock is
the server's own: one API server per datastore, as `skiff server` runs.
"""

from __future__ import annotations

from fractions import Fraction
from typing import TYPE_CHECKING, Any

from skiff.cluster.apimachinery import quantity
from skiff.cluster.apimachinery.errors import forbidden
from skiff.cluster.apiserver.admission import Attributes, Base
from skiff.cluster.apiserver.objects import encode, object_key
from skiff.cluster.storage.interface import StorageError

if TYPE_CHECKING:
    from skiff.cluster.apiserver.context import ApiContext

# quota names for object counts of core kinds (the short forms upstream accepts)
CORE_COUNTS = {"pods": "pods", "services": "services", "configmaps": "configmaps", "secrets": "secrets",
               "persistentvolumeclaims": "persistentvolumeclaims", "replicationcontrollers": "replicationcontrollers",
               "resourcequotas": "resourcequotas"}
COMPUTE = {"requests.cpu": ("requests", "cpu"), "cpu": ("requests", "cpu"),
           "requests.memory": ("requests", "memory"), "memory": ("requests", "memory"),
           "limits.cpu": ("limits", "cpu"), "limits.memory": ("limits", "memory")}


def count_names(group: str, plural: str) -> list[str]:
    names = [f"count/{plural}.{group}" if group else f"count/{plural}"]
    if not group and plural in CORE_COUNTS:
        names.append(CORE_COUNTS[plural])
    return names


def pod_usage(pod: dict[str, Any]) -> dict[str, Fraction]:
    """Compute resources a pod holds against quota: the sum over its containers (pure)."""
    if (pod.get("status") or {}).get("phase") in ("Succeeded", "Failed"):
        return {}
    out: dict[str, Fraction] = {}
    for c in (pod.get("spec") or {}).get("containers") or []:
        resources = c.get("resources") or {}
        for name, (section, resource) in COMPUTE.items():
            value = (resources.get(section) or {}).get(resource)
            if value is not None:
                out[name] = out.get(name, Fraction(0)) + quantity.parse_quantity(value)
    return out


def _fmt(name: str, value: Fraction) -> str:
    if name.startswith("count/") or name in CORE_COUNTS:
        return str(int(value))
    return quantity.format_quantity(value, quantity.BINARY_SI if "memory" in name else quantity.DECIMAL_SI)


class ResourceQuota(Base):
    name = "ResourceQuota"

    async def validate(self, ctx: ApiContext, a: Attributes) -> None:
        if a.operation != "CREATE" or not a.res.namespaced or a.subresource:
            return
        quotas = await ctx.list_objects("", "resourcequotas", a.namespace)
        if not quotas:
            return
        delta: dict[str, Fraction] = {n: Fraction(1) for n in count_names(a.res.group, a.res.plural)}
        if a.is_core("Pod"):
            delta.update(pod_usage(a.obj))
        for q in quotas:
            hard = (q.get("spec") or {}).get("hard") or {}
            tracked = [n for n in hard if n in delta]
            if not tracked:
                continue
            used = await self._usage(ctx, a.namespace, tracked)
            over = [n for n in tracked if used.get(n, Fraction(0)) + delta[n] > quantity.parse_quantity(hard[n])]
            if over:
                raise forbidden(a.res.plural, a.name, f"exceeded quota: {q['metadata']['name']}, requested: "
                                + ",".join(f"{n}={_fmt(n, delta[n])}" for n in over) + ", used: "
                                + ",".join(f"{n}={_fmt(n, used.get(n, Fraction(0)))}" for n in over) + ", limited: "
                                + ",".join(f"{n}={hard[n]}" for n in over), a.res.group)
            if not a.dry_run:
                await self._record(ctx, q, {n: used.get(n, Fraction(0)) + delta[n] for n in tracked})

    async def _usage(self, ctx: ApiContext, namespace: str, names: list[str]) -> dict[str, Fraction]:
        used: dict[str, Fraction] = {}
        for name in names:
            if name in COMPUTE:
                if "pods-compute" in used:
                    continue
                used["pods-compute"] = Fraction(0)
                for pod in await ctx.list_objects("", "pods", namespace, fresh=True):
                    for k, v in pod_usage(pod).items():
                        used[k] = used.get(k, Fraction(0)) + v
                continue
            group, plural = _resource_of(name)
            used[name] = Fraction(await ctx.objects.count(f"{object_key(group, plural, namespace, '')}"))
        return used

    async def _record(self, ctx: ApiContext, quota: dict[str, Any], used: dict[str, Fraction]) -> None:
        """Best effort: keep status.hard/used current for `kubectl describe quota` (a racing write wins)."""
        status = quota.setdefault("status", {})
        status["hard"] = dict((quota.get("spec") or {}).get("hard") or {})
        status["used"] = {**(status.get("used") or {}), **{n: _fmt(n, v) for n, v in used.items()}}
        key = object_key("", "resourcequotas", quota["metadata"]["namespace"], quota["metadata"]["name"])
        try:
            await ctx.objects.store.update(key, encode(quota), int(quota["metadata"]["resourceVersion"]))
        except StorageError:
            pass


def _resource_of(name: str) -> tuple[str, str]:
    if name.startswith("count/"):
        plural, _, group = name[len("count/"):].partition(".")
        return group, plural
    return "", name
