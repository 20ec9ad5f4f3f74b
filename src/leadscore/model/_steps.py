"""Step schedules of ``AgingPolicy.steps``: validation, ordering and step instants.

A schedule is a tuple of :class:`Step` ``(months, period, weight)``: a point earned
at ``at`` weighs ``weight`` from ``at + months + period`` (inclusive) on, months
being calendar months in UTC (``relativedelta``), ``period`` exact. Before the first
step it weighs 1.

Each step must come strictly later than the one before *for every* ``at``. With
months on one side and days on the other that depends on ``at`` (1 month is 28 to
31 days), so :func:`shortest_gap` computes, over the whole Gregorian calendar, how
close two month counts can come, and a schedule is accepted exactly when no event
time would see two steps at the same instant or in the wrong order.
"""

from __future__ import annotations

import calendar
import datetime as dt
import functools
import itertools
import re
from collections.abc import Callable, Iterable, Mapping, Sequence, Sized
from typing import Any, NamedTuple

from dateutil.relativedelta import relativedelta

from leadscore.exceptions import InvalidModelError

from ._events import from_micros, to_micros
from ._limits import MAX_DAYS, MAX_MONTHS, MAX_STEPS, shorten
from ._numbers import foreign_int, foreign_number

__all__ = [
    "FAR_US",
    "Step",
    "after_repr",
    "blame_after",
    "check_schedule",
    "durations",
    "is_later",
    "schedule_from_pairs",
    "shortest_gap",
    "step_from_after",
    "steps_repr",
]

_DAY_US = 86_400_000_000
_ZERO = dt.timedelta(0)
_US = dt.timedelta(microseconds=1)
_MAX_PERIOD = dt.timedelta(days=MAX_DAYS)
#: Longer than any age: the duration of a step that falls past ``datetime.max``.
FAR_US = 2**63
# The Gregorian calendar repeats every 400 years: 4,800 months, 146,097 days.
_CYCLE_MONTHS = 4_800
_CYCLE_DAYS = 146_097
_CYCLE_START = 2000  # any year works; 2000 starts a cycle
_STEP_PATH = re.compile(r"steps\[(\d+)\](?:\.(\w+))?")


class Step(NamedTuple):
    """One step of a schedule: from ``at + months + period`` on, ``weight``."""

    #: Calendar months (``relativedelta``, in UTC).
    months: int
    #: The exact part, added after the months.
    period: dt.timedelta
    #: The weight from this step on, in [0, 1].
    weight: float


def schedule_from_pairs(steps: object) -> tuple[list[Any], tuple[Step, ...]]:
    """The ``(after, weight)`` pairs of ``AgingPolicy.steps`` and their steps.

    Only the shapes and types are checked here (at most ``MAX_STEPS + 1`` pairs
    are read, so an endless iterable fails); :func:`check_schedule` checks the
    rest when the policy is built.
    """
    if isinstance(steps, str | bytes | Mapping) or not isinstance(steps, Iterable):
        raise InvalidModelError(
            f"steps must be a list of (after, weight) pairs, got {shorten(steps)}",
            path="steps",
            value=steps,
        )
    pairs = list(itertools.islice(steps, MAX_STEPS + 1))
    if len(pairs) > MAX_STEPS:
        raise InvalidModelError(
            f"steps must hold at most {MAX_STEPS} steps, got more",
            path="steps",
            value=len(steps) if isinstance(steps, Sized) else None,
        )
    schedule: list[Step] = []
    for i, pair in enumerate(pairs):
        if not isinstance(pair, tuple | list) or len(pair) != 2:
            raise InvalidModelError(
                f"a step must be an (after, weight) pair, got {shorten(pair)}",
                path=f"steps[{i}]",
                value=pair,
            )
        schedule.append(step_from_after(pair[0], pair[1], f"steps[{i}]"))
    return pairs, tuple(schedule)


