"""Run one controller against the fake client: informers started, queue drained until quiet."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from skiff.cluster.apimachinery.meta import now_rfc3339
from skiff.cluster.client.fake import FakeClient
from skiff.cluster.client.informers import SharedInformerFactory
from skiff.cluster.controllers.base import ControllerContext


class Harness:
    def __init__(self, *controller_classes, **kw):
        self.client = FakeClient()
        self.factory = SharedInformerFactory(self.client)
        ctx = ControllerContext(self.client, self.factory)
        self.ctrls = [cls(ctx, **kw) for cls in controller_classes]
        self.ctrl = self.ctrls[0]

    async def __aenter__(self) -> Harness:
        self.factory.start()
        await self.factory.wait_for_sync(5)
        return self

    async def __aexit__(self, *exc) -> None:
        self.client.stop()
        await self.factory.stop()

    async def settle(self, rounds: int = 100) -> None:
        """Let informer events arrive and reconcile until the queue stays empty."""
        quiet = 0
        for _ in range(rounds):
            await asyncio.sleep(0.005)
            if any(len(c.queue) for c in self.ctrls):
                quiet = 0
                for c in self.ctrls:
                    await c.drain()
            else:
                quiet += 1
                if quiet >= 3:
                    return

    def objects(self, plural: str, namespace: str = "default") -> list[dict]:
        return [o for k, o in sorted(self.client.objects.items()) if k[1] == plural and k[2] == namespace]

    async def mark_ready(self, pods: list[dict] | None = None, node: str = "node-1") -> int:
        """What a kubelet (or kwok) would do: bind, run, report Ready (default: every pod not yet Ready)."""
        if pods is None:
            pods = [p for p in self.objects("pods") if not (p.get("spec") or {}).get("nodeName")]
        for p in pods:
            path = f"/api/v1/namespaces/{p['metadata']['namespace']}/pods/{p['metadata']['name']}"
            await self.client.merge_patch(path, {"spec": {"nodeName": node}})
            await self.client.merge_patch(path + "/status", {"status": {
                "phase": "Running", "conditions": [{"type": "Ready", "status": "True",
                                                    "lastTransitionTime": now_rfc3339()}]}})
        return len(pods)


def now() -> datetime:
    return datetime.now(UTC)
