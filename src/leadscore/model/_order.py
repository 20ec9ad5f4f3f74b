"""The canonical order of events, and the name an error message gives an event.

Both depend only on what an event holds, never on when or in what order it
arrived: "the latest" of several events is the same in every run, and a message
names an event the same way wherever it is raised.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from ._attr_values import AttrValue
from ._limits import shorten

if TYPE_CHECKING:
    from ._events import Event

__all__ = ["canonical_key", "describe"]


def _rank_value(v: AttrValue) -> tuple[Any, ...]:
    # A total order over mixed attribute values: by type first, then by value.
    if v is None:
        return (0,)
    if isinstance(v, bool):
        return (1, v)
    if isinstance(v, int):
        return (2, v, 0)
    if isinstance(v, float):
        # 1 and 1.0, 0.0 and -0.0 are equal but not the same input: order them.
        return (2, v, 1, math.copysign(1.0, v))
    if isinstance(v, str):
        return (3, v)
    return (4, tuple(_rank_value(x) for x in v))


def canonical_key(e: Event) -> tuple[Any, ...]:
    """A total order on events that never depends on arrival order.

    Time first, then id (events without an id first), then kind, attributes, value
    and contact. Used wherever "the latest" of several events must be chosen.
    """
    return (
        e._us,  # noqa: SLF001
        e.id is not None,
        e.id or "",
        e.kind,
        tuple(sorted((k, _rank_value(v)) for k, v in e.attrs.items())),
        e.value,
        e.contact,
    )


def describe(e: Event) -> str:
    """Name an event in an error message: its id, or contact, kind and time."""
    if e.id is not None:
        return f"event id={shorten(e.id)}"
    return f"event {shorten(e.kind)} of {shorten(e.contact)} at {e.at.isoformat()}"
