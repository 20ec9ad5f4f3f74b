"""The checks an event table passes before it is scored, and what they learn.

No contact or kind may be missing or empty, no instant missing, no value
infinite; the same pass learns what the compiler needs (whether any event has an
id, the earliest instant, the special kinds present). Parquet files prove it
from their row groups' statistics and kind dictionaries where they can; any
other table, or files whose statistics prove less, by one scan of the rows,
which raises on the first bad row and names it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from leadscore.exceptions import InvalidEventError
from leadscore.model._events import SPECIAL_KINDS

from ._columns import AT
from ._source import FILE, RAW, ROW, Source

if TYPE_CHECKING:
    import ibis.expr.types as ir


def _statistics(group: Any) -> dict[str, Any]:
    """A Parquet row group's column statistics by column name (None: none kept)."""
    return {
        group.column(j).path_in_schema: group.column(j).statistics
        for j in range(group.num_columns)
    }


def _may_hold_special(low: str, high: str) -> bool:
    """Whether a special kind lies in a row group's kind range ``[low, high]``."""
    return any(low <= k <= high for k in SPECIAL_KINDS)


def _from_statistics(
    files: Sequence[str], names: dict[str, str | None]
) -> dict[str, Any] | None:
    """The checks and profile of Parquet files from their statistics alone.

    Every row group's statistics (null counts, min and max) can prove that no
    contact or kind is missing or empty, that no instant is missing, that no
    value is infinite; the profile's earliest instant is the least min. The
    special kinds are known absent when none lies between any row group's min
    and max kind (``"specials"`` is None otherwise: a scan of the kind column
    finds them). Returns None when they prove less (then a scan checks every
    row): files without statistics, text instants, a row group that may hold a
    bad row.
    """
    import math
    from decimal import Decimal

    import pyarrow.parquet as pq

    from leadscore.model._events import to_micros

    first: int | None = None
    ids = maybe = False
    for name in files:
        meta = pq.read_metadata(name)
        for r in range(meta.num_row_groups):
            group = meta.row_group(r)
            if not group.num_rows:
                continue
            stats = _statistics(group)
            try:  # a min or max Python cannot hold (years past 9999) raises
                bounds = {
                    name: (st.min, st.max)
                    for name, st in stats.items()
                    if st is not None and st.has_min_max
                }
            except (OverflowError, ValueError):
                return None
            for field in ("contact", "kind", "at"):
                col = names[field] or ""
                st = stats.get(col)
                if st is None or not st.has_null_count or st.null_count:
                    return None
                low, _ = bounds.get(col, (None, None))
                if low is None or isinstance(low, bytes):
                    return None
                if isinstance(low, str) and not low:
                    return None  # maybe an empty string
            kmin, kmax = bounds[names["kind"] or ""]
            if not isinstance(kmin, str):
                return None
            if _may_hold_special(kmin, kmax):
                maybe = True
            at = bounds[names["at"] or ""][0]
            if not isinstance(at, dt.datetime) or at.tzinfo is None:
                return None
            first = min(to_micros(at), first if first is not None else to_micros(at))
            if names["id"] is not None:
                st = stats.get(names["id"])
                if st is None or not st.has_null_count:
                    return None
                ids = ids or st.null_count < group.num_rows
            if names["value"] is not None:
                st = stats.get(names["value"])
                if st is None or not st.has_null_count:
                    return None
                if st.null_count < group.num_rows:
                    low, high = bounds.get(names["value"], (None, None))
                    if not all(
                        isinstance(x, int | float | Decimal) and math.isfinite(x)
                        for x in (low, high)
                    ):
                        return None  # no bounds, or not numbers (float16: bytes)
    # Special kinds a row group's range may hold are looked for by the caller.
    return {
        "has_ids": ids,
        "first_us": first or 0,
        "specials": None if maybe else frozenset(),
    }


def _from_dictionaries(files: Sequence[str], kind: str) -> frozenset[str]:
    """The special kinds present in Parquet files, from their kind dictionaries.

    Only the row groups whose kind range (statistics) holds a special kind are
    read, as dictionary arrays: a dictionary page lists the values of its
    column chunk, so the specials are looked for among a few dozen strings
    rather than compared with every row (pyarrow builds a dictionary for a
    chunk written without one). Three times faster than a scan of the column.
    """
    import pyarrow.parquet as pq

    specials = sorted(SPECIAL_KINDS)
    found: set[str] = set()
    for name in files:
        f = pq.ParquetFile(name, read_dictionary=[kind])
        meta = f.metadata
        for r in range(meta.num_row_groups):
            group = meta.row_group(r)
            st = _statistics(group).get(kind)
            if (
                st is not None
                and st.has_min_max
                and not _may_hold_special(st.min, st.max)
            ):
                continue  # (the statistics' bounds are str: _from_statistics)
            column = f.read_row_group(r, columns=[kind]).column(0)
            for chunk in column.chunks:
                values = chunk.dictionary if hasattr(chunk, "dictionary") else chunk
                found.update(k for k in specials if values.index(k).as_py() >= 0)
    return frozenset(found)


def _special_counts(t: ir.Table) -> dict[str, Any]:
    """Aggregates counting each special kind's rows (read by :func:`_present`)."""
    import ibis

    return {
        f"_ls_k{i}": ibis.cases((t["kind"] == k, 1), else_=0).sum()
        for i, k in enumerate(sorted(SPECIAL_KINDS))
    }


def _present(found: Mapping[str, Any]) -> frozenset[str]:
    """The special kinds with rows, from the :func:`_special_counts` of a scan."""
    kinds = sorted(SPECIAL_KINDS)
    return frozenset(k for i, k in enumerate(kinds) if found[f"_ls_k{i}"])


def _check_rows(source: Source, names: dict[str, str | None]) -> None:
    """Raise on the first bad row: empty contact or kind, no instant, bad value."""
    import ibis

    t = source.table
    tests = {
        "contact": t["contact"].isnull() | (t["contact"] == ""),
        "kind": t["kind"].isnull() | (t["kind"] == ""),
        "at": t[AT].isnull(),
        "value": t["value"].isinf(),
    }
    counts = t.aggregate(
        # What the compiler needs to know, in the same scan as the checks.
        _ls_ids=t["id"].count(),
        _ls_first=t[AT].min(),
        **_special_counts(t),
        **{f: ibis.cases((test, 1), else_=0).sum() for f, test in tests.items()},
    )
    found = source.execute(counts)[0]
    source.profile.update(
        has_ids=bool(found["_ls_ids"]),
        first_us=int(found["_ls_first"] or 0),
        specials=_present(found),
    )
    for field, test in tests.items():
        if found[field]:
            bad = t.filter(test)
            if ROW in t.columns:
                bad = bad.order_by([c for c in (FILE, ROW) if c in t.columns])
            row = source.execute(bad.limit(1))[0]
            shown = row.get(field) if field != "at" else row.get(RAW)
            col = names[field] or field
            raise InvalidEventError(
                f"column {col!r} ({field}): {_problem(field, shown)}",
                field=field,
                value=shown,
                where=source.where(row),
            )


def _problem(field: str, value: Any) -> str:
    if field == "at":
        if value is None:
            return "no instant"
        return (
            f"{value!r} is not an instant: give ISO 8601 with an offset "
            f"(2024-05-01T10:00:00Z), or tz='UTC' for naive times"
        )
    if field == "value":
        return f"{value!r} is not a finite number"
    return f"{value!r} is empty; every event names a {field}"
