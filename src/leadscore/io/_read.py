"""read_events: CSV, JSON Lines, JSON, Parquet and DataFrames in, Events out.

CSV and JSON use the standard library; Parquet, Arrow, pandas and Polars are
imported only when such a source is read.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import gzip
import io
import json
import os
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import IO, Any, Literal, TypeAlias, cast

import attrs

from leadscore.exceptions import InvalidEventError
from leadscore.model._events import Event
from leadscore.model._limits import shorten

from ._cells import (
    CellError,
    Epoch,
    check_tz,
    csv_attr,
    flatten,
    plain,
    to_at,
    to_number,
    to_text,
)
from ._exports import ExportFormat, resolve

__all__ = ["BadRow", "EventReader", "Format", "NotColumnar", "read_events"]

Format: TypeAlias = Literal["csv", "jsonl", "json", "parquet"]
OnError: TypeAlias = Literal["raise", "skip"]

_SUFFIXES: dict[str, Format] = {
    ".csv": "csv",
    ".tsv": "csv",
    ".txt": "csv",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "json",
    ".parquet": "parquet",
    ".pq": "parquet",
}
_DELIMITERS = (",", ";", "\t", "|")
_PROGRESS_EVERY = 8192  # rows between two calls of the progress hook
_ATTR_TYPES = frozenset({str, int, float, bool, tuple})
# The key of a record that is not a row of cells: (message, value).
_NOT_A_ROW = "\0row"

#: One record of a source: (line in a text file or None, the cells by column).
_Record: TypeAlias = tuple[int | None, dict[str, Any]]


@attrs.frozen
class BadRow:
    """A row that could not be read as an event (``read_events(on_error="skip")``).

    Attributes:
        source: The file (as given) or ``"DataFrame"``, ``"Arrow table"`` ...
        row: The row's position among the data rows, from 1.
        line: The line in a CSV or JSON Lines file (None for other sources).
        field: The Event field at fault (``"at"``, ``"attrs['x']"``), or
            ``"row"`` for a row that is not a record at all.
        column: The source column it came from, when there is one.
        value: The offending value.
        message: What is wrong, naming field and value.
    """

    source: str
    row: int
    line: int | None
    field: str
    column: str | None
    value: Any
    message: str

    @property
    def where(self) -> str:
        """``file:line`` for text files, ``source row N`` otherwise."""
        if self.line is not None:
            return f"{self.source}:{self.line}"
        return f"{self.source} row {self.row}"

    def __str__(self) -> str:
        """The full message: where, then what."""
        return f"{self.where}: {self.message}"

    def error(self) -> InvalidEventError:
        """This bad row as the error ``on_error="raise"`` raises."""
        return InvalidEventError(
            self.message, field=self.field, value=self.value, where=self.where
        )


class NotColumnar(InvalidEventError):  # noqa: N818 - a kind of InvalidEventError
    """The events cannot be one typed table: an attribute of mixed types, tuples.

    Raised by :meth:`EventReader.to_arrow`. Iterating the reader still gives
    every event; only the columnar reading (``to_arrow``, ``leadscore.frame``)
    needs one type per column.
    """


class _RowError(Exception):
    def __init__(
        self, field: str, column: str | None, value: Any, message: str
    ) -> None:
        super().__init__(message)
        self.field, self.column, self.value = field, column, value


class EventReader:
    """The events of one source, read again on every iteration.

    Returned by :func:`read_events`. Iterate it (``list(reader)``,
    ``ls.score(model, reader, as_of)``); a file is reopened on every pass, so it
    can be read twice without keeping the events in memory. After a pass:

    - ``errors``: the :class:`BadRow` of every row left out (``on_error="skip"``);
    - ``rows``: the data rows read; ``events``: the events yielded.

    The counts and errors are those of the latest pass (a pass stopped early
    reports the rows read so far).
    """

    def __init__(
        self,
        source: Any,
        *,
        format: Format | None = None,  # noqa: A002 - the documented name
        columns: Mapping[str, str] | ExportFormat | str | None = None,
        on_error: OnError = "raise",
        tz: str | dt.tzinfo | None = None,
        epoch: Epoch | None = None,
    ) -> None:
        """Check the arguments (the source is opened when iterated)."""
        self.export = resolve(columns)
        if on_error not in {"raise", "skip"}:
            raise InvalidEventError(
                f'on_error must be "raise" or "skip", got {on_error!r}',
                field="on_error",
                value=on_error,
            )
        try:
            self.tz = check_tz(tz)
        except CellError as e:
            raise InvalidEventError(str(e), field="tz", value=tz) from None
        self.epoch: Epoch = epoch or self.export.epoch
        if self.epoch not in {"auto", "s", "ms", "us", "ns"}:
            raise InvalidEventError(
                f'epoch must be "auto", "s", "ms", "us" or "ns", got {self.epoch!r}',
                field="epoch",
                value=self.epoch,
            )
        self.on_error: OnError = on_error
        self.format, self.name = _kind_of(source, format)
        if self.format == "records" and iter(source) is source:
            source = _Replay(source)  # a generator: read once, replayed after
        self.source = source
        #: Rows left out by the latest pass (``on_error="skip"``).
        self.errors: list[BadRow] = []
        #: Data rows read by the latest pass.
        self.rows = 0
        #: Events yielded by the latest pass.
        self.events = 0
        #: Called as ``progress(done, total)`` every few thousand rows, in bytes
        #: for CSV and JSON Lines files, in rows for Parquet (total may be None).
        self.progress: Callable[[int, int | None], None] | None = None
        fields = {f: f for f in ("contact", "kind", "at", "id", "value")}
        fields.update(self.export.columns)
        self._fields = fields
        self._mapped = frozenset(fields.values())

    def __repr__(self) -> str:
        """Show the source and the options."""
        return (
            f"EventReader({self.name!r}, format={self.format!r}, "
            f"columns={self.export.name!r}, on_error={self.on_error!r})"
        )

    def __iter__(self) -> Iterator[Event]:
        """Read the source from the start, yielding its events."""
        self.errors, self.rows, self.events = [], 0, 0
        return self._events()

    def _events(self) -> Iterator[Event]:
        build, errors, skip = self._build, self.errors, self.on_error == "skip"
        for number, (line, record) in enumerate(self._records(), start=1):
            self.rows = number
            try:
                event = build(record)
            except _RowError as e:
                bad = BadRow(
                    self.name, number, line, e.field, e.column, e.value, str(e)
                )
                if not skip:
                    raise bad.error() from None
                errors.append(bad)
                continue
            self.events += 1
            yield event

    # -- columns -------------------------------------------------------------------

    def to_arrow(self) -> Any:
        """The events as one PyArrow Table, read as columns (no Event per row).

        Columns ``contact``, ``kind``, ``at`` (``timestamp[us, tz=UTC]``), ``id``
        (str, null for none), ``value`` (float64), then one column per attribute
        (str, int64, float64 or bool; null where an event has no such
        attribute): the layout :mod:`leadscore.frame` reads. CSV and JSON Lines
        files are read by PyArrow's multithreaded readers, Parquet files and
        DataFrames as the columns they are; ``columns=``, ``tz=``, ``epoch=``
        and ``on_error=`` mean what they mean for iteration, and a bad row is
        named (file, line, field, value) or listed in ``errors`` word for word
        as iterating would. What the fast readers cannot read (a CSV row of the
        wrong width, invalid UTF-8, a JSON document, mappings) is read row by
        row and put into columns; the answer is the same.

        Needs ``pyarrow`` (``pip install leadscore[io]``).

        Raises:
            InvalidEventError: as iterating does; and
                :class:`~leadscore.io.NotColumnar` for events a table cannot
                hold (an attribute that is text in one row and a number in
                another, tuples).

        >>> from leadscore import io
        >>> rows = [{"contact": "ann", "kind": "page.viewed",
        ...          "at": "2024-05-01T09:00:00+02:00", "page": "/pricing"}]
        >>> io.read_events(rows).to_arrow().to_pylist()[0]["at"].isoformat()
        '2024-05-01T07:00:00+00:00'
        """
        from ._columnar import read_table

        return read_table(self)

    def to_pandas(self) -> Any:
        """The events as a pandas DataFrame (see :meth:`to_arrow`)."""
        return self.to_arrow().to_pandas()

    def to_polars(self) -> Any:
        """The events as a Polars DataFrame (see :meth:`to_arrow`)."""
        import polars as pl

        return pl.from_arrow(self.to_arrow())

    def __arrow_c_stream__(self, requested_schema: Any = None) -> Any:
        """The Arrow PyCapsule stream of :meth:`to_arrow` (``pa.table(reader)``)."""
        return self.to_arrow().__arrow_c_stream__(requested_schema)

    # -- one record -> one event ---------------------------------------------------

    def _build(self, record: dict[str, Any]) -> Event:  # noqa: C901 - see comment
        # Once per row: written for speed (locals, no per-field loops).
        if _NOT_A_ROW in record:
            message, value = record[_NOT_A_ROW]
            raise _RowError("row", None, value, f"row {message}")
        fields = self._fields
        get = record.get
        contact, kind, at = (
            get(fields["contact"]),
            get(fields["kind"]),
            get(fields["at"]),
        )
        if contact is None or kind is None or at is None:
            self._missing(record)
        field = "contact"
        try:
            if contact.__class__ is not str:
                contact = to_text(contact, "contact")
            field = "kind"
            if kind.__class__ is not str:
                kind = to_text(kind, "kind")
            kinds = self.export.kinds
            if kinds:
                kind = kinds.get(kind, kind)
            field = "at"
            at = to_at(at, self.tz, self.epoch)
            field = "value"
            value = get(fields["value"])
            value = 0.0 if value is None else to_number(value)
            field = "id"
            ident = get(fields["id"])
            if ident == "":
                ident = None
            elif ident is not None and ident.__class__ is not str:
                ident = to_text(ident, "id")
        except CellError as e:
            column = fields[field]
            message = str(e)
            if column != field and message.startswith(field):
                message = _label(field, column) + message[len(field) :]
            raise _RowError(field, column, get(column), message) from None
        try:
            return Event(contact, kind, at, self._attrs(record), value, ident)
        except InvalidEventError as e:
            source = fields.get(e.field) or _attr_column(e.field, self.export)
            raise _RowError(e.field, source, e.value, str(e)) from None

    def _missing(self, record: dict[str, Any]) -> None:
        for name in ("contact", "kind", "at"):
            column = self._fields[name]
            if record.get(column) is None:
                what = "missing" if column not in record else "empty"
                raise _RowError(name, column, None, f"{_label(name, column)} is {what}")

    def _attrs(self, record: dict[str, Any]) -> dict[str, Any]:
        mapped, export = self._mapped, self.export
        rename, drop = export.rename, export.drop
        out: dict[str, Any] = {}
        for key, value in record.items():
            if value is None or key in mapped:
                continue
            if value.__class__ not in _ATTR_TYPES and isinstance(value, dt.date):
                value = value.isoformat()  # noqa: PLW2901 - not an attribute type
            if rename and key in rename:
                out.setdefault(rename[key], value)
            elif not (drop and export.dropped(key)):
                out[key] = value
        return out

    # -- sources -------------------------------------------------------------------

    def _records(self) -> Iterator[_Record]:  # noqa: PLR0911 - one per source
        fmt = self.format
        if fmt == "csv":
            return self._csv()
        if fmt == "jsonl":
            return self._jsonl()
        if fmt == "json":
            return self._json()
        if fmt == "parquet":
            return self._parquet()
        if fmt == "pandas":
            return _numbered(self._pandas())
        if fmt in {"arrow", "polars"}:
            return _numbered(self._arrow_rows(_arrow_batches(self.source, fmt), None))
        return self._mappings()

    @contextlib.contextmanager
    def _open_text(self) -> Iterator[tuple[IO[str], Callable[[], int], int]]:
        """The file as text, a function telling the bytes read, and its size."""
        path = Path(self.source)
        try:
            raw = path.open("rb")
        except OSError as e:
            raise InvalidEventError(
                f"cannot read {self.name}: {e.strerror or e}",
                field="source",
                value=self.name,
            ) from None
        with raw:
            size = os.fstat(raw.fileno()).st_size
            binary: IO[bytes] = raw
            if path.suffix == ".gz":
                binary = cast("IO[bytes]", gzip.GzipFile(fileobj=raw))
            with io.TextIOWrapper(binary, encoding="utf-8-sig", newline="") as text:
                yield text, raw.tell, size

    def _csv(self) -> Iterator[_Record]:
        with self._open_text() as (text, tell, size):
            try:
                sample = text.read(65536)
            except UnicodeDecodeError as e:
                raise self._not_utf8(1, e) from None
            text.seek(0)
            tsv = ".tsv" in Path(self.source).suffixes
            delimiter = "\t" if tsv else _sniff(sample)
            reader = csv.reader(text, delimiter=delimiter)
            header = self._next_row(reader) or []
            self._check_header(header)
            fields = set(self._fields.values())
            width = len(header)
            progress, end, count = self.progress, reader.line_num, 0
            while (cells := self._next_row(reader)) is not None:
                start, end = end + 1, reader.line_num
                if not cells:
                    continue  # a blank line
                count += 1
                if progress is not None and count % _PROGRESS_EVERY == 0:
                    progress(tell(), size)
                if len(cells) != width:
                    what = f"has {len(cells)} cells where the header has {width}"
                    yield start, {_NOT_A_ROW: (what, delimiter.join(cells)[:200])}
                    continue
                yield (
                    start,
                    {
                        k: (v or None) if k in fields else csv_attr(v)
                        for k, v in zip(header, cells, strict=True)
                    },
                )

    def _next_row(self, reader: Any) -> list[str] | None:
        try:
            return next(reader)  # type: ignore[no-any-return]
        except StopIteration:
            return None
        except UnicodeDecodeError as e:
            raise self._not_utf8(reader.line_num + 1, e) from None
        except csv.Error as e:
            raise InvalidEventError(
                f"not valid CSV: {e}",
                field="row",
                value=None,
                where=f"{self.name}:{reader.line_num}",
            ) from None

    def _check_header(self, header: list[str]) -> None:
        required = [self._fields[f] for f in ("contact", "kind", "at")]
        missing = [c for c in required if c not in header]
        if missing:
            raise InvalidEventError(
                f"no column {missing[0]!r} (the columns are "
                f"{', '.join(map(repr, header)) or 'none'}); name the column "
                f"that holds it with columns={{...}} (--map on the command line)",
                field="columns",
                value=missing[0],
                where=self.name,
            )

    def _not_utf8(self, line: int, e: UnicodeDecodeError) -> InvalidEventError:
        return InvalidEventError(
            f"not UTF-8 text: {e.reason} at byte {e.start} of a block",
            field="source",
            value=self.name,
            where=f"{self.name}:{line}",
        )

    def _jsonl(self) -> Iterator[_Record]:
        progress = self.progress
        with self._open_text() as (text, tell, size):
            number = 0
            while True:
                try:
                    line = text.readline()
                except UnicodeDecodeError as e:
                    raise self._not_utf8(number + 1, e) from None
                if not line:
                    break
                number += 1
                if not line.strip():
                    continue
                if progress is not None and number % _PROGRESS_EVERY == 0:
                    progress(tell(), size)
                try:
                    data = json.loads(line)
                except (ValueError, RecursionError) as e:
                    what = f"is not JSON: {shorten(str(e))}"
                    yield number, {_NOT_A_ROW: (what, line.strip()[:200])}
                    continue
                if not isinstance(data, dict):
                    what = f"is a JSON {type(data).__name__}, not an object"
                    yield number, {_NOT_A_ROW: (what, line.strip()[:200])}
                    continue
                yield number, {k: plain(v) for k, v in flatten(data).items()}

    def _json(self) -> Iterator[_Record]:
        with self._open_text() as (text, _, _):
            try:
                data = json.load(text)
            except (ValueError, RecursionError) as e:
                raise InvalidEventError(
                    f"not a JSON document: {shorten(str(e))}",
                    field="source",
                    value=self.name,
                    where=self.name,
                ) from None
        records = self._json_records(data)
        for item in records:
            if isinstance(item, dict):
                yield None, {k: plain(v) for k, v in flatten(item).items()}
            else:
                what = f"is a JSON {type(item).__name__}, not an object"
                yield None, {_NOT_A_ROW: (what, item)}

    def _json_records(self, data: Any) -> list[Any]:
        if isinstance(data, list):
            return data
        if isinstance(data, dict):
            key = self.export.records
            if key is not None and isinstance(data.get(key), list):
                return list(data[key])
            lists = [k for k, v in data.items() if isinstance(v, list)]
            if len(lists) == 1:
                return list(data[lists[0]])
            if key is None and {"contact", "kind"} <= data.keys():
                return [data]
        raise InvalidEventError(
            "a JSON document of events must be an array of objects, or an object "
            "holding one (such as an API response with its 'events')",
            field="source",
            value=self.name,
            where=self.name,
        )

    def _parquet(self) -> Iterator[_Record]:
        import pyarrow as pa
        import pyarrow.parquet as pq

        try:
            file = pq.ParquetFile(self.source)
        except (OSError, pa.ArrowException) as e:
            raise InvalidEventError(
                f"cannot read {self.name} as Parquet: {shorten(str(e))}",
                field="source",
                value=self.name,
            ) from None
        with file:
            self._check_header(file.schema_arrow.names)
            total = file.metadata.num_rows
            yield from _numbered(self._arrow_rows(file.iter_batches(), total))

    def _arrow_rows(
        self, batches: Iterable[Any], total: int | None
    ) -> Iterator[dict[str, Any]]:
        import pyarrow as pa

        types = pa.types
        progress, done = self.progress, 0
        first = True
        for batch in batches:
            if first:
                self._check_header(batch.schema.names)
                first = False
            names = batch.schema.names
            columns = []
            for i, kind in enumerate(batch.schema.types):
                values = batch.column(i).to_pylist()
                # Text, integers and booleans come out as plain Python values
                # already; the other types are converted cell by cell.
                if not (
                    types.is_string(kind)
                    or types.is_large_string(kind)
                    or types.is_integer(kind)
                    or types.is_boolean(kind)
                ):
                    values = [plain(v) for v in values]
                columns.append(values)
            yield from _rows(
                names, columns, any(map(types.is_struct, batch.schema.types))
            )
            done += batch.num_rows
            if progress is not None:
                progress(done, total)

    def _pandas(self) -> Iterator[dict[str, Any]]:
        frame = self.source
        names = [str(c) for c in frame.columns]
        self._check_header(names)
        columns, nested = [], False
        for i in range(len(names)):
            column = frame.iloc[:, i]
            values = column.tolist()
            dtype = column.dtype
            numpy = type(dtype).__module__.startswith("numpy")
            if not (numpy and dtype.kind in "iub"):  # numpy ints, bools: plain already
                values = [plain(v) for v in values]
                nested = nested or any(isinstance(v, Mapping) for v in values)
            columns.append(values)
        yield from _rows(names, columns, nested=nested)

    def _mappings(self) -> Iterator[_Record]:
        for item in self.source:
            if isinstance(item, Mapping):
                yield None, {str(k): plain(v) for k, v in flatten(item).items()}
            else:
                what = f"is a {type(item).__name__}, not a mapping"
                yield None, {_NOT_A_ROW: (what, item)}


class _Replay:
    """A one-shot iterator that every iteration reads from the start.

    The items are kept as they are first read, so that a reader of a generator
    of records can be read twice, as a file can.
    """

    def __init__(self, items: Iterator[Any]) -> None:
        self._items = items
        self._seen: list[Any] = []

    def __iter__(self) -> Iterator[Any]:
        seen, position = self._seen, 0
        while True:
            if position < len(seen):
                yield seen[position]
                position += 1
                continue
            try:
                item = next(self._items)
            except StopIteration:
                return
            seen.append(item)


def _rows(
    names: list[str], columns: list[list[Any]], nested: bool
) -> Iterator[dict[str, Any]]:
    """Rows of *columns* as dicts; with *nested*, nested mappings flattened."""
    if nested:
        for cells in zip(*columns, strict=True):
            yield flatten(dict(zip(names, cells, strict=True)))
    else:
        for cells in zip(*columns, strict=True):
            yield dict(zip(names, cells, strict=True))


def _numbered(rows: Iterator[dict[str, Any]]) -> Iterator[_Record]:
    for row in rows:
        yield None, row


def _arrow_batches(source: Any, fmt: str) -> Iterable[Any]:
    if fmt == "polars":
        source = source.to_arrow()
    if hasattr(source, "to_batches"):
        return source.to_batches()  # type: ignore[no-any-return]
    return [source]  # a RecordBatch


def _sniff(sample: str) -> str:
    """The delimiter of a CSV file: of , ; tab |, the one splitting its header most."""
    best, most = ",", 0
    for delimiter in _DELIMITERS:
        try:
            header = next(
                csv.reader(io.StringIO(sample, newline=""), delimiter=delimiter)
            )
        except (csv.Error, StopIteration):
            continue
        if len(header) > most:
            best, most = delimiter, len(header)
    return best


def _label(field: str, column: str) -> str:
    return field if field == column else f"{field} (column {column!r})"


def _attr_column(field: str, export: ExportFormat) -> str | None:
    if field.startswith("attrs["):
        key = field[6:-1].strip("'\"")
        for source, name in export.rename.items():
            if name == key:
                return source
        return key
    return None


def _kind_of(source: Any, format: str | None) -> tuple[str, str]:  # noqa: A002, C901
    """The format of *source* and its name in messages."""
    if isinstance(source, str | os.PathLike):
        name = os.fspath(source)
        if isinstance(name, bytes):  # pragma: no cover - bytes paths
            name = name.decode(errors="replace")
        if format is not None:
            if format not in {"csv", "jsonl", "json", "parquet"}:
                raise InvalidEventError(
                    f'format must be "csv", "jsonl", "json" or "parquet", got '
                    f"{format!r}",
                    field="format",
                    value=format,
                )
            return format, name
        suffixes = Path(name).suffixes
        if suffixes and suffixes[-1] == ".gz":
            suffixes = suffixes[:-1]
        if suffixes and suffixes[-1].lower() in _SUFFIXES:
            return _SUFFIXES[suffixes[-1].lower()], name
        raise InvalidEventError(
            f"cannot tell the format of {name!r} from its name; give format= "
            '("csv", "jsonl", "json" or "parquet")',
            field="format",
            value=name,
        )
    module = type(source).__module__.split(".")[0]
    kind = type(source).__name__
    if module == "pandas" and kind == "DataFrame":
        return "pandas", "DataFrame"
    if module == "polars" and kind == "DataFrame":
        return "polars", "Polars DataFrame"
    if module == "polars" and kind == "LazyFrame":
        raise InvalidEventError(
            "a Polars LazyFrame must be collected first: read_events(lf.collect())",
            field="source",
            value=kind,
        )
    if module == "pyarrow" and kind in {"Table", "RecordBatch"}:
        return "arrow", f"Arrow {kind}"
    if isinstance(source, Mapping | bytes | Event):
        raise InvalidEventError(
            f"source must be a file path, a DataFrame, an Arrow table or an "
            f"iterable of mappings, got {kind}",
            field="source",
            value=shorten(source),
        )
    if isinstance(source, Iterable):
        return "records", "records"
    raise InvalidEventError(
        f"source must be a file path, a DataFrame, an Arrow table or an iterable "
        f"of mappings, got {kind}",
        field="source",
        value=shorten(source),
    )


def read_events(
    source: Any,
    *,
    format: Format | None = None,  # noqa: A002 - the documented name
    columns: Mapping[str, str] | ExportFormat | str | None = None,
    on_error: OnError = "raise",
    tz: str | dt.tzinfo | None = None,
    epoch: Epoch | None = None,
) -> EventReader:
    """The events of a CSV, JSON Lines, JSON or Parquet file, or of a DataFrame.

    Args:
        source: A path (format from the suffix: ``.csv``, ``.tsv``, ``.jsonl``,
            ``.ndjson``, ``.json``, ``.parquet``; ``.gz`` for compressed CSV and
            JSON), a pandas or Polars DataFrame, a PyArrow Table or RecordBatch,
            or an iterable of mappings (one per event).
        format: ``"csv"``, ``"jsonl"``, ``"json"`` or ``"parquet"`` when the
            suffix does not tell.
        columns: Where each Event field is: ``{"contact": "email", "at":
            "timestamp", ...}`` (fields not given are read from the column of
            their own name: ``contact``, ``kind``, ``at``, optional ``id`` and
            ``value``); or a product export by name (``"hubspot"``,
            ``"mautic"``) or as an :class:`ExportFormat`. Every other column is
            an attribute; nested JSON objects become dotted names.
        on_error: ``"raise"``: the first bad row raises; ``"skip"``: bad rows
            are left out and listed in the reader's ``errors``.
        tz: The time zone of naive timestamps (an IANA name or a tzinfo).
            Without it, a timestamp without an offset is a bad row.
        epoch: The unit of numeric timestamps: ``"s"``, ``"ms"``, ``"us"``,
            ``"ns"``, or ``"auto"`` (by magnitude; the default).

    Returns:
        An :class:`EventReader`: iterate it for the events (a file is reread on
        every iteration); after a pass, ``errors`` lists the rows left out.

    Cells: an empty or null cell is no attribute; a null ``id`` is no id; a
    null ``value`` is 0.0. CSV attribute cells are typed (``"42"`` is 42,
    ``"4.5"`` 4.5, ``"true"`` True; ``"007"`` stays text). numpy and pandas
    scalars are read as the Python values they hold; NaN, NA and NaT are null.

    Raises:
        InvalidEventError: for a bad row with ``on_error="raise"`` (naming the
            file and line or row, the field and the value); for a missing
            column, an unreadable file or bad arguments in any case.

    >>> from leadscore import io
    >>> rows = [{"contact": "ann", "kind": "form.submitted",
    ...          "at": "2024-05-01 09:00", "page": "/pricing"}]
    >>> [e] = io.read_events(rows, tz="Europe/Paris")
    >>> e
    Event('ann', 'form.submitted', '2024-05-01T07:00:00+00:00', attrs={'page': '/pricing'})
    """  # noqa: E501
    return EventReader(
        source, format=format, columns=columns, on_error=on_error, tz=tz, epoch=epoch
    )
