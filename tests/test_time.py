"""Timelines, crossings and changes agree with score() at every instant."""

from __future__ import annotations

import datetime as dt
import math

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

import leadscore as ls
from leadscore import AgingPolicy, Event, Rule, ScoringModel
from leadscore.paths._history import History, crossings_of
from leadscore.strategies import event_lists, instants, models

#: Every law here holds on every execution path (see leadscore.plan._strategy).
pytestmark = pytest.mark.usefixtures("each_path")

T0 = dt.datetime(2024, 3, 1, 12, tzinfo=dt.UTC)
US = dt.timedelta(microseconds=1)


def at(days=0.0, **kw):
    return T0 + dt.timedelta(days=days, **kw)


def step_models():
    """Models whose aging is a step function (never / expire_after)."""
    return models().filter(
        lambda m: all(m.policy(r).is_step for r in m.rules) and m.aging.is_step
    )


CONTACTS = st.sampled_from(("ann", "bob", "cy"))


@given(models(), event_lists(), CONTACTS)
def test_timeline_points_agree_with_score(model, events, contact):
    """Each point's value is score(..., as_of=at) of that contact."""
    for when, value in ls.timeline(model, events, contact):
        assert math.isclose(
            value,
            ls.fold(model, events).score(contact, when),
            rel_tol=1e-9,
            abs_tol=1e-9,
        )


@given(step_models(), event_lists(), CONTACTS, instants(days=500))
def test_a_step_timeline_is_the_score_at_every_instant(model, events, contact, when):
    """Between points a step score stays where the last point put it."""
    points = ls.timeline(model, events, contact)
    before = [v for t, v in points if t <= when]
    reported = ls.score(model, events, when)
    if contact in reported:
        assert before, "a reported contact has a point at or before as_of"
        assert math.isclose(before[-1], reported[contact], rel_tol=1e-9, abs_tol=1e-9)
    elif before:  # not reported despite history: it was merged away by then
        assert any(
            e.kind == "contact.merged" and e.attrs["from"] == contact and e.at <= when
            for e in events
        )


def test_expiry_steps_appear_at_the_exact_instant():
    """Aug 31 12:00 + 6 months: the step is at Feb 28 12:00, to the microsecond."""
    model = ScoringModel(
        "m", [Rule("email.opened", 5)], aging=AgingPolicy.expire_after(months=6)
    )
    opened = dt.datetime(2024, 8, 31, 12, tzinfo=dt.UTC)
    assert [
        (opened, 5.0),
        (dt.datetime(2025, 2, 28, 12, tzinfo=dt.UTC), 0.0),
    ] == ls.timeline(model, [Event("ann", "email.opened", opened)], "ann")


def test_timeline_range_and_sampling():
    """A start adds a point with the value at start; a step samples decay."""
    model = ScoringModel(
        "m", [Rule("form.submitted", 8)], aging=AgingPolicy.half_life(days=1)
    )
    events = [Event("ann", "form.submitted", at(0))]
    sampled = ls.timeline(
        model, events, "ann", start=at(1), end=at(3), step=dt.timedelta(days=1)
    )
    assert [(at(1), 4.0), (at(2), 2.0), (at(3), 1.0)] == sampled
    assert [(at(0), 8.0)] == ls.timeline(model, events, "ann")
    assert [] == ls.timeline(model, events, "nobody")


def test_crossings_count_reaching_and_first_only_fires_once():
    """Reaching the threshold is up; first_only reports only the first up."""
    model = ScoringModel(
        "m",
        [Rule("form.submitted", 10), Rule("appointment.missed", -10)],
        aging=AgingPolicy.expire_after(days=30),
    )
    events = [
        Event("ann", "form.submitted", at(0)),
        Event("ann", "form.submitted", at(1)),
        Event("ann", "appointment.missed", at(2)),
        Event("ann", "form.submitted", at(3)),
    ]
    assert [ls.Crossing("ann", at(1), 10.0, 20.0, "up")] == ls.crossings(
        model, events, 20
    )
    every = ls.crossings(model, events, 20, first_only=False)
    assert [(at(1), "up"), (at(2), "down"), (at(3), "up"), (at(30), "down")] == [
        (c.at, c.direction) for c in every
    ]


def test_crossings_include_expiry_driven_falls_and_respect_until():
    """A fall by expiry is reported at the expiry instant, up to until."""
    model = ScoringModel(
        "m", [Rule("page.viewed", 50)], aging=AgingPolicy.expire_after(days=7)
    )
    events = [Event("bob", "page.viewed", at(0))]
    assert [
        ls.Crossing("bob", at(0), 0.0, 50.0, "up"),
        ls.Crossing("bob", at(7), 50.0, 0.0, "down"),
    ] == ls.crossings(model, events, 50, first_only=False)
    assert [ls.Crossing("bob", at(0), 0.0, 50.0, "up")] == ls.crossings(
        model, events, 50, first_only=False, until=at(7) - US
    )


