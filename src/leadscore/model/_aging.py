"""Aging policies: how much a point earned at ``at`` still counts at ``as_of``."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Literal, NamedTuple

import attrs
from dateutil.relativedelta import relativedelta

from leadscore.exceptions import InvalidModelError
from leadscore.typing import Instant

from ._events import EARLIEST_US, from_micros, to_micros, to_utc
from ._limits import MAX_DAYS, MAX_MONTHS, shorten

__all__ = ["AGING_KINDS", "BEYOND_US", "AgingPolicy"]

AgingKind = Literal["never", "expire_after", "half_life", "linear", "by_count"]
AGING_KINDS: tuple[str, ...] = (
    "never",
    "expire_after",
    "half_life",
    "linear",
    "by_count",
)

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


@attrs.frozen(repr=False)
class AgingPolicy:
    """How a point loses weight with age. Build one with a named constructor.

    ``weight(at, as_of, rank)`` is in [0, 1]: 1 for a fresh point, 0 for a gone
    one. ``rank`` is the number of the contact's counted events strictly later in
    time ("how many actions have occurred since"); only ``by_count`` uses it.

    Attributes:
        kind: ``"never"``, ``"expire_after"``, ``"half_life"``, ``"linear"`` or
            ``"by_count"``.
        months: Calendar months of an ``expire_after`` period.
        period: The fixed part of the period (expiry, half-life, or linear span).
        factor: The weight kept per later action, for ``by_count``.
    """

    def __repr__(self) -> str:
        """The named constructor call that builds this policy."""
        if self.kind == "never":
            return "AgingPolicy.never()"
        if self.kind == "by_count":
            return f"AgingPolicy.by_count({self.factor!r})"
        parts = [f"months={self.months}"] if self.months else []
        period = self.period
        if period % dt.timedelta(days=1) == _ZERO and period:
            parts.append(f"days={period.days}")
        elif period:
            parts.append(f"period={period!r}")
        return f"AgingPolicy.{self.kind}({', '.join(parts)})"

    kind: AgingKind = "never"
    months: int = 0
    period: dt.timedelta = _ZERO
    factor: float = 1.0

    def __attrs_post_init__(self) -> None:
        """Check that the policy is possible and within the documented ranges."""
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
        if self.kind in {"expire_after", "half_life", "linear"}:
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

    # -- evaluation ------------------------------------------------------------

    @property
    def uses_rank(self) -> bool:
        """Whether the weight depends on later actions (``by_count``)."""
        return self.kind == "by_count"

    @property
    def is_step(self) -> bool:
        """Whether the weight is always 0 or 1 (``never``, ``expire_after``)."""
        return self.kind in {"never", "expire_after"}

    def expires_at(self, at: dt.datetime) -> dt.datetime | None:
        """The first instant at which a point earned at *at* weighs 0, if any.

        None for policies that never reach 0 by time alone, and when that instant
        would be past ``datetime.max`` (the point never expires in the range of
        instants).

        >>> AgingPolicy.expire_after(months=6).expires_at(
        ...     dt.datetime(2024, 8, 31, tzinfo=dt.UTC)).isoformat()
        '2025-02-28T00:00:00+00:00'
        """
        if self.kind == "expire_after":
            return _shifted(at, self.months, self.period)
        if self.kind == "linear":
            return _shifted(at, 0, self.period)
        return None

    def weight(self, at: Instant, as_of: Instant, rank: int = 0) -> float:
        """The weight in [0, 1] at *as_of* of a point earned at *at*.

        A point from the future (``at > as_of``) weighs 0.
        """
        at_us = to_micros(to_utc(at, "at"))
        as_of_us = to_micros(to_utc(as_of, "as_of"))
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
    ``half_life``, ``by_count``). An instant past ``datetime.max`` is returned
    as ``BEYOND_US`` (so ``as_of_us < end`` still decides, and callers can
    tell "never, within the range of instants"). Exact for calendar months:
    the expiry of each UTC day is computed once and keeps the time of day.
    """
    if policy.kind == "linear" or (policy.kind == "expire_after" and not policy.months):
        span = policy.period // _US
        return lambda at: min(at + span, BEYOND_US)
    if policy.kind != "expire_after":
        return None
    months, period = policy.months, policy.period
    midnights: dict[int, int] = {}

    def end(at: int) -> int:
        day = at // _DAY_US
        expiry = midnights.get(day)
        if expiry is None:
            expiry = midnights[day] = _shifted_us(day * _DAY_US, months, period)
        return min(expiry + (at - day * _DAY_US), BEYOND_US)

    return end


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
    span = policy.period // _US
    if kind == "half_life":
        return lambda at, _rank, as_of: 0.5 ** ((as_of - at) / span)
    if kind == "linear":
        return lambda at, _rank, as_of: max(0.0, 1.0 - (as_of - at) / span)
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
    """For step policies: the :class:`Window` at *as_of* (microseconds).

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
    months, period = policy.months, policy.period
    # c + months + period <= as_of, and month clipping moves a date by at most
    # three days: every point 4 days before c is gone, 7 days after c alive.
    # When as_of - period - months is before datetime.min, no point of the
    # range of instants has expired: the window is empty and all are alive.
    try:
        c = to_micros(from_micros(as_of_us) - period - relativedelta(months=months))
    except (OverflowError, ValueError):  # year 0 is out of range
        return Window(_NEVER, _NEVER, lambda _at: True)
    lo, hi = c - 4 * _DAY_US, c + 7 * _DAY_US
    thresholds: dict[int, int] = {}

    def alive(at: int) -> bool:
        # Within one UTC day, at + months + period keeps the time of day, so
        # each day has one exact threshold; compute it once per day. An expiry
        # past datetime.max (BEYOND_US) puts the threshold before the day.
        day = at // _DAY_US
        threshold = thresholds.get(day)
        if threshold is None:
            expiry = _shifted_us(day * _DAY_US, months, period)
            threshold = thresholds[day] = day * _DAY_US + (as_of_us - expiry)
        return at > threshold

    return Window(lo, hi, alive)
