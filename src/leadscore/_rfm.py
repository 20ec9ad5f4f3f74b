"""ClickFunnels' Action Score (1-100) and classic RFM segments.

Both rank contacts against each other, so both need every contact's raw features
first: one pass gathers them (latest activity, counts, net spend, networks), and
the ranks follow. Money is summed with ``math.fsum`` per contact, so equal spend is
equal whatever the order of the purchases.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

import attrs

from ._aging import AgingPolicy
from ._events import Event, to_micros, to_utc
from ._stream import not_an_event
from .exceptions import InvalidModelError

__all__ = [
    "CLASSIC_SEGMENTS",
    "ActionScore",
    "ActionScoreConfig",
    "RFMSegment",
    "SegmentRule",
    "action_scores",
    "rfm_segments",
]


def _decimal(x: float) -> Decimal:
    # The decimal a number prints as: 0.77 is 0.77, not its binary neighbour.
    return Decimal(repr(x)) if isinstance(x, float) else Decimal(x)


def _check_weights(value: Any) -> tuple[float, ...]:
    if isinstance(value, tuple):
        try:
            return _valid_weights(value)
        except TypeError:  # unhashable items: let the checks name them
            pass
    return _weights(value)


@functools.cache
def _valid_weights(value: tuple[Any, ...]) -> tuple[float, ...]:
    # Every ActionScore of a run has the same weights: check them once.
    return _weights(value)


def _weights(value: Any) -> tuple[float, ...]:
    if not isinstance(value, list | tuple) or len(value) != 4:
        raise InvalidModelError(
            "weights must be four numbers (recency, frequency, value, social), "
            f"got {value!r}",
            path="weights",
            value=value,
        )
    for w in value:
        if (
            isinstance(w, bool)
            or not isinstance(w, int | float)
            or not math.isfinite(w)
            or w < 0
        ):
            raise InvalidModelError(
                f"weights must be finite numbers >= 0, got {w!r}",
                path="weights",
                value=value,
            )
    if sum(_decimal(w) for w in value) != 100:
        raise InvalidModelError(
            f"weights must add up to 100, got {value!r} "
            f"(sum {sum(_decimal(w) for w in value)})",
            path="weights",
            value=value,
        )
    return tuple(value)


def _fraction(name: str) -> Any:
    def check(_: object, __: attrs.Attribute[Any], value: Any) -> None:
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not 0.0 <= value <= 1.0
        ):
            raise InvalidModelError(
                f"{name} must be a fraction in [0, 1], got {value!r}",
                path=name,
                value=value,
            )

    return check


@attrs.frozen(kw_only=True)
class ActionScore:
    """A contact's Action Score: four fractions and their weighted total.

    ``total`` is ``ceil(sum(weight * fraction))``, computed exactly in decimal with
    each fraction taken as the decimal it prints as; the seed's example is
    (25 x 100%) + (25 x 1%) + (25 x 77%) + (25 x 1%) = 44.75, "rounded up" to 45:

    >>> ActionScore(recency=0.77, frequency=0.01, value=0.01, social=1.0).total
    45
    >>> ActionScore(recency=0.6, frequency=0.6, value=0.6, social=0.6).total
    60
    """

    recency: float = attrs.field(validator=_fraction("recency"))
    frequency: float = attrs.field(validator=_fraction("frequency"))
    value: float = attrs.field(validator=_fraction("value"))
    social: float = attrs.field(validator=_fraction("social"))
    weights: tuple[float, ...] = attrs.field(
        default=(25, 25, 25, 25), converter=_check_weights
    )

    @classmethod
    def _trusted(
        cls, fractions: tuple[float, float, float, float], weights: tuple[float, ...]
    ) -> ActionScore:
        # For action_scores, whose fractions are in [0, 1] by construction and
        # whose weights were checked by the config: skip re-checking them per
        # contact (it was a third of the time).
        score = object.__new__(cls)
        for name, value in zip(
            ("recency", "frequency", "value", "social", "weights"),
            (*fractions, weights),
            strict=True,
        ):
            object.__setattr__(score, name, value)
        return score

    @property
    def exact(self) -> Decimal:
        """The weighted sum before rounding up, exactly."""
        parts = (self.recency, self.frequency, self.value, self.social)
        return sum(
            (
                _decimal(w) * _decimal(f)
                for w, f in zip(self.weights, parts, strict=True)
            ),
            Decimal(0),
        )

    @property
    def total(self) -> int:
        """The Action Score: the weighted sum rounded up."""
        return math.ceil(self.exact)


#: The roles of event kinds in an Action Score, with their defaults.
ACTION_KINDS: Mapping[str, tuple[str, ...]] = {
    "activity": ("contact.opted_in", "page.viewed", "order.paid"),
    "purchase": ("order.paid",),
    "refund": ("order.refunded",),
    "social": ("social.connected",),
}


def _to_kinds(value: Any) -> Mapping[str, tuple[str, ...]]:
    if not isinstance(value, Mapping):
        raise InvalidModelError(
            f"kinds must map roles to event kinds, got {value!r}",
            path="kinds",
            value=value,
        )
    out = dict(ACTION_KINDS)
    for role, kinds in value.items():
        if role not in ACTION_KINDS:
            raise InvalidModelError(
                f"unknown role {role!r}; roles are {', '.join(ACTION_KINDS)}",
                path=f"kinds.{role}",
                value=role,
            )
        items = (kinds,) if isinstance(kinds, str) else kinds
        if not isinstance(items, list | tuple) or not all(
            isinstance(k, str) and k for k in items
        ):
            raise InvalidModelError(
                f"kinds.{role} must be event kinds, got {kinds!r}",
                path=f"kinds.{role}",
                value=kinds,
            )
        out[role] = tuple(items)
    return out


def _positive_int(name: str) -> Any:
    def check(_: object, __: attrs.Attribute[Any], value: Any) -> None:
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise InvalidModelError(
                f"{name} must be a whole number >= 1, got {value!r}",
                path=name,
                value=value,
            )

    return check


def _check_window(_: object, __: attrs.Attribute[Any], value: Any) -> None:
    if value is not None and (
        not isinstance(value, dt.timedelta) or value <= dt.timedelta(0)
    ):
        raise InvalidModelError(
            f"frequency_window must be a positive timedelta or None, got {value!r}",
            path="frequency_window",
            value=value,
        )


def _check_recency(_: object, __: attrs.Attribute[Any], value: Any) -> None:
    if not isinstance(value, AgingPolicy) or value.uses_rank:
        raise InvalidModelError(
            f"recency must be a time-based AgingPolicy, got {value!r}",
            path="recency",
            value=value,
        )


@attrs.frozen(kw_only=True)
class ActionScoreConfig:
    """How :func:`action_scores` reads the events.

    Attributes:
        kinds: Event kinds per role: ``activity`` (recency and frequency),
            ``purchase`` and ``refund`` (value), ``social`` (networks). Roles not
            given keep their defaults (:data:`ACTION_KINDS`).
        network: The attribute naming a social network; distinct values count.
        max_networks: Networks for 100% social.
        recency: How the latest activity's age turns into the recency fraction.
        frequency_window: Activities counted for frequency: those this long before
            ``as_of`` (None: all).
        weights: Points per category (recency, frequency, value, social), adding
            up to 100.
    """

    kinds: Mapping[str, tuple[str, ...]] = attrs.field(
        factory=lambda: dict(ACTION_KINDS), converter=_to_kinds
    )
    network: str = "network"
    max_networks: int = attrs.field(default=4, validator=_positive_int("max_networks"))
    recency: AgingPolicy = attrs.field(
        factory=lambda: AgingPolicy.half_life(days=30), validator=_check_recency
    )
    frequency_window: dt.timedelta | None = attrs.field(
        default=dt.timedelta(days=365), validator=_check_window
    )
    weights: tuple[float, ...] = attrs.field(
        default=(25, 25, 25, 25), converter=_check_weights
    )


#: Every category is floored at 1%, so totals run from 1 to 100.
FLOOR = 0.01


def _rank_fraction(values: list[float]) -> Any:
    """``v -> (number of values <= v) / len(values)``: the top is 1, ties equal."""
    ordered = sorted(values)
    n = len(ordered)
    return lambda v: bisect_right(ordered, v) / n


def _events(events: Iterable[Event]) -> list[Event]:
    """The events as a list, after checking that each is an Event."""
    stream = events if isinstance(events, list) else list(events)
    for e in stream:
        if e.__class__ is not Event and not isinstance(e, Event):
            raise not_an_event(stream, e)
    return stream


def action_scores(
    events: Iterable[Event], as_of: Any, config: ActionScoreConfig | None = None
) -> dict[str, ActionScore]:
    """Every contact's Action Score at *as_of* (contacts with any event by then).

    - Recency: the weight of the latest activity under ``config.recency``
      (default: half-life of 30 days; 100% for activity at ``as_of``).
    - Frequency: activities in ``config.frequency_window`` (default 365 days),
      as a percentile rank among contacts with any: the most active is 100%.
    - Value: net purchases (purchases minus refunds, all time) as a percentile rank
      among contacts with a positive net spend: the top spender is 100%, equal
      spend gets an equal fraction, no purchase gets the floor.
    - Social: distinct networks over ``config.max_networks``, capped at 100%.

    Every category is floored at 1%; percentile rank of ``v`` is the share of the
    ranked contacts whose value is at most ``v``.
    """
    config = config or ActionScoreConfig()
    as_of_us = to_micros(to_utc(as_of, "as_of"))
    kinds = config.kinds
    activity, purchase = set(kinds["activity"]), set(kinds["purchase"])
    refund, social = set(kinds["refund"]), set(kinds["social"])
    window = config.frequency_window
    since = (
        -(2**63)
        if window is None
        else as_of_us - window // dt.timedelta(microseconds=1)
    )
    last: dict[str, int] = {}
    count: dict[str, int] = {}
    money: dict[str, list[float]] = {}
    networks: dict[str, set[Any]] = {}
    seen: set[str] = set()
    # The feature loops are written for speed: local names, no calls per event.
    for e in _events(events):
        t = e._us  # noqa: SLF001
        if t > as_of_us:
            continue
        c, kind = e.contact, e.kind
        seen.add(c)
        if kind in activity:
            if t > last.get(c, -(2**63)):
                last[c] = t
            if t >= since:
                count[c] = count.get(c, 0) + 1
        if kind in purchase:
            money.setdefault(c, []).append(e.value)
        elif kind in refund:
            money.setdefault(c, []).append(-e.value)
        if kind in social:
            networks.setdefault(c, set()).add(e.attrs.get(config.network))
    spend = {c: math.fsum(v) for c, v in money.items()}
    spend = {c: s for c, s in spend.items() if s > 0}
    by_count = _rank_fraction(list(count.values())) if count else None
    by_spend = _rank_fraction(list(spend.values())) if spend else None
    weigh, weights = config.recency.weigher(as_of_us), config.weights
    out = {}
    for c in sorted(seen):
        recency = weigh(last[c], 0) if c in last else 0.0
        frequency = by_count(count[c]) if by_count and c in count else 0.0
        value = by_spend(spend[c]) if by_spend and c in spend else 0.0
        nets = len(networks.get(c, ()))
        out[c] = ActionScore._trusted(  # noqa: SLF001
            (
                max(FLOOR, recency),
                max(FLOOR, frequency),
                max(FLOOR, value),
                max(FLOOR, min(1.0, nets / config.max_networks)),
            ),
            weights,
        )
    return out


@attrs.frozen
class SegmentRule:
    """A named RFM segment: R, F and M scores within inclusive ranges."""

    name: str
    r: tuple[int, int]
    f: tuple[int, int]
    m: tuple[int, int] = (1, 5)

    def matches(self, r: int, f: int, m: int) -> bool:
        """Whether the scores fall in every range."""
        return (
            self.r[0] <= r <= self.r[1]
            and self.f[0] <= f <= self.f[1]
            and self.m[0] <= m <= self.m[1]
        )


#: The classic segments on 1-5 R and F scores; the first rule that matches wins.
#: Every (R, F) pair matches one. A one-time buyer has F = 1 and is never a
#: Champion.
CLASSIC_SEGMENTS: tuple[SegmentRule, ...] = (
    SegmentRule("Champions", (5, 5), (4, 5)),
    SegmentRule("Loyal", (3, 4), (4, 5)),
    SegmentRule("Potential Loyalist", (4, 5), (2, 3)),
    SegmentRule("New", (5, 5), (1, 1)),
    SegmentRule("Promising", (4, 4), (1, 1)),
    SegmentRule("Need Attention", (3, 3), (3, 3)),
    SegmentRule("About to Sleep", (3, 3), (1, 2)),
    SegmentRule("At Risk", (1, 2), (3, 4)),
    SegmentRule("Can't Lose Them", (1, 2), (5, 5)),
    SegmentRule("Lost", (1, 1), (1, 1)),
    SegmentRule("Hibernating", (1, 2), (1, 2)),
)


@attrs.frozen
class RFMSegment:
    """A purchasing contact's R, F and M scores (1 = lowest), code and segment."""

    r: int
    f: int
    m: int
    code: str
    segment: str | None


