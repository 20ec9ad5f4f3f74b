"""The one pass over the events: identity, rule matching, grouping by contact.

This is the hot loop of the library. It is written for speed on purpose: dispatch
tables prepared once per model, local names, one small tuple per matched event and
no other per-event allocation. It never sorts: events are grouped by contact in
arrival order and everything order-dependent is decided later, per contact, by the
canonical key of the events.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any, NamedTuple, TypeAlias

import attrs

from leadscore.exceptions import InvalidEventError
from leadscore.model._aging import kernel
from leadscore.model._conditions import Compare, Condition, operand_key
from leadscore.model._events import (
    CONTACT_MERGED,
    EARLIEST_US,
    SCORE_ADJUSTED,
    SCORE_RESET,
    SCORE_SET,
    Event,
    to_micros,
)
from leadscore.model._identity import id_conflict, not_an_event
from leadscore.model._limits import shorten
from leadscore.model._rules import ScoringModel

from ._strategy import Strategy, choose

__all__ = [
    "SPECIAL",
    "Compiled",
    "Dispatch",
    "Entry",
    "Grouped",
    "Log",
    "Matcher",
    "Pending",
    "compile_model",
    "ingest",
    "subject_of",
]

#: An entry: ``(event, rules)``, a matched event and the indices of the rules it
#: matched. A plain pair (one is built per matched event); readers unpack it.
Entry: TypeAlias = tuple[Event, tuple[int, ...]]


class Pending:
    """One contact's events of a batch, while :func:`ingest` groups them."""

    __slots__ = ("entries", "first_us", "manual")

    def __init__(self, first_us: int) -> None:
        """Nothing yet but the instant of the contact's first event."""
        self.first_us = first_us
        self.entries: list[Entry] = []
        self.manual: list[Event] = []


class Log(NamedTuple):
    """One contact's folded events, as a ledger keeps them."""

    #: The instant of the contact's first event (any kind), in microseconds.
    first_us: int
    #: The events that matched a rule, in arrival order.
    entries: tuple[Entry, ...]
    #: Its manual score events (``score.adjusted``, ``score.set``, ``score.reset``).
    manual: tuple[Event, ...]


#: One contact's events, folded (a ledger's) or fresh (a batch's): the same fields.
Grouped: TypeAlias = Log | Pending


class _Special:
    """The dispatch entry of the kinds every model handles itself."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "SPECIAL"


#: The dispatch entry of the special kinds (manual score events and merges).
SPECIAL = _Special()
#: A matcher: the indices of the rules of one kind that an event matches.
Matcher: TypeAlias = Callable[[Event], tuple[int, ...]]
#: What ``Compiled.dispatch`` maps a kind to: the rule indices when no rule of the
#: kind has a condition (told apart by ``d.__class__ is tuple`` in the loops), a
#: :data:`Matcher` otherwise, or :data:`SPECIAL`.
Dispatch: TypeAlias = tuple[int, ...] | Matcher | _Special


@attrs.frozen
class Compiled:
    """A model prepared for the hot loop (built once per call, never stored)."""

    model: ScoringModel
    #: kind -> its :data:`Dispatch` entry.
    dispatch: Mapping[str, Dispatch]
    active_us: int
    # Per rule: (at_us, rank, as_of_us) -> weight, shared by every as_of.
    kernels: tuple[Callable[[int, int, int], float], ...]
    #: Which path runs each operation (decided here, once; see _plan).
    strategy: Strategy
    #: Pseudo rule indices ``len(rules) + j`` in entries mark events that end
    #: (take back) rule ``enders[j]``'s points: ``Rule(ended_by=...)``.
    enders: tuple[int, ...] = ()
    #: Checks a ``score.set`` against the model's bounds, or None without bounds.
    check_set: Callable[[Event, int], None] | None = None

    def owner(self, e: Event) -> str | None:
        """Who *e* counts for under this model: its contact, or its subject.

        None for an event that names no subject, or that is earlier than
        ``active_from`` under a subject model (never read, as in :func:`ingest`).
        """
        subject = self.model.subject
        if subject is None or self.dispatch.get(e.kind) is SPECIAL:
            return e.contact
        if e._us < self.active_us:  # noqa: SLF001
            return None
        return subject_of(e, subject, None)


def subject_of(e: Event, subject: str, pos: int | None) -> str | None:
    """The value of *e*'s *subject* attribute: None when missing or None.

    Raises:
        InvalidEventError: if it is something else than a non-empty str.
    """
    value = e.attrs.get(subject)
    if value is None or (value.__class__ is str and value):
        return value
    raise InvalidEventError(
        f"attrs[{subject!r}] names what the model scores and must be a non-empty "
        f"str or None, got {shorten(value)}",
        field=f"attrs[{subject!r}]",
        value=value,
        where=None if pos is None else f"events[{pos}]",
    )


def _set_checker(model: ScoringModel) -> Callable[[Event, int], None] | None:
    """The check of ``score.set`` values against *model*'s bounds."""
    if model.bounds is None:
        return None
    low, high = model.bounds

    def check(e: Event, pos: int) -> None:
        v = e.value
        if (low is not None and v < low) or (high is not None and v > high):
            raise InvalidEventError(
                f"score.set to {v:g} is outside the bounds ({low}, {high}) of model "
                f"{model.name!r}; set a value within them (score.adjusted clamps)",
                field="value",
                value=v,
                where=f"events[{pos}]",
            )

    return check


