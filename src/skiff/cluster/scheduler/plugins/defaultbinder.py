"""DefaultBinder: POST pods/NAME/binding, the API server's way to set spec.nodeName."""

from __future__ import annotations

from typing import Any

from skiff.cluster.client.errors import StatusError
from skiff.cluster.scheduler.framework import ERROR, OK, CycleState, Status
from skiff.cluster.scheduler.nodeinfo import PodInfo


def binding(pod: PodInfo, node: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Binding",
            "metadata": {"name": pod.name, "namespace": pod.namespace, "uid": pod.uid},
            "target": {"apiVersion": "v1", "kind": "Node", "name": node}}


class DefaultBinder:
    name = "DefaultBinder"

    def __init__(self, client: Any):
        self.client = client

    async def bind(self, state: CycleState, pod: PodInfo, node: str) -> Status:
        try:
            await self.client.create(f"/api/v1/namespaces/{pod.namespace}/pods/{pod.name}/binding",
                                     binding(pod, node))
        except StatusError as e:
            return Status(ERROR, [str(e)])
        except OSError as e:
            return Status(ERROR, [f"binding failed: {e}"])
        return OK
