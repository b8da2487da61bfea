"""PrioritySort: higher spec.priority first, then the pod that entered the queue first."""

from __future__ import annotations

from typing import Any


class PrioritySort:
    name = "PrioritySort"

    def less(self, a: Any, b: Any) -> bool:
        if a.pod.priority != b.pod.priority:
            return a.pod.priority > b.pod.priority
        return a.timestamp < b.timestamp
