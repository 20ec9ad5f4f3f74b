"""Event tables in, one normalised Ibis table out, checked row by row.

Every input kind (pandas, Polars, PyArrow, an Ibis table on any backend, a PySpark
DataFrame, a path or glob of Parquet / CSV files) becomes an Ibis table with the
columns ``contact``, ``kind`` (str), ``_ls_at`` (int64 microseconds since the epoch,
UTC), ``id`` (str or null), ``value`` (float64, never null) and one column per
attribute; ``_ls_row`` (and ``_ls_file``) say where a row came from, for errors.
The checks run as queries on the input's own engine, before anything is scored, so
that a bad row raises and nothing partial is returned.
"""

from __future__ import annotations

import datetime as dt
import glob
import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from leadscore.exceptions import InvalidEventError
from leadscore.model._events import SPECIAL_KINDS

from ._columns import AT, PREFIX, TS

if TYPE_CHECKING:
    import ibis.expr.types as ir

__all__ = ["FIELDS", "Source", "load"]

#: The event fields a table names with its columns.
FIELDS = ("contact", "kind", "at", "id", "value")
ROW, FILE, RAW = "_ls_row", "_ls_file", "_ls_raw"
#: The contact as the input gave it, when that is an integer (see :mod:`._rfm`).
KEY = "_ls_key"
#: Rows per Arrow batch handed to DuckDB (its row-group size).
BATCH = 122_880


@attrs.frozen
class Source:
    """A normalised, checked event table and how to hand a result back.

    Attributes:
        table: The normalised table (see the module docstring).
        types: ``{attribute column: "str" | "int" | "float" | "bool"}``.
        deliver: Turns a result table into what the caller gave (pandas ...).
        bytewise: Order strings as bytes (the engine's collation may not).
        lines: Rows of a CSV file are reported as lines (header + 1).
    """

    table: ir.Table
    types: dict[str, str]
    backend: Any
    deliver: Callable[[Any, ir.Table], Any]
    bytewise: bool = False
    lines: bool = False
    #: Filled by the checks: ``has_ids``, ``first_us`` and the ``specials`` present.
    profile: dict[str, Any] = attrs.field(factory=dict)

    def where(self, row: Mapping[str, Any]) -> str:
        """Where a row came from: file and line or row, or its position."""
        pos = row.get(ROW)
        name = row.get(FILE)
        if pos is None:
            return "a row"
        pos = int(pos)
        place = f"line {pos + 2}" if self.lines else f"row {pos}"
        return f"{name}, {place}" if name else place

    def execute(self, expr: ir.Table) -> list[dict[str, Any]]:
        """Run *expr* on the source's engine; rows as dicts."""
        return self.backend.to_pyarrow(expr).to_pylist()  # type: ignore[no-any-return]

    def result(self, expr: ir.Table) -> Any:
        """*expr* as the kind of table the caller gave."""
        return self.deliver(self.backend, expr)

    def result_of(self, arrow: Any) -> Any:
        """An Arrow table computed in Python, as the kind of table the caller gave."""
        import ibis

        if self.deliver is _to_arrow:
            return arrow
        if self.deliver is _to_polars:
            import polars as pl

            return pl.from_arrow(arrow)
        if self.deliver is _to_pandas:
            return arrow.to_pandas()
        if getattr(self.backend, "name", "") == "pyspark":
            return self.backend._session.createDataFrame(arrow.to_pandas())  # noqa: SLF001
        return ibis.memtable(arrow)

    def runs(self, expr: ir.Table) -> bool:
        """Whether the engine can run *expr* (Ibis's Polars backend has no windows)."""
        from ibis.common.exceptions import (
            OperationNotDefinedError,
            UnsupportedOperationError,
        )

        if getattr(self.backend, "name", "") != "polars":
            return True
        try:
            self.backend.compile(expr)
        except (OperationNotDefinedError, UnsupportedOperationError):
            return False
        return True

    def on_duckdb(self) -> Source:
        """The same table read into an embedded DuckDB (for what the engine lacks).

        The result is then computed at once: an Ibis caller gets an in-memory
        table of it, any other caller the kind it gave.
        """
        import ibis

        arrow = self.backend.to_pyarrow(self.table)
        deliver = self.deliver
        if deliver is _unexecuted:
            deliver = _in_memory
        return Source(
            ibis.memtable(arrow), self.types, _duckdb(), deliver, profile=self.profile
        )


