"""Converting a column one distinct value at a time, as the row path converts it.

The tier of the columnar reading between Arrow's kernels and the row path (see
:mod:`leadscore.io._columnar`). :class:`ByValueTyping`, a base of
:class:`~leadscore.io._columns.Columns`, converts each distinct value of a
column once with the row path's own cell function, and marks as slow the rows
whose value it refuses, as it does those no kernel vouched for: the row path's
``_build`` reads them. :func:`attr_type` is the one Arrow type of an
attribute's values.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from leadscore.exceptions import InvalidEventError
from leadscore.model._limits import shorten

from ._cells import CellError
from ._read import NotColumnar

__all__ = ["ByValueTyping", "attr_type"]


class ByValueTyping:
    """The slow rows of a table and its by-value tier; a base of Columns.

    The attributes are set by :class:`~leadscore.io._columns.Columns`.
    """

    _slow: list[Any]
    keep: Any

    def _mark(self, mask: Any) -> None:
        if mask is not None:
            self._slow.append(mask)

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
