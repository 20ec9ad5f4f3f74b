"""Hypothesis strategies for leadscore's types, for your own property tests.

Needs the ``testing`` extra (``pip install leadscore[testing]``). The domains are
deliberately small (a few contacts, kinds, messages and instants) so that the
interesting collisions happen: two events at the same instant, the same message
opened twice, an id given twice.

The adversarial strategies go further and draw what an attacker (or a careless
integration) sends: bool/int/float look-alikes (``True``, ``1``, ``1.0``), unicode
edge cases and 10 kB strings, instants in the years 1 and 9999, numbers at the
documented limits, conditions nested to the depth limit, merge chains and cycles,
and two different events sharing one id. Valid-only strategies
(``events(adversarial=True)``, ``event_lists(adversarial=True)``,
``models(adversarial=True)``, :func:`merge_chains`, :func:`deep_conditions`) draw
only inputs the library accepts; :func:`colliding_events` and
:func:`invalid_event_kwargs` draw inputs it must reject with ``InvalidEventError``.

>>> import math
>>> import leadscore
>>> from hypothesis import given, settings
>>> from leadscore.strategies import event_lists, models
>>> @settings(max_examples=20)
... @given(models(), event_lists())
... def test_scores_are_finite(model, events):
...     scores = leadscore.score(model, events, "2024-12-31T00:00:00Z")
...     assert all(math.isfinite(s) for s in scores.values())
>>> test_scores_are_finite()
"""

from __future__ import annotations

import datetime as dt
import functools
import random
from collections.abc import Callable, Collection, Sequence
from typing import Any

from attrs import evolve
from dateutil.relativedelta import relativedelta
from hypothesis import strategies as st

from .model._aging import AGING_KINDS, AgingPolicy
from .model._conditions import VALUE, Condition, where
from .model._events import CONTACT_MERGED, SCORE_ADJUSTED, SCORE_RESET, SCORE_SET, Event
from .model._fit import FitModel, FitRule
from .model._limits import (
    MAX_CONDITION_DEPTH,
    MAX_DAYS,
    MAX_INT_ATTR,
    MAX_MONTHS,
    MAX_POINTS,
)
from .model._rating import RatingScale
from .model._rules import PERIODS, Frequency, Group, Rule, ScoringModel
from .model._steps import Step, is_later

__all__ = [
    "CONTACTS",
    "EDGE_INSTANTS",
    "EMAIL_KINDS",
    "EXTREME_INSTANTS",
    "EXTREME_NUMBERS",
    "INVALID_STRINGS",
    "KINDS",
    "LONG_STRINGS",
    "LOOKALIKES",
    "MAX_INSTANT",
    "MIN_INSTANT",
    "START",
    "UNICODE_STRINGS",
    "adversarial_instants",
    "adversarial_strings",
    "aging_policies",
    "attr_values",
    "colliding_events",
    "conditions",
    "deep_conditions",
    "email_events",
    "event_lists",
    "events",
    "fit_models",
    "groups",
    "instants",
    "invalid_event_cases",
    "invalid_event_kwargs",
    "manual_events",
    "merge_chains",
    "models",
    "profile_events",
    "rating_scales",
    "rules",
]

#: The default contact ids, kinds and start of the time range.
CONTACTS = ("ann", "bob", "cy")
KINDS = ("email.opened", "email.clicked", "page.viewed", "form.submitted")
START = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
_MESSAGES = ("m1", "m2", "m3")
_PATHS = ("/pricing", "/blog", "/unsubscribe")
_COMPANIES = ("acme", "globex")
#: The group names, frequency periods and time zones models() draws.
GROUP_NAMES = ("email", "web")
TIMEZONES = ("UTC", "Europe/Paris", "America/New_York", "Asia/Kolkata")


def _utc(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC)


#: Instants where calendar arithmetic and ties go wrong: month ends at several
#: times of day (Aug 29 23:00 + 6 months is later than Aug 30 10:00 + 6 months),
#: leap days, and the instants themselves shared by many events.
EDGE_INSTANTS = tuple(
    _utc(t)
    for t in (
        "2024-01-31T00:00:00",
        "2024-01-31T12:00:00",
        "2024-02-29T06:00:00",
        "2024-03-31T18:00:00",
        "2024-05-31T12:00:00",
        "2024-06-30T12:00:00",
        "2024-08-29T23:00:00",
        "2024-08-30T10:00:00",
        "2024-08-31T12:00:00",
        "2024-09-30T00:00:00",
        "2024-11-30T12:00:00",
        "2024-12-31T23:59:59",
        "2025-02-28T10:00:00",
        "2025-02-28T12:00:00",
        "2025-02-28T23:00:00",
        # Around the DST changes of Europe/Paris and America/New_York (the zones
        # models() draws for at_most buckets), and a Paris/Kolkata day boundary.
        "2024-03-10T06:30:00",
        "2024-03-10T07:30:00",
        "2024-03-31T00:30:00",
        "2024-03-31T01:30:00",
        "2024-06-30T22:30:00",
        "2024-10-27T00:30:00",
        "2024-10-27T01:30:00",
        "2024-11-03T05:30:00",
        "2024-11-03T06:30:00",
    )
)


def instants(
    start: dt.datetime = START, days: int = 400, step: dt.timedelta | None = None
) -> st.SearchStrategy[dt.datetime]:
    """Aware UTC instants: :data:`EDGE_INSTANTS` half the time, else a grid.

    The grid spans ``[start, start + days)`` in steps of *step* (6 hours by
    default), so that ties happen.
    """
    step = step or dt.timedelta(hours=6)
    slots = int(dt.timedelta(days=days) / step)
    grid = st.integers(0, slots - 1).map(lambda i: start + i * step)
    return st.one_of(st.sampled_from(EDGE_INSTANTS), grid)


# -- adversarial building blocks -----------------------------------------------

#: The first and the last instant the library accepts (``datetime``'s range, UTC).
MIN_INSTANT = dt.datetime.min.replace(tzinfo=dt.UTC)
MAX_INSTANT = dt.datetime.max.replace(tzinfo=dt.UTC)

