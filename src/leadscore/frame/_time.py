"""Time in integer arithmetic on ``_ls_at``: aging weights and calendar buckets.

Every time computation is integer arithmetic on the instant in microseconds, so
no engine's session time zone can change an answer; the calendar (months in UTC
for aging, buckets in the model's zone for ``at_most``) is turned into integer
cut-offs in Python, where the pure path's own functions compute them.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Callable
from typing import Any

from leadscore.model._aging import AgingPolicy, kernel
from leadscore.model._events import to_micros

__all__ = [
    "DAY_US",
    "FIRST_US",
    "bucket",
    "first_true",
    "offsets",
    "reaches",
    "step_branches",
    "weight",
]

#: The first representable instant (``datetime.min`` in UTC).
FIRST_US = to_micros(dt.datetime.min.replace(tzinfo=dt.UTC))


DAY_US = 86_400_000_000


def first_true(test: Callable[[int], bool], lo: int, hi: int) -> int:
    """The least n in [lo, hi] with test(n) (false, then true); hi + 1 if none."""
    while lo < hi:
        mid = (lo + hi) // 2
        if test(mid):
            hi = mid
        else:
            lo = mid + 1
    return hi if test(hi) else hi + 1


def reaches(
    weigh: Callable[[int], float], level: float, as_of_us: int
) -> tuple[int, int, int]:
    """Where a step policy's weight reaches *level*: ``(d0, tau, d1)``.

    The weight reaches it for instants on days from ``d1`` on, and on days from
    ``d0`` (before ``d1``) from the time of day ``tau`` on. Calendar months keep
    the time of day and clip the day (Aug 29, 30 and 31 + 6 months are all Feb
    28), so an expiry is not monotone in the instant; it is in the day, and within
    the days that clip to one date, in the time of day.
    """
    first_day, last_day = FIRST_US // DAY_US, as_of_us // DAY_US + 1

    def at_end_of(day: int) -> bool:
        return weigh(day * DAY_US + DAY_US - 1) >= level

    def at_start_of(day: int) -> bool:
        return weigh(day * DAY_US) >= level

    d0 = first_true(at_end_of, first_day, last_day)
    d1 = first_true(at_start_of, first_day, last_day)
    tau = first_true(lambda t: weigh(d0 * DAY_US + t) >= level, 0, DAY_US - 1)
    return d0 * DAY_US, tau, d1 * DAY_US


def weight(policy: AgingPolicy, at: Any, rank: Any, as_of_us: int) -> tuple[Any, bool]:
    """The weight column of *policy* at *as_of*, and whether it is always 1."""
    import ibis

    kind = policy.kind
    if kind == "never":
        return ibis.literal(1.0), True
    if kind == "by_count":
        return ibis.literal(policy.factor).pow(rank), False
    if kind in {"half_life", "linear", "inverse"}:
        span = float(policy.period // dt.timedelta(microseconds=1))
        age = (ibis.literal(as_of_us) - at).cast("float64") / span
        if kind == "half_life":
            return ibis.literal(0.5).pow(age), False
        if kind == "linear":
            return ibis.greatest(ibis.literal(0.0), 1.0 - age), False
        return 1.0 / (1.0 + age), False
    branches = step_branches(policy, at, as_of_us)
    if not branches:
        return ibis.literal(0.0), False
    return ibis.cases(*branches, else_=0.0), False


def step_branches(
    policy: AgingPolicy, at: Any, as_of_us: int
) -> list[tuple[Any, float]]:
    """``expire_after`` and ``steps`` at *as_of*: ``(test, weight)``, first true wins.

    A non-decreasing step function of the instant: the tests of the positive
    weights, highest first; an instant none passes weighs 0.
    """
    weigh = kernel(policy)

    def at_level(at_us: int) -> float:
        return weigh(at_us, 0, as_of_us)

    levels = sorted({at_level(as_of_us), 0.0, *(s.weight for s in policy.schedule)})
    branches = []
    for level in reversed(levels):
        if level <= 0:
            continue
        d0, tau, d1 = reaches(at_level, level, as_of_us)
        if d1 - d0 <= DAY_US:  # one clipped day at most: a single cut-off
            test = at >= min(d0 + tau, d1)
        else:
            test = (at >= d1) | ((at >= d0) & (_mod(at, DAY_US) >= tau))
        branches.append((test, level))
    return branches


def _civil(days: Any) -> tuple[Any, Any]:
    """(year, month) of a count of days since 1970-01-01 (Hinnant's algorithm)."""
    import ibis

    z = days + 719468  # >= 0 from year 0 on: every // below is exact
    era = z // 146097
    doe = z - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    month = mp + 3 - ibis.cases((mp >= 10, 12), else_=0)
    year = yoe + era * 400 + ibis.cases((month <= 2, 1), else_=0)
    return year, month


def offsets(zone: zoneinfo.ZoneInfo, lo_us: int, hi_us: int) -> list[tuple[int, int]]:
    """The UTC offsets (microseconds) of *zone* in [lo, hi], as (from_us, offset).

    Transitions are found by bisection between samples 12 hours apart, which no
    zone's rules come close to (two changes in one half-day).
    """
    from leadscore.model._events import from_micros

    def off(us: int) -> int:
        delta = from_micros(us).astimezone(zone).utcoffset()
        assert delta is not None
        return delta // dt.timedelta(microseconds=1)

    step = 12 * 3600 * 10**6
    out = [(lo_us, off(lo_us))]
    t = lo_us
    while t < hi_us:
        nxt = min(t + step, hi_us)
        if off(nxt) != out[-1][1]:
            a, b = t, nxt  # off(a) == current, off(b) differs
            while b - a > 1:
                mid = (a + b) // 2
                if off(mid) == out[-1][1]:
                    a = mid
                else:
                    b = mid
            out.append((b, off(b)))
        t = nxt
    return out


def bucket(
    at: Any, per: str, zone: zoneinfo.ZoneInfo, span: tuple[int, int]
) -> list[Any]:
    """The calendar bucket of *at* in *zone*, as integer columns (see paths.bucket)."""
    import ibis

    changes = offsets(zone, *span)
    if len(changes) == 1:
        offset: Any = ibis.literal(changes[0][1])
    else:
        offset = ibis.cases(
            *((at >= start, off) for start, off in reversed(changes[1:])),
            else_=changes[0][1],
        )
    local = at + offset
    hour_us, day_us = 3600 * 10**6, 86400 * 10**6
    if per == "hour":
        return [_floor(local, hour_us), offset]
    day = _floor(local, day_us)
    if per == "day":
        return [day]
    if per == "week":  # 1970-01-01 was a Thursday; weeks start on Monday
        return [day - _mod(day + 3 * day_us, 7 * day_us)]
    days = (day / day_us).round().cast("int64")  # exact: day is a multiple
    year, month = _civil(days)
    return [year * 12 + month]


def _mod(a: Any, b: int) -> Any:
    """``a mod b`` in [0, b), whatever the engine's sign of ``%``."""
    return (a % b + b) % b


def _floor(a: Any, b: int) -> Any:
    """The multiple of *b* at or below *a*, in exact integer arithmetic.

    Engines compile ``//`` through a float division, which loses microseconds
    beyond 2**53; a remainder does not.
    """
    return a - _mod(a, b)
