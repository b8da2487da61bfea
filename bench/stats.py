"""Summary statistics for benchmark samples (pure)."""

from __future__ import annotations

import math
from dataclasses import dataclass


def percentile(samples: list[float], p: float) -> float:
    """The p-th percentile (0..100) by linear interpolation between closest ranks."""
    if not samples:
        raise ValueError("no samples")
    ordered = sorted(samples)
    if len(ordered) == 1:
        return ordered[0]
    pos = (len(ordered) - 1) * p / 100
    low, high = math.floor(pos), math.ceil(pos)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


@dataclass(frozen=True)
class Summary:
    n: int
    median: float
    p90: float
    mean: float
    low: float
    high: float


def summarize(samples: list[float]) -> Summary:
    return Summary(n=len(samples), median=percentile(samples, 50), p90=percentile(samples, 90),
                   mean=sum(samples) / len(samples), low=min(samples), high=max(samples))


def ratio(value: float, reference: float) -> float:
    """value / reference; how much of the reference's time (or memory) skiff takes."""
    if reference <= 0:
        raise ValueError("reference must be positive")
    return value / reference


def verdict(value: float, reference: float, target: float) -> str:
    """'met' or 'missed' for a target like 'at most 1/5 of the reference' (target=0.2)."""
    return "met" if ratio(value, reference) <= target else "missed"