#: Instants at the ends of the calendar, month ends, leap days (also in the years 4,
#: 9996 and 2000, not in 1900) and around the Unix epoch: where calendar arithmetic
#: overflows or clips.
EXTREME_INSTANTS = (
    MIN_INSTANT,
    MIN_INSTANT + dt.timedelta(microseconds=1),
    _utc("0001-01-31T23:59:59"),
    _utc("0004-02-29T12:00:00"),
    _utc("1900-02-28T23:59:59"),
    _utc("1969-12-31T23:59:59.999999"),
    _utc("1970-01-01T00:00:00"),
    _utc("2000-02-29T00:00:00"),
    _utc("2024-02-29T23:59:59.999999"),
    _utc("2038-01-19T03:14:08"),
    _utc("9996-02-29T12:00:00"),
    _utc("9999-01-31T12:00:00"),
    _utc("9999-08-31T00:00:00"),
    _utc("9999-12-31T00:00:00"),
    MAX_INSTANT - dt.timedelta(microseconds=1),
    MAX_INSTANT,
)

#: Values that compare equal in Python but are not the same value: ``True == 1 ==
#: 1.0`` and ``False == 0 == -0.0``.
LOOKALIKES: tuple[bool | int | float, ...] = (True, 1, 1.0, False, 0, 0.0, -0.0)

#: Finite numbers at the edges: the documented points limit, the smallest
#: subnormal, the largest floats, ints at the documented attribute limit.
EXTREME_NUMBERS: tuple[int | float, ...] = (
    MAX_POINTS,
    -MAX_POINTS,
    5e-324,
    -5e-324,
    -0.0,
    2.2250738585072014e-308,
    1.7976931348623157e308,
    -1.7976931348623157e308,
    2**53 + 1,
    2**63,
    MAX_INT_ATTR - 1,
    MAX_INT_ATTR,
    -MAX_INT_ATTR,
)

#: Valid strings that break naive code: emoji (with skin tone and ZWJ sequences),
#: combining characters next to their precomposed look-alike, right-to-left text
#: and overrides, zero-width and BOM characters, the last code point, case
#: mapping oddities, and strings that look like other types or like SQL.
UNICODE_STRINGS = (
    "👩\u200d💻",
    "👍🏽",
    "é",
    "e\u0301",
    "שלום",
    "مرحبا",
    "\u202eevil\u202c",
    "\u200b",
    "\ufeffbom",
    "\U0010ffff",
    "\ufffd",
    "İß",
    "a\tb\nc\r",
    " ",
    "'; DROP TABLE events; --",
    '{"from": "x"}',
    "None",
    "1",
    "True",
    "-0.0",
)

#: Strings of 10 kB: one byte per character and two.
LONG_STRINGS = ("x" * 10_000, "é" * 5_000)

#: Strings no event may carry: lone surrogates (not encodable as UTF-8) and NUL
#: (cut off by C-string based drivers).
INVALID_STRINGS = (
    "\ud800",
    "a\udfffb",
    "\udc80",
    "\x00",
    "a\x00b",
    "x" * 10_000 + "\x00",
)


def _elements(items: Sequence[Any]) -> st.SearchStrategy[Any]:
    # sampled_from(items) without the items in the strategy's repr (10 kB strings
    # and 300-digit ints would make Hypothesis warn about an overly large repr).
    return st.sampled_from(range(len(items))).map(items.__getitem__)


def adversarial_strings(*, allow_empty: bool = False) -> st.SearchStrategy[str]:
    """Valid but hostile strings: :data:`UNICODE_STRINGS`, 10 kB, random text.

    Never a lone surrogate or NUL (see :data:`INVALID_STRINGS`); empty only with
    *allow_empty*.
    """
    return _strings(allow_empty)


@functools.cache
def _strings(allow_empty: bool) -> st.SearchStrategy[str]:
    text = st.text(
        st.characters(codec="utf-8", exclude_characters="\x00"),
        min_size=0 if allow_empty else 1,
        max_size=8,
    )
    # deferred: keeps the repr of strategies built from this one short.
    return st.deferred(
        lambda: st.one_of(_elements(UNICODE_STRINGS), _elements(LONG_STRINGS), text)
    )


def _with_offset(at: dt.datetime, hours: int) -> dt.datetime:
    # The same instant seen from another zone, unless that leaves datetime's range.
    try:
        return at.astimezone(dt.timezone(dt.timedelta(hours=hours)))
    except (OverflowError, ValueError):
        return at


def adversarial_instants() -> st.SearchStrategy[dt.datetime]:
    """Aware instants anywhere in the years 1 to 9999, often an extreme one.

    :data:`EXTREME_INSTANTS`, :data:`EDGE_INSTANTS`, the :func:`instants` grid and
    arbitrary microseconds, some of them with a non-UTC offset (the same instant).
    """
    anywhere = st.datetimes(timezones=st.just(dt.UTC))
    base = st.one_of(st.sampled_from(EXTREME_INSTANTS), instants(), anywhere, anywhere)
    shifted = st.builds(_with_offset, base, st.sampled_from((-12, -1, 1, 5, 14)))
    return st.deferred(lambda: st.one_of(base, shifted))  # a short repr


def attr_values(*, nested: bool = True) -> st.SearchStrategy[Any]:
    """Valid attribute values: look-alikes, extreme numbers, hostile strings.

    With *nested*, tuples of those too. Ints stay within the documented range
    (``|v| <= 2**1023``); floats are finite.
    """
    scalar = st.one_of(
        st.sampled_from(LOOKALIKES),
        _elements(EXTREME_NUMBERS),
        adversarial_strings(allow_empty=True),
        st.none(),
        st.floats(allow_nan=False, allow_infinity=False),
        st.integers(-MAX_INT_ATTR, MAX_INT_ATTR),
    )
    if not nested:
        return st.deferred(lambda: scalar)
    return st.deferred(
        lambda: st.one_of(scalar, st.lists(scalar, max_size=3).map(tuple))
    )


