"""run_bounded: a few transfers at a time; one failure cancels the others."""

import asyncio

import pytest

from skiff.engine.registry.concurrency import run_bounded


def test_limit_is_respected_and_all_run():
    running, peak, done = 0, 0, []

    async def job(i: int) -> None:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        running -= 1
        done.append(i)

    asyncio.run(run_bounded((job(i) for i in range(7)), 3))
    assert sorted(done) == list(range(7))
    assert peak == 3


def test_first_failure_cancels_the_rest():
    cancelled = []

    async def slow(i: int) -> None:
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.append(i)
            raise

    async def bad() -> None:
        await asyncio.sleep(0)
        raise ValueError("boom")

    with pytest.raises(ValueError, match="boom"):
        asyncio.run(run_bounded([slow(1), bad(), slow(2)], 3))
    assert sorted(cancelled) == [1, 2]
