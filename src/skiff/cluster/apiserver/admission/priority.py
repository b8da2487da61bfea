"""Priority: a pod's priorityClassName resolves to spec.priority (and preemptionPolicy); the global default applies."""

from __future__ import annotations

from typing import TYPE_CHECKING

from skiff.cluster.apimachinery.errors import forbidden
from skiff.cluster.apiserver.admission import Attributes, Base

if TYPE_CHECKING:
    from skiff.cluster.apiserver.context import ApiContext

SYSTEM_CLASSES = {"system-node-critical": 2000001000, "system-cluster-critical": 2000000000}


def system_priority_classes() -> list[dict]:
    """The two classes kube-apiserver creates at start."""
    return [{"apiVersion": "scheduling.k8s.io/v1", "kind": "PriorityClass", "metadata": {"name": name},
             "value": value, "preemptionPolicy": "PreemptLowerPriority",
             "description": "Used for system critical pods that must run in the cluster, but can be moved "
                            "to another node if necessary." if name.endswith("cluster-critical")
             else "Used for system critical pods that must not be moved from their current node."}
            for name, value in SYSTEM_CLASSES.items()]


class Priority(Base):
    name = "Priority"

    async def admit(self, ctx: ApiContext, a: Attributes) -> None:
        if a.operation != "CREATE" or not a.is_core("Pod") or a.subresource:
            return
        spec = a.obj.setdefault("spec", {})
        name = spec.get("priorityClassName") or ""
        pc = None
        if name:
            pc = await ctx.get_object("scheduling.k8s.io", "priorityclasses", "", name)
            if pc is None:
                raise forbidden("pods", a.name, f"no PriorityClass with name {name} was found")
        else:
            for candidate in await ctx.list_objects("scheduling.k8s.io", "priorityclasses"):
                if candidate.get("globalDefault"):
                    pc = candidate
                    spec["priorityClassName"] = candidate["metadata"]["name"]
                    break
        value = int(pc.get("value", 0)) if pc else 0
        if "priority" in spec and spec["priority"] != value:
            raise forbidden("pods", a.name, "the integer value of priority "
                            f"({spec['priority']}) must not be provided in pod spec; priority admission "
                            "controller computed "
                            f"{value} from the given PriorityClass name")
        spec["priority"] = value
        if pc and pc.get("preemptionPolicy"):
            spec.setdefault("preemptionPolicy", pc["preemptionPolicy"])
        elif "preemptionPolicy" not in spec:
            spec["preemptionPolicy"] = "PreemptLowerPriority"