#: Attribute keys the adversarial conditions test, so that look-alikes matter.
_ADV_KEYS = ("x", "n", "message")
#: Unicode contact ids the adversarial mode adds to the caller's contacts.
_ADV_CONTACTS = ("👩\u200d💻", "é", "e\u0301", "שלום")
#: Values of manual score events, within the documented limit.
_MANUAL_VALUES = (MAX_POINTS, -MAX_POINTS, 5e-324, -0.0, 0.0, 3.0, -5.0)


@functools.cache  # built once: strategies are immutable, validation is not free
def _adversarial_attrs() -> st.SearchStrategy[dict[str, Any]]:
    key = st.one_of(
        st.sampled_from(_ADV_KEYS), st.sampled_from(_ADV_KEYS), adversarial_strings()
    )
    return st.dictionaries(key, attr_values(), max_size=4)


def _pick(items: Sequence[str], extra: Sequence[str]) -> st.SearchStrategy[str]:
    # Mostly the caller's items (so that collisions happen), sometimes hostile ones.
    return st.one_of(
        st.sampled_from(items), st.sampled_from(items), st.sampled_from(extra)
    )


#: Ids the adversarial events draw from: few, so that different events share one.
_ID_POOL = (*(str(i) for i in range(8)), "é", "e\u0301", "👍🏽")
#: Kinds no rule is written on, with hostile spellings.
_ADV_KINDS = ("email.opened\u200b", "ÉMAIL.OPENED", "page.viewed ")


def events(
    contacts: Sequence[str] = CONTACTS,
    kinds: Sequence[str] = KINDS,
    at: st.SearchStrategy[dt.datetime] | None = None,
    *,
    ids: bool = False,
    adversarial: bool = False,
) -> st.SearchStrategy[Event]:
    """Events of the given contacts and kinds, with ``message``/``path`` attrs.

    Args:
        contacts: The contact ids to draw from.
        kinds: The kinds to draw from.
        at: The instants (default :func:`instants`, or
            :func:`adversarial_instants` in adversarial mode).
        ids: Give some events an id. Plain mode draws ids from a wide range;
            adversarial mode from a pool of eleven, so that *different* events
            often share one: use :func:`event_lists` with ``adversarial=True`` for
            conflict-free lists.
        adversarial: Draw hostile but valid events: unicode contact ids and kinds
            besides *contacts* and *kinds*, attributes from :func:`attr_values`
            under keys ``x``, ``n``, ``message`` and hostile ones, any finite
            value, instants in the years 1 to 9999.
    """
    if adversarial:
        id_strategy: st.SearchStrategy[str | None] = st.none()
        if ids:
            id_strategy = st.one_of(st.none(), st.sampled_from(_ID_POOL))
        return st.builds(
            Event,
            contact=_pick(contacts, _ADV_CONTACTS),
            kind=_pick(kinds, _ADV_KINDS),
            at=at if at is not None else adversarial_instants(),
            attrs=_adversarial_attrs(),
            value=st.one_of(
                st.sampled_from(tuple(float(n) for n in EXTREME_NUMBERS)),
                st.floats(allow_nan=False, allow_infinity=False),
            ),
            id=id_strategy,
        )
    attrs = st.fixed_dictionaries(
        {},
        optional={
            "message": st.sampled_from(_MESSAGES),
            "path": st.sampled_from(_PATHS),
            "campaign": st.sampled_from(("May newsletter", "promo")),
            "company": st.sampled_from(_COMPANIES),
        },
    )
    return st.builds(
        Event,
        contact=st.sampled_from(contacts),
        kind=st.sampled_from(kinds),
        at=at if at is not None else instants(),
        attrs=attrs,
        value=st.sampled_from((0.0, 1.0, 9.5, 25.0, 120.0)),
        id=st.none() if not ids else st.integers(0, 10**9).map(str),
    )


def manual_events(
    contacts: Sequence[str] = CONTACTS,
    at: st.SearchStrategy[dt.datetime] | None = None,
    *,
    adversarial: bool = False,
    model_names: Sequence[str] = ("engagement", "sales"),
) -> st.SearchStrategy[Event]:
    """``score.adjusted``, ``score.set``, ``score.reset`` and ``contact.merged``.

    Args:
        contacts: The contact ids to draw from (a merge joins two different ones).
        at: The instants (default :func:`instants`, or
            :func:`adversarial_instants` in adversarial mode).
        adversarial: Values at the documented limit (``±1e15``, ``5e-324``,
            ``-0.0``), ``attrs["model"]`` naming one of *model_names*, no model
            or a model that does not exist, hostile extra attributes and
            unicode contact ids. Still only events the library accepts.
        model_names: The model names ``attrs["model"]`` may name (adversarial).
    """
    if not adversarial:
        when = at if at is not None else instants()
        # A score.set within every bounds models() draws (a set outside a model's
        # bounds is rejected); adjustments may go anywhere (they clamp).
        adjust = st.builds(
            Event,
            contact=st.sampled_from(contacts),
            kind=st.sampled_from((SCORE_ADJUSTED, SCORE_RESET)),
            at=when,
            value=st.sampled_from((-5.0, 0.0, 3.0, 50.0)),
        ) | st.builds(
            Event,
            contact=st.sampled_from(contacts),
            kind=st.just(SCORE_SET),
            at=when,
            value=st.sampled_from((0.0, 3.0, 50.0)),
        )
        merge = (
            st.tuples(st.sampled_from(contacts), st.sampled_from(contacts), when)
            .filter(lambda t: t[0] != t[1])
            .map(lambda t: Event(t[0], CONTACT_MERGED, t[2], {"from": t[1]}))
        )
        return st.one_of(adjust, merge)
    when = at if at is not None else adversarial_instants()
    who = _pick(contacts, _ADV_CONTACTS)
    extra = st.fixed_dictionaries(
        {},
        optional={
            "model": st.sampled_from((*model_names, "no such model", "é")),
            "x": attr_values(nested=False),
            "reason": adversarial_strings(allow_empty=True),
        },
    )
    adjust = st.builds(
        Event,
        contact=who,
        kind=st.sampled_from((SCORE_ADJUSTED, SCORE_SET, SCORE_RESET)),
        at=when,
        attrs=extra,
        value=st.one_of(
            st.sampled_from(_MANUAL_VALUES), st.floats(-MAX_POINTS, MAX_POINTS)
        ),
    )
    merge = (
        st.tuples(who, who, when, extra)
        .filter(lambda t: t[0] != t[1])
        .map(lambda t: Event(t[0], CONTACT_MERGED, t[2], {**t[3], "from": t[1]}))
    )
    return st.one_of(adjust, adjust, merge)


