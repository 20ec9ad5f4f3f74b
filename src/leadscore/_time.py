"""Scores over time: timelines, threshold crossings, score and band changes.

A score is a pure function of ``as_of``, so its history needs no stored snapshots:
it changes only at the instants of the contact's events, manual changes and merges,
and at the instants its points expire. Evaluating the score there gives the exact
step function. Continuous aging (half-life, linear) also drifts in between; there a
crossing is found at the first whole second at which the score is on the other side
(the drift is monotone between events for a single half-life, and linear aging has
its kinks among the instants).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

import attrs

from ._evaluate import Scorer, merge_routes
from ._events import Event, from_micros, to_micros, to_utc
from ._fold import Ledger, check_model, fold
from ._ingest import compile_model
from ._model import ScoringModel, finite
from ._rating import RatingScale
from ._sweep import (
    CountSweep,
    Crossing,
    direction,
    integer_sweep,
    integer_sweep_applies,
    sweepable,
)
from .exceptions import InvalidModelError

__all__ = [
    "BandChange",
    "Crossing",
    "ScoreChange",
    "band_changes",
    "changes",
    "crossings",
    "timeline",
]

_SECOND = 1_000_000
# How far past the last event continuous decay is followed when no `until` is
# given: a century.
_HORIZON = 36_525 * 86_400 * _SECOND


@attrs.frozen
class ScoreChange:
    """A contact's score under ``model`` changed at ``at``: ``before`` -> ``after``."""

    contact: str
    model: str
    at: dt.datetime
    before: float
    after: float


@attrs.frozen
class BandChange:
    """A contact left band ``before`` and entered band ``after`` at ``at``."""

    contact: str
    at: dt.datetime
    before: Any
    after: Any
    score: float


def _us(value: Any, field: str) -> int | None:
    return None if value is None else to_micros(to_utc(value, field))


class _History:
    """Per-contact step functions of one model over one ledger."""

    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger
        self.model = ledger.model
        compiled = ledger._compiled  # noqa: SLF001
        self.ends = [compiled.model.policy(r).end_us() for r in self.model.rules]
        self.continuous = any(
            self.model.policy(r).kind in {"half_life", "linear"}
            for r in self.model.rules
        )
        self.merges = ledger._merges  # noqa: SLF001
        self.logs = ledger._contacts  # noqa: SLF001
        self.initial = self.model.clamp(self.model.initial)

    def related(self, contact: str) -> set[str]:
        """The contact and every contact joined to it by merges, ever."""
        group, todo = {contact}, [contact]
        while todo:
            current = todo.pop()
            for m in self.merges:
                for a, b in (
                    (m.contact, m.attrs["from"]),
                    (m.attrs["from"], m.contact),
                ):
                    if a == current and b not in group:
                        group.add(str(b))
                        todo.append(str(b))
        return group

    def instants(self, contacts: Iterable[str]) -> list[int]:
        """Every instant at which these contacts' scores may change."""
        found: set[int] = set()
        group = set(contacts)
        for contact in group:
            log = self.logs.get(contact)
            if log is None:
                continue
            found.add(log[0])
            for e, rules in log[1]:
                t = e._us  # noqa: SLF001
                found.add(t)
                for i in rules:
                    end = self.ends[i]
                    if end is not None:
                        found.add(end(t))
            found.update(m._us for m in log[2])  # noqa: SLF001
        found.update(
            m._us  # noqa: SLF001
            for m in self.merges
            if m.contact in group or m.attrs["from"] in group
        )
        return sorted(found)

    def value(self, contact: str, as_of_us: int) -> float | None:
        """The contact's score at *as_of_us*; None once it is merged away."""
        if self.merges and contact in merge_routes(
            self.ledger._compiled,  # noqa: SLF001
            self.merges,
            as_of_us,
        ):
            return None
        return self.ledger.score(contact, from_micros(as_of_us))

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
        points = self.instants(self.related(contact) if self.merges else {contact})
        first, last = log[0], until_us if until_us is not None else points[-1]
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


