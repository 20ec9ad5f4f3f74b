"""What time alone changes: the instants ``advance`` reports, found per contact.

A score changes without a new event only where a point's weight jumps (expiry,
the steps of a step schedule: :func:`~leadscore.model._aging.breakpoints_us`) and,
under continuous aging, by drifting (half-life, linear, inverse): then only the
crossings of thresholds are reported, at the first whole second past them (as
:func:`leadscore.crossings` does). Instants of the contact's own events are
``ingest``'s to report, never ``advance``'s.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Iterable, Mapping, Sequence

from leadscore._triggers import Threshold
from leadscore.model._events import EARLIEST_US
from leadscore.paths._fold import Ledger
from leadscore.paths._history import History

__all__ = ["DueIndex", "Moment", "drift_crossings", "time_changes"]

#: ``(instant us, before, after)``: a change of a contact's score.
Moment = tuple[int, float, float]


def _group(history: History, contact: str) -> dict[str, int]:
    return history.related(contact) if history.merges else {contact: EARLIEST_US}


def event_instants(history: History, group: Mapping[str, int]) -> set[int]:
    """The instants of the group's own events, manual changes and merges."""
    found: set[int] = set()
    for contact, since in group.items():
        log = history.logs.get(contact)
        if log is None:
            continue
        found.add(max(log.first_us, since))
        found.update(e._us for e, _ in log.entries if e._us >= since)  # noqa: SLF001
        found.update(m._us for m in log.manual if m._us >= since)  # noqa: SLF001
    found.update(
        m._us  # noqa: SLF001
        for m in history.merges
        if m.contact in group or m.attrs["from"] in group
    )
    return found


def time_changes(history: History, contact: str, lo: int, hi: int) -> list[Moment]:
    """The changes of *contact*'s score in ``(lo, hi]`` caused by time alone."""
    group = _group(history, contact)
    events = event_instants(history, group)
    out: list[Moment] = []
    for t in history.instants(group):
        if t <= lo or t in events:
            continue
        if t > hi:
            break
        after = history.value(contact, t)
        if after is None:
            break  # merged away: no longer reported
        before = history.value(contact, t - 1)
        if before is not None and before != after:
            out.append((t, before, after))
    return out


def drift_crossings(
    history: History,
    contact: str,
    lo: int,
    hi: int,
    thresholds: Sequence[Threshold],
) -> list[tuple[Threshold, Moment]]:
    """Crossings in ``(lo, hi]`` by continuous drift between the score's steps.

    At the first whole second on the other side (``>=``), as
    :func:`leadscore.crossings` finds them.
    """
    if not history.continuous or not thresholds:
        return []
    group = _group(history, contact)
    stops = [lo, *(t for t in history.instants(group) if lo < t <= hi), hi + 1]
    out: list[tuple[Threshold, Moment]] = []
    for threshold in thresholds:
        for a, b in itertools.pairwise(stops):
            at, value = a, history.value(contact, a)
            while value is not None:
                found = history.first_change(
                    contact, at, b, threshold.value, value >= threshold.value
                )
                if found is None:
                    break
                way = "up" if found[1] >= threshold.value else "down"
                if threshold.direction in ("both", way):
                    out.append((threshold, (found[0], value, found[1])))
                at, value = found
    return out


class DueIndex:
    """Per model, the instants ahead at which time may change a contact's score.

    A heap of ``(instant, contact)``: each contact's weight breakpoints, pushed
    lazily (contacts touched since are *dirty* and pushed on the next look).
    Entries may be stale (the score does not change there after all): whoever
    pops one re-checks the contact. Never misses one: a contact whose events
    change is dirty, and all its breakpoints ahead are pushed again.
    """

    def __init__(self, contacts: Iterable[str] = ()) -> None:
        """An index with *contacts* dirty."""
        self.heap: list[tuple[int, str]] = []
        self.dirty: set[str] = set(contacts)
        self.pending: set[str] = set()

    def push_dirty(self, ledger: Ledger, after_us: int) -> None:
        """Push the breakpoints after *after_us* of every dirty contact."""
        if not self.dirty:
            return
        history = History(ledger)
        ends = history.ends
        heap = self.heap
        for contact in self.dirty:
            log = history.logs.get(contact)
            if log is None:
                continue
            for e, rules in log.entries:
                t = e._us  # noqa: SLF001
                for i in rules:
                    breaks = ends[i]
                    if breaks is None:
                        continue
                    for b in breaks(t):
                        if b > after_us:
                            heapq.heappush(heap, (b, contact))
        self.dirty.clear()

    def take(self, until_us: int) -> set[str]:
        """The contacts due at or before *until_us*, and those taken before.

        Taken contacts stay pending until :meth:`settle` (after the commit that
        reports them): a failed commit loses none.
        """
        heap, pending = self.heap, self.pending
        while heap and heap[0][0] <= until_us:
            pending.add(heapq.heappop(heap)[1])
        return set(pending)

    def settle(self, contacts: Iterable[str]) -> None:
        """Forget the pending *contacts*: their report is committed."""
        self.pending.difference_update(contacts)
