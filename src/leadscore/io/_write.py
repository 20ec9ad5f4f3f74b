"""write_events: Events out to CSV, JSON Lines or Parquet, readable by read_events."""

from __future__ import annotations

import csv
import gzip
import io
import json
from collections.abc import Iterable
from pathlib import Path
from typing import IO, Any

from leadscore.exceptions import InvalidEventError
from leadscore.model._events import Event
from leadscore.model._limits import shorten

from ._sources import Format, _kind_of

__all__ = ["write_events"]

_FIELDS = ("contact", "kind", "at", "value", "id")


def _check_keys(events: list[Event]) -> list[str]:
    keys: set[str] = set()
    for e in events:
        keys.update(e.attrs)
    clash = sorted(keys & set(_FIELDS))
    if clash:
        raise InvalidEventError(
            f"attribute {clash[0]!r} has the name of an Event field; a flat file "
            "cannot hold both",
            field=f"attrs[{clash[0]!r}]",
            value=clash[0],
        )
    return sorted(keys)


def _csv_cell(key: str, value: Any) -> str:
    if value is None:
        return ""
    if value is True or value is False:
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, int | str):
        return str(value)
    raise InvalidEventError(
        f"attrs[{key!r}] is a {type(value).__name__}, which CSV cannot hold; write "
        f"JSON Lines or Parquet: {shorten(value)}",
        field=f"attrs[{key!r}]",
        value=value,
    )


def _open(path: Path) -> IO[str]:
    if path.suffix == ".gz":
        return io.TextIOWrapper(gzip.open(path, "wb"), encoding="utf-8", newline="")
    return path.open("w", encoding="utf-8", newline="")


def write_events(
    events: Iterable[Event],
    path: str | Path,
    *,
    format: Format | None = None,  # noqa: A002 - as read_events
) -> int:
    """Write *events* to a file that :func:`read_events` reads back; return the count.

    Columns ``contact``, ``kind``, ``at`` (ISO-8601, UTC), ``value``, ``id``, then
    one per attribute. JSON Lines and Parquet keep every attribute's type
    (tuples as lists); CSV is text, so it holds no tuples, and an attribute text
    that reads as a number or a boolean (``"42"``, ``"true"``) or is empty comes
    back as that number, boolean or no attribute. Parquet needs one type per
    attribute across the events.

    Raises:
        InvalidEventError: for an attribute named like an Event field, a value
            the format cannot hold, or a non-Event in *events*.
    """
    path = Path(path)
    fmt, _ = _kind_of(path, format)
    rows = list(events)
    for pos, e in enumerate(rows):
        if not isinstance(e, Event):
            raise InvalidEventError(
                f"events[{pos}] is not an Event: {shorten(e)}",
                field=f"events[{pos}]",
                value=e,
            )
    keys = _check_keys(rows)
    if fmt == "csv":
        with _open(path) as f:
            writer = csv.writer(f)  # \r\n ends rows, so a lone \r is quoted
            writer.writerow([*_FIELDS, *keys])
            for e in rows:
                get = e.attrs.get
                writer.writerow(
                    [
                        e.contact,
                        e.kind,
                        e.at.isoformat(),
                        repr(e.value),
                        "" if e.id is None else e.id,
                        *(_csv_cell(k, get(k)) for k in keys),
                    ]
                )
    elif fmt == "jsonl":
        with _open(path) as f:
            for e in rows:
                record: dict[str, Any] = {
                    "contact": e.contact,
                    "kind": e.kind,
                    "at": e.at.isoformat(),
                }
                if e.value:
                    record["value"] = e.value
                if e.id is not None:
                    record["id"] = e.id
                record.update(e.attrs)
                f.write(json.dumps(record, ensure_ascii=False))
                f.write("\n")
    elif fmt == "parquet":
        _write_parquet(rows, keys, path)
    else:
        raise InvalidEventError(
            f'write_events writes "csv", "jsonl" or "parquet", not {fmt!r}',
            field="format",
            value=fmt,
        )
    return len(rows)


def _write_parquet(rows: list[Event], keys: list[str], path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    columns: dict[str, Any] = {
        "contact": pa.array([e.contact for e in rows], pa.string()),
        "kind": pa.array([e.kind for e in rows], pa.string()),
        "at": pa.array([e.at for e in rows], pa.timestamp("us", tz="UTC")),
        "value": pa.array([e.value for e in rows], pa.float64()),
        "id": pa.array([e.id for e in rows], pa.string()),
    }
    for key in keys:
        values = [_listed(e.attrs.get(key)) for e in rows]
        try:
            columns[key] = pa.array(values)
        except (pa.ArrowException, TypeError, OverflowError) as e:
            raise InvalidEventError(
                f"attrs[{key!r}] cannot be a Parquet column (one type per column, "
                f"integers within 64 bits): {shorten(str(e))}",
                field=f"attrs[{key!r}]",
                value=key,
            ) from None
    pq.write_table(pa.table(columns), path)


def _listed(value: Any) -> Any:
    if isinstance(value, tuple):
        return [_listed(v) for v in value]
    return value
