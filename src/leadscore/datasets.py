"""Readers for public purchase logs, for experiments and tests.

This module does file I/O and is not imported by ``import leadscore``.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from .exceptions import InvalidEventError
from .model._events import Event

__all__ = ["load_cdnow"]


def _fail(path: Path, line: int, field: str, value: str, why: str) -> InvalidEventError:
    return InvalidEventError(
        f"{field} {why}, got {value!r}",
        field=field,
        value=value,
        where=f"{path}:{line}",
    )


def load_cdnow(path: str | Path, *, kind: str = "order.paid") -> list[Event]:
    """Read the CDNOW purchase log of Fader and Hardie as purchase events.

    The sample file has five whitespace-separated columns and no header: customer
    id, sample index, date (YYYYMMDD), number of CDs, dollar value; the master file
    has a header line and no sample index. Both are read. Each line becomes
    ``Event(customer, kind, date at 00:00 UTC, {"cds": n}, value=dollars,
    id="cdnow:<line>")``; the ids make reading the file twice harmless.

    Raises:
        InvalidEventError: naming the file, line, field and value.
    """
    path = Path(path)
    events = []
    with path.open(encoding="utf-8") as f:
        for number, line in enumerate(f, start=1):
            parts = line.split()
            if not parts or (number == 1 and not parts[0].isdigit()):
                continue  # blank, or the master file's header
            if len(parts) == 5:  # the sample file: drop the sample index
                del parts[1]
            if len(parts) != 4:
                raise _fail(
                    path, number, "line", line.strip(), "must have 4 or 5 columns"
                )
            customer, date, cds, dollars = parts
            try:
                at = dt.datetime.strptime(date, "%Y%m%d").replace(tzinfo=dt.UTC)
            except ValueError:
                raise _fail(path, number, "date", date, "must be YYYYMMDD") from None
            if not cds.isdigit():
                raise _fail(path, number, "cds", cds, "must be a whole number")
            try:
                value = float(dollars)
            except ValueError:
                raise _fail(
                    path, number, "dollars", dollars, "must be a number"
                ) from None
            try:
                events.append(
                    Event(
                        customer, kind, at, {"cds": int(cds)}, value, f"cdnow:{number}"
                    )
                )
            except InvalidEventError as e:
                raise _fail(path, number, e.field, dollars, str(e)) from None
    return events
