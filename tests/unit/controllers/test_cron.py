"""Cron schedule parsing and next-time arithmetic (pure)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from skiff.cluster.controllers import cron
from skiff.common.errors import InvalidArgument


def at(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.mark.parametrize("spec, after, expected", [
    ("* * * * *", at(2026, 1, 1, 10, 5, 30), at(2026, 1, 1, 10, 6)),
    ("*/15 * * * *", at(2026, 1, 1, 10, 5), at(2026, 1, 1, 10, 15)),
    ("0 * * * *", at(2026, 1, 1, 10, 0), at(2026, 1, 1, 11, 0)),
    ("@hourly", at(2026, 1, 1, 23, 30), at(2026, 1, 2, 0, 0)),
    ("@daily", at(2026, 12, 31, 12, 0), at(2027, 1, 1, 0, 0)),
    ("@weekly", at(2026, 1, 1, 0, 0), at(2026, 1, 4, 0, 0)),  # 1 Jan 2026 is a Thursday
    ("@monthly", at(2026, 1, 15), at(2026, 2, 1)),
    ("@yearly", at(2026, 3, 1), at(2027, 1, 1)),
    ("30 9 * * mon-fri", at(2026, 1, 2, 10, 0), at(2026, 1, 5, 9, 30)),  # Friday after 9:30 → Monday
    ("0 0 29 feb *", at(2026, 1, 1), at(2028, 2, 29)),
    ("0 12 1 * 0", at(2026, 1, 1, 13, 0), at(2026, 1, 4, 12, 0)),  # day 1 OR Sunday
    ("0 0 * * 7", at(2026, 1, 1), at(2026, 1, 4)),  # 7 is Sunday
    ("5,10-12 3 * jan,MAR ?", at(2026, 1, 1, 3, 10), at(2026, 1, 1, 3, 11)),
])
def test_next_after(spec, after, expected):
    assert cron.parse(spec).next_after(after) == expected


def test_time_zone_shifts_the_wall_clock():
    tz = cron.zone("Asia/Shanghai")
    nxt = cron.parse("0 9 * * *").next_after(at(2026, 1, 1, 2, 0).astimezone(tz))
    assert nxt.astimezone(UTC) == at(2026, 1, 2, 1, 0)
    with pytest.raises(InvalidArgument, match="unknown time zone"):
        cron.zone("Mars/Olympus")


def test_impossible_dates_never_fire():
    assert cron.parse("0 0 30 2 *").next_after(at(2026, 1, 1)) is None


@pytest.mark.parametrize("spec, message", [
    ("* * * *", "expected exactly 5 fields"),
    ("60 * * * *", "out of range"),
    ("*/0 * * * *", "positive"),
    ("a * * * *", "failed to parse int"),
    ("@every 5m", "unrecognized descriptor"),
    ("TZ=UTC * * * * *", "use timeZone field"),
])
def test_errors(spec, message):
    with pytest.raises(InvalidArgument, match=message):
        cron.parse(spec)


def test_times_between_counts_missed_runs_and_returns_the_latest():
    schedule = cron.parse("*/10 * * * *")
    latest, count = cron.times_between(schedule, at(2026, 1, 1, 0, 0), at(2026, 1, 1, 1, 5), UTC)
    assert (latest, count) == (at(2026, 1, 1, 1, 0), 6)
    latest, count = cron.times_between(cron.parse("* * * * *"), at(2026, 1, 1), at(2026, 1, 3), UTC)
    assert latest == at(2026, 1, 3) and count > 100
    assert cron.times_between(schedule, at(2026, 1, 1, 0, 1), at(2026, 1, 1, 0, 9), UTC) == (None, 0)
