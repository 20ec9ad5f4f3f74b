"""Events as table rows, for the SQL stores (parameters only, never SQL text)."""

from __future__ import annotations

import json
from typing import Any

from leadscore._events import CONTACT_MERGED, Event, from_micros

__all__ = ["SCHEMA_VERSION", "from_row", "to_row"]

#: The schema the SQL stores create and migrate to.
SCHEMA_VERSION = 1


def to_row(e: Event) -> tuple[Any, ...]:
    """``(event_id, contact, kind, at_us, attrs_json, value, merged_from)``."""
    merged_from = e.attrs.get("from") if e.kind == CONTACT_MERGED else None
    return (
        e.id,
        e.contact,
        e.kind,
        e._us,  # noqa: SLF001
        json.dumps(dict(e.attrs), ensure_ascii=False, separators=(",", ":")),
        e.value,
        merged_from,
    )


def from_row(row: Any) -> Event:
    """The event of a ``(event_id, contact, kind, at_us, attrs_json, value)`` row."""
    event_id, contact, kind, at_us, attrs, value = row[:6]
    return Event(contact, kind, from_micros(at_us), json.loads(attrs), value, event_id)