def timeline(
    model: ScoringModel,
    events: Iterable[Event],
    contact: str,
    *,
    start: Any = None,
    end: Any = None,
    step: dt.timedelta | None = None,
) -> list[tuple[dt.datetime, float]]:
    """The contact's score over time: ``[(at, score), ...]``, sorted.

    One point at the contact's first event (or at *start*, if later), then one at
    every instant where the score changes, expiry instants included: for step aging
    (never, expire_after) the score right after each point equals ``score(...,
    as_of=at)`` and stays so until the next point. For continuous aging
    (half-life, linear) the score also drifts between points; give *step* (with
    *end*) to sample it. Points are limited to ``start <= at <= end``. Empty for a
    contact with no events (or none by *end*).

    Raises:
        InvalidEventError: for naive or unparsable *start*/*end*.
        InvalidModelError: for a non-positive *step*, or a *step* without *end*.

    >>> from leadscore import AgingPolicy, Event, Rule, ScoringModel
    >>> model = ScoringModel("m", [Rule("form.submitted", 10)],
    ...                      aging=AgingPolicy.expire_after(days=30))
    >>> for at, value in timeline(model, [
    ...     Event("ann", "form.submitted", "2024-05-01T00:00Z"),
    ...     Event("ann", "form.submitted", "2024-05-10T00:00Z")], "ann"):
    ...     print(at.date(), value)
    2024-05-01 10.0
    2024-05-10 20.0
    2024-05-31 10.0
    2024-06-09 0.0
    """
    start_us, end_us = _us(start, "start"), _us(end, "end")
    if step is not None and (
        not isinstance(step, dt.timedelta) or step <= dt.timedelta(0)
    ):
        raise InvalidModelError(
            f"step must be a positive timedelta, got {step!r}", path="step", value=step
        )
    if step is not None and end_us is None:
        raise InvalidModelError("a sampling step needs an end", path="end", value=None)
    history = _History(fold(model, events))
    steps = history.steps(contact, end_us)
    if not steps:
        return []
    instants = {t for t, _ in steps}
    if start_us is not None:
        instants.add(max(start_us, steps[0][0]))
    if step is not None and end_us is not None:
        t = max(start_us or steps[0][0], steps[0][0])
        size = step // dt.timedelta(microseconds=1)
        while t <= end_us:
            instants.add(t)
            t += size
    lo = max(start_us or steps[0][0], steps[0][0])
    out: list[tuple[dt.datetime, float]] = []
    for t in sorted(instants):
        if t < lo:
            continue
        value = history.value(contact, t)
        if value is None:
            break
        if not out or value != out[-1][1] or (step is not None and history.continuous):
            out.append((from_micros(t), value))
    return out


