"""A contact's score as a step function of time, from a folded ledger.

A score is a pure function of ``as_of``, so its history needs no stored snapshots:
it changes only at the instants of the contact's events, manual changes and merges,
and at the instants its points' weights jump (expiry, each step of a step schedule:
:func:`~leadscore.model._aging.breakpoints_us`). Evaluating the score there gives
the exact step function. Continuous aging (half-life, linear, inverse) also drifts
in between; there a crossing is found at the first whole second at which the score
is on the other side (the drift is monotone between events for a single decaying
policy, and linear aging has its kinks among the instants).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from leadscore.model._aging import BEYOND_US, breakpoints_us
from leadscore.model._events import EARLIEST_US, from_micros, to_micros, to_utc
from leadscore.results import Crossing

from ._fold import Ledger
from ._sweep import direction

__all__ = ["History", "crossings_of", "to_us"]

_SECOND = 1_000_000
# How far past the last event continuous decay is followed when no `until` is
# given: a century.
_HORIZON = 36_525 * 86_400 * _SECOND


def to_us(value: Any, field: str) -> int | None:
    return None if value is None else to_micros(to_utc(value, field))


class History:
    """Per-contact step functions of one model over one ledger."""

    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger
        self.model = ledger.model
        compiled = ledger._compiled  # noqa: SLF001
        # Per rule, ``at_us -> the instants where its weight jumps`` (or None).
        self.ends = [breakpoints_us(compiled.model.policy(r)) for r in self.model.rules]
        # Events that end a rule's points (ended_by) change a score at their own
        # instant only: their pseudo rule indices have no expiry.
        self.ends += [None] * len(compiled.enders)
        self.continuous = any(self.model.policy(r).drifts for r in self.model.rules)
        self.merges = ledger._merges  # noqa: SLF001
        self.logs = ledger._contacts  # noqa: SLF001
        self.initial = self.model.clamp(self.model.initial)

    def related(self, contact: str) -> dict[str, int]:
        """The contact and every contact merged into it, ever, with their *since*.

        *since* is the earliest instant of the member's events that can count for
        *contact*: with ``keep-master`` the latest merge time on the way up to it
        (earlier events stay with the member and never reach *contact*), else no
        limit. The merge that merges *contact* itself away is found by
        :meth:`instants`; what happens to its master afterwards no longer changes
        its (absent) score, so the master's side is not followed.
        """
        index = self.ledger._index()  # noqa: SLF001
        group = {contact: EARLIEST_US}
        if index is None:
            return group
        children, union = index.children, index.union
        todo = [(contact, EARLIEST_US)]
        while todo:
            node, since = todo.pop()
            for source, t in children.get(node, ()):
                if source not in group:
                    later = since if union or since >= t else t
                    group[source] = later
                    todo.append((source, later))
        return group

    def instants(self, group: Mapping[str, int]) -> list[int]:
        """Every instant at which a score over *group* (member -> since) may change.

        A member's events before its *since* never count for the group's head,
        so neither they nor their expiry (or steps) are instants of it.
        """
        found: set[int] = set()
        for contact, since in group.items():
            log = self.logs.get(contact)
            if log is None:
                continue
            found.add(max(log.first_us, since))
            for e, rules in log.entries:
                t = e._us  # noqa: SLF001
                if t < since:
                    continue
                found.add(t)
                for i in rules:
                    breaks = self.ends[i]
                    if breaks is not None:  # (those past datetime.max left out)
                        found.update(breaks(t))
            found.update(m._us for m in log.manual if m._us >= since)  # noqa: SLF001
        found.update(
            m._us  # noqa: SLF001
            for m in self.merges
            if m.contact in group or m.attrs["from"] in group
        )
        return sorted(found)

    def value(self, contact: str, as_of_us: int) -> float | None:
        """The contact's score at *as_of_us*; None once it is merged away."""
        if self.merges and self.ledger._owner_us(contact, as_of_us) != contact:  # noqa: SLF001
            return None
        return self.ledger._score_us(contact, as_of_us)  # noqa: SLF001

    def steps(
        self, contact: str, until_us: int | None
    ) -> list[tuple[int, float | None]]:
        """The score at every instant where it may change, up to *until_us*.

        From the contact's own first event on: before it the contact is not
        reported (a master always has its own merge event, so merged-in history
        starts no earlier).
        """
        log = self.logs.get(contact)
        if log is None:
            return []
        points = self.instants(
            self.related(contact) if self.merges else {contact: EARLIEST_US}
        )
        first, last = log.first_us, until_us if until_us is not None else points[-1]
        index = self.ledger._index()  # noqa: SLF001
        edge = index.parent.get(contact) if index is not None else None
        if edge is not None and edge[1] < last:
            last = edge[1]  # merged away from then on: no score to follow
        return [(t, self.value(contact, t)) for t in points if first <= t <= last]

    def first_change(
        self, contact: str, lo: int, hi: int, threshold: float, above: bool
    ) -> tuple[int, float] | None:
        """The first whole second in (lo, hi) on the other side of *threshold*.

        *above* is the side at *lo*; found by bisection (the drift is monotone).
        """
        first = -(-(lo + 1) // _SECOND) * _SECOND
        last = ((hi - 1) // _SECOND) * _SECOND
        if first > last:
            return None
        end = self.value(contact, last)
        if end is None or (end >= threshold) == above:
            return None
        while first < last:
            mid = ((first + last) // 2 // _SECOND) * _SECOND
            v = self.value(contact, mid)
            if v is not None and (v >= threshold) != above:
                last = mid
            else:
                first = mid + _SECOND
        v = self.value(contact, first)
        return None if v is None else (first, v)


def crossings_of(
    history: History,
    contact: str,
    threshold: float,
    first_only: bool,
    until_us: int | None,
) -> list[Crossing]:
    out: list[Crossing] = []
    previous = history.initial
    steps = history.steps(contact, until_us)
    if not steps:
        return out
    # Decay is followed to `until` (inclusive), or a century past the last event.
    horizon = min(steps[-1][0] + _HORIZON, BEYOND_US - 1)
    tail = (until_us if until_us is not None else horizon) + 1
    for k, (t, value) in enumerate(steps):
        if value is None:
            break  # merged away: the contact is no longer reported
        # Drift in the open interval before the next instant (continuous aging).
        hi = steps[k + 1][0] if k + 1 < len(steps) else tail
        moments = [(t, value)]
        while history.continuous:
            drift = history.first_change(
                contact, moments[-1][0], hi, threshold, moments[-1][1] >= threshold
            )
            if drift is None:
                break
            moments.append(drift)
        for at, after in moments:
            if (previous >= threshold) != (after >= threshold):
                way = direction(after, threshold)
                if way == "up" or not first_only:
                    out.append(Crossing(contact, from_micros(at), previous, after, way))
                    if first_only:
                        return out
            previous = after
    return out
