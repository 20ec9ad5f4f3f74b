"""The points fold: ``fold``, ``score``, ``score_many``, ``explain`` and the Ledger."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

from leadscore.exceptions import InvalidEventError, InvalidModelError
from leadscore.model._events import EARLIEST_US, Event, to_micros, to_utc
from leadscore.model._rules import ScoringModel
from leadscore.plan._compile import (
    Compiled,
    Grouped,
    Log,
    Pending,
    compile_model,
    ingest,
)
from leadscore.plan._strategy import Path
from leadscore.results import Explanation, Scores
from leadscore.typing import Instant

from ._evaluate import Scorer
from ._fastpath import stream_scores, stream_whole_sums
from ._merges import MergeIndex, Source, inbound
from ._pmap import PMap

__all__ = ["Ledger", "explain", "fold", "score", "score_many"]


def _as_of_us(as_of: Instant) -> int:
    return to_micros(to_utc(as_of, "as_of"))


def check_model(model: Any) -> ScoringModel:
    if not isinstance(model, ScoringModel):
        raise InvalidModelError(
            f"expected a ScoringModel, got {type(model).__name__} {model!r:.200}",
            path="model",
            value=model,
        )
    return model


def _events(events: Iterable[Event]) -> Iterable[Event]:
    if isinstance(events, Event | str | bytes | Mapping):
        raise InvalidEventError(
            f"events must be an iterable of Event, got {type(events).__name__}",
            field="events",
            value=events,
        )
    return events


def _scores(
    compiled: Compiled,
    logs: Mapping[str, Grouped],
    merges: MergeIndex | None,
    as_of_us: int,
) -> dict[str, float]:
    """Every reported contact's score at *as_of_us*."""
    scorer = Scorer(compiled, as_of_us)
    routes = merges.routes(as_of_us) if merges is not None else {}
    into = inbound(routes, logs) if routes else {}
    simple, fast, general = scorer.simple, scorer.fast, scorer.general
    out: dict[str, float] = {}
    for contact, log in logs.items():
        extra = into.get(contact) if into else None
        if extra is None:
            if log.first_us > as_of_us or (routes and contact in routes):
                continue
            if simple and not log.manual:
                out[contact] = fast(log.entries)
            else:
                out[contact] = general(((log, EARLIEST_US),))
        else:
            out[contact] = general([(log, EARLIEST_US), *extra])
    return out


def _merge_index(compiled: Compiled, merges: Sequence[Event]) -> MergeIndex | None:
    return MergeIndex(merges, compiled.model.merge == "union") if merges else None


