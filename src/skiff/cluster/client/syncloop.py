"""An informer-driven sync loop, as kube-proxy's bounded-frequency runner: a burst of changes
becomes one sync shortly after its first event, a full sync now and then repairs what was done
to our state behind our back, and a failed sync is retried in full after a pause."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

log = logging.getLogger("skiff.syncloop")


class SyncLoop:
    def __init__(self, sync: Callable[[bool], Awaitable[Any]], name: str, debounce: float, full_every: float,
                 retry: float = 1.0):
        """`sync(full)` brings the world in line; `full` asks it to trust nothing it wrote before."""
        self.sync = sync
        self.name = name
        self.debounce = debounce
        self.full_every = full_every
        self.retry = retry
        self.errors = 0
        self._dirty = asyncio.Event()
        self._task: asyncio.Task | None = None

    def watch(self, *informers: Any) -> None:
        for informer in informers:
            informer.add_handler(self.poke, lambda _old, _new: self.poke(), self.poke)

    def poke(self, *_: Any) -> None:
        self._dirty.set()

    async def run_once(self, full: bool = False) -> None:
        """A sync now (the first one, before the loop starts); changes seen from here on count."""
        self._dirty.clear()
        await self.sync(full)

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=self.name)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        last_full, full = time.monotonic(), False
        while True:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._dirty.wait(), self.full_every)
            await asyncio.sleep(self.debounce)  # let the rest of a burst arrive
            if time.monotonic() - last_full >= self.full_every:
                full, last_full = True, time.monotonic()
            try:
                await self.run_once(full)
                full = False
            except asyncio.CancelledError:
                raise
            except Exception as e:  # noqa: BLE001 - e.g. iptables busy or refused: a full sync next time
                self.errors += 1
                full = True
                log.warning("%s failed: %s", self.name, e)
                await asyncio.sleep(self.retry)
                self._dirty.set()
