"""Smart-list segments over scores, and what-if comparisons of two models."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any, Literal

import attrs

from ._notebook import Table, Tabular
from .exceptions import InvalidModelError
from .model._events import Event, to_utc
from .model._limits import MAX_DAYS, shorten
from .model._rating import RatingScale
from .model._rules import ScoringModel, finite, short_repr
from .paths._fold import fold
from .typing import Instant

__all__ = ["ScoreDiff", "Segment", "WhatIf", "segment", "what_if"]


def _optional_number(name: str, value: Any) -> float | None:
    return None if value is None else finite(name, value)


def _to_within(value: Any) -> dt.timedelta | None:
    if value is None:
        return None
    if (
        not isinstance(value, dt.timedelta)
        or value <= dt.timedelta(0)
        or value > dt.timedelta(days=MAX_DAYS)
    ):
        raise InvalidModelError(
            f"within must be a positive timedelta of at most {MAX_DAYS} days, got "
            f"{shorten(value)}",
            path="within",
            value=value,
        )
    return value


@attrs.frozen(repr=False)
class Segment:
    """A smart list: the contacts whose score meets every condition set.

    Build one with a named constructor; conditions combine with :meth:`and_`.

    Attributes:
        name: The list's name.
        above: Score greater than this (strictly).
        below: Score less than this (strictly).
        at_least: Score greater than or equal to this.
        at_most: Score less than or equal to this.
        change: ``"decreased"`` or ``"increased"``: compared with the score
            ``within`` before ``as_of``, by at least ``by`` (strictly, if ``by``
            is 0).
        by: The least change.
        within: The look-back period of ``change``.
    """

    name: str
    above: float | None = attrs.field(default=None, kw_only=True)
    below: float | None = attrs.field(default=None, kw_only=True)
    at_least: float | None = attrs.field(default=None, kw_only=True)
    at_most: float | None = attrs.field(default=None, kw_only=True)
    change: Literal["decreased", "increased"] | None = attrs.field(
        default=None, kw_only=True
    )
    by: float = attrs.field(default=0.0, kw_only=True)
    within: dt.timedelta | None = attrs.field(
        default=None, kw_only=True, converter=_to_within
    )

    def __repr__(self) -> str:
        """The fields that are set.

        >>> Segment.greater_than("Hot leads", 75)
        Segment('Hot leads', above=75.0)
        """
        return short_repr(self, ("name",))

    def __attrs_post_init__(self) -> None:
        """Check that the conditions make sense together."""
        for field in ("above", "below", "at_least", "at_most"):
            object.__setattr__(
                self, field, _optional_number(field, getattr(self, field))
            )
        object.__setattr__(self, "by", finite("by", self.by))
        if not isinstance(self.name, str) or not self.name:
            raise InvalidModelError(
                f"name must be a non-empty str, got {self.name!r}",
                path="name",
                value=self.name,
            )
        if not (self.change is None or self.change in ("decreased", "increased")):
            raise InvalidModelError(
                f"change must be 'decreased' or 'increased', got {self.change!r}",
                path="change",
                value=self.change,
            )
        if (self.change is None) != (self.within is None):
            raise InvalidModelError(
                "change and within go together", path="within", value=self.within
            )
        if self.by < 0:
            raise InvalidModelError(
                f"by must be >= 0, got {self.by!r}", path="by", value=self.by
            )

    @classmethod
    def greater_than(cls, name: str, value: float) -> Segment:
        """Score is greater than *value* ("Hot leads: score is greater than 75")."""
        return cls(name, above=value)

    @classmethod
    def less_than(cls, name: str, value: float) -> Segment:
        """Score is less than *value* ("Cold leads: score is less than 20")."""
        return cls(name, below=value)

    @classmethod
    def between(cls, name: str, low: float, high: float) -> Segment:
        """Score is between *low* and *high*, both included."""
        if high < low:
            raise InvalidModelError(
                f"between needs low <= high, got {low!r} > {high!r}",
                path="at_most",
                value=high,
            )
        return cls(name, at_least=low, at_most=high)

    @classmethod
    def decreased(cls, name: str, within: dt.timedelta, by: float = 0.0) -> Segment:
        """Score decreased (by at least *by*) within the last *within*."""
        return cls(name, change="decreased", within=within, by=by)

    @classmethod
    def increased(cls, name: str, within: dt.timedelta, by: float = 0.0) -> Segment:
        """Score increased (by at least *by*) within the last *within*."""
        return cls(name, change="increased", within=within, by=by)

    def and_(self, other: Segment, name: str | None = None) -> Segment:
        """Both segments' conditions (the tighter of each bound)."""

        def tight(a: float | None, b: float | None, pick: Any) -> float | None:
            return b if a is None else a if b is None else pick(a, b)

        if self.change and other.change:
            raise InvalidModelError(
                "only one change condition per segment",
                path="change",
                value=other.change,
            )
        return Segment(
            name or f"{self.name} & {other.name}",
            above=tight(self.above, other.above, max),
            below=tight(self.below, other.below, min),
            at_least=tight(self.at_least, other.at_least, max),
            at_most=tight(self.at_most, other.at_most, min),
            change=self.change or other.change,
            by=self.by if self.change else other.by,
            within=self.within or other.within,
        )

    def holds(self, score: float, earlier: float | None = None) -> bool:
        """Whether a score (and the score ``within`` earlier) meets the conditions."""
        bounds = (
            self.above is None or score > self.above,
            self.below is None or score < self.below,
            self.at_least is None or score >= self.at_least,
            self.at_most is None or score <= self.at_most,
        )
        if not all(bounds):
            return False
        if self.change is None:
            return True
        if earlier is None:
            return False
        delta = score - earlier if self.change == "increased" else earlier - score
        return delta >= self.by if self.by > 0 else delta > 0