def test_decay_falls_at_the_first_whole_second_below():
    """Half-life 1 day: 10 points are 5 at one day (still >= 5), below a second later."""
    model = ScoringModel(
        "m", [Rule("form.submitted", 10)], aging=AgingPolicy.half_life(days=1)
    )
    events = [Event("ann", "form.submitted", at(0))]
    falls = [
        c
        for c in ls.crossings(model, events, 5, first_only=False)
        if c.direction == "down"
    ]
    assert [at(1, seconds=1)] == [c.at for c in falls]
    assert falls[0].after < 5 <= falls[0].before


def test_initial_above_the_threshold_is_no_crossing():
    """The score before the first event is initial."""
    model = ScoringModel("m", [Rule("form.submitted", 1)], initial=50)
    assert [] == ls.crossings(model, [Event("ann", "form.submitted", at(0))], 40)


@given(
    models(), event_lists(), st.sampled_from((0.0, 2.0, 5.0, 12.0, -3.0)), st.booleans()
)
def test_crossings_do_not_depend_on_event_order(model, events, threshold, first_only):
    """Shuffling the events never changes the crossings."""
    assume(all(model.policy(r).is_step for r in model.rules) and model.aging.is_step)
    assert ls.crossings(
        model, events, threshold, first_only=first_only
    ) == ls.crossings(model, events[::-1], threshold, first_only=first_only)


@given(
    step_models(),
    event_lists(manual=False),
    st.sampled_from((0.0, 2.0, 5.0, 12.0, -3.0)),
    st.booleans(),
)
def test_the_sweep_agrees_with_re_scoring(model, events, threshold, first_only):
    """The fast sweep of step models gives what scoring at every instant gives."""
    swept = ls.crossings(model, events, threshold, first_only=first_only)
    history = History(ls.fold(model, events))
    slow = sorted(
        (
            c
            for contact in history.logs
            for c in crossings_of(history, contact, threshold, first_only, None)
        ),
        key=lambda c: (c.at, c.contact),
    )
    assert slow == swept


@given(step_models(), event_lists(), st.sampled_from((2.0, 5.0, 12.0)))
def test_crossings_agree_with_the_timeline(model, events, threshold):
    """first_only=False lists exactly the timeline's passes over the threshold."""
    found = ls.crossings(model, events, threshold, first_only=False)
    for contact in {e.contact for e in events}:
        expected, previous = [], model.clamp(model.initial)
        for when, value in ls.timeline(model, events, contact):
            if (previous >= threshold) != (value >= threshold):
                expected.append((when, "up" if value >= threshold else "down"))
            previous = value
        assert expected == [(c.at, c.direction) for c in found if c.contact == contact]


@given(models(), event_lists(), CONTACTS)
def test_changes_are_the_differences_of_score(model, events, contact):
    """Each change's after is the score at that instant."""
    ledger = ls.fold(model, events)
    for change in ls.changes(model, events, contact):
        assert change.before != change.after
        assert math.isclose(
            change.after, ledger.score(contact, change.at), rel_tol=1e-9, abs_tol=1e-9
        )


def test_band_changes_follow_the_star_rating():
    """Entering and leaving star bands, as the seed's engagement score moves."""
    model = ls.presets.email_engagement()
    events = [
        Event("ann", "contact.subscribed", at(0)),
        Event("ann", "email.clicked", at(1), {"message": "m1"}),
        Event("ann", "email.forwarded", at(1, hours=1), {"message": "m1"}),
        Event("ann", "email.complained", at(2), {"message": "m2"}),
    ]
    moves = [
        (b.at, b.before, b.after)
        for b in ls.band_changes(model, events, ls.RatingScale.stars())
    ]
    assert [(at(1), 2, 3), (at(1, hours=1), 3, 4), (at(2), 4, 1)] == moves


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (
            lambda m, e: ls.crossings(m, e, math.nan),
            ls.InvalidModelError,
            "threshold must be finite, got nan",
        ),
        (
            lambda m, e: ls.crossings(m, e, math.inf),
            ls.InvalidModelError,
            "threshold must be finite, got inf",
        ),
        (
            lambda m, e: ls.crossings(m, e, 5, until=dt.datetime(2024, 1, 1)),
            ls.InvalidEventError,
            "until must be timezone-aware",
        ),
        (
            lambda m, e: ls.timeline(m, e, "ann", end="2024-01-01"),
            ls.InvalidEventError,
            "end has no UTC offset",
        ),
        (
            lambda m, e: ls.timeline(m, e, "ann", step=dt.timedelta(days=1)),
            ls.InvalidModelError,
            "a sampling step needs an end",
        ),
        (
            lambda m, e: ls.timeline(m, e, "ann", end=at(1), step=dt.timedelta(0)),
            ls.InvalidModelError,
            "step must be a positive timedelta",
        ),
    ],
)
def test_bad_arguments_raise_clear_errors(call, error, match):
    """Naive datetimes, non-finite thresholds and empty steps are rejected."""
    model = ScoringModel("m", [Rule("form.submitted", 10)])
    with pytest.raises(error, match=match):
        call(model, [Event("ann", "form.submitted", at(0))])
