"""The engine: scores of several models over one store, reported as they change.

The store keeps the events (the truth) and the engine's durable state (the
``advance`` watermark, the outbox, first-only markers, the due index); the
engine keeps, per model, a ledger folded from the events of the contacts it has
read lately (a bounded cache it can always rebuild: :mod:`._cache`). Scores are
computed at read time for any ``as_of``.

The public :class:`Engine` is here; it stands on :mod:`._reader` (reading the
store into the cache, committing with retries) and :mod:`._timed` (the due
index and ``advance``), and reports what :mod:`._reports` defines.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Self

import attrs

from leadscore import _segments, _time
from leadscore._triggers import Threshold
from leadscore.exceptions import InvalidModelError, StoreError
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
from leadscore.paths._fold import Ledger
from leadscore.paths._fold import explain as explain_events
from leadscore.paths._history import History
from leadscore.paths._stream import checked_list
from leadscore.plan._compile import Entry
from leadscore.results import Contribution, ScoreChange, Scores
from leadscore.stores import Store
from leadscore.stores._protocol import Effects, Txn, names_of
from leadscore.typing import Instant

from ._due import next_change
from ._outbox import Outbox
from ._reader import Stale
from ._reports import (
    Fired,
    Ingested,
    SkippedEvent,
    fold_read,
    merged_into,
    model_version,
    record,
    report,
    touched_by,
)
from ._timed import NEXT_PAGE, Timed, due_name, low

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

_UNKNOWN: Any = object()  # no due row this engine knows of
#: The most contacts an engine keeps read by default (see ``Engine(cache=)``).
DEFAULT_CACHE = 100_000


class Engine(Timed):
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

    # -- reading the store (._reader) ------------------------------------------------

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
                raise Stale
            ledgers, seen, stale = self._cache.ledgers, set[str](), set[str]()
            if txn.others:
                ledgers, seen = self._taken_in(ledgers, txn.others)
                for model in self._models.values():
                    stale |= touched_by(model, txn.others)
            changes: list[ScoreChange] = []
            fired: list[Fired] = []
            due: dict[str, int | None] = {}
            writes: dict[str, int | None] = {}
            state: dict[str, str] = {}
            if txn.new:
                new = list(txn.new)
                added: dict[str, dict[str, list[Entry]]] = {}
                earlier = ledgers
                ledgers = self._outcome(ledgers, new, (changes, fired), added)
                touched: set[str] = set()
                for model in self._models.values():
                    touched |= touched_by(model, new)
                known = self._cache.due
                grown = (known, stale, added)
                due = self._dues(ledgers, touched, low(txn.state), grown)
                due = {
                    k: t
                    for k, t in due.items()
                    if k in stale or known.get(k, _UNKNOWN) != t
                }
                writes = _to_write(due, known, stale, earlier)
                state.update(due_name(txn, key))
            outcome.update(ledgers=ledgers, seen=seen, due=due, stale=stale)
            cause = f"ingest:{txn.state.get('epoch')}:{txn.high}"
            return self._effects(outcome, cause, changes, fired, state, writes)

        committed = self.store.commit(batch, effects, since=self._mark)
        cache = self._cache
        cache.ledgers = outcome["ledgers"]
        cache.link(committed.others)
        cache.link(committed.new)
        # The batch's names were touched when _load read them (a subject
        # model's engine reads everything and evicts nothing).
        cache.touch(outcome["seen"])
        for k in outcome["stale"]:  # rows others may have written: unknown
            cache.due.pop(k, None)
        cache.due.update(outcome["due"])
        self._mark = committed.mark
        cache.shrink(keep=named)
        return report(outcome["entries"], committed.rows)

    def _outcome(
        self,
        ledgers: dict[str, Ledger],
        new: list[Event],
        reported: tuple[list[ScoreChange], list[Fired]],
        added: dict[str, dict[str, list[Entry]]],
    ) -> dict[str, Ledger]:
        """The ledgers after folding *new*; the changes and crossings it causes.

        Appends them to *reported*, and fills *added* with the entries each
        model's logs gained.
        """
        changes, fired = reported
        out: dict[str, Ledger] = {}
        for name in self._models:
            ledger, instants, added[name] = fold_read(ledgers[name], new)
            out[name] = ledger
            thresholds = self.thresholds.get(name, ())
            seen: set[tuple[str, int]] = set()
            for contact, times in sorted(instants.items()):
                for t in sorted(times):
                    # An event of a merged-away id counts for its master.
                    owner = ledger._owner_us(contact, t)  # noqa: SLF001
                    if (owner, t) in seen:
                        continue
                    seen.add((owner, t))
                    before, after = ledger._change_us(owner, t)  # noqa: SLF001
                    if before != after:
                        moment = (t, before, after)
                        record(changes, fired, name, thresholds, owner, moment)
        changes.sort(key=lambda c: (c.at, c.contact, c.model))
        return out

    # -- time (the due index and the search: ._timed) ------------------------------

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
        return self._commit(lambda: self._advance(until_us))

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
            rows = self.store.due(after, NEXT_PAGE)
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
            if len(rows) < NEXT_PAGE:
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


def _to_write(
    due: dict[str, int | None],
    known: Mapping[str, int | None],
    stale: set[str],
    earlier: Mapping[str, Ledger],
) -> dict[str, int | None]:
    """The due rows of *due* that the store must be sent.

    A key with no row to write (None) and none the engine knows of has one only
    if it had a log before the batch under some model (rows are written for
    keys with logs, and logs only grow; a row another model set left is a lower
    bound too early, which ``advance`` clears): a key new to the store sends
    nothing. The engine's cache still learns from *due* that it has no row.
    """
    return {
        k: t
        for k, t in due.items()
        if t is not None
        or k in stale
        or k in known
        or any(k in ledger._contacts for ledger in earlier.values())  # noqa: SLF001
    }


def _check_model(model: Any, path: str) -> None:
    if not isinstance(model, ScoringModel):
        raise InvalidModelError(
            f"expected a ScoringModel, got {model!r:.200}", path=path, value=model
        )
