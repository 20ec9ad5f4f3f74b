"""Typing the cells of a raw Arrow table as the row path types them.

:class:`Columns` takes the table a fast reader gave (CSV text, JSON values,
Parquet or DataFrame columns) and gives the table of events ``to_arrow`` returns.
Cells are converted by Arrow kernels where their answer is known to be the row
path's, columns of few distinct values by the row path's own cell functions once
per distinct value, and rows neither can vouch for by the row path's ``_build``
(see :mod:`leadscore.io._columnar`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any

from leadscore.exceptions import InvalidEventError
from leadscore.model._events import SPECIAL_KINDS, Event, to_micros
from leadscore.model._limits import shorten

from ._cells import CellError, csv_attr, plain, to_at, to_number, to_text
from ._read import NotColumnar

if TYPE_CHECKING:
    import pyarrow as pa

    from ._read import BadRow, EventReader

__all__ = ["Columns", "attr_type"]


#: The instants a datetime can hold, in microseconds since 1970 (UTC).
_MIN_US = to_micros(dt.datetime.min.replace(tzinfo=dt.UTC))
_MAX_US = to_micros(dt.datetime.max.replace(tzinfo=dt.UTC))
_FIELDS = ("contact", "kind", "at", "id", "value")
# With epoch="auto" the unit follows the magnitude (see _cells.to_at).
_AUTO = ((100_000_000_000, "s"), (100_000_000_000_000, "ms"))
_AUTO_US = 100_000_000_000_000_000
_PER_US = {"s": 1_000_000, "ms": 1_000}
#: The local times Arrow's named zones are trusted for (see _local_text).
_NAMED_FROM = to_micros(dt.datetime(1900, 1, 1, tzinfo=dt.UTC))
_NAMED_UNTIL = to_micros(dt.datetime(2037, 1, 1, tzinfo=dt.UTC))

# -- cells to typed columns ---------------------------------------------------------


class Columns:
    """The typing of one raw table: every field and attribute column, and slow rows."""

    def __init__(
        self,
        reader: EventReader,
        raw: pa.Table,
        *,
        text: bool,
        lines: Callable[[list[int]], dict[int, int | None]],
        records: Callable[..., dict[int, tuple[int | None, dict[str, Any]]]]
        | None = None,
    ) -> None:
        self.reader, self.raw, self.text, self.lines = reader, raw, text, lines
        #: Reads the records of rows from the file (JSON Lines), or None: from cells.
        self.from_file = records
        self.n = raw.num_rows
        #: Masks of the rows a kernel could not vouch for.
        self._slow: list[Any] = []
        #: The rows kept (None: all), once the slow rows are built.
        self.keep: Any = None

    def _mark(self, mask: Any) -> None:
        if mask is not None:
            self._slow.append(mask)

    def table(self) -> pa.Table:  # noqa: C901, PLR0912, PLR0915 - one pass, in order
        import pyarrow as pa
        import pyarrow.compute as pc

        reader, raw, n = self.reader, self.raw, self.n
        fields = reader._fields
        names = raw.column_names
        out: dict[str, Any] = {}
        for field in _FIELDS:
            column = fields[field]
            if column not in names:
                out[field] = None
                if field in {"contact", "kind", "at"} and n:  # every row is bad
                    self._mark(pa.repeat(pa.scalar(value=True), n))
                continue
            cells = raw.column(column)
            if field == "at":
                out[field] = self._at(cells)
            elif field == "value":
                out[field] = self._value(cells)
            else:
                out[field] = self._text(field, cells)
        if reader.format not in {"csv", "jsonl"}:
            # NUL in text: the row path names the row (files were scanned for it).
            for cells in raw.columns:
                if _is_text(cells.type):
                    self._mark(pc.match_substring(cells, "\x00"))
        # The rows no kernel vouched for go through the row path's own _build.
        slow = _any(self._slow, n)
        picked = pc.indices_nonzero(slow).to_pylist() if slow is not None else []
        good: dict[int, Event] = {}
        bad: list[int] = []
        errors: list[tuple[int, Any]] = []
        build = reader._build  # noqa: SLF001
        from ._read import _RowError

        lines: dict[int, int | None] = {}
        if self.from_file is not None:
            read = self.from_file(reader, [row + 1 for row in picked])
            lines = {row: line for row, (line, _) in read.items()}
            records: Iterable[dict[str, Any]] = (read[r + 1][1] for r in picked)
        else:
            records = self._records(picked)
        for row, record in zip(picked, records, strict=True):
            try:
                good[row] = build(record)
            except _RowError as e:
                bad.append(row)
                errors.append((row, e))
                if reader.on_error == "raise":
                    break
        if errors:
            if self.from_file is None:
                lines = self.lines([row + 1 for row, _ in errors])
            found = [self._bad(row, e, lines.get(row + 1)) for row, e in errors]
            if reader.on_error == "raise":
                reader.rows, reader.events = errors[0][0] + 1, errors[0][0]
                raise found[0].error() from None
            reader.errors = found
        reader.rows, reader.events = n, n - len(bad)
        self.keep = pc.invert(_mask(bad, n)) if bad else None
        attrs = self._attrs()  # typed by the values of the rows kept
        # Fill the slow rows' cells from their events; leave the bad rows out.
        fixes = sorted(good)
        columns: dict[str, Any] = {}
        for field, kind in (("contact", pa.string()), ("kind", pa.string())):
            if out[field] is None:
                out[field] = pa.nulls(n, kind)
        micros = out["at"] if out["at"] is not None else pa.nulls(n, pa.int64())
        columns["contact"] = self._fill(out["contact"], fixes, good, "contact")
        columns["kind"] = self._fill(out["kind"], fixes, good, "kind")
        columns["at"] = self._fill(micros, fixes, good, "_us", pa.int64()).cast(
            pa.timestamp("us", tz="UTC")
        )
        ids = out["id"] if out["id"] is not None else pa.nulls(n, pa.string())
        columns["id"] = self._fill(ids, fixes, good, "id")
        values = out["value"]
        if values is None:
            values = pa.repeat(pa.scalar(0.0, pa.float64()), n)
        columns["value"] = self._fill(values, fixes, good, "value", pa.float64())
        columns.update(attrs)
        table = pa.table(columns)
        if self.keep is not None:
            table = table.filter(self.keep)
        return table

    def _bad(self, row: int, e: Any, line: int | None) -> BadRow:
        from ._read import BadRow

        return BadRow(
            self.reader.name, row + 1, line, e.field, e.column, e.value, str(e)
        )

    def _fill(
        self,
        column: Any,
        rows: list[int],
        events: dict[int, Event],
        field: str,
        kind: Any = None,
    ) -> Any:
        """*column* with the cells of *rows* taken from their events."""
        import pyarrow as pa
        import pyarrow.compute as pc

        if not rows:
            return column
        column = _array(column)
        values = pa.array(
            [getattr(events[r], field) for r in rows], kind or column.type
        )
        return pc.replace_with_mask(column, _mask(rows, self.n), values)

    def _records(self, rows: list[int]) -> Iterator[dict[str, Any]]:
        """The records of *rows* exactly as the row path builds them."""
        if not rows:
            return iter(())
        import pyarrow as pa

        picked = self.raw.take(pa.array(rows, pa.int64())).to_pylist()
        mapped = set(self.reader._fields.values())
        if self.text:  # CSV: fields as text (empty is None), attributes typed
            return (
                {k: v if k in mapped else csv_attr(v or "") for k, v in r.items()}
                for r in picked
            )
        return ({k: plain(v) for k, v in r.items()} for r in picked)

    # -- the fields --------------------------------------------------------------

    def _text(self, field: str, cells: Any) -> Any:
        """contact, kind or id: text, digits of a whole number; the rest is slow."""
        import pyarrow as pa
        import pyarrow.compute as pc

        kind = cells.type
        if field == "kind" or not (_is_text(kind) or pa.types.is_integer(kind)):
            return self._by_value(cells, self._text_cell(field), pa.string())
        if pa.types.is_integer(kind):
            if field == "contact" and cells.null_count:
                self._mark(pc.is_null(cells))
            return pc.cast(cells, pa.string())
        cells = pc.cast(cells, pa.string()) if not pa.types.is_string(kind) else cells
        if field == "id" and not self.text:
            empty = pc.equal(cells, "")
            cells = pc.if_else(empty, pa.scalar(None, pa.string()), cells)
        elif not self.text:
            self._mark(pc.equal(cells, ""))
        if field != "id" and cells.null_count:
            self._mark(pc.is_null(cells))
        return cells

    def _text_cell(self, field: str) -> Callable[[Any], Any]:
        export = self.reader.export
        kinds = export.kinds
        text = self.text

        def convert(cell: Any) -> Any:
            cell = None if text and cell == "" else plain(cell)
            if field == "id" and cell == "":
                return None
            if cell is None:
                if field == "id":
                    return None
                raise CellError(field)
            cell = to_text(cell, field)
            if field == "kind":
                cell = kinds.get(cell, cell)
                if cell in SPECIAL_KINDS:
                    raise CellError(field)  # checked with the attributes, per row
            if not cell:
                raise CellError(field)
            return cell

        return convert

    def _at(self, cells: Any) -> Any:
        """Microseconds since 1970 (int64); cells the kernels cannot read are slow."""
        import pyarrow as pa
        import pyarrow.compute as pc

        reader = self.reader
        kind = cells.type
        if pa.types.is_timestamp(kind) and kind.tz is not None:
            try:
                us = pc.cast(cells, pa.timestamp("us", tz="UTC"))
            except pa.ArrowInvalid:  # sub-microsecond digits: the row path drops them
                return self._at_by_value(cells)
            us = pc.cast(us, pa.int64())
            self._mark(pc.is_null(us))
            return us
        if pa.types.is_integer(kind):
            try:
                return self._epoch(pc.cast(cells, pa.int64()), reader.epoch)
            except pa.ArrowInvalid:  # a uint64 beyond int64
                return self._at_by_value(cells)
        if not pa.types.is_string(kind):
            return self._at_by_value(cells)
        return self._at_text(cells)

    def _at_text(self, chunk: Any) -> Any:
        """Timestamp text: ISO 8601 with an offset, or digits; the rest by value."""
        import pyarrow as pa
        import pyarrow.compute as pc

        valid = len(chunk) - chunk.null_count
        # Python reads text with a colon by datetime.fromisoformat, the formats
        # Arrow's ISO parser knows among them; digits are epoch numbers.
        if valid and _colons(chunk):
            try:
                at = pc.cast(chunk, pa.timestamp("us", tz="UTC"))
            except pa.ArrowInvalid:
                at = self._local_text(chunk)
            if at is not None:
                if chunk.null_count:
                    self._mark(pc.is_null(chunk))
                return self._in_range(pc.cast(at, pa.int64()))
        elif valid:
            try:
                number = pc.cast(chunk, pa.int64())
            except pa.ArrowInvalid:
                pass
            else:
                return self._epoch(number, self.reader.epoch)
        return self._at_by_value(chunk)

    def _local_text(self, text: Any) -> Any:
        """Timestamps without an offset, in the reader's tz; None if not all are.

        Python attaches the zone with fold=0: a time that occurs twice is its first
        occurrence (Arrow's "earliest"); a time that does not occur (a spring
        gap) has no Arrow equivalent, so those rows are left to the row path.
        """
        import pyarrow as pa
        import pyarrow.compute as pc

        zone = _arrow_zone(self.reader.tz)
        if zone is None:
            return None
        try:
            naive = pc.cast(text, pa.timestamp("us"))
        except pa.ArrowInvalid:
            return None  # offsets and none mixed, or other formats: by value
        if "/" in zone:
            # Arrow's zone rules stop at 2037 (later summers are read as winter
            # time); Python's follow the zone's rule for ever. Times outside
            # 1900-2036 in a named zone are left to the row path.
            us = pc.cast(naive, pa.int64())
            low, high = pc.min_max(us).values()
            if low.as_py() < _NAMED_FROM or high.as_py() >= _NAMED_UNTIL:
                self._mark(
                    pc.or_(pc.less(us, _NAMED_FROM), pc.greater_equal(us, _NAMED_UNTIL))
                )
        at = pc.assume_timezone(
            naive, timezone=zone, ambiguous="earliest", nonexistent="earliest"
        )
        if "/" in zone:  # a time in a gap does not read back as itself
            back = pc.cast(pc.local_timestamp(at), pa.int64())
            gap = pc.not_equal(back, pc.cast(naive, pa.int64()))
            if pc.any(gap).as_py():
                self._mark(gap)
        return at

    def _in_range(self, us: Any) -> Any:
        import pyarrow as pa
        import pyarrow.compute as pc

        low, high = pc.min_max(us).values()
        if low.is_valid and low.as_py() >= _MIN_US and high.as_py() <= _MAX_US:
            return us
        ok = pc.and_(pc.greater_equal(us, _MIN_US), pc.less_equal(us, _MAX_US))
        self._mark(pc.invert(ok.fill_null(fill_value=False)))
        return pc.if_else(ok, us, pa.scalar(None, pa.int64()))

    def _epoch(self, n: Any, epoch: str) -> Any:
        """Numbers since 1970 in *epoch* units (or by magnitude) as microseconds."""
        import pyarrow as pa
        import pyarrow.compute as pc

        size = pc.abs(n)
        # abs() of the smallest int64 is itself (negative): leave it to Python.
        fits = pc.greater_equal(size, 0)
        us = pa.nulls(len(n), pa.int64())
        if epoch == "auto":
            units = [
                ("s", pc.less(size, _AUTO[0][0])),
                (
                    "ms",
                    pc.and_(
                        pc.greater_equal(size, _AUTO[0][0]), pc.less(size, _AUTO[1][0])
                    ),
                ),
                (
                    "us",
                    pc.and_(
                        pc.greater_equal(size, _AUTO[1][0]), pc.less(size, _AUTO_US)
                    ),
                ),
                ("ns", pc.greater_equal(size, _AUTO_US)),
            ]
        else:
            units = [(epoch, pc.is_valid(n))]
        for unit, chosen in units:
            where = pc.and_(chosen, fits)
            if unit in _PER_US:
                limit = _MAX_US // _PER_US[unit]
                where = pc.and_(where, pc.less_equal(size, limit))
                part = pc.multiply(pc.if_else(where, n, 0), _PER_US[unit])
            elif unit == "us":
                part = n
            else:  # ns: to the nearest microsecond, half to even (as Decimal does)
                where = pc.and_(where, pc.greater_equal(n, 0))
                pos = pc.if_else(where, n, 0)
                q = pc.divide(pos, 1000)
                r = pc.subtract(pos, pc.multiply(q, 1000))
                odd = pc.equal(pc.bit_wise_and(q, 1), 1)
                up = pc.or_(pc.greater(r, 500), pc.and_(pc.equal(r, 500), odd))
                part = pc.add(q, pc.cast(up, pa.int64()))
            us = pc.if_else(where.fill_null(fill_value=False), part, us)
        # Numbers outside the units' ranges, negative nanoseconds: Python decides.
        self._mark(pc.and_(pc.is_valid(n), pc.is_null(us)))
        self._mark(pc.is_null(n))
        return self._in_range(us)

    def _at_by_value(self, cells: Any) -> Any:
        import pyarrow as pa

        tz, epoch = self.reader.tz, self.reader.epoch

        def convert(cell: Any) -> int:
            return to_micros(to_at(plain(cell), tz, epoch))

        return self._by_value(cells, convert, pa.int64())

    def _value(self, cells: Any) -> Any:
        """float64, null and NaN as 0.0; a cell that is not a finite number is slow."""
        import pyarrow as pa
        import pyarrow.compute as pc

        kind = cells.type
        if pa.types.is_floating(kind) or pa.types.is_integer(kind):
            number = pc.cast(cells, pa.float64(), safe=False)
            number = pc.if_else(pc.is_nan(number), 0.0, number).fill_null(0.0)
            self._mark(pc.is_inf(number))
            return pc.add(number, 0.0)  # -0.0 is 0.0, as in Event
        if _is_text(kind):
            # Arrow's float parser reads the spellings Python's pattern accepts
            # ("5", "-.5", "1e5", "+5.") and also "nan" and "inf", which Python
            # refuses: those, and overflows, are left to the row path.
            try:
                number = pc.cast(cells, pa.float64())
            except pa.ArrowInvalid:
                pass
            else:
                self._mark(pc.invert(pc.is_finite(number)))
                return pc.add(number.fill_null(0.0), 0.0)

        def convert(cell: Any) -> float:
            number = to_number(plain(cell) if not self.text else cell)
            if number != number or number in {float("inf"), float("-inf")}:  # noqa: PLR0124
                raise CellError("value")
            return number + 0.0

        return self._by_value(cells, convert, pa.float64())

    # -- attributes ----------------------------------------------------------------

    def _attrs(self) -> dict[str, Any]:
        """The attribute columns under their names, renamed and dropped as exported."""
        reader = self.reader
        export = reader.export
        mapped = reader._mapped  # noqa: SLF001
        rename = export.rename
        merged: dict[str, Any] = {}
        for name, cells in zip(self.raw.column_names, self.raw.columns, strict=True):
            if name in mapped:
                continue
            if rename and name in rename:
                target, overrides = rename[name], False
            elif export.drop and export.dropped(name):
                continue
            else:
                target, overrides = name, True
            column = self._attr(name, cells)
            if column is None:
                continue
            if target in merged:
                # A renamed column fills what is not set yet; a plain one overrides
                # (as the row path's setdefault and assignment do).
                a, b = (
                    (column, merged[target]) if overrides else (merged[target], column)
                )
                column = _coalesce(target, a, b)
            merged[target] = column
        # A column no event has (every cell null) is no attribute.
        return {k: v for k, v in merged.items() if v.null_count < len(v)}

    def _attr(self, name: str, cells: Any) -> Any:  # noqa: C901, PLR0911 - by type
        """One attribute column: str, int64, float64 or bool."""
        import pyarrow as pa
        import pyarrow.compute as pc

        kind = cells.type
        if self.text:
            return self._by_value(cells, lambda v: csv_attr(v or ""), None, name)
        if pa.types.is_null(kind):
            return None
        if _is_text(kind):
            return (
                pc.cast(cells, pa.string()) if not pa.types.is_string(kind) else cells
            )
        if pa.types.is_boolean(kind):
            return cells
        if pa.types.is_integer(kind):
            try:
                return pc.cast(cells, pa.int64())
            except pa.ArrowInvalid:
                pass  # beyond int64: a NotColumnar below names it
        if pa.types.is_floating(kind):
            number = pc.cast(cells, pa.float64())
            return pc.if_else(pc.is_nan(number), None, number)
        if pa.types.is_dictionary(kind):
            return self._attr(name, pc.cast(cells, kind.value_type))

        def convert(cell: Any) -> Any:
            value = plain(cell)
            if value.__class__ not in {str, int, float, bool} and isinstance(
                value, dt.date
            ):
                value = value.isoformat()
            return value

        return self._by_value(cells, convert, None, name)

    # -- one Python call per distinct value ---------------------------------------

    def _by_value(
        self,
        cells: Any,
        convert: Callable[[Any], Any],
        kind: Any,
        attribute: str | None = None,
    ) -> Any:
        """*cells* converted one distinct value at a time by the row path's function.

        A value *convert* refuses (CellError, InvalidEventError) makes its rows
        slow. For an attribute (*kind* None) the column's type is that of the
        converted values; values of several types raise NotColumnar.
        """
        import pyarrow as pa
        import pyarrow.compute as pc

        dictionary, indices = _encoded(cells)
        distinct = dictionary.to_pylist()
        values, refused = _converted(distinct, convert, text=attribute is not None)
        if indices.null_count:  # the null cell, converted as the row path converts None
            try:
                none = convert(None)
            except (CellError, InvalidEventError):
                self._mark(pc.is_null(indices))
                none = None
            distinct.append(None)
            values.append(none)
            refused.append(False)
            indices = indices.fill_null(len(distinct) - 1)
        if any(refused):
            self._mark(pc.take(pa.array(refused, pa.bool_()), indices))
        elif (
            values == distinct
            and pa.types.is_string(cells.type)
            and (kind is None or kind == pa.string())
        ):
            return cells  # text that converts to itself: kept as read, no copy
        if kind is None:
            if self.keep is not None:  # the values of bad rows do not count
                used = set(pc.unique(pc.filter(indices, self.keep)).to_pylist())
                values = [v if i in used else None for i, v in enumerate(values)]
            kind = attr_type(attribute or "", values)
            if kind is None:
                return None
        return pc.take(pa.array(values, kind), indices)


def _converted(
    distinct: list[Any], convert: Callable[[Any], Any], *, text: bool
) -> tuple[list[Any], list[bool]]:
    """Each value converted, or None and refused; with *text*, NUL is refused."""
    values: list[Any] = []
    refused: list[bool] = []
    for cell in distinct:
        try:
            value = convert(cell)
        except (CellError, InvalidEventError):
            value = None
            bad = True
        else:
            bad = text and isinstance(value, str) and "\x00" in value
        values.append(None if bad else value)
        refused.append(bad)
    return values, refused


def attr_type(name: str, values: list[Any]) -> Any:
    """The Arrow type of an attribute's values: str, int64, float64 or bool."""
    import pyarrow as pa

    kinds = {v.__class__ for v in values if v is not None}
    if not kinds:
        return None
    if kinds == {int} and all(-(2**63) <= v < 2**63 for v in values if v is not None):
        return pa.int64()
    if kinds == {int, float} and all(
        abs(v) < 2**53 for v in values if v.__class__ is int
    ):
        return pa.float64()
    if kinds == {float}:
        return pa.float64()
    if kinds == {str}:
        return pa.string()
    if kinds == {bool}:
        return pa.bool_()
    raise _mixed(name, values)