def _copy(e: Event) -> Event:
    # An equal event built anew (not the same object), as a replay would bring.
    return Event(e.contact, e.kind, e.at, e.attrs, e.value, e.id)


@functools.cache
def _adversarial_items(
    contacts: tuple[str, ...],
    kinds: tuple[str, ...],
    manual: bool,
    max_size: int,
) -> st.SearchStrategy[list[Event]]:
    item = events(contacts, kinds, adversarial=True)
    if manual:
        item = st.one_of(item, item, item, manual_events(contacts, adversarial=True))
    return st.lists(item, max_size=max_size)


@st.composite
def _adversarial_lists(
    draw: st.DrawFn,
    contacts: Sequence[str],
    kinds: Sequence[str],
    manual: bool,
    max_size: int,
) -> list[Event]:
    drawn = draw(_adversarial_items(tuple(contacts), tuple(kinds), manual, max_size))
    if manual and draw(st.booleans()):
        drawn += draw(merge_chains(contacts, kinds, max_length=60))
    # Unique ids: the position makes them so, hostile text follows it.
    out: list[Event] = []
    for i, e in enumerate(drawn):
        if draw(st.booleans()):
            suffix = draw(st.one_of(st.just(""), adversarial_strings()))
            e = Event(e.contact, e.kind, e.at, e.attrs, e.value, f"{i}:{suffix}")  # noqa: PLW2901
        out.append(e)
    # Replays: exact copies of some events (with an id they count once).
    if out:
        picks = draw(st.lists(st.integers(0, len(out) - 1), max_size=5))
        out += [_copy(out[i]) for i in picks]
    draw(st.randoms(use_true_random=False)).shuffle(out)
    return out


def event_lists(
    contacts: Sequence[str] = CONTACTS,
    kinds: Sequence[str] = KINDS,
    *,
    manual: bool = True,
    max_size: int = 30,
    adversarial: bool = False,
) -> st.SearchStrategy[list[Event]]:
    """Lists of events, with some manual changes and merges unless *manual* is off.

    With *adversarial*, the events of :func:`events` and :func:`manual_events` in
    adversarial mode, sometimes a merge chain or cycle of up to 60 merges
    (:func:`merge_chains`), ids on some events (unique, with hostile text) and
    exact replays of a few events. Never two different events with one id (see
    :func:`colliding_events` for those): every list is one the library accepts.
    """
    if adversarial:
        return _adversarial_lists(contacts, kinds, manual, max_size)
    item = events(contacts, kinds)
    if manual:
        item = st.one_of(item, item, item, item, manual_events(contacts))
    return st.lists(item, max_size=max_size)


_CHAIN_ORDERS = ("rising", "falling", "same", "random", "ends")


@st.composite
def merge_chains(
    draw: st.DrawFn,
    contacts: Sequence[str] = CONTACTS,
    kinds: Sequence[str] = KINDS,
    *,
    min_length: int = 2,
    max_length: int = 60,
    cycle: bool | None = None,
    activity: bool = True,
) -> list[Event]:
    """A chain of merges ``head <- head/1 <- head/2 <- ...``, maybe closed to a cycle.

    *head* is one of *contacts*; the chain has between *min_length* and
    *max_length* merges, at rising, falling, equal, random or extreme (year 1 and
    9999) instants. *cycle* ``None`` closes it (the last id merges the head)
    half the time. With *activity*, about half the ids also have an event of one
    of *kinds* (``path="/pricing"``, a newsletter campaign) at one of the merge
    instants. Built from a few draws and a seeded generator, so a chain of 5,000
    is cheap to draw.
    """
    head = draw(st.sampled_from(contacts))
    length = draw(st.integers(min_length, max_length))
    order = draw(st.sampled_from(_CHAIN_ORDERS))
    closed = draw(st.booleans()) if cycle is None else cycle
    rnd = random.Random(draw(st.integers(0, 2**32 - 1)))  # noqa: S311 - not crypto
    base, hour = START, dt.timedelta(hours=1)
    times: Callable[[int], dt.datetime] = {
        "rising": lambda i: base + i * hour,
        "falling": lambda i: base + (length - i) * hour,
        "same": lambda _: base,
        "random": lambda _: base + rnd.randrange(length + 1) * hour,
        "ends": lambda _: rnd.choice((MIN_INSTANT, MAX_INSTANT, MAX_INSTANT - hour)),
    }[order]
    nodes = [head, *(f"{head}/{i}" for i in range(1, length + 1))]
    merges = [
        Event(nodes[i], CONTACT_MERGED, times(i), {"from": nodes[i + 1]})
        for i in range(length)
    ]
    if closed:
        merges.append(
            Event(nodes[-1], CONTACT_MERGED, times(length), {"from": nodes[0]})
        )
    acts = []
    if activity:
        attrs = {"path": "/pricing", "campaign": "May newsletter", "x": 1}
        acts = [
            Event(node, rnd.choice(kinds), rnd.choice(merges).at, attrs)
            for node in nodes
            if rnd.random() < 0.5
        ]
    out = merges + acts
    rnd.shuffle(out)
    return out


#: Pairs that Python calls equal but the library must tell apart.
_CONFUSABLE_PAIRS: tuple[tuple[Any, Any], ...] = (
    (True, 1),
    (1, True),
    (False, 0),
    (True, 1.0),
    (False, -0.0),
    (False, 0.0),
    ((True,), (1,)),
    ((0, "a"), (False, "a")),
    ("é", "e\u0301"),
)


