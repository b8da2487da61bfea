"""DefaultTolerationSeconds: pods tolerate not-ready and unreachable nodes for 300 s unless they say otherwise."""

from __future__ import annotations

from typing import TYPE_CHECKING

from skiff.cluster.apiserver.admission import Attributes, Base

if TYPE_CHECKING:
    from skiff.cluster.apiserver.context import ApiContext

DEFAULT_SECONDS = 300
TAINTS = ("node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable")


def add_default_tolerations(pod: dict) -> None:
    spec = pod.setdefault("spec", {})
    tolerations = spec.get("tolerations") or []
    for key in TAINTS:
        covered = any(t.get("key") in (key, None, "") and t.get("effect") in ("NoExecute", None, "")
                      and (t.get("key") or t.get("operator") == "Exists")
                      for t in tolerations)
        if not covered:
            tolerations.append({"key": key, "operator": "Exists", "effect": "NoExecute",
                                "tolerationSeconds": DEFAULT_SECONDS})
    spec["tolerations"] = tolerations


class DefaultTolerationSeconds(Base):
    name = "DefaultTolerationSeconds"

    async def admit(self, ctx: ApiContext, a: Attributes) -> None:
        if a.operation == "CREATE" and a.is_core("Pod") and not a.subresource:
            add_default_tolerations(a.obj)
