"""The in-memory store: the reference every other store is tested against."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from leadscore.model._events import CONTACT_MERGED, Event
from leadscore.paths._stream import checked_list

from ._protocol import RejectedRow, check_batch

__all__ = ["MemoryStore"]


class MemoryStore:
    """Events in a list, ids in a dict. Not durable; for tests and notebooks."""

    def __init__(self) -> None:
        """An empty store."""
        self._events: list[Event] = []
        self._ids: dict[str, Event] = {}
        #: Always empty: this store holds only events that were valid when
        #: appended (the attribute matches the SQL stores').
        self.rejected: list[RejectedRow] = []

    def append(self, events: Sequence[Event]) -> list[Event]:
        """Store the batch atomically (nothing is changed if it fails)."""
        batch = checked_list(events)
        stored = {e.id: self._ids[e.id] for e in batch if e.id in self._ids}
        new = check_batch(batch, stored)
        self._events.extend(new)
        self._ids.update((e.id, e) for e in new if e.id is not None)
        return new

    def events(self) -> list[Event]:
        """Every stored event."""
        return list(self._events)

    def forget(self, contacts: Iterable[str]) -> int:
        """Erase the contacts' events and the merges naming them."""
        gone = set(contacts)
        keep = [e for e in self._events if not _about(e, gone)]
        erased = len(self._events) - len(keep)
        self._events = keep
        self._ids = {e.id: e for e in keep if e.id is not None}
        return erased

    def close(self) -> None:
        """Nothing to release."""


def _about(e: Event, contacts: set[str]) -> bool:
    return e.contact in contacts or (
        e.kind == CONTACT_MERGED and e.attrs.get("from") in contacts
    )