@st.composite
def colliding_events(
    draw: st.DrawFn, contacts: Sequence[str] = CONTACTS, kinds: Sequence[str] = KINDS
) -> tuple[Event, Event]:
    """Two different valid events with the same id (any order).

    They differ in one thing only: a bool against an equal int or float
    (``True``/``1``, ``False``/``-0.0``, also inside tuples), a precomposed
    against a combining spelling, the contact, the kind, one microsecond, the
    value, or one attribute more. Together they must raise ``InvalidEventError``
    wherever they meet (``score``, ``fold``, a store), whatever the order. Their
    ids start with ``"dup:"``, so they never clash with :func:`event_lists`'.
    """
    base = draw(
        st.one_of(
            events(contacts, kinds, adversarial=True),
            manual_events(contacts, adversarial=True),
        )
    )
    eid = "dup:" + draw(st.one_of(st.sampled_from(_ID_POOL), adversarial_strings()))
    a = evolve(base, id=eid)
    how = draw(
        st.sampled_from(("confusable", "contact", "kind", "at", "value", "attr"))
    )
    if how == "confusable":
        key = draw(st.sampled_from(_ADV_KEYS))
        first, second = draw(st.sampled_from(_CONFUSABLE_PAIRS))
        a = evolve(a, attrs={**a.attrs, key: first})
        b = evolve(a, attrs={**a.attrs, key: second})
    elif how == "contact":
        b = evolve(a, contact=a.contact + "'")
        if b.kind == CONTACT_MERGED and b.attrs.get("from") == b.contact:
            b = evolve(a, contact=a.contact + "''")
    elif how == "kind":
        b = evolve(a, kind=a.kind + "!")
    elif how == "at":
        step = dt.timedelta(microseconds=1)
        b = evolve(a, at=a.at - step if a.at == MAX_INSTANT else a.at + step)
    elif how == "value":
        b = evolve(a, value=5e-324 if a.value == 0 else 0.0)
    else:
        key = next(k for k in ("extra", "extra2", "extra3") if k not in a.attrs)
        b = evolve(a, attrs={**a.attrs, key: None})
    return (b, a) if draw(st.booleans()) else (a, b)


_EXTREME_OFFSET = dt.timezone(dt.timedelta(hours=1))
_BAD_STRINGS = ("", None, 5, b"ann", *INVALID_STRINGS)
_BAD_AT = (
    dt.datetime(2024, 1, 1),  # noqa: DTZ001 - naive on purpose
    "2024-01-01T00:00:00",
    "2024-02-30T00:00:00Z",
    "yesterday",
    "",
    "\ud800",
    "2024-01-01T00:00:00\x00Z",
    1_700_000_000,
    None,
    "0001-01-01T00:00:00+01:00",
    "9999-12-31T23:59:59-01:00",
    dt.datetime(1, 1, 1, 0, 30, tzinfo=_EXTREME_OFFSET),
    dt.datetime(9999, 12, 31, 23, 30, tzinfo=dt.timezone(-dt.timedelta(hours=1))),
)
_BAD_VALUES = (float("nan"), float("inf"), float("-inf"), "1", True, None, 10**400)
_BAD_MANUAL_VALUES = (
    MAX_POINTS * (1 + 2**-50),
    -1e16,
    1e308,
    -1.7976931348623157e308,
)
_BAD_ATTR_VALUES = (
    *INVALID_STRINGS,
    float("nan"),
    frozenset({1}),
    {"a": 1},
    b"bytes",
    MAX_INT_ATTR + 1,
    -MAX_INT_ATTR - 1,
    2**1024,
    ("ok", "\x00"),
    ("a", float("nan")),
    ("\ud800",),
)
_BAD_FROM: tuple[dict[str, Any], ...] = (
    {},
    {"from": ""},
    {"from": 5},
    {"from": None},
    {"from": ("b",)},
    {"from": True},
    {"from": "\x00"},
    {"from": "\ud800"},
)


@st.composite
def invalid_event_cases(
    draw: st.DrawFn, contacts: Sequence[str] = CONTACTS, kinds: Sequence[str] = KINDS
) -> tuple[dict[str, Any], tuple[str, ...]]:
    """``(kwargs, fields)``: ``Event(**kwargs)`` must raise ``InvalidEventError``.

    *kwargs* is a valid event's keyword arguments with one thing broken; *fields*
    names the fields the error's ``.field`` may name (``"attrs"`` also covers
    ``"attrs['x']"``). Broken are: an empty, non-str, NUL or lone-surrogate
    contact, kind or id; a naive, offset-less, impossible or out-of-range ``at``
    (``0001-01-01T00:00:00+01:00``); a NaN, infinite, non-number or too large
    value; a ``score.adjusted``/``score.set`` value beyond ``±1e15``; a NUL or
    lone surrogate in an attribute key or value (also inside a tuple), an int
    beyond ``±2**1023``, a value of another type, attrs that are not a mapping;
    a ``contact.merged`` without a non-empty str ``from``, or into itself.
    """
    kw: dict[str, Any] = {
        "contact": draw(st.sampled_from(contacts)),
        "kind": draw(st.sampled_from(kinds)),
        "at": draw(instants()),
        "attrs": draw(_adversarial_attrs()),
        "value": 0.0,
        "id": draw(st.none() | st.just("e1")),
    }
    how = draw(
        st.sampled_from(
            (
                "contact",
                "kind",
                "id",
                "at",
                "value",
                "manual",
                "key",
                "attr",
                "mapping",
                "from",
                "self",
            )
        )
    )
    fields: tuple[str, ...]
    if how in {"contact", "kind", "id"}:
        bad = (True, 1.5) if how == "id" else ()
        kw[how] = draw(_elements((*_BAD_STRINGS, *bad)))
        if how == "id" and kw["id"] in {None, 5}:
            kw["id"] = ""  # None (no id) and ints are valid ids
        fields = (how,)
    elif how == "at":
        kw["at"] = draw(st.sampled_from(_BAD_AT))
        fields = ("at",)
    elif how == "value":
        kw["value"] = draw(st.sampled_from(_BAD_VALUES))
        fields = ("value",)
    elif how == "manual":
        kw["kind"] = draw(st.sampled_from((SCORE_ADJUSTED, SCORE_SET)))
        kw["value"] = draw(st.sampled_from(_BAD_MANUAL_VALUES))
        fields = ("value",)
    elif how == "key":
        key = draw(_elements((*INVALID_STRINGS, 5, None, ("a",))))
        kw["attrs"] = {**kw["attrs"], key: 1}
        fields = ("attrs",)
    elif how == "attr":
        key = draw(st.sampled_from(_ADV_KEYS))
        kw["attrs"] = {**kw["attrs"], key: draw(_elements(_BAD_ATTR_VALUES))}
        fields = ("attrs",)
    elif how == "mapping":
        kw["attrs"] = draw(st.sampled_from(([("a", 1)], "x=1", 5, ("from",))))
        fields = ("attrs",)
    elif how == "from":
        kw["kind"] = CONTACT_MERGED
        kw["attrs"] = draw(st.sampled_from(_BAD_FROM))
        fields = ("attrs",)
    else:
        kw["kind"] = CONTACT_MERGED
        kw["attrs"] = {"from": kw["contact"]}
        fields = ("attrs", "contact")
    return kw, fields


