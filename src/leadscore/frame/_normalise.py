"""One normalised table from any event table: columns mapped, typed and named.

The event fields are found by name (or by ``columns=``), checked for their types
and cast to the normalised columns (see :mod:`leadscore.frame._sources`); the
instants become integer microseconds by a function of the engine's that reads
no session zone. Every other column is an attribute, typed str, int, float or
bool. Then the rows are checked (:mod:`._checks`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from leadscore.exceptions import InvalidEventError

from ._checks import _check_rows, _from_dictionaries, _from_statistics
from ._columns import AT, PREFIX, TS
from ._source import FIELDS, FILE, KEY, RAW, ROW, Source

if TYPE_CHECKING:
    import ibis.expr.types as ir

__all__ = ["OFFSET", "epoch_us"]


def _attr_kind(dtype: Any) -> str | None:
    if dtype.is_string():
        return "str"
    if dtype.is_boolean():
        return "bool"
    if dtype.is_integer():
        return "int"
    if dtype.is_floating() or dtype.is_decimal():
        return "float"
    if dtype.is_null():
        return None
    return "?"


def _normalise(
    t: ir.Table,
    mapping: dict[str, str],
    tz: str | None,
    backend: Any,
    deliver: Any,
    *,
    lines: bool = False,
    bytewise: bool = False,
    parquet: Sequence[str] = (),
) -> Source:
    import ibis

    engine = getattr(backend, "name", "")
    names = dict.fromkeys(FIELDS)
    have = sorted(c for c in t.columns if c not in (ROW, FILE))
    for field in FIELDS:
        col = mapping.get(field, field)
        if col in t.columns:
            names[field] = col
        elif field in mapping:
            raise InvalidEventError(
                f"columns[{field!r}] names the column {col!r}, which the events do "
                f"not have (they have {have})",
                field=f"columns[{field!r}]",
                value=col,
            )
        elif field in {"contact", "kind", "at"}:
            raise InvalidEventError(
                f"the events have no {field!r} column (they have {have}); name it "
                f"with columns={{{field!r}: ...}}",
                field=field,
                value=None,
            )
    schema = t.schema()
    used = {c for c in names.values() if c is not None}
    out: dict[str, Any] = {}
    for field in ("contact", "kind"):
        named = names[field]
        assert named is not None
        dtype = schema[named]
        col = named
        if dtype.is_integer():
            out[field] = t[col].cast("string")
            if field == "contact":  # grouped on as it is, where that is cheaper
                out[KEY] = t[col]
        elif dtype.is_string():
            out[field] = t[col]
        else:
            raise _type_error(field, col, dtype, "strings")
    out[AT] = _instants(t, names["at"], schema, tz, engine)
    if schema[names["at"]].is_string():  # the text, for the error that names it
        out[RAW] = t[names["at"]]
    at_type = schema[names["at"]]
    if engine == "duckdb" and at_type.is_timestamp() and at_type.scale in {None, 6}:
        # The instant as given: a filter on it reaches the Parquet scan (row
        # groups skipped by their statistics), one on epoch_us(at) does not.
        # Microseconds, so that both filters keep the same rows.
        out[TS] = t[names["at"]]
    if names["id"] is None:
        out["id"] = ibis.literal(None, type="string")
    else:
        col = names["id"]
        dtype = schema[col]
        if not (dtype.is_string() or dtype.is_integer() or dtype.is_null()):
            raise _type_error("id", col, dtype, "strings")
        out["id"] = t[col].cast("string")
    if names["value"] is None:
        out["value"] = ibis.literal(0.0)
    else:
        col = names["value"]
        dtype = schema[col]
        if not (dtype.is_numeric() or dtype.is_null()) or dtype.is_boolean():
            raise _type_error("value", col, dtype, "numbers")
        value = t[col].cast("float64")
        # A null cell (None, NaN, NA) is 0.0.
        out["value"] = ibis.cases((value.isnan(), 0.0), else_=value).fill_null(0.0)
    types: dict[str, str] = {}
    for col in t.columns:
        if col in used or col in (ROW, FILE):
            continue
        if col.startswith(PREFIX):
            raise InvalidEventError(
                f"attribute column {col!r}: names starting with {PREFIX!r} are "
                f"reserved",
                field=col,
                value=col,
            )
        kind = _attr_kind(schema[col])
        if kind is None:
            continue  # no event has it
        if kind == "?":
            raise _type_error(
                f"attrs[{col!r}]", col, schema[col], "str, int, float or bool"
            )
        types[col] = kind
        cell = t[col].cast("float64") if schema[col].is_decimal() else t[col]
        if kind == "float":  # NaN is a null cell: no such attribute
            cell = ibis.cases((cell.isnan(), ibis.null("float64")), else_=cell)
        out[col] = cell
    for extra in (ROW, FILE):
        if extra in t.columns:
            out[extra] = t[extra]
    table = t.select(**out)
    source = Source(table, types, backend, deliver, bytewise=bytewise, lines=lines)
    known = _from_statistics(parquet, names) if parquet else None
    if known is None:
        _check_rows(source, names)
    else:
        if known["specials"] is None:
            known["specials"] = _from_dictionaries(parquet, names["kind"] or "")
        source.profile.update(known)
    return source


def _type_error(field: str, col: str, dtype: Any, want: str) -> InvalidEventError:
    return InvalidEventError(
        f"column {col!r} ({field}) has type {dtype}; it must hold {want}",
        field=field,
        value=str(dtype),
    )


def _instants(
    t: ir.Table, col: str | None, schema: Any, tz: str | None, engine: str
) -> Any:
    """Microseconds since the epoch of an aware timestamp column (UTC)."""
    assert col is not None
    dtype = schema[col]
    if dtype.is_string() and engine == "duckdb":
        return epoch_us(_parsed(t[col], tz), engine)
    if dtype.is_string():
        raise InvalidEventError(
            f"column {col!r} (at) holds text; give timestamps with a time zone (or "
            f"parse the column first)",
            field="at",
            value=str(dtype),
        )
    if not dtype.is_timestamp():
        raise _type_error("at", col, dtype, "aware timestamps")
    # Spark's TIMESTAMP is an instant (shown in the session zone); Ibis calls it
    # naive.
    if dtype.timezone is None and tz != "UTC" and engine != "pyspark":
        raise InvalidEventError(
            f"column {col!r} (at) holds naive timestamps; say they are UTC with "
            f"tz='UTC', or give aware timestamps",
            field="at",
            value=str(dtype),
        )
    return epoch_us(t[col], engine)


#: An ISO 8601 instant: a time of day, then its offset (Z, +hh, +hhmm or +hh:mm).
OFFSET = (
    r"[T ][0-9]{2}:[0-9]{2}(:[0-9]{2}([.,][0-9]+)?)?([Zz]|[+-][0-9]{2}(:?[0-9]{2})?)$"
)


def _parsed(text: Any, tz: str | None) -> Any:
    """ISO 8601 text as an aware timestamp; null where it is not an instant.

    Only on an embedded DuckDB, whose session zone leadscore sets to UTC: naive
    text (no offset) is read as UTC when ``tz="UTC"`` and refused otherwise.
    """
    import ibis

    parsed = text.try_cast("timestamp('UTC')")
    if tz == "UTC":
        return parsed
    return ibis.cases(
        (text.re_search(OFFSET), parsed), else_=ibis.null("timestamp('UTC')")
    )


def epoch_us(at: Any, engine: str) -> Any:
    """Microseconds since the epoch, by a function that reads no session zone.

    Each engine has its own: DuckDB ``epoch_us``, Spark ``unix_micros``,
    PostgreSQL ``extract(epoch)`` (exact numeric), Polars through seconds and the
    microsecond of the second; elsewhere Ibis's timestamp difference.
    """
    import ibis

    from . import _udf

    if engine == "duckdb":
        return _udf.epoch_us(at)
    if engine == "pyspark":
        return _udf.unix_micros(at)
    if engine == "postgres":
        return (_udf.date_part("epoch", at) * 1_000_000).cast("int64")
    if engine == "polars":
        return at.epoch_seconds().cast("int64") * 1_000_000 + at.microsecond()
    epoch = ibis.literal(dt.datetime(1970, 1, 1, tzinfo=dt.UTC), type=at.type())
    return at.delta(epoch, unit="microsecond")
