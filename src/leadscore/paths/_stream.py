"""Helpers shared by the one-pass loops over a stream of events.

The loops themselves (``_fastpath`` for scores, ``_sweep`` for crossings) are
written inline for speed; what they share is the rare work: checking that a batch
holds only events, and spotting manual score events and merges. The identity rule
is :func:`leadscore.model._identity.same_event_again`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from leadscore.model._events import CONTACT_MERGED, SCORE_SET, Event
from leadscore.model._identity import not_an_event
from leadscore.plan._compile import Compiled

__all__ = ["checked_list", "mark_special"]


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
