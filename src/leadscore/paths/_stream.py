"""Helpers shared by the one-pass loops over a stream of events.

The loops themselves (``_fastpath`` for scores, ``_sweep`` for crossings) are
written inline for speed; what they share is the rare work: rejecting what is not
an event, the identity rule, and spotting manual score events and merges.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from leadscore.model._events import CONTACT_MERGED, SCORE_SET, Event
from leadscore.model._identity import id_conflict, not_an_event
from leadscore.plan._compile import Compiled

__all__ = ["checked_list", "mark_special", "seen_before"]


def seen_before(ids: dict[str, Event], pos: int, e: Event) -> bool:
    """Apply the identity rule to *e*, which has an id, at position *pos*.

    True if the same event was seen before (skip it); records it otherwise.

    Raises:
        InvalidEventError: if a different event used the id before.
    """
    eid = e.id
    assert eid is not None
    known = ids.get(eid)
    if known is None:
        ids[eid] = e
        return False
    if known == e:
        return True
    raise id_conflict(known, e, pos)


def mark_special(
    e: Event, compiled: Compiled, pos: int, until_us: int, special: set[str]
) -> None:
    """Note the contacts a manual score event or merge touches.

    Special events limited to another model are ignored (a merge's own fields
    were checked when the event was built). A ``score.set`` is checked against
    the model's bounds as :func:`~leadscore.plan._compile.ingest` does.
    """
    target = e.attrs.get("model")
    if target is not None and target != compiled.model.name:
        return
    active_us = compiled.active_us
    if compiled.check_set is not None and e.kind == SCORE_SET and e._us >= active_us:  # noqa: SLF001
        compiled.check_set(e, pos)
    inside = active_us <= e._us <= until_us  # noqa: SLF001
    if e.kind == CONTACT_MERGED and inside:
        special.add(str(e.attrs["from"]))
    if inside:
        special.add(e.contact)


def checked_list(events: Iterable[Any]) -> list[Event]:
    """The events as a list, after checking that each is an Event."""
    stream = events if isinstance(events, list) else list(events)
    for pos, e in enumerate(stream):
        if e.__class__ is not Event and not isinstance(e, Event):
            raise not_an_event(pos, e)
    return stream
