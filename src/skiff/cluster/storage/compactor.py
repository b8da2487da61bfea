"""Periodic compaction, as the Kubernetes apiserver runs it against etcd.

Every `interval` seconds, compact to the revision seen at the previous tick: history of
at least one interval stays for watchers to resume from, and the log stops growing.
"""

from __future__ import annotations

import asyncio
import logging

from skiff.cluster.storage.interface import StorageError, Store

log = logging.getLogger(__name__)

DEFAULT_INTERVAL = 300.0  # Kubernetes' --etcd-compaction-interval default (5m)


class Compactor:
    def __init__(self, store: Store):
        self.store = store
        self.previous = 0

    async def tick(self) -> int:
        """Compact to the revision seen at the last tick; returns the compaction point (0: none)."""
        current = await self.store.current_revision()
        point, self.previous = self.previous, current
        if point > 1:
            await self.store.compact(point)
        return point if point > 1 else 0

    async def run(self, interval: float = DEFAULT_INTERVAL) -> None:
        """Run until cancelled; the server starts it as a task next to the API server."""
        await self.tick()
        while True:
            await asyncio.sleep(interval)
            try:
                await self.tick()
            except StorageError as e:  # a backend hiccup: try again next tick
                log.warning("compaction failed: %s", e)
