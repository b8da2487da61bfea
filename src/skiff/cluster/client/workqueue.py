"""A rate-limited work queue of keys, as client-go's `workqueue` gives controllers.

- A key queued twice before a worker takes it is processed once (the dirty set).
- A key being processed is never handed to a second worker; if it is added meanwhile it is
  queued again when the first worker calls `done` (the processing set).
- `add_rate_limited` retries a failing key after an exponential per-key delay (5 ms doubling
  to 1000 s), bounded also by an overall token bucket (10/s, burst 100): the default
  controller rate limiter. `forget` resets a key's failures after a success.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import time
from collections import deque
from collections.abc import Callable


class ExponentialRateLimiter:
    """Per-item delay base * 2^failures, capped."""

    def __init__(self, base: float = 0.005, cap: float = 1000.0):
        self.base, self.cap = base, cap
        self.failures: dict[str, int] = {}

    def when(self, key: str) -> float:
        n = self.failures.get(key, 0)
        self.failures[key] = n + 1
        return min(self.base * (2 ** n), self.cap)

    def forget(self, key: str) -> None:
        self.failures.pop(key, None)

    def retries(self, key: str) -> int:
        return self.failures.get(key, 0)


class BucketRateLimiter:
    """An overall token bucket: a delay so that retries of all keys stay under `qps`."""

    def __init__(self, qps: float = 10.0, burst: int = 100, clock: Callable[[], float] = time.monotonic):
        self.qps, self.burst, self.clock = qps, burst, clock
        self.tokens = float(burst)
        self.last = clock()

    def when(self, key: str) -> float:
        now = self.clock()
        self.tokens = min(self.burst, self.tokens + (now - self.last) * self.qps)
        self.last = now
        self.tokens -= 1  # reserve a token even when it is in the future
        return 0.0 if self.tokens >= 0 else -self.tokens / self.qps

    def forget(self, key: str) -> None:
        pass

    def retries(self, key: str) -> int:
        return 0


class ControllerRateLimiter:
    """The larger of the per-item exponential delay and the bucket's delay."""

    def __init__(self, item: ExponentialRateLimiter | None = None, bucket: BucketRateLimiter | None = None):
        self.item = item or ExponentialRateLimiter()
        self.bucket = bucket or BucketRateLimiter()

    def when(self, key: str) -> float:
        return max(self.item.when(key), self.bucket.when(key))

    def forget(self, key: str) -> None:
        self.item.forget(key)

    def retries(self, key: str) -> int:
        return self.item.retries(key)


class WorkQueue:
    """FIFO of unique keys with delayed adds; `get()` returns None once shut down and drained."""

    def __init__(self, name: str = "", rate_limiter: ControllerRateLimiter | None = None):
        self.name = name
        self.rate_limiter = rate_limiter or ControllerRateLimiter()
        self._queue: deque[str] = deque()
        self._dirty: set[str] = set()
        self._processing: set[str] = set()
        self._waiting: list[tuple[float, int, str]] = []  # (due, seq, key) heap of delayed adds
        self._seq = itertools.count()
        self._wakeup = asyncio.Event()
        self._timer: asyncio.TimerHandle | None = None
        self._shutting_down = False

    def __len__(self) -> int:
        return len(self._queue)

    def add(self, key: str) -> None:
        if self._shutting_down or key in self._dirty:
            return
        self._dirty.add(key)
        if key not in self._processing:
            self._queue.append(key)
            self._notify()

    def add_after(self, key: str, delay: float) -> None:
        if self._shutting_down:
            return
        if delay <= 0:
            self.add(key)
            return
        due = time.monotonic() + delay
        heapq.heappush(self._waiting, (due, next(self._seq), key))
        self._arm_timer()

    def add_rate_limited(self, key: str) -> None:
        self.add_after(key, self.rate_limiter.when(key))

    def forget(self, key: str) -> None:
        self.rate_limiter.forget(key)

    def num_requeues(self, key: str) -> int:
        return self.rate_limiter.retries(key)

    async def get(self) -> str | None:
        while not self._queue:
            if self._shutting_down:
                return None
            # nothing awaits between the check and clear(), so no add() can slip in unseen
            self._wakeup.clear()
            await self._wakeup.wait()
        key = self._queue.popleft()
        self._processing.add(key)
        self._dirty.discard(key)
        return key

    def done(self, key: str) -> None:
        self._processing.discard(key)
        if key in self._dirty:
            self._queue.append(key)
            self._notify()

    def shutdown(self) -> None:
        self._shutting_down = True
        if self._timer is not None:
            self._timer.cancel()
        self._notify()

    @property
    def shutting_down(self) -> bool:
        return self._shutting_down

    def _notify(self) -> None:
        self._wakeup.set()

    def _arm_timer(self) -> None:
        if not self._waiting:
            return
        loop = asyncio.get_running_loop()
        if self._timer is not None:
            self._timer.cancel()
        delay = max(0.0, self._waiting[0][0] - time.monotonic())
        self._timer = loop.call_later(delay, self._release_due)

    def _release_due(self) -> None:
        self._timer = None
        now = time.monotonic()
        while self._waiting and self._waiting[0][0] <= now:
            _, _, key = heapq.heappop(self._waiting)
            self.add(key)
        self._arm_timer()
