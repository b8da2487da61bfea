"""Events and pod status writes the scheduler makes (best effort, as kube-scheduler's are)."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any

from skiff.cluster.apimachinery.meta import now_rfc3339
from skiff.cluster.client.errors import StatusError
from skiff.cluster.scheduler import SCHEDULER_NAME
from skiff.cluster.scheduler.nodeinfo import PodInfo

log = logging.getLogger("skiff.scheduler")


def pod_ref(pod: PodInfo) -> dict[str, Any]:
    return {"kind": "Pod", "apiVersion": "v1", "namespace": pod.namespace, "name": pod.name, "uid": pod.uid,
            "resourceVersion": (pod.obj.get("metadata") or {}).get("resourceVersion", "")}


def event(pod: PodInfo, kind: str, reason: str, message: str, component: str = SCHEDULER_NAME) -> dict[str, Any]:
    now = now_rfc3339()
    return {"apiVersion": "v1", "kind": "Event",
            # named as client-go's recorder names them: the object's name and the time in hex nanoseconds
            "metadata": {"name": f"{pod.name}.{time.time_ns():x}", "namespace": pod.namespace},
            "involvedObject": pod_ref(pod), "reason": reason, "message": message, "type": kind,
            "source": {"component": component}, "firstTimestamp": now, "lastTimestamp": now, "count": 1,
            "reportingComponent": component, "reportingInstance": component, "action": "Scheduling"}


def unschedulable_patch(pod: PodInfo, message: str, nominated: str = "") -> dict[str, Any] | None:
    """The status merge patch for PodScheduled=False, or None when the pod already says so."""
    status = pod.obj.get("status") or {}
    conditions = [c for c in status.get("conditions") or [] if c.get("type") != "PodScheduled"]
    old = next((c for c in status.get("conditions") or [] if c.get("type") == "PodScheduled"), None)
    same = (old is not None and old.get("status") == "False" and old.get("reason") == "Unschedulable"
            and old.get("message") == message)
    if same and (not nominated or status.get("nominatedNodeName") == nominated):
        return None
    conditions.append({"type": "PodScheduled", "status": "False", "reason": "Unschedulable", "message": message,
                       "lastProbeTime": None,
                       "lastTransitionTime": old.get("lastTransitionTime") if same and old else now_rfc3339()})
    patch: dict[str, Any] = {"status": {"conditions": conditions}}
    if nominated:
        patch["status"]["nominatedNodeName"] = nominated
    return patch


class Writer:
    """Posts events and status patches; failures are logged, never raised.

    Events go through a buffer drained by a few workers (`run_events`), as client-go's event
    broadcaster does, so a burst of bindings is not slowed by as many event writes; when the
    buffer is full, events are dropped (and logged), never the scheduling."""

    BUFFER = 100_000
    WORKERS = 2  # always writing (client-go's broadcaster has one)
    SPARE_WORKERS = 30  # writing too while the scheduler has nothing else for the API server (after a burst)

    def __init__(self, client: Any):
        self.client = client
        self.pending: asyncio.Queue[tuple[PodInfo, str, str, str]] = asyncio.Queue(self.BUFFER)
        self.recorded = 0  # events the API server accepted (metrics, the benchmark)
        self.dropped = 0

    def post(self, pod: PodInfo, kind: str, reason: str, message: str) -> None:
        try:
            self.pending.put_nowait((pod, kind, reason, message))
        except asyncio.QueueFull:
            self.dropped += 1
            log.info("event buffer full: %s for %s dropped", reason, pod.key)

    async def run_events(self, busy: Callable[[], bool] | None = None) -> None:
        """Write queued events until cancelled; spare workers only while `busy()` is false."""
        async def worker(spare: bool) -> None:
            while True:
                while spare and busy is not None and busy():
                    await asyncio.sleep(0.05)
                pod, kind, reason, message = await self.pending.get()
                await self.emit(pod, kind, reason, message)
                self.pending.task_done()

        await asyncio.gather(*(worker(False) for _ in range(self.WORKERS)),
                             *(worker(True) for _ in range(self.SPARE_WORKERS if busy is not None else 0)))

    async def emit(self, pod: PodInfo, kind: str, reason: str, message: str) -> None:
        try:
            await self.client.create(f"/api/v1/namespaces/{pod.namespace}/events", event(pod, kind, reason, message))
        except (StatusError, OSError) as e:
            log.debug("event %s for %s not recorded: %s", reason, pod.key, e)
        else:
            self.recorded += 1

    async def patch_status(self, pod: PodInfo, patch: dict[str, Any]) -> None:
        try:
            await self.client.merge_patch(f"/api/v1/namespaces/{pod.namespace}/pods/{pod.name}/status", patch)
        except (StatusError, OSError) as e:
            log.debug("status of %s not updated: %s", pod.key, e)

    async def delete_victim(self, victim: PodInfo, preemptor: PodInfo, node: str) -> None:
        await self.emit(victim, "Normal", "Preempted", f"Preempted by pod {preemptor.uid} on node {node}")
        try:
            await self.client.delete(f"/api/v1/namespaces/{victim.namespace}/pods/{victim.name}",
                                     {"kind": "DeleteOptions", "apiVersion": "v1",
                                      "preconditions": {"uid": victim.uid}})
        except (StatusError, OSError) as e:
            log.info("preemption victim %s not deleted: %s", victim.key, e)
