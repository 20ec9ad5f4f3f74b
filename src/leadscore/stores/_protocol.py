"""The Store protocol: what the engine needs from a place that keeps events."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Protocol, runtime_checkable

import attrs

from leadscore.model._events import CONTACT_MERGED, Event
from leadscore.model._identity import same_event_again
from leadscore.paths._stream import checked_list

__all__ = [
    "Appended",
    "Committed",
    "Effects",
    "OutboxEntry",
    "OutboxRow",
    "QuarantinedRow",
    "RejectedRow",
    "Store",
    "Txn",
    "check_batch",
    "digest",
    "keep_remembered",
    "names_of",
]


@attrs.frozen
class OutboxEntry:
    """A notification to write in a commit's transaction (see :class:`Effects`).

    Attributes:
        id: Its stable id: the same cause gives the same id, and a store writes
            an id once (a second entry with a stored id is dropped).
        contact: Whom it is about (erased with the contact by ``forget``).
        payload: Its content, JSON text.
        once: A first-only marker, or None: the entry is written only if no
            entry with this marker was ever written (the marker is kept, and
            erased by ``forget`` of *contact*).
    """

    id: str
    contact: str
    payload: str
    once: str | None = None


@attrs.frozen
class OutboxRow:
    """A stored notification: its position in the outbox (increasing) and content."""

    position: int
    id: str
    contact: str
    payload: str


@attrs.frozen
class Txn:
    """What a commit's *effects* callback sees, inside the transaction.

    Attributes:
        new: The batch's events that are new (the identity rule applied, events
            of forgotten contacts left out); stored when the transaction commits.
        others: Events stored by others after the caller's mark, before the batch
            (in the order stored).
        state: The store's small key-value state (watermark, epoch, cursors).
        high: The high-water mark before the batch: with the ``epoch`` of
            *state*, it names the commit (no two commits share both).
    """

    new: tuple[Event, ...]
    others: tuple[Event, ...]
    state: Mapping[str, str]
    high: int = 0


@attrs.frozen
class Effects:
    """What a commit writes beside the events: outbox entries, state keys, dues.

    Attributes:
        entries: Outbox entries (see :class:`OutboxEntry`).
        state: Keys of the small key-value state to set.
        due: ``{key: instant in microseconds, or None}``: the due index rows to
            set (None deletes the row). The engine keeps there, per contact (or
            subject), a lower bound of the next instant at which time alone may
            change its score, so that ``advance`` and ``next_due`` visit only the
            contacts due, never the whole store (schema version 4).
    """

    entries: tuple[OutboxEntry, ...] = ()
    state: Mapping[str, str] = attrs.field(factory=dict)
    due: Mapping[str, int | None] = attrs.field(factory=dict)


@attrs.frozen
class Committed:
    """What :meth:`Store.commit` did.

    Attributes:
        new: The events stored (as :attr:`Txn.new`).
        others: As :attr:`Txn.others`.
        rows: The outbox rows written, in order (entries dropped as duplicates
            or as first-only markers already used are not among them).
        mark: The high-water mark after the commit.
    """

    new: tuple[Event, ...]
    others: tuple[Event, ...]
    rows: tuple[OutboxRow, ...]
    mark: int


@attrs.frozen
class Appended:
    """What :meth:`Store.since` read: the events stored after a mark.

    Attributes:
        mark: The high-water mark to ask from next time.
        events: The events, in the order stored.
        epoch: Changes whenever ``forget`` erases something: a reader holding
            state derived from the events must then read them all again.
    """

    mark: int
    events: tuple[Event, ...]
    epoch: str


def digest(salt: str, contact: str) -> str:
    """A keyed hash of *contact* (the store's secret *salt* is the key).

    What a store keeps of a forgotten contact: it recognises the contact's old
    events when they come again, and cannot be reversed without the salt.
    """
    return hashlib.blake2b(
        contact.encode("utf-8", "surrogatepass"),
        key=bytes.fromhex(salt),
        digest_size=16,
    ).hexdigest()


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

    def commit(
        self,
        events: Sequence[Event],
        effects: Callable[[Txn], Effects],
        *,
        since: int,
    ) -> Committed:
        """Store the batch and what *effects* derives from it, in one transaction.

        *effects* is called inside the transaction with a :class:`Txn` (it may be
        called again if the store retries); whatever it raises aborts the
        transaction. Events of a forgotten contact at or before the last instant
        of its erased events are left out (see :meth:`forget`).
        """
        ...

    def since(self, mark: int) -> Appended:
        """The events stored after *mark* (0: every event), and the new mark."""
        ...

    def events_of(
        self, contacts: Iterable[str], *, upto: int | None = None
    ) -> list[Event]:
        """The events of *contacts* and the merges naming them, in stored order.

        With *upto* (a mark of :meth:`since`), only those stored at or before
        it: the engine reads a contact as of the mark it has read up to, and
        takes what came later from :meth:`since` (schema version 4).
        """
        ...

    def head(self) -> Appended:
        """The high-water mark and the epoch, without reading any event.

        ``Appended(mark, (), epoch)``, as :meth:`since` would say for a mark at
        the top. The engine opens with it: opening reads no event.
        """
        ...

    def contacts(self, after: str | None, limit: int) -> list[str]:
        """Up to *limit* distinct stored contacts (``Event.contact``), ascending.

        Those greater than *after* (None: from the first): keyset paging, so
        that whole-population reads stream contact by contact.
        """
        ...

    def earliest(self) -> int | None:
        """The earliest instant of any stored event (microseconds), or None."""
        ...

    def due(self, after: tuple[int, str] | None, limit: int) -> list[tuple[int, str]]:
        """Up to *limit* due index rows ``(instant, key)`` after *after*, ascending.

        Ordered by instant, then key; *after* is the last row of the previous
        page (None: from the first). Rows are written by :meth:`commit` from
        :attr:`Effects.due` and erased by :meth:`forget` with their contact.
        """
        ...

    def state(self) -> dict[str, str]:
        """The small key-value state kept beside the events."""
        ...

    def outbox(self, after: int, limit: int) -> list[OutboxRow]:
        """Up to *limit* outbox rows with a position greater than *after*."""
        ...

    def acknowledge(self, consumer: str, position: int) -> None:
        """Move *consumer*'s cursor (state ``cursor:<consumer>``) up to *position*."""
        ...

    def events(self) -> list[Event]:
        """Every stored event, in the order they were stored."""
        ...

    def forget(self, contacts: Iterable[str]) -> int:
        """Erase the events of *contacts* and the merges naming them; count them.

        Their outbox rows, first-only markers and due rows go too. What is kept
        is a keyed hash of each contact with the last instant of its erased
        events: its old events are left out when they come again.
        """
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


def _names(e: Event) -> tuple[str, ...]:
    source = e.attrs.get("from") if e.kind == CONTACT_MERGED else None
    return (e.contact, source) if isinstance(source, str) else (e.contact,)


def names_of(events: Iterable[Event]) -> set[str]:
    """The contacts *events* name: their contacts, and the ids merges merge."""
    if not isinstance(events, list | tuple):
        events = list(events)
    found = {e.contact for e in events}  # a C loop; merges are rare
    for e in events:
        if e.kind == CONTACT_MERGED:
            source = e.attrs.get("from")
            if isinstance(source, str):
                found.add(source)
    return found


def keep_remembered(
    events: list[Event], digests: Mapping[str, str], forgotten: Mapping[str, int]
) -> list[Event]:
    """*events* without the old events of forgotten contacts.

    *digests* maps each name of :func:`names_of` to its :func:`digest`;
    *forgotten* maps the digests of forgotten contacts to the last instant of
    their erased events (microseconds). An event naming such a contact at or
    before that instant is left out.
    """
    out = []
    for e in events:
        t = e._us  # noqa: SLF001
        if not any(forgotten.get(digests[n], t - 1) >= t for n in _names(e)):
            out.append(e)
    return out
