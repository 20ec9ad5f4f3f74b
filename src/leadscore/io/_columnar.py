"""The columnar reading of an EventReader: a file in, one Arrow table out.

``EventReader.to_arrow()`` reads a CSV, JSON Lines or Parquet file (or a
DataFrame, an Arrow table) as columns with PyArrow's multithreaded readers and
types them without building one Python object per row. The table has the layout
``leadscore.frame`` reads: ``contact``, ``kind`` (str), ``at``
(``timestamp[us, tz=UTC]``), ``id`` (str or null), ``value`` (float64, never
null), then one column per attribute (str, int64, float64 or bool; null where an
event has no such attribute).

The row path (iterating the reader) is the definition; this module must give
the same events and name the same bad rows. It does so in two tiers:

- Cells are converted by vectorised Arrow kernels where the result is known to
  equal the row path's (``"2024-05-01T09:30:00+02:00"`` cast to a timestamp,
  digits as epoch numbers, int and float columns); a column of few distinct
  values (kinds, attribute cells, values) is converted value by value with the
  row path's own cell functions, each distinct value once.
- A row any tier cannot vouch for (an empty contact, a special kind, a cell the
  kernels refuse) is *slow*: its record is rebuilt as the row path builds it and
  handed to the row path's own ``_build``, which returns its event or the bad
  row's error word for word.

What a table cannot hold (an attribute that is text in one row and a number in
another, tuples) raises :class:`NotColumnar`; a source the fast readers refuse
(a CSV row with a wrong number of cells, invalid UTF-8, a JSON document) is read
by the row path and its events put into columns.
"""

from __future__ import annotations

import csv
import mmap
import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from leadscore.model._events import to_micros

from ._by_value import attr_type
from ._columns import Columns

if TYPE_CHECKING:
    import pyarrow as pa

    from ._read import EventReader

__all__ = ["read_table"]


class _Fallback(Exception):  # noqa: N818 - control flow, never leaves this module
    """The fast readers cannot read this source: read it row by row instead."""


# -- the entry point ------------------------------------------------------------------


def read_table(reader: EventReader) -> pa.Table:
    """The events of *reader* as one Arrow table (see the module docstring)."""
    reader.errors, reader.rows, reader.events = [], 0, 0
    try:
        raw, text, lines = _raw(reader)
    except _Fallback:
        return _from_events(reader)
    found = _jsonl_records if reader.format == "jsonl" else None
    return Columns(reader, raw, text=text, lines=lines, records=found).table()


# -- sources as raw tables of cells --------------------------------------------------


_Lines = Callable[[list[int]], dict[int, int | None]]


def _no_lines(rows: list[int]) -> dict[int, int | None]:
    del rows
    return {}


def _raw(reader: EventReader) -> tuple[pa.Table, bool, _Lines]:
    """The source's cells as a table, whether they are CSV text, and its line finder.

    Raises:
        _Fallback: the fast readers cannot read it exactly as the row path does.
    """
    import pyarrow as pa

    fmt = reader.format
    if fmt == "csv":
        return _csv(reader), True, lambda rows: _csv_lines(reader, rows)
    if fmt == "jsonl":
        return _jsonl(reader), False, lambda rows: _jsonl_lines(reader, rows)
    if fmt == "parquet":
        return _parquet(reader), False, _no_lines
    if fmt == "arrow":
        source = reader.source
        table = source if isinstance(source, pa.Table) else pa.table(source)
    elif fmt == "polars":
        table = reader.source.to_arrow()
    elif fmt == "pandas":
        try:
            table = pa.Table.from_pandas(reader.source, preserve_index=False)
        except (pa.ArrowException, ValueError, TypeError):
            raise _Fallback from None  # mixed objects ...: the row path reads them
    else:
        raise _Fallback
    if fmt == "pandas" or table.to_batches():  # as the row path: on a first batch
        reader._check_header(table.column_names)  # noqa: SLF001
    return _flat(table), False, _no_lines


def _parquet(reader: EventReader) -> pa.Table:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        schema = pq.read_schema(reader.source)
    except (OSError, pa.ArrowException):
        raise _Fallback from None  # the row path names the file
    reader._check_header(schema.names)  # noqa: SLF001 - the reader's own check
    try:
        return _flat(pq.read_table(reader.source))
    except (OSError, pa.ArrowException):
        raise _Fallback from None


