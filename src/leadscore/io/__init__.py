"""Events in and out of files and DataFrames.

>>> from leadscore import io
>>> reader = io.read_events([
...     {"email": "ann@example.com", "type": "OPEN", "created": 1714557600000},
...     {"email": "bob@example.com", "type": "OPEN", "created": "yesterday"},
... ], columns={"contact": "email", "kind": "type", "at": "created"},
...    on_error="skip")
>>> [e.at.isoformat() for e in reader]
['2024-05-01T10:00:00+00:00']
>>> print(reader.errors[0])
records row 2: at (column 'created') is not a timestamp: 'yesterday'; use ISO-8601 with an offset (2024-05-01T09:30:00Z), RFC 2822, or seconds/milliseconds since 1970

CSV and JSON are read with the standard library; Parquet, Arrow, pandas and
Polars sources need ``pyarrow`` (``pip install leadscore[io]``) and are imported
only when such a source is read. ``reader.to_arrow()`` reads the same events as
typed columns with PyArrow's multithreaded readers, for ``leadscore.frame`` and
files of millions of rows. ``import leadscore`` does not import this module.
"""  # noqa: E501

from __future__ import annotations

from ._exports import EXPORTS, ExportFormat, hubspot, mautic
from ._read import BadRow, EventReader, Format, NotColumnar, read_events
from ._write import write_events

__all__ = [
    "EXPORTS",
    "BadRow",
    "EventReader",
    "ExportFormat",
    "Format",
    "NotColumnar",
    "hubspot",
    "mautic",
    "read_events",
    "write_events",
]
