"""Controller expectations: what a controller has asked for and not yet seen in its informer.

After creating N pods the controller must not count again until the informer shows them,
or it would create N more. A key's expectations are satisfied when every asked-for create
and delete has been observed, or after a timeout (a missed event must not wedge it forever).
"""

from __future__ import annotations

import time
from collections.abc import Callable

EXPECTATIONS_TIMEOUT = 300.0  # kube's ExpectationsTimeout: 5 minutes


class Expectations:
    def __init__(self, clock: Callable[[], float] = time.monotonic, timeout: float = EXPECTATIONS_TIMEOUT):
        self.clock = clock
        self.timeout = timeout
        self._pending: dict[str, list[float]] = {}  # key -> [adds, deletes, set at]

    def expect(self, key: str, adds: int = 0, deletes: int = 0) -> None:
        self._pending[key] = [float(adds), float(deletes), self.clock()]

    def lower(self, key: str, adds: int = 0, deletes: int = 0) -> None:
        entry = self._pending.get(key)
        if entry is not None:
            entry[0] -= adds
            entry[1] -= deletes

    def creation_observed(self, key: str) -> None:
        self.lower(key, adds=1)

    def deletion_observed(self, key: str) -> None:
        self.lower(key, deletes=1)

    def satisfied(self, key: str) -> bool:
        entry = self._pending.get(key)
        if entry is None:
            return True
        if entry[0] <= 0 and entry[1] <= 0:
            return True
        return self.clock() - entry[2] > self.timeout

    def delete(self, key: str) -> None:
        self._pending.pop(key, None)

    def pending(self, key: str) -> tuple[int, int]:
        entry = self._pending.get(key)
        return (0, 0) if entry is None else (int(max(entry[0], 0)), int(max(entry[1], 0)))