def _flat(table: pa.Table) -> pa.Table:
    """Nested columns as dotted names, as the row path flattens them."""
    import pyarrow as pa

    while any(pa.types.is_struct(t) for t in table.schema.types):
        table = table.flatten()
    names = table.column_names
    if len(set(names)) != len(names) or "" in names:
        raise _Fallback
    return table


def _header(reader: EventReader) -> tuple[list[str], str]:
    """The header row of a CSV file and its delimiter, as the row path reads them."""
    from ._text import _sniff

    with reader._open_text() as (text, _, _):  # noqa: SLF001
        try:
            sample = text.read(65536)
        except UnicodeDecodeError:
            raise _Fallback from None
    tsv = ".tsv" in Path(reader.source).suffixes
    delimiter = "\t" if tsv else _sniff(sample)
    if "\n" not in sample and "\r" not in sample and len(sample) == 65536:
        raise _Fallback  # a header longer than the sample
    try:
        header = next(csv.reader(sample.splitlines(), delimiter=delimiter), [])
    except csv.Error:
        raise _Fallback from None
    return header, delimiter


def _csv(reader: EventReader) -> pa.Table:
    import pyarrow as pa
    from pyarrow import csv as pcsv

    header, delimiter = _header(reader)
    reader._check_header(header)  # noqa: SLF001
    if len(set(header)) != len(header) or "" in header or any('"' in h for h in header):
        raise _Fallback
    refused: list[object] = []

    def invalid(row: object) -> str:
        refused.append(row)
        return "skip"

    # Quoted cells may hold line breaks; a file without quotes has none, and
    # Arrow reads it faster knowing that.
    quoted = _has(reader, (b'"',))
    try:
        table = pcsv.read_csv(
            reader.source,
            parse_options=pcsv.ParseOptions(
                delimiter=delimiter,
                newlines_in_values=quoted,
                invalid_row_handler=invalid,
            ),
            convert_options=pcsv.ConvertOptions(
                column_types=dict.fromkeys(header, pa.string()),
                strings_can_be_null=True,
                null_values=[""],
            ),
        )
    except (OSError, pa.ArrowException):
        raise _Fallback from None  # invalid UTF-8, a broken gzip ...: the row path
    if refused or table.column_names != header:
        raise _Fallback  # a row of the wrong width: the row path names it
    # NUL characters: rare, and the row path names them. A compressed file is
    # not scanned: its text columns are.
    compressed = Path(reader.source).suffix == ".gz"
    if _has(reader, (b"\x00",)) if not compressed else _nul_in(table):
        raise _Fallback
    return table


def _nul_in(table: pa.Table) -> bool:
    import pyarrow.compute as pc

    return any(pc.any(pc.match_substring(c, "\x00")).as_py() for c in table.columns)


def _jsonl(reader: EventReader) -> pa.Table:
    import pyarrow as pa
    from pyarrow import json as pjson

    if _has(reader, (b"\x00", b"\\u0000")):
        raise _Fallback
    try:
        # Arrow's JSON reader takes text that looks like a date for a timestamp;
        # the row path keeps it as text: read such keys as text.
        inferred = _json_schema(reader.source)
        schema = pa.schema([f.with_type(_as_text(f.type)) for f in inferred])
        table = pjson.read_json(
            reader.source,
            parse_options=pjson.ParseOptions(
                explicit_schema=schema, unexpected_field_behavior="infer"
            ),
        )
    except (OSError, pa.ArrowException):
        raise _Fallback from None  # not JSON, types changing within a key ...
    if not all(_json_kind(kind) for kind in table.schema.types):
        raise _Fallback  # lists, timestamps inferred in later blocks ...
    # No header check: the row path reads a record without "at" as a bad row.
    return _flat(table)


def _json_schema(path: Any) -> pa.Schema:
    """The types Arrow infers for a JSON Lines file (from its first block)."""
    from pyarrow import json as pjson

    if hasattr(pjson, "open_json"):  # pyarrow 19: a streaming reader
        with pjson.open_json(path) as stream:
            return stream.schema
    return pjson.read_json(path).schema  # pragma: no cover - older pyarrow