#: The libraries whose tables ``load`` reads in their own way.
_KNOWN = frozenset({"pandas", "polars", "pyarrow", "pyspark"})


def _module(x: object) -> str:
    """The library of *x*'s class, or of the first known one it derives from."""
    for cls in type(x).__mro__:
        name = cls.__module__.split(".")[0]
        if name in _KNOWN:
            return name
    return type(x).__module__.split(".")[0]


def load(
    events: Any, *, columns: Mapping[str, str] | None = None, tz: str | None = None
) -> Source:
    """Normalise and check *events*; see :func:`leadscore.frame.score`."""
    try:
        import ibis
        import pyarrow as pa  # every input kind passes through Arrow
    except ImportError as error:
        msg = (
            f"leadscore.frame needs the frame extra ({error.name} is missing): "
            f"pip install 'leadscore[frame]'"
        )
        raise ImportError(msg, name=error.name) from error

    mapping = _mapping(columns)
    kind = _module(events)
    if isinstance(events, str | os.PathLike):
        con, table, lines, parquet = _files(events)
        source = _normalise(
            table, mapping, tz, con, _to_pandas, lines=lines, parquet=parquet
        )
    elif kind == "pandas":
        import pyarrow as pa  # every input kind passes through Arrow

        arrow = pa.Table.from_pandas(events, preserve_index=False)
        source = _local(arrow, mapping, tz, _to_pandas)
    elif kind == "polars":
        arrow = events.lazy().collect().to_arrow()
        source = _local(arrow, mapping, tz, _to_polars)
    elif kind == "pyarrow":
        source = _local(_arrow_table(events), mapping, tz, _to_arrow)
    elif kind == "pyspark":
        source = _spark(events, mapping, tz)
    elif isinstance(events, ibis.expr.types.Table):
        backend = _backend_of(events)
        name = getattr(backend, "name", "")
        source = _normalise(
            events, mapping, tz, backend, _unexecuted, bytewise=name == "postgres"
        )
    elif hasattr(events, "__arrow_c_stream__"):
        # leadscore.io.read_events(...) (typed columns, bad rows named by file and
        # line), DuckDB relations, any Arrow stream: an Arrow table out.
        source = _local(pa.table(events), mapping, tz, _to_arrow)
    else:
        raise InvalidEventError(
            f"events must be a pandas or Polars DataFrame, a PyArrow Table, an Ibis "
            f"table, a PySpark DataFrame or a path of Parquet / CSV files, not "
            f"{type(events).__name__}",
            field="events",
            value=type(events).__name__,
        )
    return source


def _mapping(columns: Mapping[str, str] | None) -> dict[str, str]:
    """``{field: column}`` from the caller's ``columns=``, checked."""
    mapping = dict(columns or {})
    for key, col in mapping.items():
        if key not in FIELDS:
            raise InvalidEventError(
                f"columns= maps event fields {FIELDS} to column names; {key!r} is not "
                f"a field",
                field="columns",
                value=key,
            )
        if not isinstance(col, str) or not col:
            raise InvalidEventError(
                f"columns[{key!r}] must name a column, not {col!r}",
                field=f"columns[{key!r}]",
                value=col,
            )
    return mapping


def _arrow_table(x: Any) -> Any:
    import pyarrow as pa

    if isinstance(x, pa.RecordBatchReader):
        return x.read_all()
    if isinstance(x, pa.RecordBatch):
        return pa.Table.from_batches([x])
    return x


def _to_pandas(backend: Any, expr: ir.Table) -> Any:
    return backend.to_pyarrow(expr).to_pandas()


def _to_polars(backend: Any, expr: ir.Table) -> Any:
    import polars as pl

    return pl.from_arrow(backend.to_pyarrow(expr))


def _to_arrow(backend: Any, expr: ir.Table) -> Any:
    return backend.to_pyarrow(expr)


