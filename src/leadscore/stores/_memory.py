"""The in-memory store: the reference every other store is tested against."""

from __future__ import annotations

import bisect
import secrets
from collections.abc import Callable, Iterable, Sequence

from leadscore.model._events import CONTACT_MERGED, Event
from leadscore.paths._stream import checked_list

from ._protocol import (
    Appended,
    Committed,
    Effects,
    OutboxRow,
    RejectedRow,
    Txn,
    check_batch,
    digest,
    keep_remembered,
    names_of,
)

__all__ = ["MemoryStore"]


class MemoryStore:
    """Events in a list, ids in a dict. Not durable; for tests and notebooks."""

    def __init__(self) -> None:
        """An empty store."""
        self._events: list[tuple[int, Event]] = []
        self._ids: dict[str, Event] = {}
        self._seq = 0
        self._state: dict[str, str] = {"salt": secrets.token_hex(16), "epoch": "0"}
        self._outbox: list[OutboxRow] = []
        self._outbox_ids: set[str] = set()
        self._markers: dict[str, str] = {}  # marker -> contact
        self._forgotten: dict[str, int] = {}  # digest -> until_us
        #: Always empty: this store holds only events that were valid when
        #: appended (the attribute matches the SQL stores').
        self.rejected: list[RejectedRow] = []

    def _new(self, batch: list[Event]) -> list[Event]:
        stored = {e.id: self._ids[e.id] for e in batch if e.id in self._ids}
        new = check_batch(batch, stored)
        if self._forgotten:
            salt = self._state["salt"]
            names = {n: digest(salt, n) for n in names_of(new)}
            new = keep_remembered(new, names, self._forgotten)
        return new

    def _store(self, new: list[Event]) -> None:
        for e in new:
            self._seq += 1
            self._events.append((self._seq, e))
        self._ids.update((e.id, e) for e in new if e.id is not None)

    def append(self, events: Sequence[Event]) -> list[Event]:
        """Store the batch atomically (nothing is changed if it fails)."""
        new = self._new(checked_list(events))
        self._store(new)
        return new

    def commit(
        self,
        events: Sequence[Event],
        effects: Callable[[Txn], Effects],
        *,
        since: int,
    ) -> Committed:
        """Store the batch and its effects together (nothing if anything fails)."""
        new = self._new(checked_list(events))
        others = self._after(since)
        done = effects(Txn(tuple(new), others, dict(self._state), self._seq))
        self._store(new)
        rows = []
        position = self._outbox[-1].position if self._outbox else 0
        for entry in done.entries:
            if entry.id in self._outbox_ids:
                continue
            if entry.once is not None:
                if entry.once in self._markers:
                    continue
                self._markers[entry.once] = entry.contact
            position += 1
            row = OutboxRow(position, entry.id, entry.contact, entry.payload)
            self._outbox.append(row)
            self._outbox_ids.add(entry.id)
            rows.append(row)
        self._state.update(done.state)
        return Committed(tuple(new), others, tuple(rows), self._seq)

    def since(self, mark: int) -> Appended:
        """The events stored after *mark*."""
        return Appended(self._seq, self._after(mark), self._state["epoch"])

    def _after(self, mark: int) -> tuple[Event, ...]:
        start = bisect.bisect_right(self._events, mark, key=lambda pair: pair[0])
        return tuple(e for _, e in self._events[start:])

    def events(self) -> list[Event]:
        """Every stored event."""
        return [e for _, e in self._events]

    def events_of(self, contacts: Iterable[str]) -> list[Event]:
        """The events of *contacts* and the merges naming them."""
        wanted = set(contacts)
        return [e for _, e in self._events if _about(e, wanted)]

    def state(self) -> dict[str, str]:
        """The key-value state."""
        return dict(self._state)

    def outbox(self, after: int, limit: int) -> list[OutboxRow]:
        """Outbox rows after *after*."""
        return [r for r in self._outbox if r.position > after][:limit]

    def acknowledge(self, consumer: str, position: int) -> None:
        """Move the consumer's cursor forward."""
        key = f"cursor:{consumer}"
        current = int(self._state.get(key, "0"))
        self._state[key] = str(max(current, position))

    def forget(self, contacts: Iterable[str]) -> int:
        """Erase the contacts' events, outbox rows and markers; keep hashes."""
        gone = set(contacts)
        salt = self._state["salt"]
        keep = []
        for seq, e in self._events:
            if not _about(e, gone):
                keep.append((seq, e))
                continue
            for c in {e.contact, e.attrs.get("from")} & gone:
                assert isinstance(c, str)
                key = digest(salt, c)
                self._forgotten[key] = max(self._forgotten.get(key, e._us), e._us)  # noqa: SLF001
        erased = len(self._events) - len(keep)
        self._events = keep
        self._ids = {e.id: e for _, e in keep if e.id is not None}
        self._outbox = [r for r in self._outbox if r.contact not in gone]
        self._outbox_ids = {r.id for r in self._outbox}
        self._markers = {m: c for m, c in self._markers.items() if c not in gone}
        self._state["epoch"] = str(int(self._state["epoch"]) + 1)
        return erased

    def close(self) -> None:
        """Nothing to release."""


def _about(e: Event, contacts: set[str]) -> bool:
    return e.contact in contacts or (
        e.kind == CONTACT_MERGED and e.attrs.get("from") in contacts
    )
