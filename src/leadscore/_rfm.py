"""Classic RFM segments: Recency, Frequency and Monetary scores, and their names.

Scores are quantile bins with one deterministic tie rule (equal values share a
bin), so the result never depends on the order of the events and a one-time buyer
is never a Champion. Money is summed exactly in decimal, each amount taken as the
decimal it prints as, so equal spend is equal however the purchases were ordered
or split (0.1 + 0.2 is 0.3).
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any

import attrs

from ._money import as_money, scaled_sums
from ._notebook import Table, Tabular, keyed_rows
from .exceptions import InvalidModelError
from .model._events import EARLIEST_US, Event, to_micros, to_utc
from .model._rules import tuple_of
from .paths._stream import checked_list
from .typing import Instant

__all__ = [
    "CLASSIC_SEGMENTS",
    "RFMSegment",
    "RFMSegments",
    "SegmentRule",
    "rfm_segments",
]


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
    """A purchasing contact's R, F and M scores (1 = lowest), code and segment.

    Beside the bins, :func:`rfm_segments` reports the raw values they rank:
    ``recency_days`` (days from the last purchase to ``as_of``, with a fraction
    for the time of day), ``purchases`` (their number) and ``spend`` (net of
    refunds, summed exactly as a :class:`~decimal.Decimal`). They default to None
    for a segment built by hand.
    """

    r: int
    f: int
    m: int
    code: str
    segment: str | None
    recency_days: float | None = None
    purchases: int | None = None
    spend: Decimal | None = None


class RFMSegments(dict[str, RFMSegment], Tabular):
    """``{contact: RFMSegment}`` of :func:`rfm_segments`: a dict, also a table.

    Columns: ``contact, r, f, m, code, segment, recency_days, purchases, spend``.
    """

    _caption = "RFM segments"

    def _table(self) -> Table:
        return keyed_rows(
            self,
            "contact",
            ("r", "f", "m", "code", "segment", "recency_days", "purchases", "spend"),
        )


_DAY_US = 86_400_000_000  # microseconds in a day


def _binner(values: list[Any], bins: int) -> Any:
    """``v -> 1 + bins * (number of values < v) // n``: equal values share a bin."""
    ordered = sorted(values)
    n = len(ordered)
    return lambda v: 1 + bins * bisect_left(ordered, v) // n


def on_five(score: int, bins: int) -> int:
    """A bin of *bins* on the classic 1-5 scale (rounded half to even)."""
    # The classic table is written for 5 bins; other bin counts map onto it.
    return round(1 + (score - 1) * 4 / (bins - 1))


def name_of(
    rfm: tuple[int, ...],
    bins: int,
    table: Sequence[SegmentRule],
    *,
    classic: bool,
) -> str | None:
    """The first segment of *table* that the scores match, or None.

    With *classic*, the rules are on the 1-5 scale, and *bins* of another number
    are mapped onto it first.

    >>> name_of((5, 1, 3), 5, CLASSIC_SEGMENTS, classic=True)
    'New'
    >>> name_of((3, 1, 1), 3, CLASSIC_SEGMENTS, classic=True)  # 3 of 3 is 5 of 5
    'New'
    """
    key = tuple(on_five(s, bins) for s in rfm) if classic else rfm
    return next((rule.name for rule in table if rule.matches(*key)), None)


def check_bins(bins: Any) -> None:
    """Raise unless *bins* is a whole number from 2 to 10."""
    if isinstance(bins, bool) or not isinstance(bins, int) or not 2 <= bins <= 10:
        raise InvalidModelError(
            f"bins must be a whole number from 2 to 10, got {bins!r}",
            path="bins",
            value=bins,
        )


def rfm_segments(
    events: Iterable[Event],
    as_of: Instant,
    bins: int = 5,
    segments: Iterable[SegmentRule] | None = None,
    *,
    purchase_kinds: Iterable[str] = ("order.paid",),
    refund_kinds: Iterable[str] = ("order.refunded",),
) -> RFMSegments:
    """R, F and M scores and a named segment for every purchasing contact.

    R ranks the last purchase (recent is high), F the number of purchases (same-day
    purchases are not merged), M the net spend (refunds subtracted; summed exactly
    in decimal, each amount as the decimal it prints as). Scores are
    quantile bins with one rule: a value's bin is ``1 + bins * (number of contacts
    with a smaller value) // contacts``, so equal values always share a bin and a
    tie never splits. Segments come from *segments* (first match wins), by default
    :data:`CLASSIC_SEGMENTS` (3 or 4 bins are mapped onto its 1-5 scale). Each
    segment carries the raw values too: ``recency_days``, ``purchases``, ``spend``.

    Raises:
        InvalidModelError: for bins outside 2..10 or a bad segment table.
    """
    check_bins(bins)
    table = (
        CLASSIC_SEGMENTS
        if segments is None
        else tuple_of(SegmentRule, segments, "segments")
    )
    as_of_us = to_micros(to_utc(as_of, "as_of"))
    purchase, refund = set(purchase_kinds), set(refund_kinds)
    last: dict[str, int] = {}
    count: dict[str, int] = {}
    money: dict[str, list[float]] = {}
    for e in checked_list(events):
        t = e._us  # noqa: SLF001
        if t > as_of_us:
            continue
        kind = e.kind
        if kind in purchase:
            c = e.contact
            if t > last.get(c, EARLIEST_US):
                last[c] = t
            count[c] = count.get(c, 0) + 1
            money.setdefault(c, []).append(e.value)
        elif kind in refund:
            money.setdefault(e.contact, []).append(-e.value)
    if not last:
        return RFMSegments()
    # Exact: equal spend is equal whatever the order or the split of the amounts.
    spend, exp = scaled_sums({c: money[c] for c in last})
    return segments_of(
        last,
        count,
        spend,
        exp=exp,
        as_of_us=as_of_us,
        bins=bins,
        segments=segments,
        table=table,
    )


def segments_of(
    last: Mapping[str, int],
    count: Mapping[str, int],
    spend: Mapping[str, int],
    *,
    exp: int,
    as_of_us: int,
    bins: int,
    segments: Iterable[SegmentRule] | None,
    table: Sequence[SegmentRule],
) -> RFMSegments:
    """The segments from each purchaser's last purchase, count and exact spend.

    *spend* in units of ``10**exp``; shared with ``leadscore.frame``, which
    computes the three in a query.
    """
    r_bin = _binner(list(last.values()), bins)
    f_bin = _binner(list(count.values()), bins)
    m_bin = _binner(list(spend.values()), bins)
    names: dict[tuple[int, int, int], str | None] = {}  # one look-up per (r, f, m)
    out = RFMSegments()
    for c in sorted(last):
        rfm = r_bin(last[c]), f_bin(count[c]), m_bin(spend[c])
        if rfm not in names:
            names[rfm] = name_of(rfm, bins, table, classic=segments is None)
        out[c] = RFMSegment(
            *rfm,
            "".join(map(str, rfm)),
            names[rfm],
            (as_of_us - last[c]) / _DAY_US,
            count[c],
            as_money(spend[c], exp),
        )
    return out
