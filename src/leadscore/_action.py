"""ClickFunnels' Action Score: four categories of 25 points, from 1 to 100.

The categories rank contacts against each other, so one pass gathers every
contact's raw features (latest activity, counts, net spend, networks) and the ranks
follow. Money is summed exactly in decimal, each amount taken as the decimal it
prints as (:mod:`leadscore._money`), so equal spend is equal whatever the order of
the purchases or how they were split: 0.1 + 0.2 and 0.3 rank alike.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
from bisect import bisect_right
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

import attrs

from ._money import EXACT, ZERO, as_decimal, as_money, exact_sum, scaled_sums
from ._notebook import Table, Tabular, keyed_rows
from .exceptions import InvalidModelError
from .model._aging import AgingPolicy, weigher
from .model._events import EARLIEST_US, Event, to_micros, to_utc
from .model._rules import short_repr
from .paths._stream import checked_list
from .typing import Instant

__all__ = [
    "ACTION_KINDS",
    "FLOOR",
    "ActionScore",
    "ActionScoreConfig",
    "ActionScores",
    "action_scores",
]


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
    total = exact_sum(value)  # exactly: 100 + 1e-30 is not 100
    if total != 100:
        raise InvalidModelError(
            f"weights must add up to 100, got {value!r} (sum {total})",
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


def _raw(name: str, what: str, *types: type, signed: bool = False) -> Any:
    # The raw values beside the fractions: None (a score built by hand) or *types*,
    # finite, and >= 0 unless *signed*.
    def check(_: object, __: attrs.Attribute[Any], value: Any) -> None:
        if value is None:
            return
        number: Any = value  # not narrowed by the isinstance test on value
        if (
            isinstance(value, bool)
            or not isinstance(value, types)
            or (isinstance(number, float) and not math.isfinite(number))
            or (isinstance(number, Decimal) and not number.is_finite())
            or (not signed and number < 0)
        ):
            raise InvalidModelError(
                f"{name} must be None or {what}, got {value!r}",
                path=name,
                value=value,
            )

    return check


@attrs.frozen(kw_only=True, repr=False)
class ActionScore:
    """A contact's Action Score: four fractions and their weighted total.

    ``total`` is ``max(1, ceil(sum(weight * fraction)))``, computed exactly in
    decimal with each fraction and weight taken as the decimal it prints as. The
    seed: "The Action Score can be any number between 1 - 100", and its example is
    (25 x 100%) + (25 x 1%) + (25 x 77%) + (25 x 1%) = 44.75, "rounded up" to 45.
    The weights add up to 100 and the fractions are at most 1, so the total is
    never above 100; a hand-built score of all zeros is 1, the bottom of the range:

    >>> ActionScore(recency=0.77, frequency=0.01, value=0.01, social=1.0).total
    45
    >>> ActionScore(recency=0.6, frequency=0.6, value=0.6, social=0.6).total
    60
    >>> ActionScore(recency=0, frequency=0, value=0, social=0).total
    1

    :func:`action_scores` also fills in the raw values the fractions came from:
    ``recency_days`` (days from the latest activity to ``as_of``, None without
    any), ``activities`` (those counted for frequency), ``spend`` (net purchases,
    summed exactly; only a positive spend is ranked) and ``networks`` (distinct
    social networks). They explain the score and are not part of its value: they
    take no part in ``==`` or ``hash`` and default to None for a score built by
    hand.
    """

    recency: float = attrs.field(validator=_fraction("recency"))
    frequency: float = attrs.field(validator=_fraction("frequency"))
    value: float = attrs.field(validator=_fraction("value"))
    social: float = attrs.field(validator=_fraction("social"))
    weights: tuple[float, ...] = attrs.field(
        default=(25, 25, 25, 25), converter=_check_weights
    )
    recency_days: float | None = attrs.field(
        default=None,
        eq=False,
        validator=_raw("recency_days", "a number >= 0", int, float),
    )
    activities: int | None = attrs.field(
        default=None, eq=False, validator=_raw("activities", "a whole number >= 0", int)
    )
    spend: Decimal | None = attrs.field(
        default=None,
        eq=False,
        validator=_raw("spend", "a finite Decimal", Decimal, signed=True),
    )
    networks: int | None = attrs.field(
        default=None, eq=False, validator=_raw("networks", "a whole number >= 0", int)
    )

    def __repr__(self) -> str:
        """The total first, then the fractions (and weights, if not the default)."""
        weights = (
            "" if self.weights == (25, 25, 25, 25) else f", weights={self.weights}"
        )
        return (
            f"ActionScore(total={self.total}, recency={self.recency!r}, "
            f"frequency={self.frequency!r}, value={self.value!r}, "
            f"social={self.social!r}{weights})"
        )

    @classmethod
    def _trusted(
        cls,
        fractions: tuple[float, float, float, float],
        weights: tuple[float, ...],
        raw: tuple[float | None, int, Decimal, int],
    ) -> ActionScore:
        # For action_scores, whose fractions are in [0, 1] by construction and
        # whose weights were checked by the config: skip re-checking them per
        # contact (it was a third of the time).
        score = object.__new__(cls)
        setattr_ = object.__setattr__
        setattr_(score, "recency", fractions[0])
        setattr_(score, "frequency", fractions[1])
        setattr_(score, "value", fractions[2])
        setattr_(score, "social", fractions[3])
        setattr_(score, "weights", weights)
        setattr_(score, "recency_days", raw[0])
        setattr_(score, "activities", raw[1])
        setattr_(score, "spend", raw[2])
        setattr_(score, "networks", raw[3])
        return score

    @property
    def exact(self) -> Decimal:
        """The weighted sum before rounding up, exactly (nothing is rounded)."""
        parts = (self.recency, self.frequency, self.value, self.social)
        multiply, add, total = EXACT.multiply, EXACT.add, ZERO
        for w, f in zip(self.weights, parts, strict=True):
            total = add(total, multiply(as_decimal(w), as_decimal(f)))
        return total

    @property
    def total(self) -> int:
        """The Action Score from 1 to 100: the weighted sum rounded up, at least 1."""
        return max(1, math.ceil(self.exact))


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


@attrs.frozen(kw_only=True, repr=False)
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

    def __repr__(self) -> str:
        """The settings that differ from the defaults.

        >>> ActionScoreConfig(max_networks=3)
        ActionScoreConfig(max_networks=3)
        """
        return short_repr(self, ())


#: Every category is floored at 1%, so totals run from 1 to 100.
FLOOR = 0.01


class ActionScores(dict[str, ActionScore], Tabular):
    """``{contact: ActionScore}`` of :func:`action_scores`: a dict, also a table.

    Columns: ``contact, total, recency, frequency, value, social`` and the raw
    values ``recency_days, activities, spend, networks``.
    """

    _caption = "action scores"

    def _table(self) -> Table:
        return keyed_rows(
            self,
            "contact",
            (
                "total",
                "recency",
                "frequency",
                "value",
                "social",
                "recency_days",
                "activities",
                "spend",
                "networks",
            ),
        )


_DAY_US = 86_400_000_000  # microseconds in a day


def _rank_fraction(values: list[Any]) -> Any:
    """``v -> (number of values <= v) / len(values)``: the top is 1, ties equal."""
    ordered = sorted(values)
    n = len(ordered)
    return lambda v: bisect_right(ordered, v) / n


def action_scores(
    events: Iterable[Event], as_of: Instant, config: ActionScoreConfig | None = None
) -> ActionScores:
    """Every contact's Action Score at *as_of* (contacts with any event by then).

    - Recency: the weight of the latest activity under ``config.recency``
      (default: half-life of 30 days; 100% for activity at ``as_of``).
    - Frequency: activities in ``config.frequency_window`` (default 365 days),
      as a percentile rank among contacts with any: the most active is 100%.
    - Value: net purchases (purchases minus refunds, all time) as a percentile rank
      among contacts with a positive net spend: the top spender is 100%, equal
      spend gets an equal fraction, no purchase gets the floor. Money is summed
      exactly in decimal, each amount taken as the decimal it prints as, so
      purchases of 0.1 and 0.2 are the same spend as one of 0.3.
    - Social: distinct networks over ``config.max_networks``, capped at 100%.

    Every category is floored at 1%; percentile rank of ``v`` is the share of the
    ranked contacts whose value is at most ``v``. Each score also carries the raw
    values: ``recency_days``, ``activities``, ``spend`` and ``networks``.

    >>> from leadscore import Event
    >>> events = [Event("ann", "order.paid", "2024-05-01T00:00:00Z", value=0.1),
    ...           Event("ann", "order.paid", "2024-05-01T00:00:00Z", value=0.2),
    ...           Event("bob", "order.paid", "2024-05-16T00:00:00Z", value=0.3)]
    >>> scores = action_scores(events, "2024-05-31T00:00:00Z")
    >>> [(c, s.value, s.spend, s.recency_days) for c, s in scores.items()]
    [('ann', 1.0, Decimal('0.3'), 30.0), ('bob', 1.0, Decimal('0.3'), 15.0)]
    """
    config = config or ActionScoreConfig()
    as_of_us = to_micros(to_utc(as_of, "as_of"))
    kinds = config.kinds
    activity, purchase = set(kinds["activity"]), set(kinds["purchase"])
    refund, social = set(kinds["refund"]), set(kinds["social"])
    window = config.frequency_window
    since = (
        EARLIEST_US
        if window is None
        else as_of_us - window // dt.timedelta(microseconds=1)
    )
    last: dict[str, int] = {}
    count: dict[str, int] = {}
    money: dict[str, list[float]] = {}
    networks: dict[str, set[Any]] = {}
    others: set[str] = set()  # contacts seen only through other kinds so far
    roles = activity | purchase | refund | social
    # The feature loops are written for speed: local names, no calls per event.
    for e in checked_list(events):
        t = e._us  # noqa: SLF001
        if t > as_of_us:
            continue
        c, kind = e.contact, e.kind
        if kind not in roles:
            others.add(c)
            continue
        if kind in activity:
            if t > last.get(c, EARLIEST_US):
                last[c] = t
            if t >= since:
                count[c] = count.get(c, 0) + 1
        if kind in purchase:
            money.setdefault(c, []).append(e.value)
        elif kind in refund:
            money.setdefault(c, []).append(-e.value)
        if kind in social:
            networks.setdefault(c, set()).add(e.attrs.get(config.network))
    # Exact, in units of the smallest decimal place: order and splits never matter.
    net, exp = scaled_sums(money)
    counts = {c: len(n) for c, n in networks.items()}
    contacts = others.union(last, money, networks)
    return scores_of(
        config,
        as_of_us,
        contacts,
        last=last,
        count=count,
        net=net,
        exp=exp,
        networks=counts,
    )


def scores_of(
    config: ActionScoreConfig,
    as_of_us: int,
    contacts: Iterable[str],
    *,
    last: Mapping[str, int],
    count: Mapping[str, int],
    net: Mapping[str, int],
    exp: int,
    networks: Mapping[str, int],
) -> ActionScores:
    """The scores from each contact's activity, exact net spend and networks.

    *last* is the latest activity, *count* the activities in the window, *net* the
    net spend in units of ``10**exp``, *networks* the number of networks.
    Shared with ``leadscore.frame``, which computes those in a query.
    """
    spend = {c: s for c, s in net.items() if s > 0}
    by_count = _rank_fraction(list(count.values())) if count else None
    by_spend = _rank_fraction(list(spend.values())) if spend else None
    weigh, weights = weigher(config.recency, as_of_us), config.weights
    out = ActionScores()
    for c in sorted(contacts):
        recency = weigh(last[c], 0) if c in last else 0.0
        frequency = by_count(count[c]) if by_count and c in count else 0.0
        value = by_spend(spend[c]) if by_spend and c in spend else 0.0
        nets = networks.get(c, 0)
        days = (as_of_us - last[c]) / _DAY_US if c in last else None
        out[c] = ActionScore._trusted(  # noqa: SLF001
            (
                max(FLOOR, recency),
                max(FLOOR, frequency),
                max(FLOOR, value),
                max(FLOOR, min(1.0, nets / config.max_networks)),
            ),
            weights,
            (days, count.get(c, 0), as_money(net.get(c, 0), exp), nets),
        )
    return out
