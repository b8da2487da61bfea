"""Events the controllers post about the objects they act on (what `kubectl describe` shows under
Events), best effort and in the background so a reconcile never waits on them. Repeats of one
(object, reason, message) bump `count` on the same Event, as client-go's correlator does."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from typing import Any

from skiff.cluster.apimachinery.meta import now_rfc3339
from skiff.cluster.client.informers import ApiClient

log = logging.getLogger("skiff.controllers.events")
Obj = dict[str, Any]
MAX_REMEMBERED = 4096  # correlation entries kept (oldest dropped first)


def involved_object(obj: Obj) -> Obj:
    meta = obj.get("metadata") or {}
    return {"kind": obj.get("kind", ""), "apiVersion": obj.get("apiVersion", ""),
            "namespace": meta.get("namespace", ""), "name": meta.get("name", ""), "uid": meta.get("uid", ""),
            "resourceVersion": meta.get("resourceVersion", "")}


class EventRecorder:
    def __init__(self, client: ApiClient):
        self.client = client
        self.pending: asyncio.Queue[tuple[Obj, str, str, str, str]] = asyncio.Queue()
        self.seen: dict[tuple, Obj] = {}
        self.sender: asyncio.Task | None = None

    def record(self, obj: Obj, kind: str, reason: str, message: str, component: str) -> None:
        """kind is "Normal" or "Warning"; component the controller's name (the FROM column)."""
        self.pending.put_nowait((involved_object(obj), kind, reason, message, component))
        if self.sender is None or self.sender.done():
            with contextlib.suppress(RuntimeError):  # no running loop: nothing to post with
                self.sender = asyncio.get_running_loop().create_task(self._send_all())

    async def flush(self) -> None:
        while self.sender is not None and not self.sender.done():
            await asyncio.sleep(0.01)

    async def _send_all(self) -> None:
        while not self.pending.empty():
            await self._post(*self.pending.get_nowait())

    async def _post(self, ref: Obj, kind: str, reason: str, message: str, component: str) -> None:
        ns = ref.get("namespace") or "default"
        key = (ref.get("uid"), reason, message)
        now = now_rfc3339()
        try:
            prev = self.seen.get(key)
            if prev is not None:
                count = int(prev.get("count") or 1) + 1
                self.seen[key] = await self.client.merge_patch(
                    f"/api/v1/namespaces/{ns}/events/{prev['metadata']['name']}",
                    {"count": count, "lastTimestamp": now})
                return
            event = {"apiVersion": "v1", "kind": "Event",
                     "metadata": {"name": f"{ref['name']}.{os.urandom(8).hex()}", "namespace": ns},
                     "involvedObject": ref, "reason": reason, "message": message, "type": kind,
                     "source": {"component": component}, "firstTimestamp": now, "lastTimestamp": now, "count": 1,
                     "reportingComponent": component, "reportingInstance": component}
            self.seen[key] = await self.client.create(f"/api/v1/namespaces/{ns}/events", event)
            if len(self.seen) > MAX_REMEMBERED:
                del self.seen[next(iter(self.seen))]
        except Exception as e:  # events are best effort, as in Kubernetes
            log.debug("event %s %r not recorded: %s", reason, message, e)
