"""RFM segments and Action Scores from a table: the per-contact sums in one query.

The query reduces the events to one row per contact (last purchase or activity,
counts, exact net spend, networks); the bins, percentile ranks and segment names
are then the pure functions' own (``_rfm.segments_of``, ``_action.scores_of``), so
the codes equal the pure path's exactly.

Money is summed exactly as the pure path sums it (each amount as the decimal it
prints as) by casting to a decimal of the fewest places that gives every amount
back, when one of 0, 2, 4, 6 or 9 places does and no amount is so large that two
decimals of that many places would print as one float; otherwise the amounts are
read into Python and summed there.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from leadscore._action import ActionScoreConfig, scores_of
from leadscore._money import scaled_sums
from leadscore._rfm import CLASSIC_SEGMENTS, SegmentRule, check_bins, segments_of
from leadscore.model._events import to_micros, to_utc
from leadscore.model._rules import tuple_of
from leadscore.typing import Instant

from ._compile import AT
from ._sources import Source, load

__all__ = ["action_scores", "rfm_segments"]

#: Decimal places tried for exact money, fewest first.
PLACES = (0, 2, 4, 6, 9)


def _places(source: Source, money: Any) -> int | None:
    """The fewest decimal places that hold every amount exactly, or None."""
    import ibis

    v = money["value"]
    checks = {
        f"_ls_p{p}": ibis.cases(
            (v.cast(f"decimal(38, {p})").cast("float64") == v, 0), else_=1
        ).sum()
        for p in PLACES
    }
    row = source.execute(money.aggregate(_ls_big=v.abs().max(), **checks))[0]
    big = row["_ls_big"] or 0.0
    for p in PLACES:
        if not row[f"_ls_p{p}"] and big < 2.0**52 / 10**p:
            return p
    return None


def _spend(
    source: Source, t: Any, signed: Any, places: int | None
) -> tuple[dict[str, int], int]:
    """Each contact's exact net spend in units of ``10**exp``: ``(totals, exp)``."""
    money = t.filter(signed.notnull())
    if places is None:
        rows = source.execute(money.select("contact", _ls_v=signed))
        amounts: dict[str, list[float]] = {}
        for row in rows:
            amounts.setdefault(row["contact"], []).append(row["_ls_v"])
        return scaled_sums(amounts)
    total = signed.cast(f"decimal(38, {places})").sum()
    rows = source.execute(money.group_by("contact").aggregate(_ls_s=total))
    unit = Decimal(10) ** places
    return {r["contact"]: int(Decimal(r["_ls_s"]) * unit) for r in rows}, -places


def rfm_segments(
    events: Any,
    as_of: Instant,
    bins: int = 5,
    segments: Iterable[SegmentRule] | None = None,
    *,
    purchase_kinds: Iterable[str] = ("order.paid",),
    refund_kinds: Iterable[str] = ("order.refunded",),
    columns: Mapping[str, str] | None = None,
    tz: str | None = None,
) -> Any:
    """:func:`leadscore.rfm_segments` of a table: ``contact, r, f, m, code, segment``.

    Same arguments as the pure function, plus ``columns`` and ``tz`` as in
    :func:`leadscore.frame.score`. The bins and codes equal the pure ones exactly.
    """
    import ibis

    check_bins(bins)
    table = (
        CLASSIC_SEGMENTS
        if segments is None
        else tuple_of(SegmentRule, segments, "segments")
    )
    as_of_us = to_micros(to_utc(as_of, "as_of"))
    source = load(events, columns=columns, tz=tz)
    t = source.table.filter(source.table[AT] <= as_of_us)
    purchase, refund = sorted(set(purchase_kinds)), sorted(set(refund_kinds))
    bought = t["kind"].isin(purchase)
    per = (
        t.filter(bought)
        .group_by("contact")
        .aggregate(_ls_last=t[AT].max(), _ls_n=t["contact"].count())
    )
    rows = source.execute(per)
    last = {r["contact"]: r["_ls_last"] for r in rows}
    count = {r["contact"]: r["_ls_n"] for r in rows}
    signed = ibis.cases(
        (bought, t["value"]), (t["kind"].isin(refund), -t["value"]), else_=None
    )
    places = _places(source, t.filter(signed.notnull()).select(value=signed))
    spend, exp = _spend(source, t, signed, places)
    spend = {c: spend.get(c, 0) for c in last}
    out = segments_of(
        last,
        count,
        spend,
        exp=exp,
        as_of_us=as_of_us,
        bins=bins,
        segments=segments,
        table=table,
    )
    return _table(
        source,
        ["contact", "r", "f", "m", "code", "segment"],
        [(c, s.r, s.f, s.m, s.code, s.segment) for c, s in out.items()],
        {
            "contact": "string",
            "r": "int64",
            "f": "int64",
            "m": "int64",
            "code": "string",
            "segment": "string",
        },
    )


