"""Reading a number of events from a watch, with a time limit."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from skiff.cluster.storage import Event


async def take(watch: AsyncIterator[Event], n: int, timeout: float = 20) -> list[Event]:
    out: list[Event] = []

    async def read() -> None:
        async for ev in watch:
            out.append(ev)
            if len(out) == n:
                return

    await asyncio.wait_for(read(), timeout)
    return out