def _conditional(
    static: tuple[int, ...],
    tests: tuple[tuple[int, Callable[[Event], bool]], ...],
    indexes: tuple[tuple[str, dict[Any, tuple[int, ...]]], ...],
) -> Matcher:
    """The matcher of one kind: the rule indices an event of that kind matches.

    *indexes* are the rules whose condition is one ``where(key, eq=value)``,
    grouped by key and looked up by value: fifty such rules on ``path`` cost one
    dictionary lookup, not fifty tests.
    """
    if not indexes:

        def match(e: Event) -> tuple[int, ...]:
            return static + tuple(i for i, test in tests if test(e))

        return match

    if not static and not tests and len(indexes) == 1:
        ((key, index),) = indexes

        def match_one_key(e: Event) -> tuple[int, ...]:
            v = e.attrs.get(key)
            return index.get(
                v if v is None or v.__class__ is str else operand_key(v), ()
            )

        return match_one_key

    def match_indexed(e: Event) -> tuple[int, ...]:
        found = static + tuple(i for i, test in tests if test(e))
        get = e.attrs.get
        for key, index in indexes:
            v = get(key)
            hit = index.get(v if v is None or v.__class__ is str else operand_key(v))
            if hit:
                found = tuple(sorted(found + hit)) if found else hit
        return found

    return match_indexed


def _index_key(value: Any) -> Any:
    # A str or None equals only itself: its own key. Anything else is keyed so
    # that a bool is never a number (1 and 1.0 stay one key); no key of one kind
    # can equal a key of the other.
    return value if value is None or value.__class__ is str else operand_key(value)


def _eq_key(when: Condition) -> tuple[str, Any] | None:
    """``(key, value)`` of a condition that is one ``where(key, eq=value)``."""
    if isinstance(when, Compare) and when.op == "eq" and isinstance(when.key, str):
        return when.key, when.operand
    return None


def compile_model(model: ScoringModel) -> Compiled:
    """Prepare the dispatch table of *model*."""
    by_kind: dict[str, list[int]] = {}
    for i, rule in enumerate(model.rules):
        for kind in rule.kinds:
            by_kind.setdefault(kind, []).append(i)
    dispatch: dict[str, Dispatch] = {}
    for kind, indices in by_kind.items():
        static = tuple(i for i in indices if model.rules[i].when is None)
        equal: dict[str, dict[Any, tuple[int, ...]]] = {}
        tests = []
        for i in indices:
            when = model.rules[i].when
            if when is None:
                continue
            pair = _eq_key(when)
            if pair is None:
                tests.append((i, when.compile()))
            else:
                index = equal.setdefault(pair[0], {})
                value = _index_key(pair[1])
                index[value] = (*index.get(value, ()), i)
        # An index pays off from two rules on one key; a lone test stays a test.
        for key in [
            k for k, index in equal.items() if sum(map(len, index.values())) < 2
        ]:
            ((value, (i,)),) = equal.pop(key).items()
            tests.append((i, model.rules[i].when.compile()))  # type: ignore[union-attr]
        tests.sort()
        indexes = tuple(equal.items())
        dispatch[kind] = (
            _conditional(static, tuple(tests), indexes) if tests or indexes else static
        )
    n = len(model.rules)
    enders = tuple(i for i, r in enumerate(model.rules) if r.ended_by)
    ended_by = [model.rules[i].ended_by or () for i in enders]
    for kind in dict.fromkeys(k for kinds in ended_by for k in kinds):
        extra = tuple(n + j for j, kinds in enumerate(ended_by) if kind in kinds)
        dispatch[kind] = _with_enders(dispatch.get(kind, ()), extra)
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
        enders,
        _set_checker(model),
    )


def _with_enders(entry: Dispatch, extra: tuple[int, ...]) -> Dispatch:
    """*entry* that also reports the ender indices *extra* for every event."""
    if isinstance(entry, tuple):
        return entry + extra
    assert callable(entry)
    match = entry

    def match_and_end(e: Event) -> tuple[int, ...]:
        return match(e) + extra

    return match_and_end


def ingest(
    models: list[Compiled],
    events: Iterable[Event],
    seen: Mapping[str, Event],
) -> tuple[list[dict[str, Pending]], list[list[Event]], dict[str, Event]]:
    """Group *events* by contact for each model, in one pass.

    Returns, per model, ``{contact: Pending}`` and the
    ``contact.merged`` events, plus the ids first seen in this batch. Events whose
    id is in *seen* (or earlier in the batch) and that are equal to the stored one
    are skipped; a different event with a known id raises.

    Raises:
        InvalidEventError: for something that is not an Event (naming its
            position), a conflicting id, or a malformed merge.
    """
    new_ids: dict[str, Event] = {}
    tables: list[tuple[Any, ...]]
    tables = [
        (c.dispatch, c.active_us, c.model.name, {}, [], c.model.subject, c.check_set)
        for c in models
    ]
    event_cls, special, merged, score_set = Event, SPECIAL, CONTACT_MERGED, SCORE_SET
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
        for dispatch, active_us, name, accs, merges, subject, check_set in tables:
            if t < active_us:
                continue
            d = dispatch.get(kind)
            owner: str | None = contact
            if d is special:
                target = e.attrs.get("model")
                if target is not None and target != name:
                    continue  # a manual change of another model's score
                if check_set is not None and kind == score_set:
                    check_set(e, pos)
            elif subject is not None:
                owner = subject_of(e, subject, pos)
                if owner is None:
                    continue  # not about anything this model scores
            acc = accs.get(owner)
            if acc is None:
                acc = accs[owner] = Pending(t)
            elif t < acc.first_us:
                acc.first_us = t
            if d is None:
                continue
            if d.__class__ is tuple:
                if d:
                    acc.entries.append((e, d))
            elif d is special:
                if kind == merged:
                    merges.append(e)
                else:
                    acc.manual.append(e)
            else:
                matched = d(e)
                if matched:
                    acc.entries.append((e, matched))
    return [t[3] for t in tables], [t[4] for t in tables], new_ids
