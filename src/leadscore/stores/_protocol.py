"""The Store protocol: what the engine needs from a place that keeps events."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Protocol, runtime_checkable

import attrs

from leadscore.model._events import Event
from leadscore.model._identity import same_event_again
from leadscore.paths._stream import checked_list

__all__ = ["QuarantinedRow", "RejectedRow", "Store", "check_batch"]


@runtime_checkable
class Store(Protocol):
    """A durable (or not) home for events.

    ``append`` is atomic: either every new event of the batch is stored, or none
    is. Identity follows DESIGN: an event whose id is stored (equal) is skipped, a
    different event reusing a stored id makes the whole batch fail with
    ``InvalidEventError``; id-less events are always new.

    Beyond the protocol, the shipped SQL stores keep a list ``rejected`` of the
    rows their last read skipped (:class:`RejectedRow`), and offer
    ``quarantine_corrupt()`` and ``quarantined()`` for rows that cannot be decoded
    (``MemoryStore.rejected`` is always empty).
    """

    def append(self, events: Sequence[Event]) -> list[Event]:
        """Store the batch atomically; return the events that were new."""
        ...

    def events(self) -> list[Event]:
        """Every stored event, in the order they were stored."""
        ...

    def forget(self, contacts: Iterable[str]) -> int:
        """Erase the events of *contacts* and the merges naming them; count them."""
        ...

    def close(self) -> None:
        """Release the store's resources."""
        ...


@attrs.frozen
class RejectedRow:
    """A stored row that decodes but is no longer a valid event.

    Written by an older leadscore that accepted more (a ``contact.merged``
    without ``from``, say). Reads skip it and list it in the store's
    ``rejected``; the row stays stored.

    Attributes:
        row: The store's row id (``seq``).
        data: The decoded row as :class:`~leadscore.Event` arguments (``contact``,
            ``kind``, ``at``, ``attrs``, ``value``, ``id``): fix it and ingest
            ``Event(**fixed)`` to keep it.
        error: Why ``Event(**data)`` fails.
    """

    row: int
    data: Mapping[str, Any] = attrs.field(hash=False)
    error: str


@attrs.frozen
class QuarantinedRow:
    """A row that could not be decoded, moved aside by ``quarantine_corrupt()``.

    Attributes:
        row: The row id (``seq``) it had among the events.
        raw: Its columns exactly as the database returns them (text that is not
            valid UTF-8 comes back as ``bytes``).
        error: Why it could not be read.
    """

    row: int
    raw: Mapping[str, Any] = attrs.field(hash=False)
    error: str


def check_batch(events: Iterable[Event], stored: dict[str, Event]) -> list[Event]:
    """The new events of a batch, by the identity rule, before anything is written.

    *stored* maps the batch's ids that are already stored to their events.

    Raises:
        InvalidEventError: for something that is not an Event, or an id reused by
            a different event (in the store or within the batch).
    """
    batch = checked_list(events)
    known = dict(stored)
    return [
        e
        for pos, e in enumerate(batch)
        if e.id is None or not same_event_again(known, e, pos)
    ]