def action_scores(
    events: Any,
    as_of: Instant,
    config: ActionScoreConfig | None = None,
    *,
    columns: Mapping[str, str] | None = None,
    tz: str | None = None,
) -> Any:
    """:func:`leadscore.action_scores` of a table.

    Columns ``contact, recency, frequency, value, social, total``: the four
    fractions and the total (1 to 100), equal to the pure ones.
    """
    import ibis

    config = config or ActionScoreConfig()
    as_of_us = to_micros(to_utc(as_of, "as_of"))
    source = load(events, columns=columns, tz=tz)
    t = source.table.filter(source.table[AT] <= as_of_us)
    kinds = config.kinds
    window = config.frequency_window
    active = t["kind"].isin(sorted(kinds["activity"]))
    recent = active
    if window is not None:
        recent = active & (t[AT] >= as_of_us - window // dt.timedelta(microseconds=1))
    social = t["kind"].isin(sorted(kinds["social"]))
    key = config.network
    network = t[key] if key in source.types else ibis.null("string")
    if key in source.types and source.types[key] != "str":
        network = network.cast("string")
    per = t.group_by("contact").aggregate(
        _ls_last=ibis.cases((active, t[AT]), else_=None).max(),
        _ls_n=ibis.cases((recent, 1), else_=0).sum(),
        _ls_social=ibis.cases((social, 1), else_=0).max(),
        _ls_nets=ibis.cases((social, network), else_=None).nunique(),
        _ls_none=ibis.cases((social & network.isnull(), 1), else_=0).max(),
    )
    rows = source.execute(per)
    contacts = [r["contact"] for r in rows]
    last = {r["contact"]: r["_ls_last"] for r in rows if r["_ls_last"] is not None}
    count = {r["contact"]: r["_ls_n"] for r in rows if r["_ls_n"]}
    nets = {
        r["contact"]: r["_ls_nets"] + r["_ls_none"] for r in rows if r["_ls_social"]
    }
    signed = ibis.cases(
        (t["kind"].isin(sorted(kinds["purchase"])), t["value"]),
        (t["kind"].isin(sorted(kinds["refund"])), -t["value"]),
        else_=None,
    )
    places = _places(source, t.filter(signed.notnull()).select(value=signed))
    net, exp = _spend(source, t, signed, places)
    out = scores_of(
        config,
        as_of_us,
        contacts,
        last=last,
        count=count,
        net=net,
        exp=exp,
        networks=nets,
    )
    return _table(
        source,
        ["contact", "recency", "frequency", "value", "social", "total"],
        [
            (
                c,
                float(s.recency),
                float(s.frequency),
                float(s.value),
                float(s.social),
                s.total,
            )
            for c, s in out.items()
        ],
        {"contact": "string", "total": "int64"},
    )


def _table(
    source: Source, names: list[str], rows: list[tuple[Any, ...]], types: dict[str, str]
) -> Any:
    """Python rows as the kind of table the caller gave."""
    import pyarrow as pa

    kinds = {"int64": pa.int64(), "string": pa.string(), "float64": pa.float64()}
    schema = pa.schema([(n, kinds[types.get(n, "float64")]) for n in names])
    columns = list(zip(*rows, strict=True)) if rows else [() for _ in names]
    arrow = pa.table(
        [pa.array(list(c), type=f.type) for c, f in zip(columns, schema, strict=True)],
        schema=schema,
    )
    return source.result_of(arrow)