def _mixed(name: str, values: Iterable[Any]) -> NotColumnar:
    seen: dict[type, Any] = {}
    for v in values:
        if v is not None:
            seen.setdefault(v.__class__, v)
    shown = " and ".join(
        f"{t.__name__} {shorten(v)}" for t, v in list(seen.items())[:3]
    )
    return NotColumnar(
        f"attribute {name!r} holds {shown}: a table column holds one type "
        f"(numbers of one kind, text or booleans); iterate the reader for its "
        f"events, or give the attribute one type",
        field=f"attrs[{name!r}]",
        value=next(iter(seen.values()), None),
    )


def _coalesce(name: str, a: Any, b: Any) -> Any:
    import pyarrow as pa
    import pyarrow.compute as pc

    a, b = _array(a), _array(b)
    if a.type != b.type:
        numeric = pa.types.is_integer(a.type) or pa.types.is_floating(a.type)
        other = pa.types.is_integer(b.type) or pa.types.is_floating(b.type)
        if not (numeric and other):
            raise _mixed(
                name, a.drop_null()[:1].to_pylist() + b.drop_null()[:1].to_pylist()
            )
        a, b = pc.cast(a, pa.float64()), pc.cast(b, pa.float64())
    return pc.coalesce(a, b)


# -- helpers ------------------------------------------------------------------------


