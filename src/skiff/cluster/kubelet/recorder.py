"""Events about pods, posted to the API as the kubelet does (source component "kubelet").

Repeats of one (object, reason, message) within the process bump `count` on the same Event,
as the client-go recorder's correlator does, instead of making a new object each time.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from typing import Any

from skiff.cluster.client.errors import StatusError
from skiff.cluster.kubelet.clock import now as now_rfc3339

log = logging.getLogger(__name__)


def involved(pod: dict, container: str | None = None, init: bool = False) -> dict:
    meta = pod["metadata"]
    ref = {"kind": "Pod", "namespace": meta.get("namespace", "default"), "name": meta["name"], "uid": meta["uid"],
           "apiVersion": "v1", "resourceVersion": meta.get("resourceVersion", "")}
    if container:
        ref["fieldPath"] = f"spec.{'initContainers' if init else 'containers'}{{{container}}}"
    return ref


class Recorder:
    def __init__(self, client: Any, node_name: str):
        self.client = client
        self.node = node_name
        self.seen: dict[tuple, dict] = {}
        self.queue: asyncio.Queue[tuple[dict, str, str, str]] = asyncio.Queue()
        self.sender: asyncio.Task | None = None

    async def emit(self, obj: dict, kind: str, reason: str, message: str) -> None:
        """kind is "Normal" or "Warning"; obj an involvedObject from `involved`. Posted in the
        background, in order, so a pod's start never waits on its events."""
        self.queue.put_nowait((obj, kind, reason, message))
        if self.sender is None or self.sender.done():
            self.sender = asyncio.create_task(self._send_all())

    async def _send_all(self) -> None:
        while not self.queue.empty():
            await self._post(*self.queue.get_nowait())

    async def close(self) -> None:
        if self.sender is not None:
            self.sender.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self.sender

    async def _post(self, obj: dict, kind: str, reason: str, message: str) -> None:
        ns = obj.get("namespace", "default")
        key = (obj.get("uid"), obj.get("fieldPath"), reason, message)
        now = now_rfc3339()
        try:
            prev = self.seen.get(key)
            if prev is not None:
                prev["count"] = prev.get("count", 1) + 1
                prev["lastTimestamp"] = now
                self.seen[key] = await self.client.merge_patch(
                    f"/api/v1/namespaces/{ns}/events/{prev['metadata']['name']}",
                    {"count": prev["count"], "lastTimestamp": now})
                return
            event = {"apiVersion": "v1", "kind": "Event",
                     "metadata": {"name": f"{obj['name']}.{os.urandom(8).hex()}", "namespace": ns},
                     "involvedObject": obj, "reason": reason, "message": message, "type": kind,
                     "source": {"component": "kubelet", "host": self.node}, "firstTimestamp": now,
                     "lastTimestamp": now, "count": 1, "reportingComponent": "kubelet",
                     "reportingInstance": self.node}
            self.seen[key] = await self.client.create(f"/api/v1/namespaces/{ns}/events", event)
        except (StatusError, OSError) as e:  # events are best effort, as in Kubernetes
            log.debug("event %s %s not recorded: %s", reason, message, e)

    def forget(self, uid: str) -> None:
        for k in [k for k in self.seen if k[0] == uid]:
            del self.seen[k]
