"""What a source of events is, and what the readers of every kind share.

:func:`_kind_of` tells the kind of a source: a CSV, JSON Lines, JSON or Parquet
file by its suffix; a DataFrame, an Arrow table or an iterable of mappings by its
type. Each kind is read as records: the line in a text file (None for other
sources) and the cells by column. :class:`SourceReader` is the base of the
readers of each kind (:mod:`leadscore.io._text`, :mod:`leadscore.io._tables`):
the reader's attributes they use, and the check that a header holds the columns
an event needs.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypeAlias

from leadscore.exceptions import InvalidEventError
from leadscore.model._events import Event
from leadscore.model._limits import shorten

if TYPE_CHECKING:
    from ._exports import ExportFormat

__all__ = ["Format", "SourceReader"]

Format: TypeAlias = Literal["csv", "jsonl", "json", "parquet"]

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

# The key of a record that is not a row of cells: (message, value).
_NOT_A_ROW = "\0row"

#: One record of a source: (line in a text file or None, the cells by column).
_Record: TypeAlias = tuple[int | None, dict[str, Any]]  # noqa: PYI047 - used elsewhere


class SourceReader:
    """What the readers of every kind of source share; a base of EventReader.

    The attributes are set by :class:`~leadscore.io.EventReader`.
    """

    source: Any
    name: str
    export: ExportFormat
    progress: Callable[[int, int | None], None] | None
    _fields: dict[str, str]

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
