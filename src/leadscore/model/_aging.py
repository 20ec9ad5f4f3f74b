"""Aging policies: how much a point earned at ``at`` still counts at ``as_of``."""

from __future__ import annotations

import datetime as dt
import functools
from bisect import bisect_right
from collections.abc import Callable, Iterable
from typing import Literal, NamedTuple

import attrs
from dateutil.relativedelta import relativedelta

from leadscore.exceptions import InvalidModelError
from leadscore.typing import Instant

from ._events import EARLIEST_US, from_micros, to_micros, to_utc
from ._limits import MAX_DAYS, MAX_MONTHS, shorten
from ._numbers import foreign_int, foreign_number
from ._steps import (
    Step,
    blame_after,
    check_schedule,
    durations,
    schedule_from_pairs,
    steps_repr,
)

__all__ = ["AGING_KINDS", "BEYOND_US", "AgingPolicy", "Step", "breakpoints_us"]

AgingKind = Literal[
    "never", "expire_after", "half_life", "linear", "by_count", "inverse", "steps"
]
AGING_KINDS: tuple[str, ...] = (
    "never",
    "expire_after",
    "half_life",
    "linear",
    "by_count",
    "inverse",
    "steps",
)
#: The kinds whose weight drifts between instants (not a step function of time).
_DRIFTING = frozenset({"half_life", "linear", "inverse"})

_DAY_US = 86_400_000_000
_ZERO = dt.timedelta(0)
_US = dt.timedelta(microseconds=1)
_MAX_PERIOD = dt.timedelta(days=MAX_DAYS)
# Below every real timestamp: "nothing has expired".
_NEVER = EARLIEST_US
#: The first microsecond after ``datetime.max`` (UTC): what :meth:`AgingPolicy.end_us`
#: returns for a point that does not expire within the representable range.
BEYOND_US = to_micros(dt.datetime.max.replace(tzinfo=dt.UTC)) + 1


def _shifted(at: dt.datetime, months: int, period: dt.timedelta) -> dt.datetime | None:
    """``at + months + period`` in UTC, or None when that is past ``datetime.max``."""
    try:
        return at + relativedelta(months=months) + period
    except (OverflowError, ValueError):  # year 10000 is out of range
        return None


def _shifted_us(at_us: int, months: int, period: dt.timedelta) -> int:
    """``at + months + period`` in microseconds, at most ``BEYOND_US``."""
    end = _shifted(from_micros(at_us), months, period)
    return BEYOND_US if end is None else to_micros(end)


