"""What the engine reports: changes and crossings, and the events it skipped.

Also what one batch touches under a model (whose scores it may change, and the
instants of the events it adds), which the engine reads before reporting.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from typing import Any

import attrs

from leadscore import config
from leadscore._triggers import Threshold
from leadscore.model._events import CONTACT_MERGED, Event, from_micros
from leadscore.model._rules import ScoringModel
from leadscore.paths._fold import Ledger
from leadscore.plan._compile import compile_model
from leadscore.results import Crossing, ScoreChange
from leadscore.stores._protocol import OutboxEntry, OutboxRow

__all__ = [
    "Fired",
    "Ingested",
    "SkippedEvent",
    "added",
    "merged_into",
    "model_version",
    "owners",
    "read_instants",
    "record",
    "report",
    "touched_by",
]

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


def touched_by(model: ScoringModel, events: Sequence[Event]) -> set[str]:
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


def owners(model: ScoringModel, events: Sequence[Event]) -> set[str]:
    """Whose logs *events* go to: their contacts, or the model's subjects."""
    owner_of = compile_model(model).owner
    found: set[str] = set()
    for e in events:
        who = owner_of(e)
        if who is not None:
            found.add(who)
    return found


def read_instants(old: Ledger, new: Ledger, keys: set[str]) -> dict[str, set[int]]:
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
            added(found, contact, before.get(contact), log)
    for m in new._merges[len(old._merges) :]:  # noqa: SLF001
        found.setdefault(m.contact, set()).add(m._us)  # noqa: SLF001
    return found


def record(  # noqa: PLR0917 - one reported change, and where it goes
    changes: list[ScoreChange],
    fired: list[Fired],
    name: str,
    thresholds: Iterable[Threshold],
    contact: str,
    moment: tuple[int, float, float],
) -> None:
    """Append a change of *contact*'s score, and the crossings it makes.

    *moment* is ``(instant us, before, after)`` under the model *name*; the
    crossings are those of *thresholds*, appended to *fired*.
    """
    t, before, after = moment
    at = from_micros(t)
    changes.append(ScoreChange(contact, name, at, before, after))
    for threshold in thresholds:
        way = threshold.crossing(before, after)
        if way is not None:
            fired.append((name, threshold, Crossing(contact, at, before, after, way)))


def added(found: dict[str, set[int]], contact: str, old: Any, log: Any) -> None:
    entries = log.entries[len(old.entries) :] if old is not None else log.entries
    manual = log.manual[len(old.manual) :] if old is not None else log.manual
    if entries or manual:
        times = found.setdefault(contact, set())
        times.update(e._us for e, _ in entries)  # noqa: SLF001
        times.update(m._us for m in manual)  # noqa: SLF001


def report(
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
