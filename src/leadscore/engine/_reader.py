"""Reading the store into the engine's cache, and committing to it.

The base of :class:`~leadscore.engine.Engine`: the store holds the events; the
engine folds those of the contacts it needs into per-model ledgers
(:class:`~._cache.ContactCache`), takes in what other processes stored since it
last read, and runs each write as a store commit that it retries when the store
changed underneath.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any

from leadscore._triggers import Threshold
from leadscore.exceptions import LeadScoreWarning, StoreError
from leadscore.model._events import Event
from leadscore.model._limits import shorten
from leadscore.model._rules import ScoringModel
from leadscore.paths._fold import Ledger, fold
from leadscore.results import ScoreChange
from leadscore.stores import Store
from leadscore.stores._protocol import Effects, OutboxEntry, names_of

from ._cache import ContactCache, names
from ._outbox import change_entry, crossing_entry
from ._reports import Fired, Ingested, SkippedEvent, touched_by

__all__ = ["PAGE", "Reader", "Retry", "Stale"]

PAGE = 1_000  # contacts per page of a whole-population read


class Stale(Exception):  # noqa: N818 - private signal, never escapes
    """Another process erased events since the engine last read: read again."""


class Retry(Exception):  # noqa: N818 - private signal, never escapes
    """Another process stored something the commit must see first: again."""

    def __init__(self, names: Iterable[str] = ()) -> None:
        super().__init__()
        self.names = set(names)


class Reader:
    """The engine's store plumbing (see the module docstring); not used alone."""

    store: Store
    thresholds: dict[str, list[Threshold]]
    skipped: list[SkippedEvent]
    _models: dict[str, ScoringModel]
    _capacity: int | None
    _cache: ContactCache
    _mark: int
    _epoch: str
    _whole: bool

    def _open(self) -> None:
        """Start over from the store's head (at open, and after an erasure).

        Reads no event, unless a model has a subject (then every event).
        """
        self._whole = any(m.subject is not None for m in self._models.values())
        self._cache = ContactCache(
            self._models, None if self._whole else self._capacity, self._fold_stored
        )
        if self._whole:
            got = self.store.since(0)
            self._cache.add(got.events, names_of(got.events))
        else:
            got = self.store.head()
        self._mark, self._epoch = got.mark, got.epoch
        # Nothing stored, or everything read: a contact not cached has no events.
        self._cache.complete = self._whole or got.mark == 0

    def _refresh(self) -> None:
        """Take in what other processes stored since the engine last read."""
        got = self.store.since(self._mark)
        if got.epoch != self._epoch:
            self._open()
            return
        if got.events:
            self._absorb(got.events)
        self._mark = max(self._mark, got.mark)

    def _absorb(self, events: Sequence[Event]) -> None:
        """Fold stored *events* into the cached contacts they are about.

        Events about contacts not cached are left to be read when needed; a
        merge linking a cached contact to one not cached evicts the cached
        component (it is read again, whole, when needed).
        """
        cache = self._cache
        taken, split = cache.sort_out(events)
        if split:
            cache.drop(split)
            taken = [e for e in taken if all(n in cache for n in names(e))]
        cache.add(taken, names_of(taken))
        for model in self._models.values():
            for k in touched_by(model, events):  # others wrote their rows
                cache.due.pop(k, None)

    def _taken_in(
        self, ledgers: dict[str, Ledger], others: Sequence[Event]
    ) -> tuple[dict[str, Ledger], set[str]]:
        """*ledgers* with the *others* about cached contacts folded in (a value).

        Raises:
            Retry: for a merge linking a cached contact to one not cached.
        """
        taken, split = self._cache.sort_out(others)
        if split:
            raise Retry(split)
        if not taken:
            return ledgers, set()
        out = {
            name: self._fold_stored(m, taken, ledgers[name])
            for name, m in self._models.items()
        }
        return out, names_of(taken)

    def _read(
        self, wanted: Iterable[str], upto: int | None
    ) -> tuple[list[Event], set[str]]:
        """The events of the components of *wanted*, and every name read.

        Follows merges both ways (a contact, the ids merged into it, its
        master), reading each name once. With *upto*, only events stored at
        or before that mark (consistent with the engine's mark).
        """
        todo = set(wanted)
        read: set[str] = set()
        found: list[Event] = []
        while todo:
            earlier = set(read)
            read |= todo
            batch = self.store.events_of(sorted(todo), upto=upto)
            todo = set()
            for e in batch:
                named = names(e)
                if any(n in earlier for n in named):
                    continue  # read already, with a name read before
                found.append(e)
                todo.update(n for n in named if n not in read)
        return found, read

    def _load(self, wanted: Iterable[str]) -> None:
        """Make sure the components of *wanted* are cached."""
        cache = self._cache
        todo = cache.missing(wanted)
        if not todo:
            cache.touch(n for n in wanted)
            return
        events, read = self._read(todo, self._mark)
        stray = [n for n in read if n in cache]
        if stray:  # a component the cache holds part of: read it whole again
            cache.drop(stray)
            events, read = self._read(read, self._mark)
        cache.add(events, read)
        cache.touch(wanted)

    def _stream(self) -> Iterator[tuple[set[str] | None, dict[str, Ledger]]]:
        """Ledgers of every stored contact, a page at a time: ``(page, ledgers)``.

        *page* is None when *ledgers* hold every contact (the cache, complete);
        else the contacts of the page, whose scores the page's ledgers give
        (they also hold the rest of the page's components).
        """
        cache = self._cache
        if cache.complete:
            yield None, cache.ledgers
            return
        capacity = self._capacity
        first = self.store.contacts(None, (capacity or PAGE) + 1)
        if capacity is None or len(first) <= capacity:
            # Everything fits: read it into the cache, once.
            after: str | None = first[-1] if first else None
            everyone = list(first)
            while capacity is None and after is not None:
                page = self.store.contacts(after, PAGE)
                everyone += page
                after = page[-1] if page else None
            self._load(everyone)
            if cache.capacity is None or len(cache) <= cache.capacity:
                cache.complete = True
                yield None, cache.ledgers
                return
        pending = first
        after = None
        while True:
            page = pending or self.store.contacts(after, PAGE)
            pending = []
            if not page:
                return
            for i in range(0, len(page), PAGE):
                chunk = page[i : i + PAGE]
                events, _ = self._read(chunk, None)
                ledgers = {
                    name: self._fold_stored(m, events, None)
                    for name, m in self._models.items()
                }
                yield set(chunk), ledgers
            after = page[-1]

    def _fold_stored(
        self, model: ScoringModel, events: list[Event], base: Ledger | None = None
    ) -> Ledger:
        start = base if base is not None else Ledger(model, track_ids=False)
        try:
            return fold(model, events, start)
        except Exception:  # noqa: BLE001 - any failure: find the events at fault
            return self._fold_leaving_out(model, events, start)

    def _fold_leaving_out(
        self, model: ScoringModel, events: list[Event], start: Ledger
    ) -> Ledger:
        # Fold one event at a time to leave out exactly those that fail, so that
        # one bad stored row never keeps the engine from reading a contact.
        ledger, skipped = start, []
        for e in events:
            try:
                ledger = fold(model, (e,), ledger)
            except Exception as error:  # noqa: BLE001
                skipped.append(SkippedEvent(model.name, e, f"{error}"))
        fresh = [s for s in skipped if s not in self.skipped]
        if not fresh:  # failed as a whole only, or known already: nothing new
            return ledger
        self.skipped.extend(fresh)
        warnings.warn(
            f"model {model.name!r} could not fold {len(fresh)} stored event(s); "
            f"they are left out of its scores (Engine.skipped lists them). First: "
            f"{shorten(fresh[0].event)}: {shorten(fresh[0].error)}",
            LeadScoreWarning,
            stacklevel=5,
        )
        return ledger

    def _commit(self, work: Callable[[], Ingested]) -> Ingested:
        """Run *work* (a store commit) on a fresh cache; again if it must."""
        for _ in range(8):
            self._refresh()
            try:
                return work()
            except Stale:
                self._open()
            except Retry as again:
                self._cache.drop(again.names)
        raise StoreError(  # pragma: no cover - eight concurrent changes in a row
            f"{self.store!r} kept changing under the engine; try again"
        )

    def _effects(  # noqa: PLR0917 - what one commit writes
        self,
        outcome: dict[str, Any],
        cause: str,
        changes: list[ScoreChange],
        fired: list[Fired],
        state: dict[str, str],
        due: Mapping[str, int | None] | None = None,
    ) -> Effects:
        # In time order per contact: a change, then the crossings it makes.
        order: list[tuple[tuple[Any, ...], ScoreChange | Fired, OutboxEntry]] = [
            ((c.at, c.contact, c.model, 0), c, change_entry(c, cause)) for c in changes
        ]
        order += [
            ((f[2].at, f[2].contact, f[0], 1), f, crossing_entry(*f, cause))
            for f in fired
        ]
        order.sort(key=lambda item: item[0])
        entries = {entry.id: (what, entry) for _, what, entry in order}
        outcome["entries"] = entries
        return Effects(tuple(e for _, e in entries.values()), state, due or {})