def _unexecuted(backend: Any, expr: ir.Table) -> Any:
    del backend
    return expr


def _in_memory(backend: Any, expr: ir.Table) -> Any:
    import ibis

    return ibis.memtable(backend.to_pyarrow(expr))


def _duckdb() -> Any:
    import ibis

    con = ibis.duckdb.connect()
    # Nothing here reads the session zone, but results never should.
    con.raw_sql("SET TimeZone = 'UTC'")
    return con


def _local(arrow: Any, mapping: dict[str, str], tz: str | None, deliver: Any) -> Source:
    """An in-memory Arrow table, numbered, on an embedded DuckDB."""
    import ibis
    import numpy as np
    import pyarrow as pa

    if ROW in arrow.column_names:
        arrow = arrow.drop_columns([ROW])
    rows = pa.array(np.arange(arrow.num_rows, dtype=np.int64))
    arrow = arrow.append_column(ROW, rows)
    # DuckDB scans an Arrow table one batch per thread: slices of its row-group
    # size (zero-copy) let every core work on a table built as one chunk.
    arrow = pa.Table.from_batches(arrow.to_batches(max_chunksize=BATCH), arrow.schema)
    return _normalise(ibis.memtable(arrow), mapping, tz, _duckdb(), deliver)


def _files(path: str | os.PathLike[str]) -> tuple[Any, Any, bool, list[str]]:
    """Parquet or CSV files (a path, a directory or a glob) on an embedded DuckDB.

    Returns the connection, the table, whether rows are CSV lines, and the
    Parquet files (none for CSV).
    """
    text = os.fspath(path)
    p = Path(text)
    pattern = str(p / "**" / "*") if p.is_dir() else text
    names = sorted(
        f
        for f in glob.glob(pattern, recursive=True)  # noqa: PTH207 - a user's glob
        if Path(f).is_file()
    )
    if not names:
        raise InvalidEventError(f"no file matches {text!r}", field="events", value=text)
    suffixes = {Path(f).suffix.lower() for f in names}
    if p.is_dir():
        suffixes &= {".parquet", ".csv"}
        names = [f for f in names if Path(f).suffix.lower() in suffixes]
    if len(suffixes) != 1 or next(iter(suffixes)) not in {".parquet", ".pq", ".csv"}:
        raise InvalidEventError(
            f"{text!r} must name Parquet (.parquet) or CSV (.csv) files, one kind "
            f"at a time; found {sorted(suffixes)}",
            field="events",
            value=text,
        )
    con = _duckdb()
    if next(iter(suffixes)) == ".csv":
        return con, _csv(names), True, []
    table = con.read_parquet(names, filename=True, file_row_number=True)
    table = table.rename({FILE: "filename", ROW: "file_row_number"})
    return con, table, False, names


def _csv(names: list[str]) -> Any:
    """CSV files read by Arrow (types inferred per column), numbered by line."""
    import ibis
    import pyarrow as pa
    from pyarrow import csv

    parts = []
    for name in names:
        part = csv.read_csv(name)
        n = part.num_rows
        part = part.append_column(ROW, pa.array(range(n), pa.int64()))
        parts.append(part.append_column(FILE, pa.array([name] * n, pa.string())))
    return ibis.memtable(pa.concat_tables(parts, promote_options="permissive"))


def _backend_of(t: Any) -> Any:
    try:
        return t._find_backend()  # noqa: SLF001
    except Exception:  # noqa: BLE001 - an unbound table: the default backend
        import ibis

        return ibis.get_backend()


def _spark(df: Any, mapping: dict[str, str], tz: str | None) -> Source:
    """A PySpark DataFrame through Ibis's PySpark backend; a PySpark DataFrame out."""
    import ibis

    session = df.sparkSession
    con = ibis.pyspark.connect(session)
    name = f"{PREFIX}events_{id(df):x}"
    df.createOrReplaceTempView(name)
    table = con.table(name)

    def deliver(backend: Any, expr: ir.Table) -> Any:
        return session.sql(str(backend.compile(expr)))

    return _normalise(table, mapping, tz, con, deliver)


# -- normalising and checking -------------------------------------------------------


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
