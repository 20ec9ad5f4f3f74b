"""The engine: scores of several models over one store, reported as they change.

The store keeps the events (the truth) and the engine's durable state (the
``advance`` watermark, the outbox, first-only markers); the engine keeps, per
model, a ledger folded from the events (a cache it can always rebuild). Scores
are computed at read time for any ``as_of``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import heapq
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Self

import attrs

from leadscore import _segments, _time, config
from leadscore._triggers import Threshold
from leadscore.exceptions import InvalidModelError, LeadScoreWarning, StoreError
from leadscore.model._aging import BEYOND_US
from leadscore.model._events import (
    CONTACT_MERGED,
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
from leadscore.results import Contribution, Crossing, ScoreChange
from leadscore.stores import Store
from leadscore.stores._protocol import Effects, OutboxEntry, OutboxRow, Txn
from leadscore.typing import Instant

from ._due import DueIndex, drift_crossings, time_changes
from ._outbox import Outbox, change_entry, crossing_entry

__all__ = ["Engine", "Ingested", "SkippedEvent", "merged_into", "model_version"]

_CENTURY_US = 36_525 * 86_400 * 1_000_000
#: What the engine calls on a store (the Store protocol of schema version 3).
_NEEDED = ("commit", "since", "events_of", "state", "outbox", "acknowledge")

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
    ) -> None:
        """Open the engine: read the stored events into each model's ledger."""
        missing = [name for name in _NEEDED if not callable(getattr(store, name, None))]
        if missing:
            raise StoreError(
                f"{shorten(store)} lacks {', '.join(missing)} of the Store protocol "
                "(schema version 3): a store written for an older leadscore needs "
                "them; see 'Your own store' in the engine how-to"
            )
        self.store = store
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
        self._load()

    def __enter__(self) -> Self:
        """The engine itself."""
        return self

    def __exit__(self, *exc: object) -> None:
        """Close the store."""
        self.close()

    # -- reading the store ---------------------------------------------------------

    def _load(self) -> None:
        """Read every stored event again (at open, and after an erasure)."""
        got = self.store.since(0)
        events = list(got.events)
        self.skipped = []
        self._ledgers = {
            name: self._fold_stored(m, events) for name, m in self._models.items()
        }
        self._mark, self._epoch = got.mark, got.epoch
        self._earliest = min((e._us for e in events), default=None)  # noqa: SLF001
        self._due = {name: DueIndex(ledger) for name, ledger in self._ledgers.items()}

    def _refresh(self) -> None:
        """Fold in what other processes stored since the engine last read."""
        got = self.store.since(self._mark)
        if got.epoch != self._epoch:
            self._load()
            return
        if got.events:
            self._ledgers = self._absorb(self._ledgers, got.events)
        self._mark = max(self._mark, got.mark)

    def _absorb(
        self, ledgers: dict[str, Ledger], events: Sequence[Event]
    ) -> dict[str, Ledger]:
        """*ledgers* with stored *events* folded in; their contacts made dirty."""
        batch = list(events)
        out = {
            name: self._fold_stored(m, batch, ledgers[name])
            for name, m in self._models.items()
        }
        self._touch(batch)
        return out

    def _touch(self, events: Sequence[Event]) -> None:
        for name, model in self._models.items():
            self._due[name].dirty.update(_touched(model, events))
        first = min((e._us for e in events), default=None)  # noqa: SLF001
        if first is not None and (self._earliest is None or first < self._earliest):
            self._earliest = first

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
        # one bad stored row never keeps the engine from opening.
        ledger, skipped = start, []
        for e in events:
            try:
                ledger = fold(model, (e,), ledger)
            except Exception as error:  # noqa: BLE001
                skipped.append(SkippedEvent(model.name, e, f"{error}"))
        if not skipped:  # the batch failed as a whole only: nothing to leave out
            return ledger
        self.skipped.extend(skipped)
        warnings.warn(
            f"model {model.name!r} could not fold {len(skipped)} stored event(s); "
            f"they are left out of its scores (Engine.skipped lists them). First: "
            f"{shorten(skipped[0].event)}: {shorten(skipped[0].error)}",
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

        Nothing is reported: a new model is not an event. The new ledger is built
        before it replaces the old one, so reads never see a half-built state.
        First-only thresholds already fired for the model's name stay fired.

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
        self._refresh()
        ledger = self._fold_stored(model, list(self.store.since(0).events))
        self._models[model.name] = model
        self._ledgers[model.name] = ledger
        self._due[model.name] = DueIndex(ledger)
        return model

    # -- writing -----------------------------------------------------------------

    def _commit(self, work: Callable[[], Ingested]) -> Ingested:
        """Run *work* (a store commit) on fresh ledgers; again after an erasure."""
        for _ in range(3):
            self._refresh()
            try:
                return work()
            except _Stale:
                self._load()
        raise StoreError(  # pragma: no cover - three erasures during one batch
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
        outcome: dict[str, Any] = {}

        def effects(txn: Txn) -> Effects:
            if txn.state.get("epoch") != self._epoch:
                raise _Stale
            ledgers = self._ledgers
            if txn.others:
                ledgers = {
                    name: self._fold_stored(m, list(txn.others), ledgers[name])
                    for name, m in self._models.items()
                }
            changes: list[ScoreChange] = []
            fired: list[Fired] = []
            if txn.new:
                ledgers = self._outcome(ledgers, list(txn.new), changes, fired)
            outcome["ledgers"] = ledgers
            cause = f"ingest:{txn.state.get('epoch')}:{txn.high}"
            return self._effects(outcome, cause, changes, fired, {})

        committed = self.store.commit(batch, effects, since=self._mark)
        self._ledgers = outcome["ledgers"]
        self._touch([*committed.others, *committed.new])
        self._mark = committed.mark
        return _report(outcome["entries"], committed.rows)

    def _effects(
        self,
        outcome: dict[str, Any],
        cause: str,
        changes: list[ScoreChange],
        fired: list[Fired],
        state: dict[str, str],
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
        return Effects(tuple(e for _, e in entries.values()), state)

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

    # -- time ------------------------------------------------------------------------

    def _watermark(self, state: Mapping[str, str]) -> int | None:
        text = state.get("watermark")
        return int(text) if text is not None else self._earliest

    def advance(self, until: Instant) -> Ingested:
        """Report the changes and crossings time alone causes up to *until*.

        Expiry, the steps of step aging, and crossings by continuous decay, in
        ``(watermark, until]``, where the watermark is the *until* of the last
        ``advance`` (kept in the store: each is reported exactly once, across
        restarts and processes) or, before the first, the earliest stored
        instant. Instants of a contact's own events are :meth:`ingest`'s. The
        reports and the new watermark are written in one transaction. An *until*
        at or before the watermark reports nothing.
        """
        until_us = to_micros(to_utc(until, "until"))
        return self._commit(lambda: self._advance(until_us))

    def _advance(self, until_us: int) -> Ingested:
        outcome: dict[str, Any] = {"taken": {}}

        def effects(txn: Txn) -> Effects:
            if txn.state.get("epoch") != self._epoch:
                raise _Stale
            ledgers = self._ledgers
            if txn.others:
                ledgers = self._absorb(ledgers, txn.others)
            outcome["ledgers"] = ledgers
            low = self._watermark(txn.state)
            cause = f"advance:{low}:{until_us}"
            if low is not None and until_us <= low:
                # The first advance fixes the watermark, even when it reports
                # nothing: later late events do not move it back.
                return self._effects(outcome, cause, [], [], {"watermark": str(low)})
            changes: list[ScoreChange] = []
            fired: list[Fired] = []
            if low is not None:
                changes, fired = self._time_driven(
                    ledgers, low, until_us, outcome["taken"]
                )
            state = {"watermark": str(until_us)}
            return self._effects(outcome, cause, changes, fired, state)

        committed = self.store.commit([], effects, since=self._mark)
        self._ledgers = outcome["ledgers"]
        self._mark = committed.mark
        for name, taken in outcome["taken"].items():
            self._due[name].settle(taken)
        return _report(outcome["entries"], committed.rows)

    def _time_driven(
        self, ledgers: dict[str, Ledger], low: int, high: int, taken: dict[str, Any]
    ) -> tuple[list[ScoreChange], list[Fired]]:
        """What time alone changes in ``(low, high]``; the contacts taken, by model."""
        changes: list[ScoreChange] = []
        fired: list[Fired] = []
        for name in self._models:
            ledger, index = ledgers[name], self._due[name]
            index.push_dirty(ledger, low)
            due = taken[name] = index.take(high)
            history = History(ledger)
            thresholds = self.thresholds.get(name, ())
            if history.continuous and thresholds:
                due = due | set(ledger)  # drift may cross anywhere
            owners = due | {ledger._owner_us(c, high) for c in due}  # noqa: SLF001
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
        return changes, fired

    def next_due(self) -> dt.datetime | None:
        """The next instant at which :meth:`advance` would report something.

        None when nothing time-driven is ahead (no expiry, no step, no threshold
        that decay will cross). A scheduler sleeps until then.
        """
        self._refresh()
        low = self._watermark(self.store.state())
        if low is None:
            return None
        best: int | None = None
        for name in self._models:
            ledger, index = self._ledgers[name], self._due[name]
            index.push_dirty(ledger, low)
            history = History(ledger)
            heap = index.heap
            while heap:
                t, contact = heap[0]
                if best is not None and t >= best:
                    break
                if t > low:
                    owner = ledger._owner_us(contact, t)  # noqa: SLF001
                    if any(
                        time_changes(history, who, t - 1, t) for who in {contact, owner}
                    ):
                        best = t
                        break
                heapq.heappop(heap)  # past, or no change there after all
            thresholds = self.thresholds.get(name, ())
            if history.continuous and thresholds:
                horizon = min(low + _CENTURY_US, BEYOND_US - 1)
                for contact in ledger:
                    found = drift_crossings(history, contact, low, horizon, thresholds)
                    for _, (t, _, _) in found:
                        best = t if best is None else min(best, t)
        return None if best is None else from_micros(best)

    # -- erasure ---------------------------------------------------------------------

    def forget(self, contact: str) -> int:
        """Erase a contact and everything stored about it (a privacy request).

        The ids merged into it go too, with their outbox rows and first-only
        markers. The store keeps a keyed hash of each, so that their old events
        are left out if they are sent again (see the store's ``forget``).
        Returns the number of events erased.
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
        self._load()
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
        """Every reported contact's score under *model_name* at *as_of*."""
        self._model(model_name)
        self._refresh()
        return self._ledgers[model_name].scores(to_utc(as_of, "as_of"))

    def score(self, model_name: str, contact: str, as_of: Instant) -> float:
        """One contact's score under *model_name* at *as_of*."""
        self._model(model_name)
        self._refresh()
        return self._ledgers[model_name].score(contact, to_utc(as_of, "as_of"))

    def _events_of(self, model: ScoringModel, contact: str) -> list[Event]:
        """The stored events that can bear on *contact*'s score under *model*."""
        if model.subject is not None:
            return self.store.events()  # the subject is not a stored column
        group, todo, found = {contact}, [contact], []
        while todo:
            batch = self.store.events_of(todo)
            found.extend(batch)
            todo = []
            for e in batch:
                source = e.attrs.get("from")
                if e.kind == CONTACT_MERGED and isinstance(source, str):
                    for name in (e.contact, source):
                        if name not in group:
                            group.add(name)
                            todo.append(name)
        unique = {id(e): e for e in found}
        return list(unique.values())

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
        self._refresh()
        ledger = self._ledgers[model_name]
        now = to_utc(as_of, "as_of")
        scores: dict[str, float]
        if contact is None:
            scores = ledger.scores(now)
        else:
            scores = {c: s for c, s in ledger.scores(now).items() if c == contact}
        if seg.within is None:
            return [c for c, s in scores.items() if seg.holds(s)]
        floor = dt.datetime.min.replace(tzinfo=dt.UTC)
        then = now - seg.within if now - floor >= seg.within else floor
        return [c for c, s in scores.items() if seg.holds(s, ledger.score(c, then))]

    def outbox(self, consumer: str = "default") -> Outbox:
        """The outbox as *consumer* reads it (see :class:`Outbox`)."""
        return Outbox(self.store, consumer)

    def close(self) -> None:
        """Close the store."""
        self.store.close()


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