def blame_after(error: InvalidModelError, pairs: list[Any]) -> InvalidModelError:
    """*error*, from checking the steps of *pairs*, in the words of the pairs.

    A step's months, period or order is its ``after`` (``steps[1].after``, the
    value given); the schedule's own errors show the pairs given.
    """
    if error.path == "steps":
        return InvalidModelError(error.reason, path="steps", value=pairs)
    found = _STEP_PATH.fullmatch(error.path)
    if found is None or found[2] == "weight":
        return error
    i = int(found[1])
    return InvalidModelError(error.reason, path=f"steps[{i}].after", value=pairs[i][0])


def step_from_after(after: object, weight: object, path: str) -> Step:
    """The :class:`Step` of ``(after, weight)``; *after* a timedelta or relativedelta.

    A ``relativedelta`` may hold years, months, weeks, days, hours, minutes,
    seconds and microseconds, all >= 0; absolute fields (``day=31``,
    ``weekday=MO``) and ``leapdays`` have no meaning as an age and are rejected.
    Only the types are checked here; :func:`check_schedule` checks the ranges.
    """
    where = f"{path}.after"
    if isinstance(after, dt.timedelta):
        return Step(0, after, weight)  # type: ignore[arg-type]
    if not isinstance(after, relativedelta):
        raise InvalidModelError(
            f"after must be a datetime.timedelta or a dateutil relativedelta, "
            f"got {shorten(after)}",
            path=where,
            value=after,
        )
    absolute = ("year", "month", "day", "weekday", "hour", "minute", "second")
    if any(getattr(after, name) is not None for name in (*absolute, "microsecond")) or (
        after.leapdays
    ):
        raise InvalidModelError(
            f"after must be a relative period (years, months, weeks, days, hours, "
            f"minutes, seconds, microseconds), got {shorten(after)}",
            path=where,
            value=after,
        )
    parts = (after.days, after.hours, after.minutes, after.seconds, after.microseconds)
    if after.years < 0 or after.months < 0 or any(p < 0 for p in parts):
        raise InvalidModelError(
            f"after must not be negative in any part, got {shorten(after)}",
            path=where,
            value=after,
        )
    months = after.years * 12 + after.months
    if months > MAX_MONTHS:
        raise InvalidModelError(
            f"after must be at most {MAX_MONTHS} months (1,000 years), "
            f"got {shorten(after)}",
            path=where,
            value=after,
        )
    try:
        period = dt.timedelta(
            days=after.days,
            hours=after.hours,
            minutes=after.minutes,
            seconds=after.seconds,
            microseconds=after.microseconds,
        )
    except (OverflowError, ValueError):  # beyond timedelta's range, or NaN
        raise InvalidModelError(
            f"after must be at most {MAX_DAYS} days past its months, "
            f"got {shorten(after)}",
            path=where,
            value=after,
        ) from None
    return Step(months, period, weight)  # type: ignore[arg-type]


def check_schedule(schedule: object) -> tuple[Step, ...]:
    """*schedule* as a tuple of :class:`Step`, or InvalidModelError.

    Paths name the step: ``steps[1].months``, ``steps[1].period`` and
    ``steps[1].weight`` for a bad field; ``steps[1]`` for a step that is not a
    ``(months, period, weight)`` triple, is not after ``at``, or is not later than
    the step before it for every ``at``; ``steps`` for the schedule itself.
    """
    if isinstance(schedule, str | bytes) or not isinstance(schedule, Sequence):
        raise InvalidModelError(
            f"steps must be a sequence of steps, got {shorten(schedule)}",
            path="steps",
            value=schedule,
        )
    if not schedule:
        raise InvalidModelError(
            "steps must hold at least one step, got none", path="steps", value=schedule
        )
    if len(schedule) > MAX_STEPS:
        raise InvalidModelError(
            f"steps must hold at most {MAX_STEPS} steps, got {len(schedule)}",
            path="steps",
            value=len(schedule),
        )
    out: list[Step] = []
    for i, item in enumerate(schedule):
        step = _check_step(item, f"steps[{i}]")
        if out:
            _check_order(out[-1], step, i)
        out.append(step)
    return tuple(out)


