"""LimitRanger: LimitRange defaults fill a container's missing requests/limits; min and max are enforced."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from skiff.cluster.apimachinery import quantity
from skiff.cluster.apimachinery.errors import forbidden
from skiff.cluster.apiserver.admission import Attributes, Base

if TYPE_CHECKING:
    from skiff.cluster.apiserver.context import ApiContext


def _containers(pod: dict[str, Any]) -> list[dict[str, Any]]:
    spec = pod.get("spec") or {}
    return [*(spec.get("initContainers") or []), *(spec.get("containers") or [])]


def apply_defaults(pod: dict[str, Any], item: dict[str, Any]) -> None:
    """Default limits and requests of one LimitRange item of type Container (pure)."""
    default_limits = item.get("default") or {}
    default_requests = item.get("defaultRequest") or {}
    for c in _containers(pod):
        resources = c.setdefault("resources", {})
        limits = resources.setdefault("limits", {})
        requests = resources.setdefault("requests", {})
        for r, v in default_limits.items():
            limits.setdefault(r, v)
        for r, v in default_requests.items():
            requests.setdefault(r, v)
        for r, v in default_limits.items():  # upstream: a default limit with no default request is both
            requests.setdefault(r, limits.get(r, v))
        if not limits:
            resources.pop("limits")
        if not requests:
            resources.pop("requests")


def violations(pod: dict[str, Any], item: dict[str, Any]) -> list[str]:
    """Messages for each container value outside an item's min/max (pure)."""
    out: list[str] = []
    for c in _containers(pod):
        resources = c.get("resources") or {}
        limits, requests = resources.get("limits") or {}, resources.get("requests") or {}
        for r, bound in (item.get("min") or {}).items():
            req = requests.get(r)
            if req is None:
                out.append(f"minimum {r} usage per Container is {bound}.  No request is specified")
            elif quantity.parse(req) < quantity.parse(bound):
                out.append(f"minimum {r} usage per Container is {bound}, but request is {req}")
        for r, bound in (item.get("max") or {}).items():
            lim = limits.get(r)
            if lim is None:
                out.append(f"maximum {r} usage per Container is {bound}.  No limit is specified")
            elif quantity.parse(bound) < quantity.parse(lim):
                out.append(f"maximum {r} usage per Container is {bound}, but limit is {lim}")
    return out


async def _container_items(ctx: ApiContext, namespace: str) -> list[dict[str, Any]]:
    items = []
    for lr in await ctx.list_objects("", "limitranges", namespace):
        items += [i for i in (lr.get("spec") or {}).get("limits") or [] if i.get("type") == "Container"]
    return items


class LimitRanger(Base):
    name = "LimitRanger"

    async def admit(self, ctx: ApiContext, a: Attributes) -> None:
        if a.operation != "CREATE" or not a.is_core("Pod") or a.subresource:
            return
        for item in await _container_items(ctx, a.namespace):
            apply_defaults(a.obj, item)

    async def validate(self, ctx: ApiContext, a: Attributes) -> None:
        if a.operation != "CREATE" or not a.is_core("Pod") or a.subresource:
            return
        problems: list[str] = []
        for item in await _container_items(ctx, a.namespace):
            try:
                problems += violations(a.obj, item)
            except ValueError:
                continue  # a malformed quantity is reported by validation
        if problems:
            raise forbidden("pods", a.name, problems[0] if len(problems) == 1 else "[" + ", ".join(problems) + "]")