def _as_text(kind: Any) -> Any:
    """*kind* with every date, time and timestamp type made text."""
    import pyarrow as pa

    t = pa.types
    if t.is_timestamp(kind) or t.is_date(kind) or t.is_time(kind):
        return pa.string()
    if t.is_struct(kind):
        return pa.struct([f.with_type(_as_text(f.type)) for f in kind])
    return kind


def _json_kind(kind: Any) -> bool:
    """Whether a type the JSON reader inferred is what the row path reads there."""
    import pyarrow as pa

    t = pa.types
    if t.is_struct(kind):
        return all(_json_kind(f.type) for f in kind)
    return bool(
        t.is_string(kind)
        or t.is_int64(kind)
        or t.is_float64(kind)
        or t.is_boolean(kind)
        or t.is_null(kind)
    )


def _has(reader: EventReader, needles: tuple[bytes, ...]) -> bool:
    """Whether a file might hold one of *needles* (compressed files: assume so)."""
    path = Path(reader.source)
    if path.suffix == ".gz":
        return True
    with path.open("rb") as f:
        if os.fstat(f.fileno()).st_size == 0:
            return False
        with mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as data:
            return any(data.find(n) >= 0 for n in needles)


def _csv_lines(reader: EventReader, rows: list[int]) -> dict[int, int | None]:
    """The first line of each data row *rows* (from 1), counted as the row path does."""
    wanted: set[int] = set(rows)
    out: dict[int, int | None] = {}
    last = max(rows, default=0)
    with reader._open_text() as (text, _, _):  # noqa: SLF001
        _, delimiter = _header(reader)
        lines = csv.reader(text, delimiter=delimiter)
        next(lines, None)
        end, count = lines.line_num, 0
        for cells in lines:
            start, end = end + 1, lines.line_num
            if not cells:
                continue
            count += 1
            if count in wanted:
                out[count] = start
                if count >= last:
                    break
    return out


def _jsonl_lines(reader: EventReader, rows: list[int]) -> dict[int, int | None]:
    """The line of each data row *rows* (from 1) of a JSON Lines file."""
    return {row: line for row, (line, _) in _jsonl_records(reader, rows).items()}


def _jsonl_records(
    reader: EventReader, rows: list[int]
) -> dict[int, tuple[int | None, dict[str, Any]]]:
    """The records of data rows *rows* (from 1), as the row path reads them.

    Read from the file again: a key that is absent is not a key that is null.
    """
    import itertools

    wanted, last = set(rows), max(rows, default=0)
    records = reader._jsonl()  # noqa: SLF001 - the row path's own reading
    picked = enumerate(itertools.islice(records, last), start=1)
    return {count: record for count, record in picked if count in wanted}


# -- the row path's events as columns -----------------------------------------------


def _from_events(reader: EventReader) -> pa.Table:
    """Read *reader* row by row and put its events into columns."""
    import pyarrow as pa

    contacts, kinds, ats, ids, values = [], [], [], [], []
    attrs: dict[str, list[Any]] = {}
    for count, event in enumerate(reader):
        contacts.append(event.contact)
        kinds.append(event.kind)
        ats.append(to_micros(event.at))
        ids.append(event.id)
        values.append(event.value)
        for key, value in event.attrs.items():
            column = attrs.get(key)
            if column is None:
                column = attrs[key] = [None] * count
            column.append(value)
        for column in attrs.values():
            if len(column) <= count:
                column.append(None)
    columns = {
        "contact": pa.array(contacts, pa.string()),
        "kind": pa.array(kinds, pa.string()),
        "at": pa.array(ats, pa.int64()).cast(pa.timestamp("us", tz="UTC")),
        "id": pa.array(ids, pa.string()),
        "value": pa.array(values, pa.float64()),
    }
    for key, column in attrs.items():
        kind = attr_type(key, column)
        columns[key] = pa.array(
            [float(v) if v is not None and kind == pa.float64() else v for v in column],
            kind,
        )
    return pa.table(columns)