def _plain_numbers(months: Any, period: Any, weight: Any) -> tuple[Any, Any, Any]:
    """A step's numbers of another library (``np.int64``) as plain ones."""
    if not isinstance(months, int):
        whole = foreign_int(months)
        months = months if whole is None else whole
    if not isinstance(weight, int | float):
        number = foreign_number(weight)
        weight = weight if number is None else number
    return months, period, weight


def _check_step(item: object, path: str) -> Step:
    if not isinstance(item, tuple) or len(item) != 3:
        raise InvalidModelError(
            f"a step must be a (months, period, weight) triple, got {shorten(item)}",
            path=path,
            value=item,
        )
    months, period, weight = _plain_numbers(*item)
    if isinstance(months, bool) or not isinstance(months, int):
        raise InvalidModelError(
            f"months must be a whole number, got {shorten(months)}",
            path=f"{path}.months",
            value=months,
        )
    if not 0 <= months <= MAX_MONTHS:
        raise InvalidModelError(
            f"months must be in [0, {MAX_MONTHS}] (1,000 years), got {shorten(months)}",
            path=f"{path}.months",
            value=months,
        )
    if not isinstance(period, dt.timedelta):
        raise InvalidModelError(
            f"period must be a datetime.timedelta, got {shorten(period)}",
            path=f"{path}.period",
            value=period,
        )
    if not _ZERO <= period <= _MAX_PERIOD:
        raise InvalidModelError(
            f"period must be in [0, {MAX_DAYS} days] (1,000 years), got {period!r}",
            path=f"{path}.period",
            value=period,
        )
    if isinstance(weight, bool) or not isinstance(weight, int | float):
        raise InvalidModelError(
            f"weight must be a number, got {shorten(weight)}",
            path=f"{path}.weight",
            value=weight,
        )
    if not 0 <= weight <= 1:  # also rejects NaN, before float() can overflow
        raise InvalidModelError(
            f"weight must be in [0, 1], got {shorten(weight)}",
            path=f"{path}.weight",
            value=weight,
        )
    if months == 0 and period == _ZERO:
        raise InvalidModelError(
            "a step must come after the point is earned (after > 0), got 0",
            path=path,
            value=item,
        )
    return Step(months, period, float(weight))


def is_later(before: Step, step: Step) -> bool:
    """Whether *step* begins strictly later than *before* for every ``at``.

    >>> month, days = Step(1, dt.timedelta(0), 1), Step(0, dt.timedelta(days=30), 1)
    >>> is_later(month, days), is_later(days, month)
    (False, False)
    >>> is_later(Step(0, dt.timedelta(days=27), 1), month)
    True
    """
    gap, _ = shortest_gap(before.months, step.months)
    return dt.timedelta(days=gap) + step.period > before.period


def _check_order(before: Step, step: Step, i: int) -> None:
    """Raise unless *step* comes strictly later than *before* for every ``at``."""
    _, witness = shortest_gap(before.months, step.months)
    if is_later(before, step):
        if step.weight > before.weight:
            raise InvalidModelError(
                f"weight must not be above the weight of the step before it "
                f"({before.weight!r}): a weight is what remains of a point "
                f"(0.75 is -25 %), and aging never restores it; got {step.weight!r}",
                path=f"steps[{i}].weight",
                value=step.weight,
            )
        return
    first = witness + relativedelta(months=before.months) + before.period
    second = witness + relativedelta(months=step.months) + step.period
    raise InvalidModelError(
        f"a step must come later than the step before it for every event time; "
        f"for a point earned at {witness.isoformat()}, steps[{i - 1}] falls at "
        f"{first.isoformat()} and steps[{i}] at {second.isoformat()} "
        f"(after {after_repr(step)} is not later than {after_repr(before)})",
        path=f"steps[{i}]",
        value=step,
    )