def _binner(values: list[Any], bins: int) -> Any:
    """``v -> 1 + bins * (number of values < v) // n``: equal values share a bin."""
    ordered = sorted(values)
    n = len(ordered)
    return lambda v: 1 + bins * bisect_left(ordered, v) // n


def _on_five(score: int, bins: int) -> int:
    # The classic table is written for 5 bins; other bin counts map onto it.
    return round(1 + (score - 1) * 4 / (bins - 1))


def rfm_segments(
    events: Iterable[Event],
    as_of: Any,
    bins: int = 5,
    segments: Iterable[SegmentRule] | None = None,
    *,
    purchase_kinds: Iterable[str] = ("order.paid",),
    refund_kinds: Iterable[str] = ("order.refunded",),
) -> dict[str, RFMSegment]:
    """R, F and M scores and a named segment for every purchasing contact.

    R ranks the last purchase (recent is high), F the number of purchases (same-day
    purchases are not merged), M the net spend (refunds subtracted). Scores are
    quantile bins with one rule: a value's bin is ``1 + bins * (number of contacts
    with a smaller value) // contacts``, so equal values always share a bin and a
    tie never splits. Segments come from *segments* (first match wins), by default
    :data:`CLASSIC_SEGMENTS` (3 or 4 bins are mapped onto its 1-5 scale).

    Raises:
        InvalidModelError: for bins outside 2..10 or a bad segment table.
    """
    if isinstance(bins, bool) or not isinstance(bins, int) or not 2 <= bins <= 10:
        raise InvalidModelError(
            f"bins must be a whole number from 2 to 10, got {bins!r}",
            path="bins",
            value=bins,
        )
    table = CLASSIC_SEGMENTS if segments is None else tuple(segments)
    for i, rule in enumerate(table):
        if not isinstance(rule, SegmentRule):
            raise InvalidModelError(
                f"expected a SegmentRule, got {rule!r}",
                path=f"segments[{i}]",
                value=rule,
            )
    as_of_us = to_micros(to_utc(as_of, "as_of"))
    purchase, refund = set(purchase_kinds), set(refund_kinds)
    last: dict[str, int] = {}
    count: dict[str, int] = {}
    money: dict[str, list[float]] = {}
    for e in _events(events):
        t = e._us  # noqa: SLF001
        if t > as_of_us:
            continue
        kind = e.kind
        if kind in purchase:
            c = e.contact
            if t > last.get(c, -(2**63)):
                last[c] = t
            count[c] = count.get(c, 0) + 1
            money.setdefault(c, []).append(e.value)
        elif kind in refund:
            money.setdefault(e.contact, []).append(-e.value)
    if not last:
        return {}
    spend = {c: math.fsum(money[c]) for c in last}
    r_bin = _binner(list(last.values()), bins)
    f_bin = _binner(list(count.values()), bins)
    m_bin = _binner(list(spend.values()), bins)
    found: dict[tuple[int, int, int], RFMSegment] = {}  # one per (r, f, m)
    out = {}
    for c in sorted(last):
        rfm = r_bin(last[c]), f_bin(count[c]), m_bin(spend[c])
        segment = found.get(rfm)
        if segment is None:
            key = rfm if segments is not None else tuple(_on_five(s, bins) for s in rfm)
            name = next((rule.name for rule in table if rule.matches(*key)), None)
            segment = found[rfm] = RFMSegment(*rfm, "".join(map(str, rfm)), name)
        out[c] = segment
    return out
