"""The engine: scores of several models over one store, reported as they change.

The store keeps the events (the truth) and the engine's durable state (the
``advance`` watermark, the outbox, first-only markers, the due index); the
engine keeps, per model, a ledger folded from the events of the contacts it has
read lately (a bounded cache it can always rebuild: :mod:`._cache`). Scores are
computed at read time for any ``as_of``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any, Self

import attrs

from leadscore import _segments, _time, config
from leadscore._triggers import Threshold
from leadscore.exceptions import InvalidModelError, LeadScoreWarning, StoreError
from leadscore.model._events import (
    CONTACT_MERGED,
    EARLIEST_US,
    SCORE_ADJUSTED,
    SCORE_RESET,
    SCORE_SET,
    Event,
    from_micros,
    to_micros,
    to_utc,
)
from leadscore.model._limits import shorten
from leadscore.model._rules import ScoringModel
from leadscore.paths._fold import Ledger, fold
from leadscore.paths._fold import explain as explain_events
from leadscore.paths._history import History
from leadscore.paths._stream import checked_list
from leadscore.plan._compile import compile_model
from leadscore.results import Contribution, Crossing, ScoreChange, Scores
from leadscore.stores import Store
from leadscore.stores._protocol import Effects, OutboxEntry, OutboxRow, Txn, names_of
from leadscore.typing import Instant

from ._cache import ContactCache, names
from ._due import candidate, drift_crossings, next_change, time_changes
from ._outbox import Outbox, change_entry, crossing_entry

__all__ = ["Engine", "Ingested", "SkippedEvent", "merged_into", "model_version"]

#: What the engine calls on a store (the Store protocol of schema version 4).
_NEEDED = (
    "commit",
    "since",
    "head",
    "events_of",
    "contacts",
    "earliest",
    "due",
    "state",
    "outbox",
    "acknowledge",
)

#: ``(model name, threshold, crossing)``: one reported crossing.
Fired = tuple[str, Threshold, Crossing]


def model_version(model: ScoringModel) -> str:
    """A model's version: the SHA-256 of its canonical JSON (content, not identity)."""
    text = config.to_json(model, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def merged_into(events: Iterable[Event], contact: str) -> set[str]:
    """The contact and every id merged into it, transitively, by *events*.

    Linear in the number of merges (a chain of thousands resolves at once).
    """
    sources: dict[str, list[str]] = {}
    for e in events:
        if e.kind == CONTACT_MERGED:
            source = e.attrs.get("from")
            if isinstance(source, str):
                sources.setdefault(e.contact, []).append(source)
    group, todo = {contact}, [contact]
    while todo:
        for source in sources.get(todo.pop(), ()):
            if source not in group:
                group.add(source)
                todo.append(source)
    return group


@attrs.frozen
class SkippedEvent:
    """A stored event that a model could not fold, left out of its scores.

    The engine still opens (the store is never bricked by one bad row); the
    event stays in the store. It can only come from a store written by an older
    version or by another program, since :meth:`Engine.ingest` folds every batch
    before writing it.
    """

    model: str
    event: Event
    error: str


class Ingested(list[ScoreChange]):
    """What one :meth:`Engine.ingest` or :meth:`Engine.advance` reported.

    A list of the score changes; ``crossings`` holds ``(model name, Crossing)``
    pairs and ``fired`` ``(model name, Threshold, Crossing)`` triples of the
    thresholds crossed (read-only). Exactly what was written to the outbox.
    """

    __slots__ = ("_fired",)

    def __init__(
        self, changes: Iterable[ScoreChange] = (), fired: Iterable[Fired] = ()
    ) -> None:
        """The *changes*, with the crossings *fired*."""
        super().__init__(changes)
        self._fired = tuple(fired)

    @property
    def crossings(self) -> tuple[tuple[str, Crossing], ...]:
        """``(model name, Crossing)`` pairs, by model (in the order added), time."""
        return tuple((name, c) for name, _, c in self._fired)

    @property
    def fired(self) -> tuple[Fired, ...]:
        """``(model name, Threshold, Crossing)``: which threshold each crossed."""
        return self._fired


class _Stale(Exception):  # noqa: N818 - private signal, never escapes
    """Another process erased events since the engine last read: read again."""


class _Retry(Exception):  # noqa: N818 - private signal, never escapes
    """Another process stored something the commit must see first: again."""

    def __init__(self, names: Iterable[str] = ()) -> None:
        super().__init__()
        self.names = set(names)


_UNKNOWN: Any = object()  # no due row this engine knows of
#: The most contacts an engine keeps read by default (see ``Engine(cache=)``).
DEFAULT_CACHE = 100_000
_PAGE = 1_000  # contacts per page of a whole-population read
_DUE_PAGE = 1_000  # due index rows per read by advance
_NEXT_PAGE = 100  # due index rows per read by next_due (it stops early)


class Engine:
    """Scores of several models over one store, updated as events arrive.

    Args:
        models: The scoring models (distinct names). They score every stored
            event, exactly as :func:`~leadscore.score` does (see
            :meth:`set_model` for a model that applies going forward).
        store: Where events and the engine's durable state are kept
            (:mod:`leadscore.stores`).
        thresholds: ``{model name: [Threshold | float]}`` whose crossings are
            reported; a float ``v`` is ``Threshold(v, direction="both")``.
        cache: The most contacts whose events the engine keeps read (folded,
            per model), least recently used evicted first; None keeps every
            contact it reads. Opening reads no event: a contact's events are
            read from the store when an event of it comes in, when its score is
            asked for, or when it is due for :meth:`advance`. Whole-population
            reads (:meth:`scores`, :meth:`segment`) stream the store page by
            page when it holds more contacts than this. Models with a
            ``subject`` read every stored event at open instead (the subject is
            an attribute, which the stores do not index).

    Give events ids: then re-sending a batch (a retry after a timeout, a replay)
    changes nothing. Id-less events are stored as new every time. Use it as a
    context manager to close the store at the end.
    """

    def __init__(
        self,
        models: Iterable[ScoringModel],
        store: Store,
        *,
        thresholds: Mapping[str, Sequence[Threshold | float]] | None = None,
        cache: int | None = DEFAULT_CACHE,
    ) -> None:
        """Open the engine: read the store's high-water mark, not its events."""
        missing = [name for name in _NEEDED if not callable(getattr(store, name, None))]
        if missing:
            raise StoreError(
                f"{shorten(store)} lacks {', '.join(missing)} of the Store protocol "
                "(schema version 4): a store written for an older leadscore needs "
                "them; see 'Your own store' in the engine how-to"
            )
        if cache is not None and (
            isinstance(cache, bool) or not isinstance(cache, int) or cache < 1
        ):
            raise InvalidModelError(
                f"cache must be a positive number of contacts or None, got "
                f"{shorten(cache)}",
                path="cache",
                value=cache,
            )
        self.store = store
        self._capacity = cache
        self._models: dict[str, ScoringModel] = {}
        for model in models:
            _check_model(model, "models")
            if model.name in self._models:
                raise InvalidModelError(
                    f"model names must be distinct, got {model.name!r} twice",
                    path="models",
                    value=model.name,
                )
            self._models[model.name] = model
        self.thresholds: dict[str, list[Threshold]] = {}
        for name, values in (thresholds or {}).items():
            self._model(name)
            if isinstance(values, str | bytes) or not isinstance(values, Iterable):
                raise InvalidModelError(
                    f"thresholds[{name!r}] must be a list of thresholds, got "
                    f"{shorten(values)}",
                    path=f"thresholds[{name!r}]",
                    value=values,
                )
            self.thresholds[name] = [Threshold.from_value(t) for t in values]
        #: Stored events a model could not fold (see :class:`SkippedEvent`).
        self.skipped: list[SkippedEvent] = []
        self._open()

    def __enter__(self) -> Self:
        """The engine itself."""
        return self

    def __exit__(self, *exc: object) -> None:
        """Close the store."""
        self.close()

    # -- reading the store ---------------------------------------------------------

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
        taken: list[Event] = []
        split: set[str] = set()
        for e in events:
            named = names(e)
            cached = [n for n in named if n in cache]
            if len(cached) == len(named):
                taken.append(e)
            elif cached:
                split.update(cached)
        if split:
            cache.drop(split)
            taken = [e for e in taken if all(n in cache for n in names(e))]
        cache.add(taken, names_of(taken))
        for model in self._models.values():
            for k in _touched(model, events):  # others wrote their rows
                cache.due.pop(k, None)

    def _taken_in(
        self, ledgers: dict[str, Ledger], others: Sequence[Event]
    ) -> tuple[dict[str, Ledger], set[str]]:
        """*ledgers* with the *others* about cached contacts folded in (a value).

        Raises:
            _Retry: for a merge linking a cached contact to one not cached.
        """
        cache = self._cache
        taken: list[Event] = []
        for e in others:
            named = names(e)
            cached = [n for n in named if n in cache]
            if len(cached) == len(named):
                taken.append(e)
            elif cached:
                raise _Retry(cached)
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
        first = self.store.contacts(None, (capacity or _PAGE) + 1)
        if capacity is None or len(first) <= capacity:
            # Everything fits: read it into the cache, once.
            after: str | None = first[-1] if first else None
            everyone = list(first)
            while capacity is None and after is not None:
                page = self.store.contacts(after, _PAGE)
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
            page = pending or self.store.contacts(after, _PAGE)
            pending = []
            if not page:
                return
            for i in range(0, len(page), _PAGE):
                chunk = page[i : i + _PAGE]
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

    @property
    def rejected(self) -> list[Any]:
        """Stored rows the store could not read as events (``store.rejected``).

        Rows written by an older version that this one no longer accepts: the
        store skips them (with a :class:`~leadscore.exceptions.LeadScoreWarning`)
        and keeps them; see :attr:`skipped` for events a model could not fold.
        """
        return list(getattr(self.store, "rejected", ()))

    # -- models ------------------------------------------------------------------

    @property
    def models(self) -> dict[str, ScoringModel]:
        """The models by name (with the ``active_from`` :meth:`set_model` gave)."""
        return dict(self._models)

    def versions(self) -> dict[str, str]:
        """Each model's content version (see :func:`model_version`)."""
        return {name: model_version(m) for name, m in self._models.items()}

    def _model(self, name: str) -> ScoringModel:
        try:
            return self._models[name]
        except (KeyError, TypeError):
            raise InvalidModelError(
                f"no model named {name!r}; the engine has {sorted(self._models)}",
                path="model",
                value=name,
            ) from None

    def set_model(
        self,
        model: ScoringModel,
        *,
        retroactive: bool = False,
        at: Instant | None = None,
    ) -> ScoringModel:
        """Add or replace a model; by default it applies going forward.

        HighLevel: "By default, scoring models apply to new activity going
        forward from when the model is activated." So the model is activated at
        *at* (default: now): its ``active_from`` becomes *at* (if later), and
        earlier events never count for it. With ``retroactive=True`` it scores
        every stored event instead (its own ``active_from``, if any, stands).

        Nothing is reported: a new model is not an event. The cache is emptied
        (contacts are read again under the new model as they are needed) and
        the due index is rebuilt at the next :meth:`advance` or
        :meth:`next_due`. First-only thresholds already fired for the model's
        name stay fired.

        Returns:
            The model as the engine uses it (reopen the engine with it, from
            :attr:`models`, to keep the activation instant).
        """
        _check_model(model, "model")
        if not isinstance(retroactive, bool):
            raise InvalidModelError(
                f"retroactive must be True or False, got {retroactive!r}",
                path="retroactive",
                value=retroactive,
            )
        if not retroactive:
            start = dt.datetime.now(dt.UTC) if at is None else to_utc(at, "at")
            if model.active_from is None or model.active_from < start:
                model = attrs.evolve(model, active_from=start)
        self._models[model.name] = model
        self._open()
        return model

    # -- writing -----------------------------------------------------------------

    def _commit(self, work: Callable[[], Ingested]) -> Ingested:
        """Run *work* (a store commit) on a fresh cache; again if it must."""
        for _ in range(8):
            self._refresh()
            try:
                return work()
            except _Stale:
                self._open()
            except _Retry as again:
                self._cache.drop(again.names)
        raise StoreError(  # pragma: no cover - eight concurrent changes in a row
            f"{self.store!r} kept changing under the engine; try again"
        )

    def ingest(self, events: Iterable[Event]) -> Ingested:
        """Store a batch; report the changes and crossings at its instants.

        One :class:`ScoreChange` per model, contact and instant of a new event the
        model reads (one a rule matches, a manual change, a merge) at which the
        score differs just before and at that instant (late and out-of-order
        events included: the answer is the pure fold's over all events), and the
        crossings of the thresholds there. Later changes caused by time alone
        (expiry, decay) are :meth:`advance`'s. The batch is atomic: every model
        folds it, and its reports are written to the outbox, in the transaction
        that stores it; a bad event raises and nothing is stored or reported.
        """
        batch = checked_list(events)
        if not batch:
            return Ingested()
        return self._commit(lambda: self._ingest(batch))

    def _ingest(self, batch: list[Event]) -> Ingested:
        named = names_of(batch)
        if not self._whole:
            self._load(named)
        outcome: dict[str, Any] = {}
        key = self._due_key()

        def effects(txn: Txn) -> Effects:
            if txn.state.get("epoch") != self._epoch:
                raise _Stale
            ledgers, seen, stale = self._cache.ledgers, set[str](), set[str]()
            if txn.others:
                ledgers, seen = self._taken_in(ledgers, txn.others)
                for model in self._models.values():
                    stale |= _touched(model, txn.others)
            changes: list[ScoreChange] = []
            fired: list[Fired] = []
            due: dict[str, int | None] = {}
            state: dict[str, str] = {}
            if txn.new:
                new = list(txn.new)
                ledgers = self._outcome(ledgers, new, changes, fired)
                touched: set[str] = set()
                for model in self._models.values():
                    touched |= _touched(model, new)
                due = self._dues(ledgers, touched, _low(txn.state))
                known = self._cache.due
                due = {
                    k: t
                    for k, t in due.items()
                    if k in stale or known.get(k, _UNKNOWN) != t
                }
                if "due" not in txn.state and not txn.high:
                    state["due"] = key  # a new store: its due index is ours
            outcome.update(ledgers=ledgers, seen=seen, due=due, stale=stale)
            cause = f"ingest:{txn.state.get('epoch')}:{txn.high}"
            return self._effects(outcome, cause, changes, fired, state, due)

        committed = self.store.commit(batch, effects, since=self._mark)
        cache = self._cache
        cache.ledgers = outcome["ledgers"]
        cache.link(committed.others)
        cache.link(committed.new)
        cache.touch(outcome["seen"] | names_of(committed.new))
        for k in outcome["stale"]:  # rows others may have written: unknown
            cache.due.pop(k, None)
        cache.due.update(outcome["due"])
        self._mark = committed.mark
        cache.shrink(keep=named)
        return _report(outcome["entries"], committed.rows)

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

    def _outcome(
        self,
        ledgers: dict[str, Ledger],
        new: list[Event],
        changes: list[ScoreChange],
        fired: list[Fired],
    ) -> dict[str, Ledger]:
        """The ledgers after folding *new*; the changes and crossings it causes."""
        out: dict[str, Ledger] = {}
        for name in self._models:
            old = ledgers[name]
            ledger = out[name] = fold(self._models[name], new, old)
            instants = _read_instants(old, ledger, _owners(self._models[name], new))
            thresholds = self.thresholds.get(name, ())
            seen: set[tuple[str, int]] = set()
            for contact, times in sorted(instants.items()):
                for t in sorted(times):
                    # An event of a merged-away id counts for its master.
                    owner = ledger._owner_us(contact, t)  # noqa: SLF001
                    if (owner, t) in seen:
                        continue
                    seen.add((owner, t))
                    after = ledger._score_us(owner, t)  # noqa: SLF001
                    before = ledger._score_us(owner, t - 1)  # noqa: SLF001
                    if before == after:
                        continue
                    at = from_micros(t)
                    changes.append(ScoreChange(owner, name, at, before, after))
                    for threshold in thresholds:
                        way = threshold.crossing(before, after)
                        if way is not None:
                            crossing = Crossing(owner, at, before, after, way)
                            fired.append((name, threshold, crossing))
        changes.sort(key=lambda c: (c.at, c.contact, c.model))
        return out

    # -- time: the due index ----------------------------------------------------------

    def _due_key(self) -> str:
        """What the due index rows depend on: the models and their thresholds."""
        text = "|".join(
            f"{name}:{model_version(m)}:"
            + ",".join(t.key for t in self.thresholds.get(name, ()))
            for name, m in sorted(self._models.items())
        )
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def _dues(
        self, ledgers: Mapping[str, Ledger], keys: Iterable[str], low: int
    ) -> dict[str, int | None]:
        """The due index rows of *keys*: the soonest candidate over the models."""
        wanted = sorted(set(keys))
        out: dict[str, int | None] = dict.fromkeys(wanted)
        for name, ledger in ledgers.items():
            history = History(ledger)
            thresholds = self.thresholds.get(name, ())
            logs = history.logs
            for key in wanted:
                if key not in logs:
                    continue
                t = candidate(history, key, low, thresholds)
                if t is not None:
                    before = out[key]
                    out[key] = t if before is None else min(before, t)
        return out

    def _ensure_due(self) -> None:
        """Rebuild the due index if other models (or none) wrote it.

        Reads every stored contact once, a page at a time, and writes their
        rows; the last commit names the models it was built for.
        """
        for _ in range(8):
            self._refresh()
            key = self._due_key()
            state = self.store.state()
            if state.get("due") == key:
                return
            try:
                self._build_due(key, _low(state))
            except _Stale:
                self._open()
                continue
            except _Retry:
                continue
            return
        raise StoreError(  # pragma: no cover - eight concurrent changes in a row
            f"{self.store!r} kept changing under the engine; try again"
        )

    def _build_due(self, key: str, low: int) -> None:
        start = self._mark
        for page, ledgers in self._stream():
            keys: set[str] = set()
            for ledger in ledgers.values():
                keys.update(ledger)
            if page is not None:
                keys &= page
            self._write_due(self._dues(ledgers, keys, low), None)
        # The contacts others stored events of meanwhile: their rows again.
        got = self.store.since(start)
        if got.epoch != self._epoch:
            raise _Stale
        touched = names_of(got.events)
        for model in self._models.values():
            touched |= _touched(model, got.events)
        self._refresh()
        if not self._whole:
            self._load(touched)
        self._write_due(self._dues(self._cache.ledgers, touched, low), key)

    def _write_due(self, rows: dict[str, int | None], key: str | None) -> None:
        """Write due rows; with *key*, name the index built (nothing new since)."""
        outcome: dict[str, Any] = {}

        def effects(txn: Txn) -> Effects:
            if txn.state.get("epoch") != self._epoch:
                raise _Stale
            if key is not None and txn.others:
                raise _Retry
            return self._effects(
                outcome, "due", [], [], {"due": key} if key else {}, rows
            )

        committed = self.store.commit([], effects, since=self._mark)
        if committed.others:
            self._absorb(committed.others)
        self._mark = committed.mark
        for k in rows:
            self._cache.due.pop(k, None)

    # -- time ------------------------------------------------------------------------

    def _watermark(self, state: Mapping[str, str]) -> int | None:
        text = state.get("watermark")
        return int(text) if text is not None else self.store.earliest()

    def advance(self, until: Instant) -> Ingested:
        """Report the changes and crossings time alone causes up to *until*.

        Expiry, the steps of step aging, and crossings by continuous decay, in
        ``(watermark, until]``, where the watermark is the *until* of the last
        ``advance`` (kept in the store: each is reported exactly once, across
        restarts and processes) or, before the first, the earliest stored
        instant. Instants of a contact's own events are :meth:`ingest`'s. The
        reports and the new watermark are written in one transaction. An *until*
        at or before the watermark reports nothing.

        Only the contacts the due index names due by *until* are read.
        """
        until_us = to_micros(to_utc(until, "until"))
        self._ensure_due()
        return self._commit(lambda: self._advance(until_us))

    def _advance(self, until_us: int) -> Ingested:
        state = self.store.state()
        low = self._watermark(state)
        changes: list[ScoreChange] = []
        fired: list[Fired] = []
        due: dict[str, int | None] = {}
        if low is not None and until_us <= low:
            # The first advance fixes the watermark, even when it reports
            # nothing: later late events do not move it back.
            mark = str(low)
        else:
            mark = str(until_us)
            if low is not None:
                keys = self._due_by(until_us)
                step = max(1, (self._capacity or len(keys) or 1) // 2)
                for i in range(0, len(keys), step):
                    chunk = keys[i : i + step]
                    if not self._whole:
                        self._load(chunk)
                    ledgers = self._cache.ledgers
                    self._time_driven(ledgers, chunk, low, until_us, changes, fired)
                    due.update(self._dues(ledgers, chunk, until_us))
                    self._cache.shrink(keep=chunk)
        outcome: dict[str, Any] = {}
        cause = f"advance:{low}:{until_us}"

        def effects(txn: Txn) -> Effects:
            if txn.state.get("epoch") != self._epoch:
                raise _Stale
            if txn.others or txn.state.get("watermark") != state.get("watermark"):
                raise _Retry  # something new came in: look again
            return self._effects(
                outcome, cause, changes, fired, {"watermark": mark}, due
            )

        committed = self.store.commit([], effects, since=self._mark)
        self._mark = committed.mark
        for k in due:
            self._cache.due.pop(k, None)
        return _report(outcome["entries"], committed.rows)

    def _due_by(self, until_us: int) -> list[str]:
        """The keys the due index names due at or before *until_us*."""
        keys: list[str] = []
        after: tuple[int, str] | None = None
        while True:
            rows = self.store.due(after, _DUE_PAGE)
            for t, key in rows:
                if t > until_us:
                    return keys
                keys.append(key)
            if len(rows) < _DUE_PAGE:
                return keys
            after = rows[-1]

    def _time_driven(  # noqa: PLR0917 - one step of advance
        self,
        ledgers: dict[str, Ledger],
        keys: Sequence[str],
        low: int,
        high: int,
        changes: list[ScoreChange],
        fired: list[Fired],
    ) -> None:
        """What time alone changes in ``(low, high]`` for *keys* (and masters)."""
        for name in self._models:
            ledger = ledgers[name]
            history = History(ledger)
            thresholds = self.thresholds.get(name, ())
            present = [k for k in keys if k in history.logs]
            owners = set(present) | {
                ledger._owner_us(c, high)  # noqa: SLF001
                for c in present
            }
            for contact in sorted(owners):
                for t, before, after in time_changes(history, contact, low, high):
                    at = from_micros(t)
                    changes.append(ScoreChange(contact, name, at, before, after))
                    for threshold in thresholds:
                        way = threshold.crossing(before, after)
                        if way is not None:
                            crossing = Crossing(contact, at, before, after, way)
                            fired.append((name, threshold, crossing))
                for threshold, (t, before, after) in drift_crossings(
                    history, contact, low, high, thresholds
                ):
                    way = "up" if after >= threshold.value else "down"
                    crossing = Crossing(contact, from_micros(t), before, after, way)
                    fired.append((name, threshold, crossing))

    def next_due(self) -> dt.datetime | None:
        """The next instant at which :meth:`advance` would report something.

        None when nothing time-driven is ahead (no expiry, no step, no threshold
        that decay will cross). A scheduler sleeps until then. Reads the due
        index from the soonest row on, and only the contacts it names until
        the answer is certain.
        """
        self._ensure_due()
        low = self._watermark(self.store.state())
        if low is None:
            return None
        best: int | None = None
        after: tuple[int, str] | None = None
        while True:
            rows = self.store.due(after, _NEXT_PAGE)
            for t, key in rows:
                if best is not None and t >= best:
                    return from_micros(best)
                if not self._whole:
                    self._load([key])
                for name, ledger in self._cache.ledgers.items():
                    if key not in ledger._contacts:  # noqa: SLF001
                        continue
                    found = next_change(
                        History(ledger), key, low, self.thresholds.get(name, ())
                    )
                    if found is not None and (best is None or found < best):
                        best = found
            if len(rows) < _NEXT_PAGE:
                return None if best is None else from_micros(best)
            after = rows[-1]
            self._cache.shrink()

    # -- erasure ---------------------------------------------------------------------

    def forget(self, contact: str) -> int:
        """Erase a contact and everything stored about it (a privacy request).

        The ids merged into it go too, with their outbox rows, first-only
        markers and due rows. The store keeps a keyed hash of each, so that
        their old events are left out if they are sent again (see the store's
        ``forget``). Returns the number of events erased.
        """
        group, todo = {contact}, [contact]
        while todo:
            merges = self.store.events_of(todo)
            todo = []
            for e in merges:
                source = e.attrs.get("from")
                if (
                    e.kind == CONTACT_MERGED
                    and e.contact in group
                    and isinstance(source, str)
                    and source not in group
                ):
                    group.add(source)
                    todo.append(source)
        erased = self.store.forget(group)
        self._open()
        return erased

    # -- manual changes ------------------------------------------------------------

    def _manual(
        self,
        kind: str,
        contact: str,
        at: Instant,
        *,
        value: float = 0.0,
        model: str | None = None,
        id: str | None = None,  # noqa: A002 - the Event field's name
        attrs: dict[str, Any] | None = None,
    ) -> Ingested:
        fields = dict(attrs or {})
        if model is not None:
            self._model(model)
            fields["model"] = model
        return self.ingest([Event(contact, kind, at, fields, value, id)])

    def adjust(
        self,
        contact: str,
        points: float,
        at: Instant,
        *,
        model: str | None = None,
        id: str | None = None,  # noqa: A002
    ) -> Ingested:
        """Add *points* by hand (``score.adjusted``), in one model or all."""
        return self._manual(
            SCORE_ADJUSTED, contact, at, value=points, model=model, id=id
        )

    def set_score(
        self,
        contact: str,
        value: float,
        at: Instant,
        *,
        model: str | None = None,
        id: str | None = None,  # noqa: A002
    ) -> Ingested:
        """Set the score to *value* from *at* on (``score.set``)."""
        return self._manual(SCORE_SET, contact, at, value=value, model=model, id=id)

    def reset(
        self,
        contact: str,
        at: Instant,
        *,
        model: str | None = None,
        id: str | None = None,  # noqa: A002
    ) -> Ingested:
        """Restart the score as for a new contact (``score.reset``)."""
        return self._manual(SCORE_RESET, contact, at, model=model, id=id)

    def merge(
        self,
        master: str,
        merged: str,
        at: Instant,
        *,
        id: str | None = None,  # noqa: A002
    ) -> Ingested:
        """Merge *merged* into *master* (``contact.merged``)."""
        return self._manual(CONTACT_MERGED, master, at, id=id, attrs={"from": merged})

    # -- reading -------------------------------------------------------------------

    def scores(self, model_name: str, as_of: Instant) -> dict[str, float]:
        """Every reported contact's score under *model_name* at *as_of*.

        Streams the store a page of contacts at a time when it holds more
        contacts than the cache: memory grows with the answer, not the events.
        """
        self._model(model_name)
        now = to_utc(as_of, "as_of")
        self._refresh()
        found: dict[str, float] = {}
        for page, ledgers in self._stream():
            got = ledgers[model_name].scores(now)
            if page is None:
                return got
            found.update((c, s) for c, s in got.items() if c in page)
        return Scores(sorted(found.items()))

    def score(self, model_name: str, contact: str, as_of: Instant) -> float:
        """One contact's score under *model_name* at *as_of* (read if not cached)."""
        self._model(model_name)
        now = to_utc(as_of, "as_of")
        self._refresh()
        if not self._whole:
            self._load([contact])
        value = self._cache.ledgers[model_name].score(contact, now)
        self._cache.shrink(keep=[contact])
        return value

    def _events_of(self, model: ScoringModel, contact: str) -> list[Event]:
        """The stored events that can bear on *contact*'s score under *model*."""
        if model.subject is not None:
            return self.store.events()  # the subject is not a stored column
        return self._read([contact], None)[0]

    def timeline(
        self,
        model_name: str,
        contact: str,
        *,
        start: Instant | None = None,
        end: Instant | None = None,
        step: dt.timedelta | None = None,
    ) -> list[tuple[dt.datetime, float]]:
        """One contact's :func:`~leadscore.timeline`, read from the store."""
        model = self._model(model_name)
        events = self._events_of(model, contact)
        return _time.timeline(model, events, contact, start=start, end=end, step=step)

    def changes(
        self,
        model_name: str,
        contact: str,
        *,
        start: Instant | None = None,
        until: Instant | None = None,
    ) -> list[ScoreChange]:
        """One contact's :func:`~leadscore.changes`, read from the store."""
        model = self._model(model_name)
        events = self._events_of(model, contact)
        return _time.changes(model, events, contact, start=start, until=until)

    def explain(
        self, model_name: str, contact: str, as_of: Instant
    ) -> list[Contribution]:
        """One contact's :func:`~leadscore.explain`, read from the store."""
        model = self._model(model_name)
        return explain_events(model, self._events_of(model, contact), contact, as_of)

    def segment(
        self,
        model_name: str,
        seg: _segments.Segment,
        as_of: Instant,
        *,
        contact: str | None = None,
    ) -> list[str]:
        """The contacts in the smart list *seg* at *as_of* (:func:`~leadscore.segment`).

        With *contact*, only whether that one is in it: ``[contact]`` or ``[]``.
        """
        self._model(model_name)
        if not isinstance(seg, _segments.Segment):
            raise InvalidModelError(
                f"expected a Segment, got {seg!r:.200}", path="segment", value=seg
            )
        now = to_utc(as_of, "as_of")
        floor = dt.datetime.min.replace(tzinfo=dt.UTC)
        then = None
        if seg.within is not None:
            then = now - seg.within if now - floor >= seg.within else floor
        self._refresh()
        if contact is not None:
            if not self._whole:
                self._load([contact])
            pages: Iterable[tuple[set[str] | None, dict[str, Ledger]]] = [
                ({contact}, self._cache.ledgers)
            ]
        else:
            pages = self._stream()
        found: dict[str, bool] = {}
        for page, ledgers in pages:
            ledger = ledgers[model_name]
            for c, s in ledger.scores(now).items():
                if page is not None and c not in page:
                    continue
                found[c] = (
                    seg.holds(s)
                    if then is None
                    else seg.holds(s, ledger.score(c, then))
                )
        return [c for c in sorted(found) if found[c]]

    def outbox(self, consumer: str = "default") -> Outbox:
        """The outbox as *consumer* reads it (see :class:`Outbox`)."""
        return Outbox(self.store, consumer)

    def close(self) -> None:
        """Close the store."""
        self.store.close()


def _low(state: Mapping[str, str]) -> int:
    """The watermark in *state*; before the first advance, the earliest instant.

    (A due candidate computed from there is never too late for any watermark.)
    """
    text = state.get("watermark")
    return int(text) if text is not None else EARLIEST_US - 1


def _check_model(model: Any, path: str) -> None:
    if not isinstance(model, ScoringModel):
        raise InvalidModelError(
            f"expected a ScoringModel, got {model!r:.200}", path=path, value=model
        )


def _touched(model: ScoringModel, events: Sequence[Event]) -> set[str]:
    """The contacts whose scores *events* may change under *model*."""
    owner_of = compile_model(model).owner
    found: set[str] = set()
    for e in events:
        found.add(e.contact)
        if e.kind == CONTACT_MERGED:
            source = e.attrs.get("from")
            if isinstance(source, str):
                found.add(source)
        try:
            who = owner_of(e)
        except ValueError:  # a bad subject: the model skips the event
            continue
        if who is not None:
            found.add(who)
    return found


def _owners(model: ScoringModel, events: Sequence[Event]) -> set[str]:
    """Whose logs *events* go to: their contacts, or the model's subjects."""
    owner_of = compile_model(model).owner
    found: set[str] = set()
    for e in events:
        who = owner_of(e)
        if who is not None:
            found.add(who)
    return found


def _read_instants(old: Ledger, new: Ledger, keys: set[str]) -> dict[str, set[int]]:
    """Per log (contact or subject) of *keys*, the instants of the events added.

    Only the events the model reads (matched by a rule, manual changes, merges):
    an event no rule matches changes nothing at its instant, and whatever time
    changes there is :meth:`Engine.advance`'s to report.
    """
    found: dict[str, set[int]] = {}
    before, after = old._contacts, new._contacts  # noqa: SLF001
    for contact in keys:
        log = after.get(contact)
        if log is not None:
            _added(found, contact, before.get(contact), log)
    for m in new._merges[len(old._merges) :]:  # noqa: SLF001
        found.setdefault(m.contact, set()).add(m._us)  # noqa: SLF001
    return found


def _added(found: dict[str, set[int]], contact: str, old: Any, log: Any) -> None:
    entries = log.entries[len(old.entries) :] if old is not None else log.entries
    manual = log.manual[len(old.manual) :] if old is not None else log.manual
    if entries or manual:
        times = found.setdefault(contact, set())
        times.update(e._us for e, _ in entries)  # noqa: SLF001
        times.update(m._us for m in manual)  # noqa: SLF001


def _report(
    entries: dict[str, tuple[ScoreChange | Fired, OutboxEntry]],
    rows: Sequence[OutboxRow],
) -> Ingested:
    """What was written, as an :class:`Ingested` (dropped entries left out)."""
    changes: list[ScoreChange] = []
    fired: list[Fired] = []
    for row in rows:
        what = entries[row.id][0]
        if isinstance(what, ScoreChange):
            changes.append(what)
        else:
            fired.append(what)
    return Ingested(changes, fired)