def _period(
    period: dt.timedelta | None, *, days: float, weeks: float, name: str
) -> dt.timedelta:
    if period is not None and not isinstance(period, dt.timedelta):
        raise InvalidModelError(
            f"{name} must be a datetime.timedelta, got {shorten(period)}",
            path=name,
            value=period,
        )
    if not isinstance(days, int | float):
        days = _plain_number(days)
    if not isinstance(weeks, int | float):
        weeks = _plain_number(weeks)
    for key, n, most in (("days", days, MAX_DAYS), ("weeks", weeks, MAX_DAYS // 7)):
        if (
            isinstance(n, bool)
            or not isinstance(n, int | float)
            or not -most <= n <= most  # also rejects NaN
        ):
            raise InvalidModelError(
                f"{key} must be a number within ±{most}, got {shorten(n)}",
                path=key,
                value=n,
            )
    try:
        return (period or _ZERO) + dt.timedelta(days=days, weeks=weeks)
    except OverflowError:
        raise InvalidModelError(
            f"{name} must be at most {MAX_DAYS} days, got {shorten(period)}",
            path=name,
            value=period,
        ) from None


def _plain_number(value: object) -> object:
    """*value* as a plain int or float if it is a number of another library."""
    plain = foreign_number(value)
    return value if plain is None else plain


def _plain_int(value: object) -> object:
    """*value* as a plain int if it is a whole number of another library."""
    whole = foreign_int(value)
    return value if whole is None else whole


@attrs.frozen(repr=False, cache_hash=True)
class AgingPolicy:
    """How a point loses weight with age. Build one with a named constructor.

    ``weight(at, as_of, rank)`` is in [0, 1]: 1 for a fresh point, 0 for a gone
    one. ``rank`` is the number of the contact's counted events strictly later in
    time ("how many actions have occurred since"); only ``by_count`` uses it.

    Attributes:
        kind: ``"never"``, ``"expire_after"``, ``"half_life"``, ``"linear"``,
            ``"by_count"``, ``"inverse"`` or ``"steps"``.
        months: Calendar months of an ``expire_after`` period.
        period: The fixed part of the period (expiry, half-life, linear span, or
            the age at which an ``inverse`` weight is one half).
        factor: The weight kept per later action, for ``by_count``.
        schedule: The :class:`Step` ``(months, period, weight)`` triples of
            ``steps``, in order; empty for the other kinds.
    """

    def __repr__(self) -> str:
        """The named constructor call that builds this policy."""
        if self.kind == "never":
            return "AgingPolicy.never()"
        if self.kind == "by_count":
            return f"AgingPolicy.by_count({self.factor!r})"
        if self.kind == "steps":
            return f"AgingPolicy.steps({steps_repr(self.schedule)})"
        parts = [f"months={self.months}"] if self.months else []
        period = self.period
        if period % dt.timedelta(days=1) == _ZERO and period:
            parts.append(f"days={period.days}")
        elif period:
            # linear() names its span ``over``; the others ``period``.
            parts.append(f"{'over' if self.kind == 'linear' else 'period'}={period!r}")
        return f"AgingPolicy.{self.kind}({', '.join(parts)})"

    kind: AgingKind = "never"
    months: int = 0
    period: dt.timedelta = _ZERO
    factor: float = 1.0
    schedule: tuple[Step, ...] = ()

    def __attrs_post_init__(self) -> None:
        """Check that the policy is possible and within the documented ranges."""
        if not isinstance(self.months, int):  # np.int64
            object.__setattr__(self, "months", _plain_int(self.months))
        if not isinstance(self.factor, int | float):  # np.float32, Decimal
            object.__setattr__(self, "factor", _plain_number(self.factor))
        self._check_types()
        self._check_ranges()
        self._check_kind_fields()
        object.__setattr__(self, "factor", float(self.factor))

    def _check_types(self) -> None:
        if not isinstance(self.kind, str) or self.kind not in AGING_KINDS:
            raise InvalidModelError(
                f"unknown aging kind {shorten(self.kind)}; "
                f"use one of {', '.join(AGING_KINDS)}",
                path="kind",
                value=self.kind,
            )
        if isinstance(self.months, bool) or not isinstance(self.months, int):
            raise InvalidModelError(
                f"months must be a whole number, got {shorten(self.months)}",
                path="months",
                value=self.months,
            )
        if not isinstance(self.period, dt.timedelta):
            raise InvalidModelError(
                f"period must be a datetime.timedelta, got {shorten(self.period)}",
                path="period",
                value=self.period,
            )
        factor = self.factor
        if isinstance(factor, bool) or not isinstance(factor, int | float):
            raise InvalidModelError(
                f"factor must be a number, got {shorten(factor)}",
                path="factor",
                value=factor,
            )

    def _check_ranges(self) -> None:
        if self.months < 0:
            raise InvalidModelError(
                f"months must not be negative, got {shorten(self.months)}",
                path="months",
                value=self.months,
            )
        if self.months > MAX_MONTHS:
            raise InvalidModelError(
                f"months must be at most {MAX_MONTHS} (1,000 years), "
                f"got {shorten(self.months)}",
                path="months",
                value=self.months,
            )
        if self.period < _ZERO:
            raise InvalidModelError(
                f"period must not be negative, got {self.period!r}",
                path="period",
                value=self.period,
            )
        if self.period > _MAX_PERIOD:
            raise InvalidModelError(
                f"period must be at most {MAX_DAYS} days (1,000 years), "
                f"got {self.period!r}",
                path="period",
                value=self.period,
            )

    def _check_kind_fields(self) -> None:
        if self.kind != "expire_after" and self.months:
            raise InvalidModelError(
                f"months apply only to expire_after, not {self.kind}",
                path="months",
                value=self.months,
            )
        if self.kind in {"expire_after", "half_life", "linear", "inverse"}:
            if self.period == _ZERO and self.months == 0:
                name = {"half_life": "half_life", "linear": "over"}.get(
                    self.kind, "period"
                )
                raise InvalidModelError(
                    f"{name} must be positive, got {self.period!r}",
                    path="period",
                    value=self.period,
                )
        elif self.period != _ZERO:
            raise InvalidModelError(
                f"a period does not apply to {self.kind}",
                path="period",
                value=self.period,
            )
        factor = self.factor
        if self.kind == "by_count":
            if not 0 < factor <= 1:  # also rejects NaN, before float() can overflow
                raise InvalidModelError(
                    f"by_count factor must be in (0, 1], got {shorten(factor)}",
                    path="factor",
                    value=factor,
                )
        elif factor != 1:
            raise InvalidModelError(
                f"a factor applies only to by_count, not {self.kind}",
                path="factor",
                value=factor,
            )
        if self.kind == "steps":
            object.__setattr__(self, "schedule", check_schedule(self.schedule))
        elif not isinstance(self.schedule, tuple) or self.schedule:
            raise InvalidModelError(
                f"steps apply only to AgingPolicy.steps, not {self.kind}",
                path="steps",
                value=self.schedule,
            )

    # -- named constructors ----------------------------------------------------

    @classmethod
    def never(cls) -> AgingPolicy:
        """Points keep their full weight forever.

        >>> AgingPolicy.never().weight("2020-01-01T00:00Z", "2030-01-01T00:00Z")
        1.0
        """
        return cls("never")

    @classmethod
    def expire_after(
        cls,
        period: dt.timedelta | None = None,
        *,
        days: float = 0,
        weeks: float = 0,
        months: int = 0,
    ) -> AgingPolicy:
        """Points count fully while ``as_of < at + period``, then not at all.

        Months are calendar months in UTC (``relativedelta``: Aug 31 + 6 months is
        Feb 28, or 29 in a leap year); days and weeks are exact.

        >>> six_months = AgingPolicy.expire_after(months=6)
        >>> six_months.weight("2024-08-31T12:00Z", "2025-02-28T11:59Z")
        1.0
        >>> six_months.weight("2024-08-31T12:00Z", "2025-02-28T12:00Z")
        0.0
        """
        return cls(
            "expire_after",
            months=months,
            period=_period(period, days=days, weeks=weeks, name="period"),
        )

    @classmethod
    def half_life(
        cls, period: dt.timedelta | None = None, *, days: float = 0, weeks: float = 0
    ) -> AgingPolicy:
        """Points lose half their weight every *period*: ``0.5 ** (age / period)``.

        >>> weekly = AgingPolicy.half_life(days=7)
        >>> weekly.weight("2024-01-01T00:00Z", "2024-01-15T00:00Z")
        0.25
        """
        return cls(
            "half_life",
            period=_period(period, days=days, weeks=weeks, name="half_life"),
        )

    @classmethod
    def linear(
        cls, over: dt.timedelta | None = None, *, days: float = 0, weeks: float = 0
    ) -> AgingPolicy:
        """Points fade in a straight line from 1 at ``at`` to 0 at ``at + over``.

        >>> AgingPolicy.linear(days=10).weight("2024-01-01T00:00Z", "2024-01-04T00:00Z")
        0.7
        """
        return cls("linear", period=_period(over, days=days, weeks=weeks, name="over"))

    @classmethod
    def by_count(cls, factor: float) -> AgingPolicy:
        """Points keep ``factor ** rank`` of their weight, *rank* actions later.

        This is the "number of actions since" clock of the email engagement score.

        >>> halves = AgingPolicy.by_count(0.5)
        >>> halves.weight("2024-01-01T00:00Z", "2024-01-02T00:00Z", rank=3)
        0.125
        """
        return cls("by_count", factor=factor)

    @classmethod
    def inverse(
        cls, period: dt.timedelta | None = None, *, days: float = 0, weeks: float = 0
    ) -> AgingPolicy:
        """Points weigh ``1 / (1 + age / period)``, age being ``as_of - at``.

        Relevance "inversely proportional to the action's age" (the email
        platform's engagement score): half the weight at age *period*, a third at
        twice *period*, never 0. Continuous, to the microsecond.

        >>> monthly = AgingPolicy.inverse(days=30)
        >>> monthly.weight("2024-01-01T00:00Z", "2024-01-31T00:00Z")
        0.5
        >>> monthly.weight("2024-01-01T00:00Z", "2024-03-01T00:00Z")
        0.3333333333333333
        """
        return cls(
            "inverse", period=_period(period, days=days, weeks=weeks, name="period")
        )

    @classmethod
    def steps(
        cls, steps: Iterable[tuple[dt.timedelta | relativedelta, float]]
    ) -> AgingPolicy:
        """Weight 1 until ``at + after₁``, then ``weightᵢ`` from ``at + afterᵢ`` on.

        *steps* is a list of ``(after, weight)``: *after* a ``timedelta`` or a
        ``dateutil`` ``relativedelta`` (calendar months in UTC, as in
        :meth:`expire_after`: Aug 31 + 1 month is Sep 30), each step strictly
        later than the one before *for every* ``at`` (``relativedelta(months=1)``
        then ``timedelta(days=30)`` is rejected: from Jan 1 a month is 31 days);
        *weight* is what remains of a point, in [0, 1] and never above the weight
        before it. From ``at + afterᵢ`` on (inclusive) the weight is ``weightᵢ``.

        HubSpot's "-25 % after a month, -50 % after two":

        >>> hubspot = AgingPolicy.steps(
        ...     [(relativedelta(months=1), 0.75), (relativedelta(months=2), 0.5)])
        >>> [hubspot.weight("2024-08-31T12:00Z", as_of) for as_of in (
        ...     "2024-09-30T11:59Z", "2024-09-30T12:00Z", "2024-10-31T12:00Z")]
        [1.0, 0.75, 0.5]
        """
        pairs, schedule = schedule_from_pairs(steps)
        try:
            return cls("steps", schedule=schedule)
        except InvalidModelError as e:
            raise blame_after(e, pairs) from None

    # -- evaluation ------------------------------------------------------------

    @property
    def uses_rank(self) -> bool:
        """Whether the weight depends on later actions (``by_count``)."""
        return self.kind == "by_count"

    @property
    def is_step(self) -> bool:
        """Whether the weight is always 0 or 1 (``never``, ``expire_after``)."""
        return self.kind in {"never", "expire_after"}

    @property
    def drifts(self) -> bool:
        """Whether the weight drifts between instants (half_life, linear, inverse).

        The others change only at instants: see :func:`breakpoints_us`.
        """
        return self.kind in _DRIFTING

    def expires_at(self, at: dt.datetime) -> dt.datetime | None:
        """The first instant at which a point earned at *at* weighs 0, if any.

        None for policies that never reach 0 by time alone, and when that instant
        would be past ``datetime.max`` (the point never expires in the range of
        instants). For ``steps``, the first step of weight 0 (weights never rise).

        >>> AgingPolicy.expire_after(months=6).expires_at(
        ...     dt.datetime(2024, 8, 31, tzinfo=dt.UTC)).isoformat()
        '2025-02-28T00:00:00+00:00'
        """
        if self.kind == "expire_after":
            return _shifted(at, self.months, self.period)
        if self.kind == "linear":
            return _shifted(at, 0, self.period)
        zero = _first_zero(self)
        if zero is not None:
            return _shifted(at, zero.months, zero.period)
        return None

    def weight(self, at: Instant, as_of: Instant, rank: int = 0) -> float:
        """The weight in [0, 1] at *as_of* of a point earned at *at*.

        A point from the future (``at > as_of``) weighs 0.
        """
        at_us = to_micros(to_utc(at, "at"))
        as_of_us = to_micros(to_utc(as_of, "as_of"))
        if not isinstance(rank, int):
            rank = _plain_int(rank)  # np.int64
        if isinstance(rank, bool) or not isinstance(rank, int) or rank < 0:
            raise InvalidModelError(
                f"rank must be a whole number >= 0, got {rank!r}",
                path="rank",
                value=rank,
            )
        if at_us > as_of_us:
            return 0.0
        return weigher(self, as_of_us)(at_us, rank)


def end_us(policy: AgingPolicy) -> Callable[[int], int] | None:
    """A fast ``at_us -> first instant (us) at which the weight is 0``.

    None for policies whose weight never reaches 0 by time alone (``never``,
    ``half_life``, ``by_count``, ``inverse``, ``steps`` without a step of weight
    0). For ``steps``, the first step of weight 0: weights never rise, so the
    point is gone from then on. An instant past ``datetime.max`` is returned
    as ``BEYOND_US`` (so ``as_of_us < end`` still decides, and callers can
    tell "never, within the range of instants"). Exact for calendar months:
    the expiry of each UTC day is computed once and keeps the time of day.
    """
    if policy.kind == "linear" or (policy.kind == "expire_after" and not policy.months):
        span = policy.period // _US
        return lambda at: min(at + span, BEYOND_US)
    zero = _first_zero(policy)
    if zero is not None:
        k = policy.schedule.index(zero)
        ages = durations(policy.schedule)
        return lambda at: min(at + ages(at)[k], BEYOND_US)
    if policy.kind != "expire_after":
        return None
    return _calendar_end(policy.months, policy.period)


#: Days remembered per calendar shift before its cache starts over (~180 years).
_DAYS_KEPT = 1 << 16


def _per_day(shift: Callable[[int], int]) -> Callable[[int], int]:
    """``at_us -> shift(at's UTC midnight) + at's time of day``, cached per day.

    Calendar shifts (``relativedelta`` months) keep the time of day, so each
    day's is computed once (it is slow); at most ``_DAYS_KEPT`` days are kept.
    """
    midnights: dict[int, int] = {}

    def shifted(at: int) -> int:
        day = at // _DAY_US
        value = midnights.get(day)  # one lookup: safe beside a clear()
        if value is None:
            if len(midnights) >= _DAYS_KEPT:
                midnights.clear()
            value = midnights[day] = shift(day * _DAY_US)
        return value + (at - day * _DAY_US)

    return shifted


@functools.lru_cache(maxsize=32)
def _calendar_shift(months: int, period: dt.timedelta) -> Callable[[int], int]:
    """``at_us -> at + months + period``, cached per day and shared per shape.

    Kept for every model, scorer and engine read that expires points by the
    same months and period. Past ``datetime.max`` it may exceed ``BEYOND_US``
    by the time of day (:func:`_calendar_end` caps it).
    """
    return _per_day(lambda midnight: _shifted_us(midnight, months, period))


def _calendar_end(months: int, period: dt.timedelta) -> Callable[[int], int]:
    """``at_us -> at + months + period``, at most ``BEYOND_US``."""
    shifted = _calendar_shift(months, period)
    return lambda at: min(shifted(at), BEYOND_US)


@functools.lru_cache(maxsize=32)
def _calendar_start(months: int) -> Callable[[int], int | None]:
    """``at_us -> at - months`` in microseconds (None before year 1), shared."""
    back = relativedelta(months=months)

    def shift(midnight: int) -> int:
        try:
            return to_micros(from_micros(midnight) - back)
        except (OverflowError, ValueError):  # year 0 is out of range
            return EARLIEST_US  # far below any instant, with any time of day

    shifted = _per_day(shift)
    return lambda at: None if (t := shifted(at)) < _BEFORE_YEAR_1 else t


#: Below every instant :func:`_calendar_start` returns (datetime.min is later).
_BEFORE_YEAR_1 = EARLIEST_US + _DAY_US


def _first_zero(policy: AgingPolicy) -> Step | None:
    """The first step of weight 0 of a ``steps`` policy, if any."""
    return next((s for s in policy.schedule if s.weight == 0), None)


def breakpoints_us(policy: AgingPolicy) -> Callable[[int], tuple[int, ...]] | None:
    """A fast ``at_us -> instants (us) after at where the weight jumps or turns``.

    Where a score may change without a new event: the expiry of ``expire_after``,
    the end of ``linear`` (where its drift stops), and every step of ``steps``
    whose weight differs from the one before. Instants past ``datetime.max`` are
    left out. None for policies without such instants (``never``, ``half_life``,
    ``inverse``, ``by_count``: the last two drift, or change only with events).
    """
    if policy.kind == "steps":
        schedule = policy.schedule
        weights = (1.0, *(s.weight for s in schedule))
        changing = [i for i, w in enumerate(weights[1:]) if w != weights[i]]
        ages = durations(schedule)

        def breaks(at: int) -> tuple[int, ...]:
            found = ages(at)
            return tuple(t for i in changing if (t := at + found[i]) < BEYOND_US)

        return breaks
    end = end_us(policy)
    if end is None:
        return None

    def ends(at: int) -> tuple[int, ...]:
        gone = end(at)
        return (gone,) if gone < BEYOND_US else ()

    return ends


def kernel(policy: AgingPolicy) -> Callable[[int, int, int], float]:
    """A fast ``(at_us, rank, as_of_us) -> weight`` that any *as_of* can share.

    Built once per model (calendar expiries are cached per day), so that
    scoring one contact at many instants needs no per-instant preparation.
    The caller guarantees ``at_us <= as_of_us``.
    """
    kind = policy.kind
    if kind == "never":
        return lambda _at, _rank, _as_of: 1.0
    if kind == "by_count":
        factor = policy.factor
        return lambda _at, rank, _as_of: factor**rank
    if kind == "steps":
        ages = durations(policy.schedule)
        weights = (1.0, *(s.weight for s in policy.schedule))
        # The number of steps begun by the point's age indexes its weight.
        return lambda at, _rank, as_of: weights[bisect_right(ages(at), as_of - at)]
    span = policy.period // _US
    drift: dict[str, Callable[[int, int, int], float]] = {
        "half_life": lambda at, _rank, as_of: 0.5 ** ((as_of - at) / span),
        "linear": lambda at, _rank, as_of: max(0.0, 1.0 - (as_of - at) / span),
        "inverse": lambda at, _rank, as_of: 1.0 / (1.0 + (as_of - at) / span),
    }
    if kind in drift:
        return drift[kind]
    if kind == "expire_after" and policy.months:
        # The uncapped shift: any as_of is below BEYOND_US, so the cap decides
        # nothing here, and one call per point is saved.
        shifted = _calendar_shift(policy.months, policy.period)
        return lambda at, _rank, as_of: 1.0 if as_of < shifted(at) else 0.0
    end = end_us(policy)
    assert end is not None
    return lambda at, _rank, as_of: 1.0 if as_of < end(at) else 0.0


def weigher(policy: AgingPolicy, as_of_us: int) -> Callable[[int, int], float]:
    """A fast ``(at_us, rank) -> weight`` for one *as_of* (microseconds).

    For expiry, two integer comparisons outside the window around the cut-off
    (see :meth:`expiry_window`); otherwise :meth:`kernel` at *as_of*. The caller
    guarantees ``at_us <= as_of_us``.
    """
    if policy.kind == "expire_after":
        lo, hi, alive = expiry_window(policy, as_of_us)
        return lambda at, _rank: 1.0 if at > hi or (at > lo and alive(at)) else 0.0
    weigh = kernel(policy)
    return lambda at, rank: weigh(at, rank, as_of_us)


class Window(NamedTuple):
    """Where a step policy's cut-off falls at one ``as_of`` (microseconds)."""

    #: Every point earned at or before ``lo`` has expired.
    lo: int
    #: Every point earned after ``hi`` is alive.
    hi: int
    #: Exact in between: ``alive(at_us) == (as_of < at + period)``.
    alive: Callable[[int], bool]


def expiry_window(policy: AgingPolicy, as_of_us: int) -> Window:
    """For ``is_step`` policies (never, expire_after): the :class:`Window` at *as_of*.

    *as_of* in microseconds. (A ``steps`` schedule has weights between 0 and 1:
    its kernel looks its steps up instead.)

    A point earned at ``at_us <= lo`` has expired, one earned at ``at_us > hi``
    has not, and ``alive(at_us)`` decides exactly in between. For a fixed period
    ``lo == hi``; with calendar months the window spans a few days around the
    cut-off, because month-end clipping makes ``at + months`` non-monotonic in
    the time of day (Aug 29 23:00 + 6 months is later than Aug 30 10:00 + 6
    months). Exactness: ``alive(at) == (as_of < at + period)`` always.
    """
    if policy.kind == "never":
        return Window(_NEVER, _NEVER, lambda _at: True)
    if policy.months == 0:
        cut = as_of_us - policy.period // _US
        return Window(cut, cut, lambda at: at > cut)
    # c + months + period <= as_of, and month clipping moves a date by at most
    # three days: every point 4 days before c is gone, 7 days after c alive.
    # When as_of - period - months is before datetime.min, no point of the
    # range of instants has expired: the window is empty and all are alive.
    c = _calendar_start(policy.months)(as_of_us - policy.period // _US)
    if c is None:
        return Window(_NEVER, _NEVER, lambda _at: True)
    end = _calendar_end(policy.months, policy.period)
    # Exact: alive while as_of is before the point's own expiry.
    return Window(c - 4 * _DAY_US, c + 7 * _DAY_US, lambda at: as_of_us < end(at))