class Ledger:
    """The folded state of one model: every event that matters, grouped by contact.

    Immutable. Build it with :func:`fold`; fold more events into it with
    ``fold(model, more, ledger)``, which shares the untouched contacts with the old
    ledger. Scores are computed at read time for any ``as_of``, so aging needs no
    job that rewrites numbers.
    """

    __slots__ = (
        "_cache",
        "_compiled",
        "_contacts",
        "_ids",
        "_merge_index",
        "_merges",
        "model",
    )

    model: ScoringModel
    _compiled: Compiled
    _contacts: PMap[str, Log]
    _ids: PMap[str, Event]
    _merges: tuple[Event, ...]

    def __init__(self, model: ScoringModel, *, track_ids: bool = True) -> None:
        """An empty ledger for *model*; use :func:`fold` to fill it.

        With ``track_ids=False`` the ledger keeps no map of event ids, and only
        deduplicates ids within each batch: for callers whose storage already
        enforces identity (the engine's stores), since the map grows with every
        event and each fold copies parts of it.
        """
        self.model = check_model(model)
        self._compiled = compile_model(model)
        self._contacts = PMap()
        self._ids = PMap()
        self._merges = ()
        self._merge_index = None
        self._cache: dict[str, Any] = {"track_ids": track_ids}

    def __setattr__(self, name: str, value: object) -> None:
        """Refuse changes after construction: ledgers are immutable."""
        if hasattr(self, "_cache"):
            msg = "Ledger is immutable; fold() returns a new one"
            raise AttributeError(msg)
        object.__setattr__(self, name, value)

    def _with(
        self, accs: dict[str, Pending], merges: list[Event], ids: dict[str, Event]
    ) -> Ledger:
        contacts = self._contacts
        changes: dict[str, Log] = {}
        for contact, acc in accs.items():
            old = contacts.get(contact)
            if old is None:
                changes[contact] = Log(
                    acc.first_us, tuple(acc.entries), tuple(acc.manual)
                )
            else:
                changes[contact] = Log(
                    min(old.first_us, acc.first_us),
                    old.entries + tuple(acc.entries),
                    old.manual + tuple(acc.manual),
                )
        new = Ledger.__new__(Ledger)
        for name, value in (
            ("model", self.model),
            ("_compiled", self._compiled),
            ("_contacts", contacts.update(changes)),
            ("_ids", self._ids.update(ids) if self._cache["track_ids"] else self._ids),
            ("_merges", self._merges + tuple(merges)),
            ("_merge_index", self._merge_index if not merges else None),
            ("_cache", self._cache),
        ):
            object.__setattr__(new, name, value)
        return new

    def __len__(self) -> int:
        """The number of contacts the ledger has seen."""
        return len(self._contacts)

    def __iter__(self) -> Iterator[str]:
        """The contacts the ledger has seen (merged-away ones included)."""
        return iter(self._contacts)

    def scores(self, as_of: Instant) -> Scores:
        """Every reported contact's score at *as_of*, sorted by contact.

        Reports the same contacts with the same scores as :func:`score`.
        """
        found = _scores(self._compiled, self._contacts, self._index(), _as_of_us(as_of))
        # Sorted: the report does not depend on the order contacts were folded in.
        return Scores(sorted(found.items()))

    def score(self, contact: str, as_of: Instant) -> float:
        """One contact's score at *as_of*.

        A contact the ledger has not seen scores ``initial`` (clamped). A contact
        merged away at *as_of* scores what its master scores.
        """
        return self._score_us(contact, _as_of_us(as_of))

    def _score_us(self, contact: str, as_of_us: int) -> float:
        """:meth:`score` at an instant in microseconds since the epoch (no parsing)."""
        scorer = self._scorer()
        if not self._merges:  # the common case: one contact, one log
            log = self._contacts.get(contact)
            if log is None:
                return self.model.clamp(self.model.initial)
            if scorer.simple and not log.manual:
                return scorer.fast_kernel(log.entries, as_of_us)
            return scorer.at(as_of_us).general(((log, EARLIEST_US),))
        scorer = scorer.at(as_of_us)
        index = self._index()
        assert index is not None
        sources = self._sources(index.owner(contact, as_of_us), index, as_of_us)
        if not sources:
            return self.model.clamp(self.model.initial)
        return scorer.general(sources)

    def _change_us(self, contact: str, t: int) -> tuple[float, float]:
        """*contact*'s scores just before *t* and at *t* (what the engine reports).

        When no event of the contact precedes *t* (its first instant, the common
        case for a new contact), the score just before is ``initial`` (clamped),
        as :func:`~leadscore.changes` reports it, without reading the log.
        """
        after = self._score_us(contact, t)
        if not self._merges:
            log = self._contacts.get(contact)
            if log is not None and log.first_us >= t:
                return self.model.clamp(self.model.initial), after
        return self._score_us(contact, t - 1), after

    def _index(self) -> MergeIndex | None:
        """The merges resolved once per ledger (None without merges)."""
        if not self._merges:
            return None
        index = self._merge_index
        if index is None:
            index = MergeIndex(self._merges, self.model.merge == "union")
            object.__setattr__(self, "_merge_index", index)
        return index

    def _owner_us(self, contact: str, as_of_us: int) -> str:
        """Whom *contact*'s events count for at *as_of_us*: itself, or its master."""
        index = self._index()
        return contact if index is None else index.owner(contact, as_of_us)

    def _scorer(self) -> Scorer:
        # One Scorer per ledger, re-targeted per as_of with Scorer.at (cheap);
        # _cache holds what derives from the model and settings, shared by folds.
        scorer = self._cache.get("scorer")
        if scorer is None:
            scorer = self._cache["scorer"] = Scorer(self._compiled, 0)
        return scorer

    def explain(self, contact: str, as_of: Instant) -> Explanation:
        """The rows that make up *contact*'s score at *as_of* (see :func:`explain`)."""
        as_of_us = _as_of_us(as_of)
        scorer = self._scorer().at(as_of_us)
        index = self._index()
        rows = Explanation()
        if index is None or index.owner(contact, as_of_us) == contact:
            sources = self._sources(contact, index, as_of_us)
            if sources:
                scorer.general(sources, rows)
        return rows

    def _sources(
        self, contact: str, index: MergeIndex | None, as_of_us: int
    ) -> list[Source]:
        contacts = self._contacts
        own = contacts.get(contact)
        sources: list[Source] = [] if own is None else [(own, EARLIEST_US)]
        if index is not None:
            for source, since in index.sources(contact, as_of_us):
                log = contacts.get(source)
                if log is not None:
                    sources.append((log, since))
        return sources

    def __eq__(self, other: object) -> bool:  # noqa: PLR0911
        """Equal when the model and the multiset of stored events are equal."""
        if not isinstance(other, Ledger):
            return NotImplemented
        if self.model != other.model or len(self) != len(other):
            return False
        if Counter(self._merges) != Counter(other._merges):
            return False
        for contact, (first, entries, manual) in self._contacts.items():
            theirs = other._contacts.get(contact)
            if theirs is None or theirs[0] != first:
                return False
            if Counter(entries) != Counter(theirs[1]):
                return False
            if Counter(manual) != Counter(theirs[2]):
                return False
        return True

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        """Summarise the ledger."""
        entries = sum(
            len(log.entries) + len(log.manual) for log in self._contacts.values()
        )
        return (
            f"<Ledger model={self.model.name!r} contacts={len(self)} "
            f"entries={entries} merges={len(self._merges)}>"
        )


