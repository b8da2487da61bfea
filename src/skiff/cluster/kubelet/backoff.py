"""Restart back-off per container: the first restart is at once, then 10 s doubling to 5 min;
a container that ran 10 minutes without failing starts again from nothing (the kubelet's flowcontrol.Backoff)."""

from __future__ import annotations

from dataclasses import dataclass, field

INITIAL = 10.0
MAX = 300.0
RESET_AFTER = 600.0


@dataclass
class Backoff:
    delays: dict[str, float] = field(default_factory=dict)

    def next_start(self, key: str, started: float, finished: float) -> float:
        """When the container exited at `finished` (having started at `started`) may start again.
        Call once per exit."""
        delay = self.delays.get(key)
        if delay is None or finished - started >= RESET_AFTER:
            self.delays[key] = INITIAL
            return finished
        self.delays[key] = min(delay * 2, MAX)
        return finished + delay

    def forget(self, prefix: str) -> None:
        for k in [k for k in self.delays if k.startswith(prefix)]:
            del self.delays[k]
