"""Parquet files, Arrow tables, DataFrames and mappings read as records.

:class:`TableReader`, a base of :class:`~leadscore.io.EventReader`, reads a
Parquet file, a PyArrow Table or RecordBatch, or a pandas or Polars DataFrame
batch by batch or column by column into records of cells (nested columns as
dotted names), and an iterable of mappings item by item. PyArrow, pandas and
Polars are imported only when such a source is read.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from leadscore.exceptions import InvalidEventError
from leadscore.model._limits import shorten

from ._cells import flatten, plain
from ._sources import _NOT_A_ROW, SourceReader, _Record

__all__ = ["TableReader"]


class TableReader(SourceReader):
    """The readers of Parquet files, tables, DataFrames and mappings."""

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