def invalid_event_kwargs(
    contacts: Sequence[str] = CONTACTS, kinds: Sequence[str] = KINDS
) -> st.SearchStrategy[dict[str, Any]]:
    """Keyword arguments of events that ``Event`` must reject.

    The *kwargs* of :func:`invalid_event_cases`: ``Event(**kwargs)`` raises
    ``InvalidEventError`` and nothing else.
    """
    return invalid_event_cases(contacts, kinds).map(lambda case: case[0])


_MICRO = dt.timedelta(microseconds=1)
_STEP_WEIGHTS = (0.0, 0.1, 0.25, 0.5, 0.75, 0.9, 1.0)
_ANY_MONTHS = st.integers(1, MAX_MONTHS)
_ANY_DAYS = st.integers(1, MAX_DAYS)


@st.composite
def _step_policies(draw: st.DrawFn, months: int, days: int) -> AgingPolicy:
    """``AgingPolicy.steps`` of 1 to 4 steps, mixing months and days.

    Steps of months and of days interleave (14 days, then 1 month, then 45 days);
    a drawn step that is not later than the one before for every ``at`` (1 month
    then 30 days) is left out. Weights never rise, and are 0 now and then.
    """
    drawn = draw(
        st.lists(
            st.tuples(st.integers(0, months), st.integers(0, days)).filter(any),
            min_size=1,
            max_size=4,
            unique=True,
        )
    )
    drawn.sort(key=lambda after: after[0] * 30.44 + after[1])
    kept: list[Step] = []
    for m, d in drawn:
        step = Step(m, dt.timedelta(days=d), 1.0)
        if not kept or is_later(kept[-1], step):
            kept.append(step)
    weights = sorted(
        draw(
            st.lists(
                st.sampled_from(_STEP_WEIGHTS), min_size=len(kept), max_size=len(kept)
            )
        ),
        reverse=True,
    )
    return AgingPolicy.steps(
        [
            (relativedelta(months=s.months) + s.period if s.months else s.period, w)
            for s, w in zip(kept, weights, strict=True)
        ]
    )


def aging_policies(
    *, adversarial: bool = False, kinds: Collection[str] | None = None
) -> st.SearchStrategy[AgingPolicy]:
    """Every kind of aging policy, with month periods that hit month ends.

    ``steps`` policies mix calendar months and days. With *adversarial*, also
    periods and steps at the documented limits (12,000 months, 366,000 days), of
    one microsecond, and ``by_count(5e-324)``. *kinds* draws only those kinds
    (``kinds={"steps"}``); by default every kind.
    """
    wanted = frozenset(AGING_KINDS if kinds is None else kinds)
    if not wanted or not wanted <= set(AGING_KINDS):
        msg = f"kinds must be some of {', '.join(AGING_KINDS)}, got {kinds!r}"
        raise ValueError(msg)
    return _aging_policies(adversarial, wanted)


