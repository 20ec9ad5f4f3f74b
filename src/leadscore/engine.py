"""Real-time scoring over a store: ingest events as they happen, read scores any time.

The store keeps the events (the truth); the engine keeps, per model, a ledger folded
from them (a cache it can always rebuild). Scores are computed at read time for any
``as_of``, so decay and expiry need no cron job rewriting numbers.

>>> import leadscore as ls
>>> from leadscore.stores import MemoryStore
>>> engine = Engine([ls.presets.highlevel()], MemoryStore())
>>> changes = engine.ingest([ls.Event("ann", "form.submitted", "2024-05-01T09:00Z",
...                                   id="e1")])
>>> [(c.contact, c.before, c.after) for c in changes]
[('ann', 0.0, 10.0)]
>>> engine.ingest([ls.Event("ann", "form.submitted", "2024-05-01T09:00Z", id="e1")])
[]
>>> engine.score("Marketing engagement score", "ann", "2024-05-02T00:00Z")
10.0
"""

from __future__ import annotations

import hashlib
import warnings
from collections.abc import Iterable, Sequence
from typing import Any

import attrs

from . import config
from .exceptions import InvalidModelError, LeadScoreWarning
from .model._events import (
    CONTACT_MERGED,
    SCORE_ADJUSTED,
    SCORE_RESET,
    SCORE_SET,
    Event,
    from_micros,
    to_utc,
)
from .model._limits import shorten
from .model._rules import ScoringModel, finite
from .paths._fold import Ledger, fold
from .paths._history import History, crossings_of
from .paths._stream import checked_list
from .plan._compile import compile_model
from .results import Crossing, ScoreChange
from .stores import Store
from .typing import Instant

__all__ = ["Engine", "Ingested", "SkippedEvent", "merged_into", "model_version"]


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
    """What one :meth:`Engine.ingest` did: a list of the score changes.

    ``crossings`` holds ``(model name, Crossing)`` pairs of the thresholds the
    batch made contacts cross, including the future falls its points will cause
    when they expire (read-only).
    """

    __slots__ = ("_crossings",)

    def __init__(
        self,
        changes: Iterable[ScoreChange] = (),
        crossings: Iterable[tuple[str, Crossing]] = (),
    ) -> None:
        """The *changes*, with the *crossings* they caused."""
        super().__init__(changes)
        self._crossings = tuple(crossings)

    @property
    def crossings(self) -> tuple[tuple[str, Crossing], ...]:
        """``(model name, Crossing)`` pairs, in the order the models were added."""
        return self._crossings