def _is_text(kind: Any) -> bool:
    import pyarrow as pa

    t = pa.types
    return bool(t.is_string(kind) or t.is_large_string(kind) or t.is_string_view(kind))


def _arrow_zone(tz: dt.tzinfo | None) -> str | None:
    """The name Arrow knows *tz* by (IANA key, "UTC", "+02:00"), or None."""
    import zoneinfo

    if tz is None:
        return None
    if isinstance(tz, zoneinfo.ZoneInfo):
        return tz.key
    if isinstance(tz, dt.timezone):
        offset = tz.utcoffset(None)
        if offset % dt.timedelta(minutes=1):
            return None  # seconds in the offset: Arrow's zones have none
        minutes = int(offset.total_seconds()) // 60
        sign = "-" if minutes < 0 else "+"
        return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"
    return None


def _colons(text: Any) -> bool:
    """Whether every timestamp text has a colon (Python's ISO branch reads it).

    Arrow's ISO parser also reads colon-free forms ("2024-05-01T10Z",
    "2024-05-01T10+0200", 18 characters at most), which Python reads otherwise:
    texts of 19 characters or more that Arrow reads all have one, so the scan
    for colons is only needed when a shorter text is there.
    """
    import pyarrow.compute as pc

    shortest = pc.min(pc.binary_length(text)).as_py()
    if shortest is not None and shortest >= 19:
        return True
    return bool(pc.all(pc.match_substring(text, ":")).as_py())