def segment(
    model: ScoringModel, events: Iterable[Event], seg: Segment, as_of: Instant
) -> list[str]:
    """The contacts in *seg* at *as_of*, sorted.

    A change is computed by time travel: the score at *as_of* against the score
    ``within`` earlier (``initial`` for a contact without events then).

    >>> from leadscore import Event, Rule, ScoringModel
    >>> model = ScoringModel("m", [Rule("form.submitted", 80)])
    >>> segment(model, [Event("ann", "form.submitted", "2024-05-01T00:00Z"),
    ...                 Event("bob", "page.viewed", "2024-05-01T00:00Z")],
    ...         Segment.greater_than("Hot leads", 75), "2024-06-01T00:00Z")
    ['ann']
    """
    if not isinstance(seg, Segment):
        raise InvalidModelError(
            f"expected a Segment, got {seg!r}", path="segment", value=seg
        )
    ledger = fold(model, events)
    now = to_utc(as_of, "as_of")
    scores = ledger.scores(now)
    if seg.within is None:
        return [c for c, s in scores.items() if seg.holds(s)]
    # Before the year 1 there is no score: compare with the first instant.
    floor = dt.datetime.min.replace(tzinfo=dt.UTC)
    then = now - seg.within if now - floor >= seg.within else floor
    return [c for c, s in scores.items() if seg.holds(s, ledger.score(c, then))]


@attrs.frozen
class ScoreDiff:
    """One contact's score under the current and the proposed model."""

    contact: str
    before: float | None
    after: float | None
    band_before: Any = None
    band_after: Any = None

    @property
    def delta(self) -> float:
        """``after - before`` (a missing side counts as 0)."""
        return (self.after or 0.0) - (self.before or 0.0)


