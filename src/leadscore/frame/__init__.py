"""Columnar and distributed scoring: the same scores from tables, files and clusters.

``frame.score(model, events, as_of)`` takes the events as a pandas or Polars
DataFrame, a PyArrow Table, an Ibis table (on any backend Ibis reaches: DuckDB,
Polars, PostgreSQL, Spark, warehouses), a PySpark DataFrame, or a path / glob of
Parquet or CSV files, and returns the same scores as :func:`leadscore.score`
without building one Python object per event: the model's plan is compiled into
one relational expression (Ibis), which runs on the input's engine, or on an
embedded DuckDB for in-memory tables and files.

A table holds one event per row: columns ``contact``, ``kind``, ``at`` (aware
timestamps), optional ``id`` and ``value``; every other column is an attribute
(str, int, float or bool). A null cell (None, NaN, NA) in an attribute column means
the event has no such attribute; a null ``id`` means no id; a null ``value`` is 0.0.
``columns={"contact": "email", ...}`` maps other names.

Results come back as the kind given: pandas -> pandas, Polars -> Polars, Arrow ->
Arrow, Ibis -> an unexecuted Ibis table, PySpark -> PySpark, a path -> pandas.

Needs the ``frame`` extra (``pip install leadscore[frame]``: Ibis, DuckDB, PyArrow).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from leadscore.exceptions import InvalidEventError
from leadscore.model._events import (
    CONTACT_MERGED,
    SCORE_SET,
    SPECIAL_KINDS,
    Event,
    from_micros,
    to_micros,
    to_utc,
)
from leadscore.model._rules import ScoringModel
from leadscore.paths._fold import check_model
from leadscore.paths._merges import MergeIndex
from leadscore.typing import Instant

from ._compile import AT, Columns, compile_score
from ._rfm import action_scores, rfm_segments
from ._source import FILE, RAW, ROW, Source
from ._sources import load

__all__ = ["action_scores", "rfm_segments", "score"]


def score(
    model: ScoringModel,
    events: Any,
    as_of: Instant,
    *,
    columns: Mapping[str, str] | None = None,
    tz: str | None = None,
) -> Any:
    """Every contact's score at *as_of*, as a table ``contact, score``.

    Rows are exactly the contacts :func:`leadscore.score` reports, with the same
    scores (to floating-point rounding: sums run in the engine's order), sorted
    by contact.

    Args:
        model: The scoring model.
        events: The events (see the module docstring for the kinds accepted).
        as_of: The instant to score at.
        columns: ``{field: column}`` for tables whose columns have other names
            (fields: contact, kind, at, id, value).
        tz: ``"UTC"`` to read naive timestamps as UTC; naive timestamps are
            refused otherwise.

    Raises:
        InvalidEventError: a missing or mistyped column, naive timestamps, an
            empty contact or kind, a missing instant, a value that is not
            finite, two different events with one id, a malformed merge, a
            ``score.set`` outside the model's bounds; the message names the
            column, the value and the row (file and line for files).
    """
    model = check_model(model)
    at = to_utc(as_of, "as_of")
    source = load(events, columns=columns, tz=tz)
    cols = facts(source, model, to_micros(at))
    expr = compile_score(model, source.table, at, cols)
    if not source.runs(expr):
        source = source.on_duckdb()
        expr = compile_score(
            model, source.table, at, attrs.evolve(cols, bytewise=False)
        )
    return source.result(expr)


def facts(source: Source, model: ScoringModel, as_of_us: int) -> Columns:
    """What the compiler needs to know of the data, with the model's own checks."""
    t = source.table
    present = source.profile["specials"]
    has_ids = source.profile["has_ids"]
    if has_ids:
        _check_ids(source)
    mine = _of_model(t, model, source.types)
    if SCORE_SET in present and model.bounds is not None:
        _check_sets(source, mine, model)
    if model.subject is not None:
        _check_subject(source, mine, model.subject)
    routes: dict[str, tuple[str, int]] = {}
    if CONTACT_MERGED in present:
        merges = _merges(source, mine)
        index = MergeIndex(merges, model.merge == "union")
        routes = index.routes(as_of_us)
    return Columns(
        dict(source.types),
        has_ids=has_ids,
        specials=present,
        routes=routes,
        bytewise=source.bytewise,
        first_us=source.profile["first_us"],
    )


def _of_model(t: Any, model: ScoringModel, types: Mapping[str, str]) -> Any:
    """The rows this model reads at all: from active_from on, manual ones its own."""
    keep = t[AT] >= to_micros(model.active_from) if model.active_from else None
    if "model" in types:
        special = t["kind"].isin(sorted(SPECIAL_KINDS))
        other = t["model"].notnull()
        if types["model"] == "str":
            other &= t["model"] != model.name
        mine = ~(special & other)
        keep = mine if keep is None else keep & mine
    return t if keep is None else t.filter(keep)


def _first(source: Source, t: Any) -> dict[str, Any] | None:
    if ROW in t.columns:
        t = t.order_by([c for c in (FILE, ROW) if c in t.columns])
    rows = source.execute(t.limit(1))
    return rows[0] if rows else None


def _check_ids(source: Source) -> None:
    """Two different events with one id: raise, naming both rows."""
    t = source.table
    fields = [c for c in t.columns if c not in (ROW, FILE, RAW)]
    distinct = t.filter(t["id"].notnull()).select(*fields).distinct()
    clash = distinct.group_by("id").aggregate(n=distinct["id"].count())
    clash = clash.filter(clash["n"] > 1).select("id").limit(1)
    found = source.execute(clash)
    if not found:
        return
    eid = found[0]["id"]
    row = _first(source, t.filter(t["id"] == eid))
    assert row is not None
    first = _first(
        source,
        t.filter(
            (t["id"] == eid)
            & ~(
                (t["contact"] == row["contact"])
                & (t["kind"] == row["kind"])
                & (t[AT] == row[AT])
                & (t["value"] == row["value"])
            )
        ),
    )
    where = source.where(first) if first else source.where(row)
    raise InvalidEventError(
        f"two different events have the id {eid!r} (the first at "
        f"{source.where(row)}); an id names one event",
        field="id",
        value=eid,
        where=where,
    )


def _check_sets(source: Source, t: Any, model: ScoringModel) -> None:
    assert model.bounds is not None
    low, high = model.bounds
    out = t["kind"] == SCORE_SET
    bad = None
    if low is not None:
        bad = t["value"] < low
    if high is not None:
        bad = (t["value"] > high) if bad is None else bad | (t["value"] > high)
    if bad is None:
        return
    row = _first(source, t.filter(out & bad))
    if row is not None:
        v = row["value"]
        raise InvalidEventError(
            f"score.set to {v:g} is outside the bounds ({low}, {high}) of model "
            f"{model.name!r}; set a value within them (score.adjusted clamps)",
            field="value",
            value=v,
            where=source.where(row),
        )


def _check_subject(source: Source, t: Any, subject: str) -> None:
    field = f"attrs[{subject!r}]"
    kind = source.types.get(subject)
    if kind is None:
        return
    plain = ~t["kind"].isin(sorted(SPECIAL_KINDS)) & t[subject].notnull()
    bad = plain if kind != "str" else plain & (t[subject] == "")
    row = _first(source, t.filter(bad))
    if row is not None:
        v = row[subject]
        raise InvalidEventError(
            f"{field} names what the model scores and must be a non-empty str, "
            f"not {v!r}",
            field=field,
            value=v,
            where=source.where(row),
        )


def _merges(source: Source, t: Any) -> list[Event]:
    """The merge events, as Events (they are few), checked as Event checks them."""
    rows = source.execute(t.filter(t["kind"] == CONTACT_MERGED))
    out = []
    for row in rows:
        attrs = {k: row[k] for k in source.types if row.get(k) is not None}
        try:
            out.append(
                Event(
                    row["contact"],
                    row["kind"],
                    from_micros(row[AT]),
                    attrs,
                    value=row["value"],
                    id=row["id"],
                )
            )
        except InvalidEventError as error:
            raise InvalidEventError(
                str(error),
                field=error.field,
                value=error.value,
                where=source.where(row),
            ) from error
    return out