@functools.cache  # built once: strategies are immutable, validation is not free
def _aging_policies(
    adversarial: bool,
    wanted: frozenset[str],
) -> st.SearchStrategy[AgingPolicy]:
    plain = [
        ("never", st.just(AgingPolicy.never())),
        (
            "expire_after",
            st.builds(AgingPolicy.expire_after, months=st.integers(1, 13)),
        ),
        ("expire_after", st.builds(AgingPolicy.expire_after, days=st.integers(1, 120))),
        ("half_life", st.builds(AgingPolicy.half_life, days=st.integers(1, 90))),
        ("linear", st.builds(AgingPolicy.linear, days=st.integers(1, 200))),
        (
            "by_count",
            st.builds(AgingPolicy.by_count, st.sampled_from((0.25, 0.5, 0.9, 1.0))),
        ),
        ("inverse", st.builds(AgingPolicy.inverse, days=st.integers(1, 90))),
        ("steps", _step_policies(months=13, days=120)),
    ]
    groups = [st.one_of([draw for kind, draw in plain if kind in wanted])]
    if not adversarial:
        return groups[0]
    extreme = [
        p
        for p in (
            AgingPolicy.expire_after(months=MAX_MONTHS),
            AgingPolicy.expire_after(days=MAX_DAYS),
            AgingPolicy.expire_after(weeks=MAX_DAYS // 7),
            AgingPolicy.expire_after(_MICRO),
            AgingPolicy.half_life(days=MAX_DAYS),
            AgingPolicy.half_life(_MICRO),
            AgingPolicy.linear(days=MAX_DAYS),
            AgingPolicy.linear(_MICRO),
            AgingPolicy.by_count(5e-324),
            AgingPolicy.inverse(days=MAX_DAYS),
            AgingPolicy.inverse(_MICRO),
            AgingPolicy.steps([(_MICRO, 0.5), (2 * _MICRO, 0.0)]),
            AgingPolicy.steps(
                [
                    (relativedelta(months=MAX_MONTHS), 0.5),
                    (relativedelta(months=MAX_MONTHS, days=MAX_DAYS), 0.0),
                ]
            ),
            AgingPolicy.steps([(dt.timedelta(days=MAX_DAYS), 5e-324)]),
        )
        if p.kind in wanted
    ]
    ranged = [
        draw
        for kind, draw in (
            ("expire_after", st.builds(AgingPolicy.expire_after, months=_ANY_MONTHS)),
            ("expire_after", st.builds(AgingPolicy.expire_after, days=_ANY_DAYS)),
            ("half_life", st.builds(AgingPolicy.half_life, days=_ANY_DAYS)),
            ("linear", st.builds(AgingPolicy.linear, days=_ANY_DAYS)),
            ("inverse", st.builds(AgingPolicy.inverse, days=_ANY_DAYS)),
            ("steps", _step_policies(months=MAX_MONTHS, days=MAX_DAYS)),
        )
        if kind in wanted
    ]
    if extreme:
        groups.append(st.sampled_from(extreme))
    if ranged:
        groups.append(st.one_of(ranged))
    return st.one_of(groups)


@functools.cache  # built once: strategies are immutable, validation is not free
def _plain_leaves() -> st.SearchStrategy[Condition]:
    return st.one_of(
        st.builds(where, st.just("message"), eq=st.sampled_from(_MESSAGES)),
        st.builds(where, st.just("path"), startswith=st.sampled_from(("/p", "/b"))),
        st.builds(where, st.just("campaign"), contains=st.just("newsletter")),
        st.builds(where, st.just("message"), exists=st.booleans()),
        st.builds(where, st.just(VALUE), ge=st.sampled_from((1.0, 20.0))),
        st.builds(where, st.just("path"), in_=st.just(("/pricing", "/blog"))),
    )


@functools.cache  # built once: strategies are immutable, validation is not free
def _adversarial_leaves() -> st.SearchStrategy[Condition]:
    key: st.SearchStrategy[Any] = st.one_of(st.sampled_from(_ADV_KEYS), st.just(VALUE))
    number = st.one_of(
        st.sampled_from(tuple(n for n in LOOKALIKES if not isinstance(n, bool))),
        _elements(EXTREME_NUMBERS),
    )
    text = adversarial_strings(allow_empty=True)
    scalar = st.one_of(st.sampled_from(LOOKALIKES), number, text, st.none())
    leaves = st.one_of(
        st.builds(where, key, eq=scalar),
        st.builds(where, key, ne=scalar),
        st.builds(where, key, in_=st.lists(scalar, max_size=3).map(tuple)),
        st.builds(where, key, contains=scalar),
        st.builds(where, key, startswith=text),
        st.builds(where, key, endswith=text),
        st.builds(where, key, exists=st.booleans()),
        st.builds(where, key, gt=number | text),
        st.builds(where, key, ge=number | text),
        st.builds(where, key, lt=number | text),
        st.builds(where, key, le=number | text),
    )
    return st.deferred(lambda: leaves)  # a short repr


def conditions(*, adversarial: bool = False) -> st.SearchStrategy[Condition]:
    """Conditions on the attributes :func:`events` produces, and on ``VALUE``.

    With *adversarial*, conditions on the keys ``x``, ``n``, ``message`` and
    ``VALUE`` comparing with look-alikes (``True``, ``1``, ``1.0``), extreme
    numbers and hostile strings, and sometimes a :func:`deep_conditions` one.
    """
    leaf = _adversarial_leaves() if adversarial else _plain_leaves()
    shallow = st.recursive(
        leaf,
        lambda inner: st.one_of(
            st.builds(lambda a, b: a & b, inner, inner),
            st.builds(lambda a, b: a | b, inner, inner),
            inner.map(lambda c: ~c),
        ),
        max_leaves=4,
    )
    if not adversarial:
        return shallow
    return st.one_of(shallow, shallow, deep_conditions())


@functools.cache
def _all_leaves() -> st.SearchStrategy[Condition]:
    return st.one_of(_adversarial_leaves(), _plain_leaves())


@st.composite
def deep_conditions(draw: st.DrawFn, max_depth: int = MAX_CONDITION_DEPTH) -> Condition:
    """Conditions nested up to *max_depth* levels (the documented limit by default).

    A leaf (``where``, one level) wrapped again and again in ``~``, ``& leaf`` or
    ``| leaf`` (one level each); the depth is *max_depth* a third of the time.
    Alternating ``&`` and ``|`` keeps chains from flattening.
    """
    depth = draw(st.one_of(st.just(max_depth), st.integers(1, max_depth)))
    leaves = _all_leaves()
    cond = draw(leaves)
    for _ in range(depth - 1):
        op = draw(st.sampled_from(("not", "and", "or")))
        if op == "not":
            cond = ~cond
        elif op == "and":
            cond = draw(leaves) & cond
        else:
            cond = cond | draw(leaves)
    return cond


_ADV_POINTS = (MAX_POINTS, -MAX_POINTS, 5e-324, -5e-324, -0.0, 0.0, 1.0, -3.0, 1e-9)


def rules(
    kinds: Sequence[str] = KINDS,
    *,
    adversarial: bool = False,
    groups: Sequence[str] = (),
) -> st.SearchStrategy[Rule]:
    """Rules on *kinds*, with every option sometimes set.

    *groups* are the group names a rule may join (the model must define them).
    With *adversarial*: points and limits at the documented limit (``±1e15``,
    ``5e-324``, ``-0.0``), adversarial conditions and aging policies, ``once_per``
    on look-alike and hostile keys.
    """
    kind: st.SearchStrategy[Any] = st.one_of(
        st.sampled_from(kinds),
        st.lists(st.sampled_from(kinds), min_size=1, max_size=2, unique=True).map(
            tuple
        ),
    )
    if adversarial:
        return st.builds(
            Rule,
            kind,
            st.one_of(st.sampled_from(_ADV_POINTS), st.floats(-MAX_POINTS, MAX_POINTS)),
            when=st.none() | conditions(adversarial=True),
            aging=st.none() | aging_policies(adversarial=True),
            once_per=st.sampled_from(
                (None, None, (), ("x",), ("x", "message"), ("é",))
            ),
            limit=st.sampled_from((None, None, 5e-324, 1.0, 12.0, MAX_POINTS)),
            name=st.none() | adversarial_strings(),
        )
    return st.builds(
        Rule,
        kind,
        st.sampled_from((-10.0, -3.0, 0.0, 1.0, 5.0, 20.0, 2.5)),
        when=st.none() | conditions(),
        aging=st.none() | aging_policies(),
        once_per=st.sampled_from((None, None, (), ("message",), ("message", "path"))),
        limit=st.sampled_from((None, None, 12.0, 40.0)),
        name=st.none() | st.sampled_from(("opens", "visits")),
        group=st.sampled_from((None, *groups)),
        at_most=st.none()
        | st.builds(Frequency, st.integers(1, 3), st.sampled_from(PERIODS)),
        ended_by=st.sampled_from((None, None, None, *kinds)),
    )


def groups(names: Sequence[str] = GROUP_NAMES) -> st.SearchStrategy[tuple[Group, ...]]:
    """Score groups named from *names*, each with a limit and a once_per or not."""
    group = st.builds(
        Group,
        st.sampled_from(names),
        limit=st.sampled_from((None, 8.0, 30.0)),
        once_per=st.sampled_from((None, (), ("message",))),
    )
    return st.lists(group, max_size=len(names), unique_by=lambda g: g.name).map(tuple)


def models(
    kinds: Sequence[str] = KINDS, *, adversarial: bool = False
) -> st.SearchStrategy[ScoringModel]:
    """Scoring models with up to four rules and every model option.

    With *adversarial*: :func:`rules` in adversarial mode, ``initial`` and
    ``bounds`` at the documented limit, an ``active_from`` in the years 1 to 9999.
    Models are named ``"engagement"`` or ``"sales"`` either way.
    """
    if adversarial:
        return st.builds(
            ScoringModel,
            st.sampled_from(("engagement", "sales")),
            st.lists(rules(kinds, adversarial=True), max_size=4).map(tuple),
            aging=aging_policies(adversarial=True),
            combine=st.sampled_from(("sum", "ratio")),
            initial=st.sampled_from((0.0, 2.0, MAX_POINTS, -MAX_POINTS, 5e-324, -0.0)),
            bounds=st.sampled_from(
                (
                    None,
                    (0.0, 100.0),
                    (-MAX_POINTS, MAX_POINTS),
                    (None, 0.0),
                    (-0.0, None),
                    (5e-324, 1.0),
                )
            ),
            active_from=st.none() | adversarial_instants(),
            merge=st.sampled_from(("keep-master", "union")),
        )
    bounds = st.sampled_from((None, (0.0, 100.0), (None, 50.0), (-10.0, None)))

    def with_groups(drawn: tuple[Group, ...]) -> st.SearchStrategy[ScoringModel]:
        names = [g.name for g in drawn]
        return st.builds(
            ScoringModel,
            st.sampled_from(("engagement", "sales")),
            st.lists(rules(kinds, groups=names), max_size=4).map(tuple),
            aging=aging_policies(),
            combine=st.sampled_from(("sum", "ratio")),
            initial=st.sampled_from((0.0, 2.0, 10.0)),
            bounds=bounds,
            active_from=st.none() | instants(),
            merge=st.sampled_from(("keep-master", "union")),
            groups=st.just(drawn),
            subject=st.sampled_from((None, None, None, "company")),
            timezone=st.sampled_from(TIMEZONES),
        )

    return groups().flatmap(with_groups)


#: The kinds of the email engagement score.
EMAIL_KINDS = (
    "contact.subscribed",
    "email.delivered",
    "email.opened",
    "email.clicked",
    "email.forwarded",
    "email.replied",
    "email.bounced",
    "email.complained",
    "profile.updated",
    "list.invited",
)


def email_events(contacts: Sequence[str] = CONTACTS) -> st.SearchStrategy[Event]:
    """Events of the email engagement score's kinds, with messages and lists."""
    return st.builds(
        Event,
        contact=st.sampled_from(contacts),
        kind=st.sampled_from(EMAIL_KINDS),
        at=instants(),
        attrs=st.fixed_dictionaries(
            {"message": st.sampled_from(_MESSAGES)},
            optional={"list": st.sampled_from(("news", "offers"))},
        ),
    )


def profile_events(contacts: Sequence[str] = CONTACTS) -> st.SearchStrategy[Event]:
    """``profile.updated`` events setting or clearing a few profile fields."""
    fields = st.fixed_dictionaries(
        {},
        optional={
            "title": st.sampled_from(("VP Sales", "CTO", "Intern", None)),
            "country": st.sampled_from(("US", "DE", None)),
            "employees": st.sampled_from((5, 50, 5000)),
        },
    )
    return st.builds(
        Event,
        contact=st.sampled_from(contacts),
        kind=st.just("profile.updated"),
        at=instants(),
        attrs=fields,
    )


def rating_scales() -> st.SearchStrategy[RatingScale[Any]]:
    """Rating scales with 1-6 strictly rising cuts, with or without labels."""
    cuts = st.lists(
        st.floats(-100, 100, allow_nan=False), min_size=1, max_size=6, unique=True
    ).map(sorted)
    return cuts.flatmap(
        lambda c: st.builds(
            RatingScale,
            st.just(tuple(c)),
            st.none() | st.just(tuple(f"band{i}" for i in range(len(c) + 1))),
        )
    )


def fit_models() -> st.SearchStrategy[FitModel]:
    """Fit models over the fields :func:`profile_events` sets."""
    criterion = st.one_of(
        st.builds(where, st.just("title"), contains=st.sampled_from(("VP", "CTO"))),
        st.builds(where, st.just("country"), eq=st.sampled_from(("US", "DE"))),
        st.builds(where, st.just("employees"), ge=st.sampled_from((10, 1000))),
        st.builds(where, st.just("title"), exists=st.booleans()),
    )
    rule = st.builds(
        FitRule,
        criterion,
        st.sampled_from((-3.0, 1.0, 2.0, 10.0)),
        otherwise=st.sampled_from((0.0, -1.0, 5.0)),
    )
    return st.builds(
        FitModel,
        st.just("fit"),
        st.lists(rule, max_size=4).map(tuple),
        initial=st.sampled_from((0.0, 50.0)),
        bounds=st.sampled_from((None, (0.0, 100.0))),
    )