def crossings(
    model: ScoringModel,
    events: Iterable[Event],
    threshold: float,
    *,
    first_only: bool = True,
    until: Any = None,
) -> list[Crossing]:
    """When contacts' scores reach (``>=``, "up") or fall below ("down") *threshold*.

    With ``first_only=True`` (HighLevel's "score first exceeds"), only each
    contact's first up-crossing, ever. With ``first_only=False``, every crossing,
    re-arming after each fall, including falls caused by expiry (at the expiry
    instant) or decay (at the first whole second below), up to *until*. A
    contact's score before its first event is ``initial``. Sorted by time, then
    contact.

    Raises:
        InvalidModelError: for a non-finite threshold.
        InvalidEventError: for a naive or unparsable *until*, or a bad event.

    >>> from leadscore import AgingPolicy, Event, Rule, ScoringModel
    >>> model = ScoringModel("m", [Rule("page.viewed", 30)],
    ...                      aging=AgingPolicy.expire_after(days=7))
    >>> views = [Event("ann", "page.viewed", "2024-05-01T00:00Z"),
    ...          Event("ann", "page.viewed", "2024-05-03T00:00Z")]
    >>> [(c.at.date().isoformat(), c.direction)
    ...  for c in crossings(model, views, 50, first_only=False)]
    [('2024-05-03', 'up'), ('2024-05-08', 'down')]
    """
    threshold = finite("threshold", threshold)
    until_us = _us(until, "until")
    compiled = compile_model(check_model(model))
    found: list[Crossing] = []
    if integer_sweep_applies(model):
        found, special, stream = integer_sweep(
            compiled, events, threshold, first_only, until_us
        )
        if special:
            # Contacts with manual score events or merges: re-score at each instant.
            history = _History(fold(model, [e for e in stream if e.contact in special]))
            for contact in sorted(special & set(history.logs)):
                found.extend(
                    _crossings_of(history, contact, threshold, first_only, until_us)
                )
    else:
        ledger = fold(model, events)
        history = _History(ledger)
        sweep = None
        if sweepable(model):
            combine = Scorer(compiled, 0).combine  # combine() ignores as_of
            sweep = CountSweep(model, combine, threshold, first_only, until_us)
        merged = {c for m in history.merges for c in (m.contact, str(m.attrs["from"]))}
        for contact, log in history.logs.items():
            if sweep is not None and not log[2] and contact not in merged:
                found.extend(sweep.contact(contact, log))
            else:
                found.extend(
                    _crossings_of(history, contact, threshold, first_only, until_us)
                )
    found.sort(key=lambda c: (c.at, c.contact))
    return found


def _crossings_of(
    history: _History,
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
    tail = (until_us if until_us is not None else steps[-1][0] + _HORIZON) + 1
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


def changes(
    model: ScoringModel,
    events: Iterable[Event],
    contact: str | None = None,
    *,
    start: Any = None,
    end: Any = None,
) -> list[ScoreChange]:
    """Every change of a contact's score (all contacts if *contact* is None).

    The "score changes" trigger: one :class:`ScoreChange` per instant at which the
    score differs from just before, sorted by time then contact. Continuous decay
    between events is not a change here (see :func:`crossings`).
    """
    start_us, end_us = _us(start, "start"), _us(end, "end")
    history = _History(fold(model, events))
    contacts = [contact] if contact is not None else list(history.logs)
    out: list[ScoreChange] = []
    for c in contacts:
        previous = history.initial
        for t, value in history.steps(c, end_us):
            if value is None:
                break
            before = previous
            if history.continuous:  # the drift since the previous instant
                just_before = history.value(c, t - 1)
                before = previous if just_before is None else just_before
            if value != before and (start_us is None or t >= start_us):
                out.append(ScoreChange(c, model.name, from_micros(t), before, value))
            previous = value
    out.sort(key=lambda ch: (ch.at, ch.contact))
    return out


def band_changes(
    model: ScoringModel,
    events: Iterable[Event],
    scale: RatingScale[Any],
    *,
    until: Any = None,
) -> list[BandChange]:
    """Every time a contact's score moves into another band of *scale*.

    The coloured triggers of Mautic and HubSpot's thresholds: one
    :class:`BandChange` (``before`` exited, ``after`` entered) per instant, drift
    by decay included (as for :func:`crossings`), sorted by time then contact.
    """
    if not isinstance(scale, RatingScale):
        raise InvalidModelError(
            f"expected a RatingScale, got {scale!r}", path="scale", value=scale
        )
    events = list(events)
    seen: dict[tuple[str, dt.datetime], BandChange] = {}
    for cut in scale.cuts:
        for c in crossings(model, events, cut, first_only=False, until=until):
            seen[(c.contact, c.at)] = BandChange(
                c.contact, c.at, scale.rate(c.before), scale.rate(c.after), c.after
            )
    return sorted(
        (b for b in seen.values() if b.before != b.after),
        key=lambda b: (b.at, b.contact),
    )
