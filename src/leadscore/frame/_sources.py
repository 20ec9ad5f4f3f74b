"""Event tables in, one normalised Ibis table out, checked row by row.

Every input kind (pandas, Polars, PyArrow, an Ibis table on any backend, a PySpark
DataFrame, a path or glob of Parquet / CSV files) becomes an Ibis table with the
columns ``contact``, ``kind`` (str), ``_ls_at`` (int64 microseconds since the epoch,
UTC), ``id`` (str or null), ``value`` (float64, never null) and one column per
attribute; ``_ls_row`` (and ``_ls_file``) say where a row came from, for errors.
The checks run as queries on the input's own engine, before anything is scored, so
that a bad row raises and nothing partial is returned.

This module reads each input kind onto its engine (:func:`load`); the columns
are normalised in :mod:`._normalise`, checked in :mod:`._checks`, and the result
is a :class:`~._source.Source`.
"""

from __future__ import annotations

import glob
import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from leadscore.exceptions import InvalidEventError

from ._columns import PREFIX
from ._normalise import _normalise
from ._source import (
    FIELDS,
    FILE,
    ROW,
    Source,
    _duckdb,
    _to_arrow,
    _to_pandas,
    _to_polars,
    _unexecuted,
)

if TYPE_CHECKING:
    import ibis.expr.types as ir

__all__ = ["FIELDS", "Source", "load"]


#: Rows per Arrow batch handed to DuckDB (its row-group size).
BATCH = 122_880


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
