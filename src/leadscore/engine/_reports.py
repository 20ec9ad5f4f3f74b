"""What the engine reports: changes and crossings, and the events it skipped.

Also what one batch touches under a model (whose scores it may change, and the
instants of the events it adds), which the engine reads before reporting.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence

import attrs

from leadscore import config
from leadscore._triggers import Threshold
from leadscore.model._events import CONTACT_MERGED, Event, from_micros
from leadscore.model._rules import ScoringModel
from leadscore.paths._fold import Ledger
from leadscore.plan._compile import Entry, compile_model, ingest
from leadscore.results import Crossing, ScoreChange
from leadscore.stores._protocol import OutboxEntry, OutboxRow

__all__ = [
    "Fired",
    "Ingested",
    "SkippedEvent",
    "fold_read",
    "merged_into",
    "model_version",
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


def fold_read(
    ledger: Ledger, events: Iterable[Event]
) -> tuple[Ledger, dict[str, set[int]], dict[str, list[Entry]]]:
    """*events* folded into *ledger*; per log, the instants and entries it gains.

    The logs are the contacts (or the model's subjects) the events go to; the
    instants are those of the events the model reads (matched by a rule, manual
    changes, merges): an event no rule matches changes nothing at its instant,
    and whatever time changes there is :meth:`Engine.advance`'s to report.
    """
    compiled = ledger._compiled  # noqa: SLF001
    (accs,), (merges,), ids = ingest([compiled], events, ledger._ids)  # noqa: SLF001
    found: dict[str, set[int]] = {}
    entries: dict[str, list[Entry]] = {}
    for owner, acc in accs.items():
        if acc.entries or acc.manual:
            entries[owner] = acc.entries
            times = found[owner] = {e._us for e, _ in acc.entries}  # noqa: SLF001
            times.update(m._us for m in acc.manual)  # noqa: SLF001
    for m in merges:
        found.setdefault(m.contact, set()).add(m._us)  # noqa: SLF001
    return ledger._with(accs, merges, ids), found, entries  # noqa: SLF001


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
