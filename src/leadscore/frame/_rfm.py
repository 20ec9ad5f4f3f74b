"""RFM segments and Action Scores from a table, binned and ranked by the engine.

RFM is one query: the per-contact sums (last purchase, count, exact net spend),
then bins, codes and segment names, sorted by contact, so the answer stays on the
input's engine (an Ibis caller gets it unexecuted, a Spark caller a Spark
DataFrame). The rules are the pure functions' own: a bin is ``1 + bins * (values
smaller) // contacts`` and a percentile rank ``(values at most v) / contacts``,
both counted per distinct value and joined back (:func:`_counted`); codes and
segment names are looked up in arrays that the pure naming rule fills for every
(r, f, m) (:func:`_names`).

Action Scores are one query too (the per-contact features and the two percentile
ranks); recency is an aging policy's weight, which must equal the pure float, so
it is the policy's own Python function, called once per distinct last activity;
the totals are exact (see :func:`_totals`).

Money is summed exactly as the pure path sums it (each amount as the decimal it
prints as) by casting to a decimal of the fewest places that gives every amount
back, when one of 0, 2, 4, 6 or 9 places does and no amount is so large that two
decimals of that many places would print as one float; otherwise the amounts are
read into Python and summed there, and the bins follow in Python
(:func:`leadscore._rfm.segments_of`, :func:`leadscore._action.scores_of`).
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from leadscore._action import FLOOR, ActionScore, ActionScoreConfig, scores_of
from leadscore._money import scaled_sums
from leadscore._rfm import (
    CLASSIC_SEGMENTS,
    SegmentRule,
    check_bins,
    name_of,
    segments_of,
)
from leadscore.model._aging import weigher
from leadscore.model._events import to_micros, to_utc
from leadscore.model._rules import tuple_of
from leadscore.typing import Instant

from ._compile import AT, until
from ._source import KEY, Source
from ._sources import load

__all__ = ["action_scores", "rfm_segments"]

#: Decimal places tried for exact money, fewest first.
PLACES = (0, 2, 4, 6, 9)
RFM_COLUMNS = ("contact", "r", "f", "m", "code", "segment")
ACTION_COLUMNS = ("contact", "recency", "frequency", "value", "social", "total")


def _places(source: Source, signed: Any) -> int | None:
    """The fewest decimal places that hold every amount exactly, or None.

    The checks run on the distinct amounts: prices repeat, and five casts per
    row cost more than finding the distinct ones.
    """
    import ibis

    amounts = signed.name("value").as_table().filter(signed.notnull()).distinct()
    v = amounts["value"]
    checks = {
        f"_ls_p{p}": ibis.cases(
            (v.cast(f"decimal(38, {p})").cast("float64") == v, 0), else_=1
        ).sum()
        for p in PLACES
    }
    row = source.execute(amounts.aggregate(_ls_big=v.abs().max(), **checks))[0]
    big = row["_ls_big"] or 0.0
    for p in PLACES:
        if not row[f"_ls_p{p}"] and big < 2.0**52 / 10**p:
            return p
    return None


def _signed(t: Any, purchase: Iterable[str], refund: Iterable[str]) -> Any:
    """The amount a row adds to its contact's spend: + paid, - refunded, else null."""
    import ibis

    return ibis.cases(
        (t["kind"].isin(sorted(purchase)), t["value"]),
        (t["kind"].isin(sorted(refund)), -t["value"]),
        else_=ibis.null("float64"),
    )


def _on_engine(source: Source, probe: Any) -> Source:
    """*source*, or its table on DuckDB if its engine cannot run *probe*."""
    return source if source.runs(probe) else source.on_duckdb()


# -- RFM -------------------------------------------------------------------------------


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
    :func:`leadscore.frame.score`. The bins, codes and segments equal the pure
    ones exactly; rows are sorted by contact.
    """
    check_bins(bins)
    table = (
        CLASSIC_SEGMENTS
        if segments is None
        else tuple_of(SegmentRule, segments, "segments")
    )
    as_of_us = to_micros(to_utc(as_of, "as_of"))
    source = load(events, columns=columns, tz=tz)
    purchase, refund = set(purchase_kinds), set(refund_kinds)

    def query(source: Source, places: int) -> Any:
        t = source.table.filter(until(source.table, as_of_us))
        return _rfm_query(
            t,
            _signed(t, purchase, refund),
            purchase=purchase,
            places=places,
            bins=bins,
            names=_names(bins, table, classic=segments is None),
        )

    source = _on_engine(source, query(source, 2))
    t = source.table.filter(until(source.table, as_of_us))
    places = _places(source, _signed(t, purchase, refund))
    if places is not None:
        return source.result(query(source, places))
    return _rfm_in_python(
        source,
        t,
        purchase=purchase,
        refund=refund,
        as_of_us=as_of_us,
        bins=bins,
        segments=segments,
        table=table,
    )


def _names(
    bins: int, table: Sequence[SegmentRule], *, classic: bool
) -> list[str | None]:
    """Every (r, f, m)'s segment, in the order of :func:`_cell` (the pure rule)."""
    cells = itertools.product(range(1, bins + 1), repeat=3)
    return [name_of(rfm, bins, table, classic=classic) for rfm in cells]