@attrs.frozen(repr=False)
class WhatIf(Tabular):
    """What changing a model would do to every contact, before publishing it.

    Attributes:
        as_of: The instant compared.
        rows: One :class:`ScoreDiff` per contact, sorted by contact.
        entered: ``{band: contacts entering it}`` (when a scale was given).
        left: ``{band: contacts leaving it}``.
        crossed_up: ``{threshold: contacts now at or above it, before below}``.
        crossed_down: ``{threshold: contacts now below it, before at or above}``.
    """

    as_of: dt.datetime
    rows: tuple[ScoreDiff, ...]
    entered: dict[Any, list[str]]
    left: dict[Any, list[str]]
    crossed_up: dict[float, list[str]]
    crossed_down: dict[float, list[str]]

    def __repr__(self) -> str:
        """A summary: how many contacts, who moved, who entered, left or crossed.

        The rows are in ``rows`` (and in ``to_pandas()``).
        """
        parts = [
            f"as_of={self.as_of.isoformat()!r}",
            f"contacts={len(self.rows)}",
            f"moved_up={len(self.moved_up)}",
            f"moved_down={len(self.moved_down)}",
        ]
        for name in ("entered", "left", "crossed_up", "crossed_down"):
            value = getattr(self, name)
            if value:
                counts = ", ".join(f"{k!r}: {len(v)}" for k, v in value.items())
                parts.append(f"{name}={{{counts}}}")
        return f"WhatIf({', '.join(parts)})"

    _caption = "what if"

    def _table(self) -> Table:
        return (
            ("contact", "before", "after", "delta", "band_before", "band_after"),
            [
                (r.contact, r.before, r.after, r.delta, r.band_before, r.band_after)
                for r in self.rows
            ],
        )

    @property
    def moved_up(self) -> list[str]:
        """Contacts whose score rises."""
        return [r.contact for r in self.rows if r.delta > 0]

    @property
    def moved_down(self) -> list[str]:
        """Contacts whose score falls."""
        return [r.contact for r in self.rows if r.delta < 0]


def what_if(
    current: ScoringModel,
    proposed: ScoringModel,
    events: Iterable[Event],
    as_of: Instant,
    *,
    scale: RatingScale[Any] | None = None,
    thresholds: Sequence[float] = (),
) -> WhatIf:
    """Compare two models on the same events at *as_of*.

    Per contact, the score before and after; who enters or leaves each band of
    *scale*; who crosses each of *thresholds* (reaching is ``>=``).

    >>> from leadscore import Event, Rule, ScoringModel
    >>> old = ScoringModel("m", [Rule("page.viewed", 10)])
    >>> new = ScoringModel("m", [Rule("page.viewed", 30)])
    >>> diff = what_if(old, new, [Event("ann", "page.viewed", "2024-05-01T00:00Z")],
    ...                "2024-05-02T00:00Z", thresholds=[25])
    >>> diff.crossed_up
    {25.0: ['ann']}
    """
    events = list(events)
    now = to_utc(as_of, "as_of")
    before = fold(current, events).scores(now)
    after = fold(proposed, events).scores(now)
    cuts = [finite("thresholds", t) for t in thresholds]
    rows = []
    entered: dict[Any, list[str]] = {}
    left: dict[Any, list[str]] = {}
    up: dict[float, list[str]] = {t: [] for t in cuts}
    down: dict[float, list[str]] = {t: [] for t in cuts}
    for contact in sorted(before.keys() | after.keys()):
        b, a = before.get(contact), after.get(contact)
        band_b = scale.rate(b) if scale is not None and b is not None else None
        band_a = scale.rate(a) if scale is not None and a is not None else None
        rows.append(ScoreDiff(contact, b, a, band_b, band_a))
        if scale is not None and band_b != band_a:
            if band_a is not None:
                entered.setdefault(band_a, []).append(contact)
            if band_b is not None:
                left.setdefault(band_b, []).append(contact)
        for t in cuts:
            was = b is not None and b >= t
            now_above = a is not None and a >= t
            if now_above and not was:
                up[t].append(contact)
            elif was and not now_above:
                down[t].append(contact)
    return WhatIf(now, tuple(rows), entered, left, up, down)