def fold(
    model: ScoringModel, events: Iterable[Event], ledger: Ledger | None = None
) -> Ledger:
    """Fold *events* into *ledger* (or a new one) and return the new ledger.

    Folding one batch at a time, or all events at once, gives equal ledgers and
    equal scores. The given ledger is never changed; an invalid event raises and
    leaves nothing half-done.

    Raises:
        InvalidEventError: for a bad event (see :func:`score`).
        InvalidModelError: if *ledger* belongs to another model.
    """
    model = check_model(model)
    if ledger is None:
        ledger = Ledger(model)
    elif not isinstance(ledger, Ledger) or ledger.model != model:
        raise InvalidModelError(
            "the ledger was folded with another model: "
            f"{getattr(ledger, 'model', ledger)!r:.200}",
            path="ledger",
            value=ledger,
        )
    compiled, seen = ledger._compiled, ledger._ids  # noqa: SLF001
    (accs,), (merges,), ids = ingest([compiled], _events(events), seen)
    return ledger._with(accs, merges, ids)  # noqa: SLF001


def score(model: ScoringModel, events: Iterable[Event], as_of: Instant) -> Scores:
    """Every contact's score at *as_of*: ``{contact: score}``.

    The order of the dict carries no meaning (it is the same for the same input
    sequence); compare results as dicts, or use :meth:`Ledger.scores`, which
    sorts by contact.

    Reports every contact with at least one event at or before *as_of* and not
    before the model's ``active_from`` (after merges), even when no rule matched:
    such a contact scores ``initial`` (clamped by ``bounds``).

    *events* may be any iterable and is read in one pass. For models the streaming
    path takes (see "One plan, several paths" in the concepts), nothing is copied:
    memory grows with the contacts and the ids, not with the events, when
    *events* can be read again (a list, or an object whose ``__iter__`` reopens a
    file); only contacts with manual score events or merges are read a second
    time. A one-shot iterator (a generator) keeps the events of scored kinds in
    case that second pass is needed. Other models group every contact's events.
    (An iterable that is not an iterator must start over on every ``iter()``: one
    that hands out the same exhausted iterator again is read as if it could be.)

    Raises:
        InvalidEventError: something that is not an Event (naming its position),
            a naive or unparsable *as_of*, two different events with one id.

    >>> from leadscore import Event, Rule, ScoringModel, AgingPolicy
    >>> model = ScoringModel("engagement", [Rule("email.opened", 5),
    ...                                     Rule("form.submitted", 10)],
    ...                      aging=AgingPolicy.expire_after(days=30))
    >>> score(model, [Event("ann", "email.opened", "2024-05-01T10:00:00Z"),
    ...               Event("ann", "form.submitted", "2024-05-20T10:00:00Z"),
    ...               Event("bob", "page.viewed", "2024-05-21T10:00:00Z")],
    ...       as_of="2024-06-05T00:00:00Z")
    {'ann': 10.0, 'bob': 0.0}
    """
    model = check_model(model)
    as_of_us = _as_of_us(as_of)
    compiled = compile_model(model)
    if compiled.strategy.score is not Path.STREAM:
        (accs,), (merges,), _ = ingest([compiled], _events(events), {})
        return Scores(_scores(compiled, accs, _merge_index(compiled, merges), as_of_us))
    scorer = Scorer(compiled, as_of_us)
    initial = model.initial
    if compiled.strategy.whole_sums:
        sums, special, again = stream_whole_sums(compiled, scorer, _events(events))
        clamp = model.clamp
        out = {c: clamp(initial + v) for c, v in sums.items()}
        return Scores(_with_special(compiled, out, special, again, as_of_us))
    totals, special, again = stream_scores(compiled, scorer, _events(events))
    if scorer.plain_sum and model.bounds is None and not initial and model.rules:
        out = dict(zip(totals, map(sum, totals.values()), strict=True))
    elif scorer.plain_sum:
        clamp = model.clamp
        out = {c: clamp(initial + sum(t)) for c, t in totals.items()}
    else:
        combine = scorer.combine
        out = {c: combine(initial, t, 0.0) for c, t in totals.items()}
    return Scores(_with_special(compiled, out, special, again, as_of_us))


