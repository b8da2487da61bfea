"""Running a batch of layer transfers a few at a time, all or nothing."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine, Iterable
from typing import Any


async def run_bounded(jobs: Iterable[Coroutine[Any, Any, None]], limit: int) -> None:
    """Run the jobs at most `limit` at once; the first failure cancels the rest and is raised."""
    gate = asyncio.Semaphore(limit)

    async def guarded(job: Coroutine[Any, Any, None]) -> None:
        async with gate:
            await job

    tasks = [asyncio.create_task(guarded(job)) for job in jobs]
    try:
        await asyncio.gather(*tasks)
    except BaseException:
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise
