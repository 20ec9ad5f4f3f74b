"""Typing the cells of a raw Arrow table as the row path types them.

:class:`Columns` takes the table a fast reader gave (CSV text, JSON values,
Parquet or DataFrame columns) and gives the table of events ``to_arrow`` returns.
Cells are converted by Arrow kernels where their answer is known to be the row
path's, columns of few distinct values by the row path's own cell functions once
per distinct value, and rows neither can vouch for by the row path's ``_build``
(see :mod:`leadscore.io._columnar`).

The fields' typing and the attributes' are here; the ``at`` column's is in
:mod:`leadscore.io._timestamps`, the by-value tier and the marking of slow rows
in :mod:`leadscore.io._by_value` (the bases of :class:`Columns`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any

from leadscore.model._events import SPECIAL_KINDS, Event

from ._by_value import _array, _mixed, attr_type
from ._cells import CellError, csv_attr, plain, to_number, to_text
from ._timestamps import TimestampTyping

if TYPE_CHECKING:
    import pyarrow as pa

    from ._read import BadRow, EventReader

__all__ = ["Columns", "attr_type"]


_FIELDS = ("contact", "kind", "at", "id", "value")

# -- cells to typed columns ---------------------------------------------------------


class Columns(TimestampTyping):
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
