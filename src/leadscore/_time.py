"""Scores over time: timelines, threshold crossings, score and band changes.

The public functions. The step functions they read come from
:mod:`~leadscore.paths._history`; crossings of step-aged models come from the faster
sweeps of :mod:`~leadscore.paths._sweep`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from .exceptions import InvalidModelError
from .model._events import Event, from_micros
from .model._rating import RatingScale
from .model._rules import ScoringModel, finite
from .paths._evaluate import Scorer
from .paths._fold import check_model, fold
from .paths._history import History, crossings_of, to_us
from .paths._sweep import CountSweep, integer_sweep
from .plan._compile import compile_model
from .plan._strategy import Path
from .results import BandChange, Crossing, Crossings, ScoreChange, Timeline
from .typing import Instant

__all__ = [
    "band_changes",
    "changes",
    "crossings",
    "timeline",
]


def _check_step(step: dt.timedelta | None, end_us: int | None) -> None:
    if step is None:
        return
    if not isinstance(step, dt.timedelta) or step <= dt.timedelta(0):
        raise InvalidModelError(
            f"step must be a positive timedelta, got {step!r}", path="step", value=step
        )
    if end_us is None:
        raise InvalidModelError("a sampling step needs an end", path="end", value=None)


def timeline(
    model: ScoringModel,
    events: Iterable[Event],
    contact: str,
    *,
    start: Instant | None = None,
    end: Instant | None = None,
    step: dt.timedelta | None = None,
) -> Timeline:
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
    start_us, end_us = to_us(start, "start"), to_us(end, "end")
    _check_step(step, end_us)
    history = History(fold(model, events))
    steps = history.steps(contact, end_us)
    if not steps:
        return Timeline()
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
    out = Timeline()
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
    until: Instant | None = None,
) -> Crossings:
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
    until_us = to_us(until, "until")
    compiled = compile_model(check_model(model))
    found: list[Crossing] = []
    path = compiled.strategy.crossings
    if path is Path.INTEGER_SWEEP:
        found, special, stream = integer_sweep(
            compiled, events, threshold, first_only, until_us
        )
        if special:
            # Contacts with manual score events or merges: re-score at each instant.
            history = History(fold(model, [e for e in stream if e.contact in special]))
            for contact in sorted(special & set(history.logs)):
                found.extend(
                    crossings_of(history, contact, threshold, first_only, until_us)
                )
    else:
        ledger = fold(model, events)
        history = History(ledger)
        sweep = None
        if path is Path.COUNT_SWEEP:
            combine = Scorer(compiled, 0).combine  # combine() ignores as_of
            sweep = CountSweep(model, combine, threshold, first_only, until_us)
        merged = {c for m in history.merges for c in (m.contact, str(m.attrs["from"]))}
        for contact, log in history.logs.items():
            if sweep is not None and not log.manual and contact not in merged:
                found.extend(sweep.contact(contact, log))
            else:
                found.extend(
                    crossings_of(history, contact, threshold, first_only, until_us)
                )
    found.sort(key=lambda c: (c.at, c.contact))
    return Crossings(found)


def changes(
    model: ScoringModel,
    events: Iterable[Event],
    contact: str | None = None,
    *,
    start: Instant | None = None,
    until: Instant | None = None,
) -> list[ScoreChange]:
    """Every change of a contact's score (all contacts if *contact* is None).

    The "score changes" trigger: one :class:`ScoreChange` per instant at which the
    score differs from just before, sorted by time then contact, from *start* and
    up to *until* (inclusive; the same name as in :func:`crossings` and
    :func:`band_changes`). Continuous decay between events is not a change here
    (see :func:`crossings`).
    """
    start_us, end_us = to_us(start, "start"), to_us(until, "until")
    history = History(fold(model, events))
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
    until: Instant | None = None,
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
