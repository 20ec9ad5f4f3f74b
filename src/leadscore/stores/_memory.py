"""The in-memory store: the reference every other store is tested against."""

from __future__ import annotations

import bisect
import heapq
import secrets
from collections.abc import Callable, Iterable, Mapping, Sequence

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
        # Per name (a contact, or the id a merge merges), its stored events.
        self._by_name: dict[str, list[tuple[int, Event]]] = {}
        self._contacts: list[str] | None = []  # sorted; None: to sort again
        self._due: dict[str, int] = {}
        self._due_heap: list[tuple[int, str]] = []  # entries may be stale
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
        by_name, append, seq = self._by_name, self._events.append, self._seq
        for e in new:
            seq += 1
            pair = (seq, e)
            append(pair)
            stored = by_name.get(e.contact)
            if stored is None:
                by_name[e.contact] = [pair]
                self._contacts = None
            else:
                stored.append(pair)
            if e.kind == CONTACT_MERGED:
                for name in _names(e)[1:]:
                    by_name.setdefault(name, []).append(pair)
        self._seq = seq
        self._ids.update((e.id, e) for e in new if e.id is not None)

    def _set_due(self, due: Mapping[str, int | None]) -> None:
        for key, t in due.items():
            if t is None:
                self._due.pop(key, None)
            else:
                self._due[key] = t
                heapq.heappush(self._due_heap, (t, key))

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
        self._set_due(done.due)
        return Committed(tuple(new), others, tuple(rows), self._seq)

    def since(self, mark: int) -> Appended:
        """The events stored after *mark*."""
        return Appended(self._seq, self._after(mark), self._state["epoch"])

    def head(self) -> Appended:
        """The high-water mark and epoch, no events."""
        return Appended(self._seq, (), self._state["epoch"])

    def contacts(self, after: str | None, limit: int) -> list[str]:
        """Up to *limit* stored contacts greater than *after*, ascending."""
        if self._contacts is None:
            self._contacts = sorted(
                {e.contact for pairs in self._by_name.values() for _, e in pairs}
            )
        start = 0 if after is None else bisect.bisect_right(self._contacts, after)
        return self._contacts[start : start + limit]

    def earliest(self) -> int | None:
        """The earliest stored instant, or None."""
        return min((e._us for _, e in self._events), default=None)  # noqa: SLF001

    def due(self, after: tuple[int, str] | None, limit: int) -> list[tuple[int, str]]:
        """Up to *limit* due rows after *after*, by instant then key."""
        heap, valid = self._due_heap, self._due
        out: list[tuple[int, str]] = []
        popped: list[tuple[int, str]] = []
        seen: set[str] = set()
        while heap and len(out) < limit:
            t, key = heapq.heappop(heap)
            if valid.get(key) != t or key in seen:
                continue  # stale (changed or deleted since), or a duplicate
            seen.add(key)
            popped.append((t, key))
            if after is None or (t, key) > after:
                out.append((t, key))
        for item in popped:
            heapq.heappush(heap, item)
        return out

    def _after(self, mark: int) -> tuple[Event, ...]:
        start = bisect.bisect_right(self._events, mark, key=lambda pair: pair[0])
        return tuple(e for _, e in self._events[start:])

    def events(self) -> list[Event]:
        """Every stored event."""
        return [e for _, e in self._events]

    def events_of(
        self, contacts: Iterable[str], *, upto: int | None = None
    ) -> list[Event]:
        """The events of *contacts* and the merges naming them (up to *upto*)."""
        found: dict[int, Event] = {}
        for name in set(contacts):
            found.update(self._by_name.get(name, ()))
        top = self._seq if upto is None else upto
        return [found[seq] for seq in sorted(found) if seq <= top]

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
        self._by_name = {}
        self._contacts = None
        for pair in keep:
            for name in _names(pair[1]):
                self._by_name.setdefault(name, []).append(pair)
        for name in gone:
            self._due.pop(name, None)
        self._due_heap = [(t, k) for t, k in self._due_heap if k not in gone]
        heapq.heapify(self._due_heap)
        self._ids = {e.id: e for _, e in keep if e.id is not None}
        self._outbox = [r for r in self._outbox if r.contact not in gone]
        self._outbox_ids = {r.id for r in self._outbox}
        self._markers = {m: c for m, c in self._markers.items() if c not in gone}
        self._state["epoch"] = str(int(self._state["epoch"]) + 1)
        return erased

    def close(self) -> None:
        """Nothing to release."""


def _names(e: Event) -> tuple[str, ...]:
    source = e.attrs.get("from") if e.kind == CONTACT_MERGED else None
    if isinstance(source, str) and source != e.contact:
        return (e.contact, source)
    return (e.contact,)


def _about(e: Event, contacts: set[str]) -> bool:
    return e.contact in contacts or (
        e.kind == CONTACT_MERGED and e.attrs.get("from") in contacts
    )