@functools.cache
def _calendar() -> tuple[tuple[int, ...], tuple[int, ...]]:
    """Month lengths over one 400-year cycle, and the day each month starts."""
    lengths = tuple(
        calendar.monthrange(_CYCLE_START + k // 12, k % 12 + 1)[1]
        for k in range(_CYCLE_MONTHS)
    )
    return lengths, tuple(itertools.accumulate(lengths, initial=0))


@functools.lru_cache(maxsize=4096)
def shortest_gap(m1: int, m2: int) -> tuple[int, dt.datetime]:
    """The least ``(at + m2 months) - (at + m1 months)`` over every ``at``, in days.

    With an ``at`` (midnight UTC, in the cycle starting in 2000) that attains it.
    Exact: an ``at`` in month *s* on day *d* lands on day ``min(d, length)`` of
    months ``s + m1`` and ``s + m2`` (the time of day is kept), so per month the
    least gap is at ``d = 1`` or at the largest ``d`` that the shorter target
    month clips; one pass over the 4,800 months of the cycle covers every ``at``.

    >>> shortest_gap(0, 1)[0], shortest_gap(0, 12)[0], shortest_gap(1, 0)[0]
    (28, 365, -31)
    """
    lengths, firsts = _calendar()

    def first(k: int) -> int:
        q, r = divmod(k, _CYCLE_MONTHS)
        return q * _CYCLE_DAYS + firsts[r]

    best: tuple[int, int, int] | None = None  # (gap, month, day)
    for s in range(_CYCLE_MONTHS):
        l1 = lengths[(s + m1) % _CYCLE_MONTHS]
        l2 = lengths[(s + m2) % _CYCLE_MONTHS]
        day = min(lengths[s], l1)
        clip = l2 - day if day > l2 else 0
        gap = first(s + m2) - first(s + m1) + clip
        if best is None or gap < best[0]:
            best = (gap, s, day if clip else 1)
    assert best is not None
    gap, s, day = best
    at = dt.datetime(_CYCLE_START + s // 12, s % 12 + 1, day, tzinfo=dt.UTC)
    return gap, at


def durations(schedule: tuple[Step, ...]) -> Callable[[int], tuple[int, ...]]:
    """A fast ``at_us -> (age in µs at which each step begins, ...)``.

    Ascending; ``FAR_US`` for a step past ``datetime.max``. Exact for calendar
    months: ``at + months`` keeps the time of day, so the ages are computed once
    per UTC day.
    """
    if all(step.months == 0 for step in schedule):
        fixed = tuple(step.period // _US for step in schedule)
        return lambda _at: fixed
    days: dict[int, tuple[int, ...]] = {}

    def of(at: int) -> tuple[int, ...]:
        day = at // _DAY_US
        found = days.get(day)
        if found is None:
            midnight = day * _DAY_US
            found = days[day] = tuple(_age(midnight, step) for step in schedule)
        return found

    return of


def _age(midnight_us: int, step: Step) -> int:
    try:
        begins = from_micros(midnight_us) + relativedelta(months=step.months)
        return to_micros(begins + step.period) - midnight_us
    except (OverflowError, ValueError):  # year 10000 is out of range
        return FAR_US


def after_repr(step: Step) -> str:
    """The step's ``after`` as code: a ``timedelta`` or a ``relativedelta``.

    >>> after_repr(Step(1, dt.timedelta(days=3), 0.5))
    'relativedelta(months=1, days=3)'
    >>> after_repr(Step(0, dt.timedelta(days=3), 0.5))
    'datetime.timedelta(days=3)'
    """
    if not step.months:
        return repr(step.period)
    parts = [f"months={step.months}"]
    period = step.period
    parts.extend(
        f"{name}={amount}"
        for name, amount in (
            ("days", period.days),
            ("seconds", period.seconds),
            ("microseconds", period.microseconds),
        )
        if amount
    )
    return f"relativedelta({', '.join(parts)})"


def steps_repr(schedule: tuple[Step, ...]) -> str:
    """The argument of ``AgingPolicy.steps`` that builds *schedule*."""
    return "[" + ", ".join(f"({after_repr(s)}, {s.weight!r})" for s in schedule) + "]"
