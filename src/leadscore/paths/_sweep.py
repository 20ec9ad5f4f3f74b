"""Crossings of step-aged models by a sweep over the instants points arrive and go.

The plan (:mod:`leadscore.plan`) sends a model here when its rules all have step aging
(never, expire_after) and nothing else a sweep was not taught; a contact's score
changes only when a counted event
arrives (+points) or expires (-points). Sorting those instants per contact and
keeping a running total gives the exact score after each instant in O(n log n).

Two sweeps share that idea:

- :func:`integer_sweep`, the hot path, for plain sums (no limits, no ratio) with
  whole-number points: one streaming pass appends each delta to its contact's list
  as a single int (instant and signed points packed together), so sorting is
  C-speed and the running total is exact integer arithmetic.
- :class:`CountSweep`, for the other models the plan sends (limits, ratio, fractional
  points), over the grouped entries of :func:`ingest`, keeping per-rule integer
  counts of alive entries so that no float residue can fake a crossing.

Contacts touched by manual score events or merges take the general path.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, Literal

from leadscore.model._aging import BEYOND_US, end_us
from leadscore.model._events import Event, from_micros
from leadscore.model._identity import not_an_event, same_event_again
from leadscore.model._rules import ScoringModel
from leadscore.plan._compile import SPECIAL, Compiled, Log
from leadscore.plan._strategy import PACKED_POINTS
from leadscore.results import Crossing

from ._stream import mark_special

__all__ = ["CountSweep", "direction", "integer_sweep"]

_NO_END = 2**62
_BITS = 24  # points packed in the low bits: |points| < 2**23 per instant
_OFFSET = 1 << (_BITS - 1)
# The plan sends a model here only with whole points below PACKED_POINTS.
assert PACKED_POINTS == _OFFSET // 64
_MASK = (1 << _BITS) - 1
_SENTINEL = (_NO_END + 1) << _BITS


def direction(after: float, threshold: float) -> Literal["up", "down"]:
    """``"up"`` if *after* is at or above *threshold*, else ``"down"``."""
    return "up" if after >= threshold else "down"


def integer_sweep(
    compiled: Compiled,
    events: Iterable[Event],
    threshold: float,
    first_only: bool,
    until_us: int | None,
) -> tuple[list[Crossing], set[str], list[Event]]:
    """Crossings of every contact not touched by manual events or merges.

    Returns the crossings, the contacts left for the general path, and the events
    as a list. Identity (ids) is checked as everywhere else.
    """
    model = compiled.model
    ends = [end_us(model.policy(r)) for r in model.rules]
    # Per kind: ((signed points packed as added, as removed), end) for each rule.
    slots: dict[str, Any] = {}
    for kind, entry in compiled.dispatch.items():
        if isinstance(entry, tuple):
            slots[kind] = tuple((int(model.rules[i].points), ends[i]) for i in entry)
        else:
            slots[kind] = entry
    all_slots = [(int(r.points), ends[i]) for i, r in enumerate(model.rules)]
    deltas: dict[str, list[int]] = {}
    special: set[str] = set()
    ids: dict[str, Event] = {}
    stream = events if isinstance(events, list) else list(events)
    active_us, until = compiled.active_us, _NO_END if until_us is None else until_us
    event_cls, special_marker = Event, SPECIAL
    shift, offset = _BITS, _OFFSET
    for pos, e in enumerate(stream):
        if e.__class__ is not event_cls and not isinstance(e, event_cls):
            raise not_an_event(pos, e)
        if e.id is not None and same_event_again(ids, e, pos):
            continue  # the same event again: it counts once
        d = slots.get(e.kind)
        if d is special_marker:
            mark_special(e, compiled, pos, until, special)
            continue
        t = e._us  # noqa: SLF001
        if d is None or t > until or t < active_us:
            continue
        if d.__class__ is not tuple:
            d = tuple(all_slots[i] for i in d(e))
            if not d:
                continue
        found = deltas.get(e.contact)
        if found is None:
            found = deltas[e.contact] = []
        for points, end in d:
            found.append((t << shift) + offset + points)
            if end is not None:
                gone = end(t)
                if gone <= until and gone < BEYOND_US:
                    found.append((gone << shift) + offset - points)
    out: list[Crossing] = []
    initial, bounded = model.initial, model.bounds is not None
    clamp = model.clamp
    start = clamp(initial)
    for contact, packed in deltas.items():
        if contact in special:
            continue
        packed.sort()
        # Walk the sorted instants; evaluate once all deltas of an instant are in.
        # The sentinel (an instant after every real one) flushes the last instant.
        packed.append(_SENTINEL)
        total, previous, current = 0, start, packed[0] >> shift
        for x in packed:
            t = x >> shift
            if t != current:
                value = clamp(initial + total) if bounded else initial + total
                if (previous >= threshold) != (value >= threshold):
                    way = direction(value, threshold)
                    if way == "up" or not first_only:
                        out.append(
                            Crossing(
                                contact, from_micros(current), previous, value, way
                            )
                        )
                        if first_only:
                            break
                previous, current = value, t
            total += (x & _MASK) - offset
    return out, special, stream


class CountSweep:
    """The sweep for models with limits, ratio or fractional points (see the plan)."""

    def __init__(
        self,
        model: ScoringModel,
        combine: Callable[[float, list[float], float], float],
        threshold: float,
        first_only: bool,
        until_us: int | None,
    ) -> None:
        """Prepare the sweep; *combine* is the model's ``Scorer.combine``."""
        self.ends = [end_us(model.policy(r)) for r in model.rules]
        self.points = [r.points for r in model.rules]
        self.combine, self.initial = combine, model.initial
        self.threshold, self.first_only, self.until_us = threshold, first_only, until_us

    def contact(self, contact: str, log: Log) -> list[Crossing]:
        """The crossings of one contact from its grouped entries."""
        until, ends = self.until_us, self.ends
        deltas: list[tuple[int, int, int]] = []
        for e, rules in log.entries:
            t = e._us  # noqa: SLF001
            if until is not None and t > until:
                continue
            for i in rules:
                deltas.append((t, i, 1))
                end = ends[i]
                if end is not None:
                    gone = end(t)
                    if gone < BEYOND_US and (until is None or gone <= until):
                        deltas.append((gone, i, -1))
        deltas.sort()
        counts = [0] * len(self.points)
        points, combine, threshold = self.points, self.combine, self.threshold
        previous = combine(self.initial, [0.0] * len(points), 0.0)
        out: list[Crossing] = []
        j, n = 0, len(deltas)
        while j < n:
            t = deltas[j][0]
            while j < n and deltas[j][0] == t:
                counts[deltas[j][1]] += deltas[j][2]
                j += 1
            value = combine(
                self.initial, [p * c for p, c in zip(points, counts, strict=True)], 0.0
            )
            if (previous >= threshold) != (value >= threshold):
                way = direction(value, threshold)
                if not self.first_only or way == "up":
                    out.append(Crossing(contact, from_micros(t), previous, value, way))
                    if self.first_only:
                        return out
            previous = value
        return out
