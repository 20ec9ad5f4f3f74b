"""The identity rule and the not-an-event check: written once, used by every loop.

DESIGN, "Identity": an event with an ``id`` is identified by it; the same event
given twice counts once, and two different events with one ``id`` are an error.
The hot loops inline the dictionary lookups but build their errors here; the
stores and the streaming paths call :func:`same_event_again`.
"""

from __future__ import annotations

from leadscore.exceptions import InvalidEventError

from ._events import Event
from ._limits import shorten

__all__ = ["id_conflict", "not_an_event", "same_event_again"]


def not_an_event(pos: int, item: object) -> InvalidEventError:
    """The error for *item*, at position *pos* of a stream, that is not an Event."""
    return InvalidEventError(
        f"events[{pos}] is not an Event: {type(item).__name__} {shorten(item)}",
        field=f"events[{pos}]",
        value=item,
    )


def id_conflict(known: Event, e: Event, pos: int) -> InvalidEventError:
    """The error for a different event *e* reusing the id of *known*."""
    return InvalidEventError(
        f"id {shorten(e.id)} is already used by a different event: "
        f"{shorten(known)}, now {shorten(e)}",
        field="id",
        value=e.id,
        where=f"events[{pos}]",
    )


def same_event_again(ids: dict[str, Event], e: Event, pos: int) -> bool:
    """Apply the identity rule to *e* (which has an id), at position *pos*.

    True if the same event is known already (skip it); otherwise records it in
    *ids* and returns False.

    Raises:
        InvalidEventError: if a different event holds the id.
    """
    eid = e.id
    assert eid is not None
    known = ids.get(eid)
    if known is None:
        ids[eid] = e
        return False
    if known == e:
        return True
    raise id_conflict(known, e, pos)
