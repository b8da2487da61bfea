"""Cron schedules as CronJobs write them (the five standard fields, names for months and days,
ranges, steps, lists, `?`, and the @yearly/@monthly/@weekly/@daily/@hourly shorthands), and
the next time a schedule fires after a given time in a given zone.

Day of month and day of week combine as cron has always combined them: when both are
restricted, either may match; when one is `*`, only the other counts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from skiff.common.errors import InvalidArgument

SHORTHANDS = {"@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *", "@monthly": "0 0 1 * *",
              "@weekly": "0 0 * * 0", "@daily": "0 0 * * *", "@midnight": "0 0 * * *", "@hourly": "0 * * * *"}
MONTHS = {n: i + 1 for i, n in enumerate(("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct",
                                          "nov", "dec"))}
DAYS = {n: i for i, n in enumerate(("sun", "mon", "tue", "wed", "thu", "fri", "sat"))}
# (low, high, names) per field: minute, hour, day of month, month, day of week
FIELDS: tuple[tuple[int, int, dict[str, int]], ...] = ((0, 59, {}), (0, 23, {}), (1, 31, {}), (1, 12, MONTHS), (0, 6, DAYS))


@dataclass(frozen=True)
class Schedule:
    minutes: frozenset[int]
    hours: frozenset[int]
    days: frozenset[int]
    months: frozenset[int]
    weekdays: frozenset[int]
    days_star: bool
    weekdays_star: bool

    def day_matches(self, when: datetime) -> bool:
        dom = when.day in self.days
        dow = (when.isoweekday() % 7) in self.weekdays
        if self.days_star or self.weekdays_star:
            return dom and dow
        return dom or dow

    def next_after(self, after: datetime) -> datetime | None:
        """The first firing strictly after `after` (whose tzinfo is the schedule's zone); None
        when none comes within five years (e.g. 30 February)."""
        t = after.replace(second=0, microsecond=0) + timedelta(minutes=1)
        limit = after.year + 5
        while t.year <= limit:
            if t.month not in self.months:
                t = _first_of_next_month(t)
                continue
            if not self.day_matches(t):
                t = (t + timedelta(days=1)).replace(hour=0, minute=0)
                continue
            if t.hour not in self.hours:
                t = (t + timedelta(hours=1)).replace(minute=0)
                continue
            if t.minute not in self.minutes:
                t += timedelta(minutes=1)
                continue
            return t
        return None


def _first_of_next_month(t: datetime) -> datetime:
    year, month = (t.year + 1, 1) if t.month == 12 else (t.year, t.month + 1)
    return t.replace(year=year, month=month, day=1, hour=0, minute=0)


def parse(text: str) -> Schedule:
    """A schedule from its text; InvalidArgument with a message like kube's validation."""
    spec = text.strip()
    if spec.startswith(("TZ=", "CRON_TZ=")):
        raise InvalidArgument("cannot use TZ or CRON_TZ in schedule, use timeZone field instead")
    spec = SHORTHANDS.get(spec.lower(), spec)
    if spec.startswith("@"):
        raise InvalidArgument(f"unrecognized descriptor: {spec}")
    fields = spec.split()
    if len(fields) != 5:
        raise InvalidArgument(f"expected exactly 5 fields, found {len(fields)}: {spec}")
    sets = [_field(f, *FIELDS[i]) for i, f in enumerate(fields)]
    weekdays = frozenset(d % 7 for d in sets[4])
    return Schedule(sets[0], sets[1], sets[2], sets[3], weekdays,
                    fields[2] in ("*", "?"), fields[4] in ("*", "?"))


def _field(text: str, low: int, high: int, names: dict[str, int]) -> frozenset[int]:
    values: set[int] = set()
    top = 7 if names is DAYS else high  # 7 is Sunday too
    for part in text.split(","):
        rng, _, step_text = part.partition("/")
        step = _number(step_text, names={}) if step_text else 1
        if step <= 0:
            raise InvalidArgument(f"step of range should be a positive number: {part}")
        if rng in ("*", "?"):
            lo, hi = low, high
        elif "-" in rng:
            a, _, b = rng.partition("-")
            lo, hi = _number(a, names), _number(b, names)
        else:
            lo = _number(rng, names)
            hi = high if step_text else lo
        if lo < low or hi > top or lo > hi:
            raise InvalidArgument(f"value out of range ({low} - {high}): {part}")
        values.update(range(lo, hi + 1, step))
    return frozenset(values)


def _number(text: str, names: dict[str, int]) -> int:
    lowered = text.lower()
    if lowered in names:
        return names[lowered]
    try:
        return int(text)
    except ValueError:
        raise InvalidArgument(f"failed to parse int from {text}") from None


def zone(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidArgument(f"unknown time zone {name}") from None


def times_between(schedule: Schedule, earliest: datetime, now: datetime, tz: ZoneInfo,
                  cap: int = 101) -> tuple[datetime | None, int]:
    """(the latest firing in (earliest, now], how many firings there were, counting up to cap)."""
    t = earliest.astimezone(tz)
    latest, count = None, 0
    while True:
        nxt = schedule.next_after(t)
        if nxt is None or nxt > now.astimezone(tz):
            return latest, count
        latest, count, t = nxt, count + 1, nxt
        if count == cap:  # too many missed (kube warns): only the latest matters now; skip ahead
            t = max(t, now.astimezone(tz) - timedelta(days=8))
