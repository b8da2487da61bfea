"""The engine's event bus: what `/events` and `skiff events` stream.

Every service publishes here (`container create`, `image pull`, `volume mount`, ...);
subscribers get the history since a point in time and then live events. The history is
a bounded ring, as in dockerd, so memory stays flat however long the engine runs.
"""

import asyncio
import time
from collections import deque
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

HISTORY = 1024


@dataclass(frozen=True)
class Event:
    type: str  # container | image | volume | network | daemon
    action: str  # create, start, die, destroy, pull, tag, delete, ...
    actor_id: str
    attributes: dict[str, str] = field(default_factory=dict)
    time_ns: int = 0

    def to_docker(self) -> dict:
        """Docker's events message, with the legacy top-level fields docker-py still reads."""
        secs, nanos = divmod(self.time_ns, 1_000_000_000)
        msg: dict = {
            "Type": self.type,
            "Action": self.action,
            "Actor": {"ID": self.actor_id, "Attributes": dict(self.attributes)},
            "scope": "local",
            "time": secs,
            "timeNano": self.time_ns,
        }
        if self.type in ("container", "image"):
            msg["id"] = self.actor_id
            msg["status"] = self.action
            if self.type == "container" and "image" in self.attributes:
                msg["from"] = self.attributes["image"]
        return msg


class EventBus:
    def __init__(self, history: int = HISTORY):
        self._history: deque[Event] = deque(maxlen=history)
        self._subscribers: set[asyncio.Queue[Event]] = set()

    def publish(self, type: str, action: str, actor_id: str, attributes: dict[str, str] | None = None) -> Event:
        ev = Event(type, action, actor_id, dict(attributes or {}), time.time_ns())
        self._history.append(ev)
        for q in self._subscribers:
            q.put_nowait(ev)
        return ev

    def since(self, since_ns: int, until_ns: int | None = None) -> list[Event]:
        return [e for e in self._history if e.time_ns >= since_ns and (until_ns is None or e.time_ns <= until_ns)]

    async def subscribe(self, since_ns: int | None = None, until_ns: int | None = None) -> AsyncIterator[Event]:
        """Past events from `since_ns` (if given), then live ones until `until_ns` (if given)."""
        q: asyncio.Queue[Event] = asyncio.Queue()
        self._subscribers.add(q)
        try:
            last = 0
            if since_ns is not None:
                for ev in self.since(since_ns, until_ns):
                    last = ev.time_ns
                    yield ev
            while True:
                if until_ns is not None:
                    timeout = until_ns / 1e9 - time.time()
                    if timeout <= 0:
                        return
                    try:
                        ev = await asyncio.wait_for(q.get(), timeout)
                    except TimeoutError:
                        return
                else:
                    ev = await q.get()
                if ev.time_ns <= last:
                    continue  # already sent from history
                if until_ns is not None and ev.time_ns > until_ns:
                    return
                yield ev
        finally:
            self._subscribers.discard(q)


def matches(ev: Event, filters: dict[str, list[str]]) -> bool:
    """Docker's event filters: type, event/action, container, image, volume, label, ..."""
    for key, values in filters.items():
        if not values:
            continue
        if key == "type" and ev.type not in values:
            return False
        if key in ("event", "action") and not any(ev.action == v or ev.action.startswith(v + ":") for v in values):
            return False
        if key in ("container", "image", "volume", "network", "daemon"):
            if ev.type != key and not (key == "image" and ev.type == "container"):
                return False
            names = {ev.actor_id, ev.actor_id[:12], ev.attributes.get("name", "")}
            if key == "image":
                names.add(ev.attributes.get("image", ""))
            if not any(v in names or (len(v) >= 3 and ev.actor_id.startswith(v)) for v in values):
                return False
        if key == "label":
            for v in values:
                k, _, want = v.partition("=")
                if k not in ev.attributes or (want and ev.attributes[k] != want):
                    return False
    return True
