"""Hypothesis strategies for leadscore's types, for your own property tests.

Needs the ``testing`` extra (``pip install leadscore[testing]``). The domains are
deliberately small (a few contacts, kinds, messages and instants) so that the
interesting collisions happen: two events at the same instant, the same message
opened twice, an id given twice.

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
from collections.abc import Sequence
from typing import Any

from hypothesis import strategies as st

from ._aging import AgingPolicy
from ._conditions import VALUE, Condition, where
from ._events import CONTACT_MERGED, SCORE_ADJUSTED, SCORE_RESET, SCORE_SET, Event
from ._fit import FitModel, FitRule
from ._model import Rule, ScoringModel
from ._rating import RatingScale

__all__ = [
    "CONTACTS",
    "EDGE_INSTANTS",
    "KINDS",
    "START",
    "aging_policies",
    "conditions",
    "email_events",
    "event_lists",
    "events",
    "fit_models",
    "instants",
    "manual_events",
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


def events(
    contacts: Sequence[str] = CONTACTS,
    kinds: Sequence[str] = KINDS,
    at: st.SearchStrategy[dt.datetime] | None = None,
    *,
    ids: bool = False,
) -> st.SearchStrategy[Event]:
    """Events of the given contacts and kinds, with ``message``/``path`` attrs."""
    attrs = st.fixed_dictionaries(
        {},
        optional={
            "message": st.sampled_from(_MESSAGES),
            "path": st.sampled_from(_PATHS),
            "campaign": st.sampled_from(("May newsletter", "promo")),
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
) -> st.SearchStrategy[Event]:
    """``score.adjusted``, ``score.set``, ``score.reset`` and ``contact.merged``."""
    when = at if at is not None else instants()
    adjust = st.builds(
        Event,
        contact=st.sampled_from(contacts),
        kind=st.sampled_from((SCORE_ADJUSTED, SCORE_SET, SCORE_RESET)),
        at=when,
        value=st.sampled_from((-5.0, 0.0, 3.0, 50.0)),
    )
    merge = (
        st.tuples(st.sampled_from(contacts), st.sampled_from(contacts), when)
        .filter(lambda t: t[0] != t[1])
        .map(lambda t: Event(t[0], CONTACT_MERGED, t[2], {"from": t[1]}))
    )
    return st.one_of(adjust, merge)


def event_lists(
    contacts: Sequence[str] = CONTACTS,
    kinds: Sequence[str] = KINDS,
    *,
    manual: bool = True,
    max_size: int = 30,
) -> st.SearchStrategy[list[Event]]:
    """Lists of events, with some manual changes and merges unless *manual* is off."""
    item = events(contacts, kinds)
    if manual:
        item = st.one_of(item, item, item, item, manual_events(contacts))
    return st.lists(item, max_size=max_size)


def aging_policies() -> st.SearchStrategy[AgingPolicy]:
    """Every kind of aging policy, with month periods that hit month ends."""
    return st.one_of(
        st.just(AgingPolicy.never()),
        st.builds(AgingPolicy.expire_after, months=st.integers(1, 13)),
        st.builds(AgingPolicy.expire_after, days=st.integers(1, 120)),
        st.builds(AgingPolicy.half_life, days=st.integers(1, 90)),
        st.builds(AgingPolicy.linear, days=st.integers(1, 200)),
        st.builds(AgingPolicy.by_count, st.sampled_from((0.25, 0.5, 0.9, 1.0))),
    )


def conditions() -> st.SearchStrategy[Condition]:
    """Conditions on the attributes :func:`events` produces, and on ``VALUE``."""
    leaf = st.one_of(
        st.builds(where, st.just("message"), eq=st.sampled_from(_MESSAGES)),
        st.builds(where, st.just("path"), startswith=st.sampled_from(("/p", "/b"))),
        st.builds(where, st.just("campaign"), contains=st.just("newsletter")),
        st.builds(where, st.just("message"), exists=st.booleans()),
        st.builds(where, st.just(VALUE), ge=st.sampled_from((1.0, 20.0))),
        st.builds(where, st.just("path"), in_=st.just(("/pricing", "/blog"))),
    )
    return st.recursive(
        leaf,
        lambda inner: st.one_of(
            st.builds(lambda a, b: a & b, inner, inner),
            st.builds(lambda a, b: a | b, inner, inner),
            inner.map(lambda c: ~c),
        ),
        max_leaves=4,
    )


def rules(kinds: Sequence[str] = KINDS) -> st.SearchStrategy[Rule]:
    """Rules on *kinds*, with every option sometimes set."""
    kind: st.SearchStrategy[Any] = st.one_of(
        st.sampled_from(kinds),
        st.lists(st.sampled_from(kinds), min_size=1, max_size=2, unique=True).map(
            tuple
        ),
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
    )


def models(kinds: Sequence[str] = KINDS) -> st.SearchStrategy[ScoringModel]:
    """Scoring models with up to four rules and every model option."""
    bounds = st.sampled_from((None, (0.0, 100.0), (None, 50.0), (-10.0, None)))
    return st.builds(
        ScoringModel,
        st.sampled_from(("engagement", "sales")),
        st.lists(rules(kinds), max_size=4).map(tuple),
        aging=aging_policies(),
        combine=st.sampled_from(("sum", "ratio")),
        initial=st.sampled_from((0.0, 2.0, 10.0)),
        bounds=bounds,
        active_from=st.none() | instants(),
        merge=st.sampled_from(("keep-master", "union")),
    )


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
