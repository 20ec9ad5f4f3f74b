"""The one pass over the events: identity, rule matching, grouping by contact.

This is the hot loop of the library. It is written for speed on purpose: dispatch
tables prepared once per model, local names, one small tuple per matched event and
no other per-event allocation. It never sorts: events are grouped by contact in
arrival order and everything order-dependent is decided later, per contact, by the
canonical key of the events.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeAlias

import attrs

from ._aging import kernel
from ._events import (
    CONTACT_MERGED,
    EARLIEST_US,
    SCORE_ADJUSTED,
    SCORE_RESET,
    SCORE_SET,
    Event,
    to_micros,
)
from ._identity import id_conflict, not_an_event
from ._model import ScoringModel
from ._plan import Strategy, choose

__all__ = ["Acc", "Compiled", "compile_model", "ingest"]

#: An entry: a matched event and the indices of the rules it matched.
Entry: TypeAlias = tuple[Event, tuple[int, ...]]
#: Per contact while ingesting: [first instant (us), entries, manual events].
Acc: TypeAlias = list[Any]

#: The dispatch entry of the kinds every model handles itself (special kinds).
SPECIAL = object()


@attrs.frozen
class Compiled:
    """A model prepared for the hot loop (built once per call, never stored)."""

    model: ScoringModel
    # kind -> tuple of rule indices (unconditional), a matcher returning one, or
    # SPECIAL.
    dispatch: Mapping[str, Any]
    active_us: int
    # Per rule: (at_us, rank, as_of_us) -> weight, shared by every as_of.
    kernels: tuple[Callable[[int, int, int], float], ...]
    #: Which path runs each operation (decided here, once; see _plan).
    strategy: Strategy


def _conditional(
    static: tuple[int, ...], tests: tuple[tuple[int, Callable[[Event], bool]], ...]
) -> Callable[[Event], tuple[int, ...]]:
    def match(e: Event) -> tuple[int, ...]:
        return static + tuple(i for i, test in tests if test(e))

    return match


def compile_model(model: ScoringModel) -> Compiled:
    """Prepare the dispatch table of *model*."""
    by_kind: dict[str, list[int]] = {}
    for i, rule in enumerate(model.rules):
        for kind in rule.kinds:
            by_kind.setdefault(kind, []).append(i)
    dispatch: dict[str, Any] = {}
    for kind, indices in by_kind.items():
        static = tuple(i for i in indices if model.rules[i].when is None)
        tests = tuple(
            (i, when.compile())
            for i in indices
            if (when := model.rules[i].when) is not None
        )
        dispatch[kind] = _conditional(static, tests) if tests else static
    for kind in (SCORE_ADJUSTED, SCORE_SET, SCORE_RESET, CONTACT_MERGED):
        dispatch[kind] = SPECIAL
    active = model.active_from
    kernels: dict[Any, Callable[[int, int, int], float]] = {}  # one per policy
    for rule in model.rules:
        policy = model.policy(rule)
        if policy not in kernels:
            kernels[policy] = kernel(policy)
    return Compiled(
        model,
        dispatch,
        EARLIEST_US if active is None else to_micros(active),
        tuple(kernels[model.policy(r)] for r in model.rules),
        choose(model),
    )


def ingest(
    models: list[Compiled],
    events: Iterable[Event],
    seen: Mapping[str, Event],
) -> tuple[list[dict[str, Acc]], list[list[Event]], dict[str, Event]]:
    """Group *events* by contact for each model, in one pass.

    Returns, per model, ``{contact: [first_us, entries, manual]}`` and the
    ``contact.merged`` events, plus the ids first seen in this batch. Events whose
    id is in *seen* (or earlier in the batch) and that are equal to the stored one
    are skipped; a different event with a known id raises.

    Raises:
        InvalidEventError: for something that is not an Event (naming its
            position), a conflicting id, or a malformed merge.
    """
    new_ids: dict[str, Event] = {}
    tables: list[tuple[Mapping[str, Any], int, str, dict[str, Acc], list[Event]]]
    tables = [(c.dispatch, c.active_us, c.model.name, {}, []) for c in models]
    event_cls, special, merged = Event, SPECIAL, CONTACT_MERGED
    for pos, e in enumerate(events):
        if e.__class__ is not event_cls and not isinstance(e, event_cls):
            raise not_an_event(pos, e)
        eid = e.id
        if eid is not None:
            known = new_ids.get(eid) or seen.get(eid)
            if known is not None:
                if known == e:
                    continue  # the same event again: it counts once
                raise id_conflict(known, e, pos)
            new_ids[eid] = e
        t = e._us  # noqa: SLF001
        contact = e.contact
        kind = e.kind
        for dispatch, active_us, name, accs, merges in tables:
            if t < active_us:
                continue
            d = dispatch.get(kind)
            if d is special:
                target = e.attrs.get("model")
                if target is not None and target != name:
                    continue  # a manual change of another model's score
            acc = accs.get(contact)
            if acc is None:
                acc = accs[contact] = [t, [], []]
            elif t < acc[0]:
                acc[0] = t
            if d is None:
                continue
            if d.__class__ is tuple:
                if d:
                    acc[1].append((e, d))
            elif d is special:
                if kind == merged:
                    merges.append(e)
                else:
                    acc[2].append(e)
            else:
                matched = d(e)
                if matched:
                    acc[1].append((e, matched))
    return [t[3] for t in tables], [t[4] for t in tables], new_ids
