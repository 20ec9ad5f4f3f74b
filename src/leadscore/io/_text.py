"""CSV, JSON Lines and JSON files read as records, with the standard library.

:class:`TextReader`, a base of :class:`~leadscore.io.EventReader`, opens a file
(gzip-compressed when its name ends in ``.gz``) as UTF-8 text and reads each of
its rows as a record of cells. A row that is not a record (a CSV row of the
wrong width, a JSON Lines line that is not an object) is given as a record of
one ``_NOT_A_ROW`` cell, which the reader reports as a bad row.
"""

from __future__ import annotations

import contextlib
import csv
import gzip
import io
import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any, cast

from leadscore.exceptions import InvalidEventError
from leadscore.model._limits import shorten

from ._cells import csv_attr, flatten, plain
from ._sources import _NOT_A_ROW, SourceReader, _Record

__all__ = ["TextReader"]

_DELIMITERS = (",", ";", "\t", "|")
_PROGRESS_EVERY = 8192  # rows between two calls of the progress hook


class TextReader(SourceReader):
    """The readers of CSV, JSON Lines and JSON files; a base of EventReader."""

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