class Engine:
    """Scores of several models over one store, updated as events arrive.

    Args:
        models: The scoring models (distinct names).
        store: Where events are kept (:mod:`leadscore.stores`).
        thresholds: ``{model name: [thresholds]}`` whose crossings :meth:`ingest`
            reports.

    Give events ids: then re-sending a batch (a retry after a timeout, a replay)
    changes nothing. Id-less events are stored as new every time.
    """

    def __init__(
        self,
        models: Iterable[ScoringModel],
        store: Store,
        *,
        thresholds: dict[str, Sequence[float]] | None = None,
    ) -> None:
        """Open the engine: fold every stored event into each model's ledger."""
        self.store = store
        self._models: dict[str, ScoringModel] = {}
        for model in models:
            if not isinstance(model, ScoringModel):
                raise InvalidModelError(
                    f"expected a ScoringModel, got {model!r:.200}",
                    path="models",
                    value=model,
                )
            if model.name in self._models:
                raise InvalidModelError(
                    f"model names must be distinct, got {model.name!r} twice",
                    path="models",
                    value=model.name,
                )
            self._models[model.name] = model
        self.thresholds = {
            name: [finite("thresholds", t) for t in values]
            for name, values in (thresholds or {}).items()
        }
        for name in self.thresholds:
            self._model(name)
        #: Stored events a model could not fold (see :class:`SkippedEvent`).
        self.skipped: list[SkippedEvent] = []
        self._ledgers = self._rebuild(self._models)

    def _rebuild(self, models: dict[str, ScoringModel]) -> dict[str, Ledger]:
        # The store enforces identity, so the ledgers keep no id map of their own.
        events = self.store.events()
        self.skipped = [s for s in self.skipped if s.model not in models]
        return {name: self._fold_stored(m, events) for name, m in models.items()}

    def _fold_stored(self, model: ScoringModel, events: list[Event]) -> Ledger:
        empty = Ledger(model, track_ids=False)
        try:
            return fold(model, events, empty)
        except Exception:  # noqa: BLE001 - any failure: find the events at fault
            return self._fold_leaving_out(model, events, empty)

    def _fold_leaving_out(
        self, model: ScoringModel, events: list[Event], empty: Ledger
    ) -> Ledger:
        # Fold one event at a time to leave out exactly those that fail, so that
        # one bad stored row never keeps the engine from opening.
        ledger, skipped = empty, []
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
            stacklevel=4,
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
        """The models by name."""
        return dict(self._models)

    def versions(self) -> dict[str, str]:
        """Each model's content version (see :func:`model_version`)."""
        return {name: model_version(m) for name, m in self._models.items()}

    def _model(self, name: str) -> ScoringModel:
        try:
            return self._models[name]
        except KeyError:
            raise InvalidModelError(
                f"no model named {name!r}; the engine has {sorted(self._models)}",
                path="model",
                value=name,
            ) from None

    def set_model(self, model: ScoringModel) -> None:
        """Add or replace a model, rescoring it from every stored event.

        The new ledger is built before it replaces the old one, so reads never
        see a half-built state (retroactive rescoring without downtime).
        """
        if not isinstance(model, ScoringModel):
            raise InvalidModelError(
                f"expected a ScoringModel, got {model!r:.200}",
                path="model",
                value=model,
            )
        ledger = self._rebuild({model.name: model})[model.name]
        self._models[model.name] = model
        self._ledgers[model.name] = ledger

    # -- writing -----------------------------------------------------------------

    def ingest(self, events: Iterable[Event]) -> Ingested:
        """Store a batch and return the score changes it caused.

        One :class:`ScoreChange` per model, contact and new event instant at which
        the score differs just before and at that instant (late and out-of-order
        events included: the answer is the pure fold's over all events). The batch
        is atomic: every model folds it, and its changes are computed, before
        anything is written, so a bad event raises and nothing is stored or
        changed.
        """
        batch = checked_list(events)
        if not batch:
            return Ingested()
        # Fold and compute first: whatever a model rejects is rejected before the
        # store sees it (a stored event the engine cannot fold would be lost).
        outcome = self._outcome(batch)
        new = self.store.append(batch)
        if len(new) != len(batch):
            # Some were stored already (a retry): count only the new ones.
            outcome = self._outcome(new) if new else ({}, Ingested())
        ledgers, result = outcome
        self._ledgers.update(ledgers)
        return result

    def _outcome(self, new: list[Event]) -> tuple[dict[str, Ledger], Ingested]:
        """The ledgers after folding *new*, and the changes that makes."""
        changes: list[ScoreChange] = []
        crossings: list[tuple[str, Crossing]] = []
        ledgers: dict[str, Ledger] = {}
        for name, model in self._models.items():
            # Who each event is about: its contact, or the model's subject.
            owner_of = compile_model(model).owner
            instants: dict[str, set[int]] = {}
            for e in new:
                who = owner_of(e)
                if who is not None:
                    instants.setdefault(who, set()).add(e._us)  # noqa: SLF001
            before_ledger = self._ledgers[name]
            ledger = ledgers[name] = fold(model, new, before_ledger)
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
                    if before != after:
                        change = ScoreChange(owner, name, from_micros(t), before, after)
                        changes.append(change)
            crossings.extend(
                (name, c)
                for c in self._new_crossings(name, before_ledger, ledger, instants)
            )
        changes.sort(key=lambda c: (c.at, c.contact, c.model))
        return ledgers, Ingested(changes, crossings)

    def _new_crossings(
        self, name: str, old: Ledger, new: Ledger, touched: dict[str, set[int]]
    ) -> list[Crossing]:
        found: list[Crossing] = []
        before_h, after_h = History(old), History(new)
        for threshold in self.thresholds.get(name, ()):
            for contact in sorted(touched):
                seen = set(
                    crossings_of(
                        before_h, contact, threshold, first_only=False, until_us=None
                    )
                )
                found.extend(
                    c
                    for c in crossings_of(
                        after_h, contact, threshold, first_only=False, until_us=None
                    )
                    if c not in seen
                )
        return found

    def forget(self, contact: str) -> int:
        """Erase a contact and everything stored about it (a privacy request).

        The ids merged into it go too. Returns the number of events erased.
        """
        erased = self.store.forget(merged_into(self.store.events(), contact))
        self._ledgers = self._rebuild(self._models)
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
        return self._ledgers[model_name].scores(to_utc(as_of, "as_of"))

    def score(self, model_name: str, contact: str, as_of: Instant) -> float:
        """One contact's score under *model_name* at *as_of*."""
        self._model(model_name)
        return self._ledgers[model_name].score(contact, to_utc(as_of, "as_of"))

    def close(self) -> None:
        """Close the store."""
        self.store.close()
