"""Garbage-collector thresholds for the long-lived control-plane processes.

The API server, the scheduler, the controller manager and the node agent hold tens of thousands
of objects (watch caches, informer stores) for their whole life. With CPython's default thresholds
(700, 10, 10) a burst of requests sets off collections that walk those caches again and again: in
bench/bench_scheduler.py they cost 0.1-0.3 ms of CPU per pod on each side and made runs of the
same code differ by 40%. Rarer collections keep the cost in proportion to the garbage made."""

from __future__ import annotations

import gc

YOUNG = 50_000  # allocations between young-generation collections (CPython's default: 700)
MIDDLE = 20  # young collections per middle one
OLD = 100  # middle collections per full one (CPython also skips a full one while few objects are new)


def for_long_lived_caches() -> None:
    gc.set_threshold(YOUNG, MIDDLE, OLD)
