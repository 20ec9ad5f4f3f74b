"""What time alone changes: the instants ``advance`` reports, found per contact.

A score changes without a new event only where a point's weight jumps (expiry,
the steps of a step schedule: :func:`~leadscore.model._aging.breakpoints_us`) and,
under continuous aging, by drifting (half-life, linear, inverse): then only the
crossings of thresholds are reported, at the first whole second past them (as
:func:`leadscore.crossings` does). Instants of the contact's own events are
``ingest``'s to report, never ``advance``'s.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping, Sequence

from leadscore._triggers import Threshold
from leadscore.model._aging import BEYOND_US
from leadscore.model._events import EARLIEST_US
from leadscore.paths._history import History
from leadscore.plan._compile import Entry

__all__ = [
    "Moment",
    "candidate",
    "drift_crossings",
    "first_break",
    "next_change",
    "simple",
    "time_changes",
]

_CENTURY_US = 36_525 * 86_400 * 1_000_000

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


def first_break(history: History, entries: Iterable[Entry], low: int) -> int | None:
    """The first weight breakpoint after *low* of *entries* (None if none).

    A contact's due row, when it has one log, no merges and no drift (see
    :func:`candidate`): time changes its score only where a weight jumps.
    """
    ends, best = history.ends, None
    for e, rules in entries:
        t = e._us  # noqa: SLF001
        for i in rules:
            breaks = ends[i]
            if breaks is not None:
                for b in breaks(t):
                    if b > low and (best is None or b < best):
                        best = b
                        break
    return best


def simple(history: History, thresholds: Sequence[Threshold]) -> bool:
    """Whether :func:`first_break` of a contact's entries is its candidate."""
    return not history.merges and not (history.continuous and thresholds)


def candidate(
    history: History, contact: str, low: int, thresholds: Sequence[Threshold]
) -> int | None:
    """A lower bound of the next instant after *low* at which time may change it.

    The first weight breakpoint (or instant of the contact's group) after
    *low*; under continuous aging with thresholds, also the first crossing by
    drift (searched up to a century past the contact's last instant). None when
    nothing is ahead. What the due index keeps: cheap, and never too late.
    """
    if simple(history, thresholds):
        # The common case: one log, no drift. Time changes a score only where a
        # weight jumps (event instants are ingest's).
        log = history.logs.get(contact)
        return None if log is None else first_break(history, log.entries, low)
    instants = history.instants(_group(history, contact))
    best = next((t for t in instants if t > low), None)
    if history.continuous and thresholds and instants:
        horizon = min(max(low, instants[-1]) + _CENTURY_US, BEYOND_US - 1)
        for _, (t, _, _) in drift_crossings(history, contact, low, horizon, thresholds):
            best = t if best is None else min(best, t)
    return best


def next_change(
    history: History, contact: str, low: int, thresholds: Sequence[Threshold]
) -> int | None:
    """The next instant after *low* at which ``advance`` reports something for it.

    A change by time alone (of the contact, or of its master if it is merged
    away by then), or a crossing of a threshold by drift. None if none is ahead.
    """
    best = None
    for t in history.instants(_group(history, contact)):
        if t <= low:
            continue
        owner = history.ledger._owner_us(contact, t)  # noqa: SLF001
        if any(time_changes(history, who, t - 1, t) for who in {contact, owner}):
            best = t
            break
    if history.continuous and thresholds:
        instants = history.instants(_group(history, contact))
        if instants:
            last = max(low, instants[-1]) + _CENTURY_US
            horizon = min(best if best is not None else last, BEYOND_US - 1)
            for _, (t, _, _) in drift_crossings(
                history, contact, low, horizon, thresholds
            ):
                best = t if best is None else min(best, t)
    return best