def _encoded(cells: Any) -> tuple[Any, Any]:
    """The distinct values of *cells* and, per row, the index of its value."""
    import pyarrow as pa
    import pyarrow.compute as pc

    encoded = pc.dictionary_encode(cells)
    if isinstance(encoded, pa.DictionaryArray):
        return encoded.dictionary, encoded.indices
    chunks = encoded.chunks
    if not chunks:
        return pa.array([], cells.type), pa.chunked_array([], pa.int32())
    # Arrow encodes the chunks of a column with one memo table: every chunk
    # holds the whole dictionary. Should a version not, encode one array.
    dictionary = chunks[-1].dictionary
    if any(not c.dictionary.equals(dictionary) for c in chunks[:-1]):
        encoded = pc.dictionary_encode(_array(cells))
        return encoded.dictionary, encoded.indices
    return dictionary, pa.chunked_array([c.indices for c in chunks], pa.int32())


def _array(column: Any) -> Any:
    """A chunked array as one array (the kernels here are per array)."""
    import pyarrow as pa

    if isinstance(column, pa.ChunkedArray):
        if column.num_chunks == 1:
            return column.chunk(0)
        return column.combine_chunks()
    return column


def _mask(rows: list[int], n: int) -> Any:
    """A boolean array of length *n*, true at *rows*."""
    import pyarrow as pa

    try:
        import numpy as np
    except ImportError:  # pragma: no cover - pyarrow without numpy
        chosen = set(rows)
        return pa.array([i in chosen for i in range(n)], pa.bool_())
    mask = np.zeros(n, dtype=bool)
    mask[rows] = True
    return pa.array(mask)


def _any(masks: list[Any], n: int) -> Any:
    import pyarrow.compute as pc

    out = None
    for each in masks:
        mask = each.fill_null(fill_value=False)
        out = mask if out is None else pc.or_(out, mask)
    if out is None or n == 0 or not pc.any(out).as_py():
        return None
    return _array(out)
