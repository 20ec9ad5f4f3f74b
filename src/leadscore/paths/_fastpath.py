"""One-pass scoring at a known ``as_of``, for models without ``by_count``.

``score()`` knows ``as_of`` before it sees the first event, so for such models it
needs no per-contact event lists: each event adds its weighted points to its
contact's running totals as it streams by, and only contacts that are touched by
manual score events or merges (rare) are scored again by the general path.

Written for speed on purpose: per-kind dispatch tuples prepared once, local names,
integer timestamps, and no allocation per event (only one list per contact).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from leadscore.model._aging import weigher
from leadscore.model._events import Event
from leadscore.model._identity import not_an_event, same_event_again
from leadscore.plan._compile import SPECIAL, Compiled, subject_of

from ._evaluate import Scorer, later
from ._stream import mark_special

__all__ = ["stream_scores", "stream_whole_sums"]


def stream_scores(
    compiled: Compiled, scorer: Scorer, events: Iterable[Event]
) -> tuple[dict[str, list[float]], set[str], Iterable[Event]]:
    """Per-rule weighted totals of every contact with an event in the window.

    Returns ``(totals, special, again)``: ``totals[contact]`` is the list of
    per-rule totals, ``special`` the contacts that need the general path (manual
    score events or merges), and ``again`` what a second, filtered pass over those
    contacts reads. Identity (ids) is checked as in ``ingest``.

    *events* is read once and never copied when it can be read again (a list, a
    tuple, any iterable whose ``__iter__`` starts over): ``again`` is *events*
    itself, and memory grows with the contacts and the ids, not with the events.
    A one-shot iterator (a generator) cannot be read again, so the events that a
    second pass could need (those of kinds a rule scores, manual score events and
    merges) are kept as they stream by; events of kinds no rule scores are not.
    """
    as_of_us, active_us = scorer.as_of_us, compiled.active_us
    n = len(scorer.points)
    # Per kind: (rule, points, lo, hi, alive) when the kind has one rule and it
    # has a step policy (two integer comparisons outside the expiry window), else
    # a list of (rule, points, lo, hi, alive, weigh).
    # One total per rule, even for a plain sum: with step aging a rule's total is a
    # sum of equal values, exact in any order, while one running total mixing
    # rules (1e9, -1e9, 0.3) would round differently as the events' order changes.
    # A rule with once_per keeps, per contact and key, only its latest event
    # (``latest``), weighed once the stream has ended: its slot's weigh is KEYED.
    # The key of a keyed slot: (contact, tag, *attribute values). The tag is the
    # rule for its own once_per, ("group", g) for a group's once_per (the latest
    # event among the group's rules, which then counts for each it matches).
    tags, key_attrs = _key_specs(scorer)
    slots: dict[str, Any] = {}
    for kind, entry in compiled.dispatch.items():
        if not isinstance(entry, tuple):
            slots[kind] = entry  # a conditional matcher, or the special marker
        elif (
            len(entry) == 1
            and scorer.windows[entry[0]] is not None
            and tags[entry[0]] is None
        ):
            slots[kind] = _slot(scorer, entry[0])[:5]
        else:
            slots[kind] = [_slot(scorer, i) for i in entry]
    all_slots = [_slot(scorer, i) for i in range(n)]
    totals: dict[str, list[float]] = {}
    special: set[str] = set()
    ids: dict[str, Event] = {}
    one_shot = isinstance(events, Iterator)
    kept: list[Event] = []
    keep = kept.append if one_shot else None
    event_cls, special_marker, zero = Event, SPECIAL, [0.0] * n
    latest: dict[tuple[Any, ...], Event] = {}
    keyed = KEYED
    matched_slots: dict[tuple[int, ...], list[tuple[Any, ...]]] = {}
    subject = compiled.model.subject
    for pos, e in enumerate(events):
        if e.__class__ is not event_cls and not isinstance(e, event_cls):
            raise not_an_event(pos, e)
        if e.id is not None and same_event_again(ids, e, pos):
            continue  # the same event again: it counts once
        t = e._us  # noqa: SLF001
        d = slots.get(e.kind)
        if keep is not None and d is not None:
            keep(e)
        if d is special_marker:
            mark_special(e, compiled, pos, as_of_us, special)
            continue
        contact = e.contact
        if subject is not None and t >= active_us:
            # The model scores what the subject attribute names (as ingest does).
            owner = e.attrs.get(subject)
            if owner.__class__ is not str or not owner:
                owner = subject_of(e, subject, pos)  # None, or an error
                if owner is None:
                    continue
            contact = owner
        if t > as_of_us or t < active_us:
            continue
        tot = totals.get(contact)
        if tot is None:
            tot = totals[contact] = zero.copy()
        if d is None:
            continue
        if d.__class__ is tuple:
            # The kind's one rule has a step policy: its points count fully after
            # hi, not at all up to lo, and exactly by alive() in between.
            i, p, lo, hi, alive = d
            if t > hi or (t > lo and alive(t)):
                tot[i] += p
            continue
        if d.__class__ is not list:
            # A matcher: its answers are few distinct tuples; their slots once.
            matched = d(e)
            d = matched_slots.get(matched)
            if d is None:
                d = matched_slots[matched] = [all_slots[i] for i in matched]
        for i, p, lo, hi, alive, weigh in d:
            if weigh is None:
                if t > hi or (t > lo and alive(t)):
                    tot[i] += p
            elif weigh is keyed:
                # once_per: keep the latest event per key (canonical order).
                key = (contact, tags[i], *map(e.attrs.get, key_attrs[i]))
                best = latest.get(key)
                if best is None or t > best._us or (t == best._us and later(e, best)):  # noqa: SLF001
                    latest[key] = e
            else:
                tot[i] += p * weigh(t, 0)
    if latest:
        _add_latest(compiled, scorer, latest, totals)
    return totals, special, kept if one_shot else events


def _key_specs(scorer: Scorer) -> tuple[list[Any], list[tuple[str, ...]]]:
    """Per rule, the tag and the attributes of its once_per key (None: no key)."""
    tags: list[Any] = [None] * len(scorer.points)
    key_attrs: list[tuple[str, ...]] = [()] * len(scorer.points)
    for i, keys in enumerate(scorer.once_per):
        if keys is not None:
            tags[i], key_attrs[i] = i, keys
    for g, (keys, members) in enumerate(scorer.group_once):
        for i in members:
            tags[i], key_attrs[i] = ("group", g), keys
    return tags, key_attrs


def _add_latest(
    compiled: Compiled,
    scorer: Scorer,
    latest: dict[tuple[Any, ...], Event],
    totals: dict[str, list[float]],
) -> None:
    """Add the points of the events once_per kept, weighed at as_of.

    A group's kept event counts for each of the group's rules it matches.
    """
    weighers: dict[int, Any] = {}
    points = scorer.points
    for (contact, tag, *_), e in latest.items():
        if tag.__class__ is int:
            rules: Iterable[int] = (tag,)
        else:
            entry = compiled.dispatch[e.kind]
            matched = entry if isinstance(entry, tuple) else entry(e)  # type: ignore[operator]
            rules = [i for i in matched if i in scorer.group_once[tag[1]][1]]
        for i in rules:
            weigh = weighers.get(i)
            if weigh is None:
                weigh = weighers[i] = weigher(scorer.policies[i], scorer.as_of_us)
            totals[contact][i] += points[i] * weigh(e._us, 0)  # noqa: SLF001


#: The weigh of a once_per rule's slot: its events are weighed after the stream.
KEYED = object()


def _slot(scorer: Scorer, i: int) -> tuple[Any, ...]:
    # (rule index, points, lo, hi, alive, weigh)
    if scorer.once_per[i] is not None or any(i in m for _, m in scorer.group_once):
        return (i, scorer.points[i], 0, 0, None, KEYED)
    window = scorer.windows[i]
    if window is None:
        kernel, as_of_us = scorer.kernels[i], scorer.as_of_us
        return (
            i,
            scorer.points[i],
            0,
            0,
            None,
            lambda at, rank: kernel(at, rank, as_of_us),
        )
    lo, hi, alive = window
    return (i, scorer.points[i], lo, hi, alive, None)


def stream_whole_sums(
    compiled: Compiled, scorer: Scorer, events: Iterable[Event]
) -> tuple[dict[str, int], set[str], Iterable[Event]]:
    """:func:`stream_scores` for whole points under step aging: one int per contact.

    The plan sends a model here when its score is ``initial + Σ points`` (no limit,
    no ratio), every rule's points are whole and every weight is 0 or 1 (never,
    expire_after). A sum of Python ints is exact in any order, so one running
    total per contact mixes rules safely (a float one would not: 1e9 - 1e9 + 0.3
    depends on the order). Returns ``(totals, special, again)`` as
    :func:`stream_scores` does, with one int per contact.
    """
    as_of_us, active_us = scorer.as_of_us, compiled.active_us
    windows = scorer.windows
    whole = [(int(p), *windows[i]) for i, p in enumerate(scorer.points)]
    # Per kind: the (points, lo, hi, alive) of its rules, or its matcher.
    slots: dict[str, Any] = {
        kind: tuple(whole[i] for i in entry) if isinstance(entry, tuple) else entry
        for kind, entry in compiled.dispatch.items()
    }
    totals: dict[str, int] = {}
    special: set[str] = set()
    ids: dict[str, Event] = {}
    one_shot = isinstance(events, Iterator)
    kept: list[Event] = []
    keep = kept.append if one_shot else None
    event_cls, special_marker = Event, SPECIAL
    matched_slots: dict[tuple[int, ...], tuple[tuple[Any, ...], ...]] = {}
    subject = compiled.model.subject
    for pos, e in enumerate(events):
        if e.__class__ is not event_cls and not isinstance(e, event_cls):
            raise not_an_event(pos, e)
        if e.id is not None and same_event_again(ids, e, pos):
            continue  # the same event again: it counts once
        t = e._us  # noqa: SLF001
        d = slots.get(e.kind)
        if keep is not None and d is not None:
            keep(e)
        if d is special_marker:
            mark_special(e, compiled, pos, as_of_us, special)
            continue
        contact = e.contact
        if subject is not None and t >= active_us:
            owner = e.attrs.get(subject)
            if owner.__class__ is not str or not owner:
                owner = subject_of(e, subject, pos)  # None, or an error
                if owner is None:
                    continue
            contact = owner
        if t > as_of_us or t < active_us:
            continue
        total = totals.get(contact, 0)
        if d is not None:
            if d.__class__ is not tuple:
                matched = d(e)
                d = matched_slots.get(matched)
                if d is None:
                    d = matched_slots[matched] = tuple(whole[i] for i in matched)
            for p, lo, hi, alive in d:
                # Counts fully after hi, not at all up to lo, by alive() between.
                if t > hi or (t > lo and alive(t)):
                    total += p
        totals[contact] = total
    return totals, special, kept if one_shot else events