def _with_special(
    compiled: Compiled,
    out: dict[str, float],
    special: set[str],
    again: Iterable[Event],
    as_of_us: int,
) -> dict[str, float]:
    """*out* with the contacts that have manual score events or merges rescored.

    Those take the general path, on a second pass over their events only.
    """
    if special:
        for contact in special:
            out.pop(contact, None)
        owner = compiled.owner
        subset = (e for e in again if owner(e) in special)
        (accs,), (merges,), _ = ingest([compiled], subset, {})
        out.update(_scores(compiled, accs, _merge_index(compiled, merges), as_of_us))
    return out


def score_many(
    models: Iterable[ScoringModel], events: Iterable[Event], as_of: Instant
) -> dict[str, dict[str, float]]:
    """Score several models side by side in one pass over *events*.

    Returns ``{model name: {contact: score}}``. Model names must be distinct.

    >>> from leadscore import Event, Rule, ScoringModel
    >>> events = [Event("ann", "email.replied", "2024-05-01T10:00:00Z"),
    ...           Event("ann", "page.viewed", "2024-05-02T10:00:00Z",
    ...                 {"path": "/pricing"})]
    >>> from leadscore import where
    >>> marketing = ScoringModel("marketing", [Rule("email.replied", 10)])
    >>> sales = ScoringModel("sales", [Rule("page.viewed", 20,
    ...                                     when=where("path", eq="/pricing"))])
    >>> score_many([marketing, sales], events, "2024-06-01T00:00:00Z")
    {'marketing': {'ann': 10.0}, 'sales': {'ann': 20.0}}
    """
    checked = [check_model(m) for m in models]
    names = [m.name for m in checked]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise InvalidModelError(
            f"model names must be distinct, got {dupes[0]!r} twice",
            path="models",
            value=dupes[0],
        )
    as_of_us = _as_of_us(as_of)
    compiled = [compile_model(m) for m in checked]
    all_accs, all_merges, _ = ingest(compiled, _events(events), {})
    return {
        c.model.name: _scores(c, accs, _merge_index(c, merges), as_of_us)
        for c, accs, merges in zip(compiled, all_accs, all_merges, strict=True)
    }


def explain(
    model: ScoringModel, events: Iterable[Event], contact: str, as_of: Instant
) -> Explanation:
    """Why *contact* has its score at *as_of*: one row per counted event and rule.

    Manual changes are rows too (``rule=None``). Rows are in canonical event order.
    For ``combine="sum"``, ``initial + Σ effective`` is the score before bounds.

    >>> from leadscore import Event, Rule, ScoringModel
    >>> model = ScoringModel("m", [Rule("email.opened", 5, limit=8)])
    >>> rows = explain(model, [Event("ann", "email.opened", "2024-05-01T10:00:00Z"),
    ...                        Event("ann", "email.opened", "2024-05-02T10:00:00Z")],
    ...                "ann", "2024-06-01T00:00:00Z")
    >>> [(r.points, r.weight, r.effective) for r in rows]
    [(5.0, 1.0, 4.0), (5.0, 1.0, 4.0)]
    """
    return fold(model, events).explain(contact, as_of)
