"""read_events and EventReader: the records of a source in, Events out.

:class:`EventReader` checks its options, reads its source as records (the
readers of each kind of source are its bases, in :mod:`leadscore.io._text` and
:mod:`leadscore.io._tables`), builds one Event per record and reports each row
it cannot build as a :class:`BadRow`. ``to_arrow`` reads the same events as
columns (:mod:`leadscore.io._columnar`).

CSV and JSON use the standard library; Parquet, Arrow, pandas and Polars are
imported only when such a source is read.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Mapping
from typing import Any, Literal, TypeAlias

import attrs

from leadscore.exceptions import InvalidEventError
from leadscore.model._events import Event

from ._cells import CellError, Epoch, check_tz, to_at, to_number, to_text
from ._exports import ExportFormat, resolve
from ._sources import _NOT_A_ROW, Format, _kind_of, _Record
from ._tables import TableReader, _arrow_batches, _numbered, _Replay
from ._text import TextReader

__all__ = ["BadRow", "EventReader", "Format", "NotColumnar", "read_events"]

OnError: TypeAlias = Literal["raise", "skip"]
_ATTR_TYPES = frozenset({str, int, float, bool, tuple})


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


class EventReader(TextReader, TableReader):
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