def _cell(r: Any, f: Any, m: Any, bins: int) -> Any:
    """The 0-based place of (r, f, m) among ``itertools.product`` of the bins."""
    # int32: Spark's element_at takes an INT.
    return (((r - 1) * bins + (f - 1)) * bins + (m - 1)).cast("int32")


def _counted(per: Any, col: str, name: str, *, at_most: bool = False) -> Any:
    """``(col, name, _ls_all)``: rows of *per* below each *col*, and all of them.

    Below: with a smaller *col*, or with *at_most*, one at most as large. The
    pure ``bisect_left`` (``bisect_right``). Counted per distinct value and
    summed up in order, then joined back: a sort of the distinct values only
    (few, for dates and counts), where a ``RANK()`` would sort every row with its
    contact.
    """
    counts = per.group_by(col).aggregate(_ls_k=per[col].count())
    k = counts["_ls_k"]
    running = k.cumsum(order_by=counts[col])
    below = running if at_most else running - k
    return counts.select(col, **{name: below}, _ls_all=k.sum().over())


def _rfm_query(
    t: Any,
    signed: Any,
    *,
    purchase: Iterable[str],
    places: int,
    bins: int,
    names: list[str | None],
) -> Any:
    """The whole of RFM as one expression, from the events to the segments."""
    import ibis

    bought = t["kind"].isin(sorted(purchase))
    money = t.filter(signed.notnull())  # purchases and refunds
    # Integer contacts are grouped on as integers (twice as fast as their
    # text) and written as text at the end: the same groups, the same names.
    key = KEY if KEY in t.columns else "contact"
    per = money.group_by(key).aggregate(
        _ls_last=money[AT].max(where=bought),
        _ls_n=money[AT].count(where=bought),
        _ls_s=signed.cast(f"decimal(38, {places})").sum(),
    )
    per = per.filter(per["_ls_n"] > 0)  # a refund alone makes no customer
    ranked = per
    for name, col in (("r", "_ls_last"), ("f", "_ls_n"), ("m", "_ls_s")):
        below = _counted(per, col, f"_ls_{name}")
        if name != "r":
            below = below.drop("_ls_all")
        ranked = ranked.join(below, col)
    total = ranked["_ls_all"]
    bin_of = {
        name: (1 + (ranked[f"_ls_{name}"] * bins) // total).cast("int64")
        for name in "rfm"
    }
    per = ranked.select(key, **bin_of)
    cell = _cell(per["r"], per["f"], per["m"], bins)
    cells = itertools.product(range(1, bins + 1), repeat=3)
    codes = ibis.literal(["".join(map(str, rfm)) for rfm in cells], "array<string>")
    if len(set(names)) == 1:  # one segment (or none) for all
        segment = ibis.literal(names[0], "string")
    else:
        segment = ibis.literal(names, "array<string>")[cell]
    contact = per[key].cast("string").name("contact")
    return per.select(
        contact, "r", "f", "m", code=codes[cell], segment=segment
    ).order_by("contact")


def _rfm_in_python(
    source: Source,
    t: Any,
    *,
    purchase: set[str],
    refund: set[str],
    as_of_us: int,
    bins: int,
    segments: Iterable[SegmentRule] | None,
    table: Sequence[SegmentRule],
) -> Any:
    """RFM with the amounts summed in Python: when no decimal holds them all."""
    bought = t["kind"].isin(sorted(purchase))
    per = (
        t.filter(bought)
        .group_by("contact")
        .aggregate(_ls_last=t[AT].max(), _ls_n=t["contact"].count())
    )
    rows = source.execute(per)
    last = {r["contact"]: r["_ls_last"] for r in rows}
    count = {r["contact"]: r["_ls_n"] for r in rows}
    spend, exp = _spend_in_python(source, t, _signed(t, purchase, refund))
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
    cells = [(c, s.r, s.f, s.m, s.code, s.segment) for c, s in out.items()]
    return _table(
        source,
        RFM_COLUMNS,
        list(zip(*cells, strict=True)) if cells else [[] for _ in RFM_COLUMNS],
        {
            "r": "int64",
            "f": "int64",
            "m": "int64",
            "code": "string",
            "segment": "string",
        },
    )


def _spend_in_python(source: Source, t: Any, signed: Any) -> tuple[dict[str, int], int]:
    """Each contact's exact net spend in units of ``10**exp``, summed in Python."""
    rows = source.execute(t.filter(signed.notnull()).select("contact", _ls_v=signed))
    amounts: dict[str, list[float]] = {}
    for row in rows:
        amounts.setdefault(row["contact"], []).append(row["_ls_v"])
    return scaled_sums(amounts)


# -- Action Scores ---------------------------------------------------------------------


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
    fractions and the total (1 to 100), equal to the pure ones; rows are sorted
    by contact.
    """
    config = config or ActionScoreConfig()
    as_of_us = to_micros(to_utc(as_of, "as_of"))
    source = load(events, columns=columns, tz=tz)

    def query(source: Source, places: int | None) -> Any:
        return _action_query(source, config, as_of_us, places)

    source = _on_engine(source, query(source, 2))
    t = source.table.filter(until(source.table, as_of_us))
    kinds = config.kinds
    signed = _signed(t, kinds["purchase"], kinds["refund"])
    places = _places(source, signed)
    arrow = source.backend.to_pyarrow(query(source, places))
    if places is None:
        net, exp = _spend_in_python(source, t, signed)
        return _action_in_python(source, config, as_of_us, arrow, (net, exp))
    return source.result_of(_action_table(config, as_of_us, arrow))


def _action_query(
    source: Source, config: ActionScoreConfig, as_of_us: int, places: int | None
) -> Any:
    """Each contact's features and frequency and value ranks (value: if *places*)."""
    import ibis

    t = source.table.filter(until(source.table, as_of_us))
    kinds = config.kinds
    active = t["kind"].isin(sorted(kinds["activity"]))
    recent = active
    window = config.frequency_window
    if window is not None:
        recent = active & (t[AT] >= as_of_us - window // dt.timedelta(microseconds=1))
    social = t["kind"].isin(sorted(kinds["social"]))
    key = config.network
    network = t[key] if key in source.types else ibis.null("string")
    if key in source.types and source.types[key] != "str":
        network = network.cast("string")
    signed = _signed(t, kinds["purchase"], kinds["refund"])
    sums = {}
    if places is not None:
        sums["_ls_s"] = signed.cast(f"decimal(38, {places})").sum()
    per = t.group_by("contact").aggregate(
        _ls_last=t[AT].max(where=active),
        _ls_n=t[AT].count(where=recent),
        **sums,
    )
    # The networks apart: a DISTINCT count slows a whole aggregate down, and
    # social events are few.
    linked = t.filter(social)
    networks = linked.group_by("contact").aggregate(
        _ls_nets=network.nunique() if key in source.types else ibis.literal(0),
        _ls_none=linked[AT].count(where=network.isnull()),
    )
    ranked = {"_ls_freq": ("_ls_n", per["_ls_n"] > 0)}
    if places is not None:
        ranked["_ls_value"] = ("_ls_s", per["_ls_s"].notnull() & (per["_ls_s"] > 0))
    out = per.left_join(networks, "contact")
    for name, (col, test) in ranked.items():
        counts = _counted(per.filter(test), col, f"{name}_le", at_most=True)
        out = out.left_join(counts, col).rename({f"{name}_all": "_ls_all"})
    nets = out["_ls_nets"].fill_null(0) + ibis.cases((out["_ls_none"] > 0, 1), else_=0)
    return out.select(
        "contact",
        "_ls_last",
        "_ls_n",
        _ls_nets=nets,
        **{name: _share(out[f"{name}_le"], out[f"{name}_all"]) for name in ranked},
    ).order_by("contact")


def _share(at_most: Any, ranked: Any) -> Any:
    """``at_most / ranked`` as a float, 0.0 for a contact not ranked (null).

    The pure ``_action._rank_fraction``: ties share the fraction, the top is 1.
    Both counts are whole numbers below 2**53, so the division is the pure one
    (one correctly rounded quotient).
    """
    share = at_most.cast("float64") / ranked.cast("float64")
    return share.fill_null(0.0)


def _recency(config: ActionScoreConfig, as_of_us: int, last: Any) -> Any:
    """The recency fractions: the policy's own weight, once per distinct instant."""
    import numpy as np
    import pyarrow.compute as pc

    weigh = weigher(config.recency, as_of_us)
    distinct = pc.unique(pc.drop_null(last))
    recency = np.zeros(len(last))
    if len(distinct):
        weights = np.array([weigh(at, 0) for at in distinct.to_pylist()], np.float64)
        where = pc.index_in(last, value_set=distinct).fill_null(-1).to_numpy()
        seen = where >= 0
        recency[seen] = weights[where[seen]]
    return np.maximum(FLOOR, recency)


def _totals(weights: Sequence[float], fractions: Sequence[Any]) -> Any:
    """``ActionScore.total`` of every row: ``max(1, ceil(exact weighted sum))``.

    Fast and exact: the float sum is within 1e-12 of the exact decimal one (four
    products of numbers at most 100 and 1, each taken as the decimal it prints
    as, differ from the floats by under 1e-14 each), so where it is more than
    1e-9 from a whole number its ceiling is the exact one; the few rows that
    near a whole number are computed exactly, as ``ActionScore.total``.
    """
    import numpy as np

    approx = sum(float(w) * f for w, f in zip(weights, fractions, strict=True))
    total = np.maximum(1, np.ceil(approx)).astype(np.int64)
    near = np.flatnonzero(np.abs(approx - np.round(approx)) < 1e-9)
    exact: dict[tuple[float, ...], int] = {}
    for i in near.tolist():
        parts = tuple(float(f[i]) for f in fractions)
        if parts not in exact:
            recency, frequency, value, social = parts
            exact[parts] = ActionScore(
                recency=recency,
                frequency=frequency,
                value=value,
                social=social,
                weights=tuple(weights),
            ).total
        total[i] = exact[parts]
    return total


def _action_table(config: ActionScoreConfig, as_of_us: int, arrow: Any) -> Any:
    """The result table from the query's: fractions floored, totals added."""
    import numpy as np
    import pyarrow as pa

    recency = _recency(config, as_of_us, arrow["_ls_last"])
    frequency = np.maximum(FLOOR, arrow["_ls_freq"].to_numpy())
    value = np.maximum(FLOOR, arrow["_ls_value"].to_numpy())
    nets = arrow["_ls_nets"].to_numpy()
    social = np.maximum(FLOOR, np.minimum(1.0, nets / config.max_networks))
    parts = (recency, frequency, value, social)
    total = _totals(config.weights, parts)
    return pa.table(
        {
            "contact": arrow["contact"],
            **{
                name: pa.array(np.asarray(p, np.float64))
                for name, p in zip(ACTION_COLUMNS[1:5], parts, strict=True)
            },
            "total": pa.array(total, pa.int64()),
        }
    )


def _action_in_python(
    source: Source,
    config: ActionScoreConfig,
    as_of_us: int,
    arrow: Any,
    spend: tuple[dict[str, int], int],
) -> Any:
    """Action Scores with the net spend summed in Python (see the module)."""
    net, exp = spend
    rows = arrow.to_pylist()
    contacts = [r["contact"] for r in rows]
    last = {r["contact"]: r["_ls_last"] for r in rows if r["_ls_last"] is not None}
    count = {r["contact"]: r["_ls_n"] for r in rows if r["_ls_n"]}
    nets = {r["contact"]: r["_ls_nets"] for r in rows if r["_ls_nets"]}
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
    scores = list(out.values())
    return _table(
        source,
        ACTION_COLUMNS,
        [
            list(out),
            [float(s.recency) for s in scores],
            [float(s.frequency) for s in scores],
            [float(s.value) for s in scores],
            [float(s.social) for s in scores],
            [s.total for s in scores],
        ],
        {"total": "int64"},
    )


def _table(
    source: Source,
    names: Sequence[str],
    columns: Sequence[Sequence[Any]],
    types: dict[str, str],
) -> Any:
    """Python columns as the kind of table the caller gave."""
    import pyarrow as pa

    kinds = {"int64": pa.int64(), "string": pa.string(), "float64": pa.float64()}
    types = {"contact": "string", **types}
    arrow = pa.table(
        {
            n: pa.array(list(c), type=kinds[types.get(n, "float64")])
            for n, c in zip(names, columns, strict=True)
        }
    )
    return source.result_of(arrow)
