"""Fit scoring: the latest profile at as_of, criteria, and their serialisation."""

from __future__ import annotations

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

import leadscore as ls
from leadscore import Event, FitModel, FitRule, config, where
from leadscore.strategies import fit_models, instants, profile_events

T = dt.datetime(2024, 3, 1, 12, tzinfo=dt.UTC)
MODEL = FitModel(
    "B2B fit",
    [
        FitRule(
            where("title", contains="VP") | where("title", eq="CTO"),
            20,
            name="Decision maker",
        ),
        FitRule(where("employees", ge=200), 15, name="Mid-market or larger"),
        FitRule(
            where("country", in_=("US", "CA")), 10, otherwise=-5, name="North America"
        ),
    ],
)


def test_the_latest_value_of_each_attribute_decides():
    """Profile fields come from the latest event that carried each of them."""
    events = [
        Event("ann", "profile.updated", T, {"title": "VP Sales", "country": "DE"}),
        Event("ann", "profile.updated", T + dt.timedelta(days=1), {"employees": 500}),
        Event("ann", "email.opened", T + dt.timedelta(days=2)),
    ]
    assert {
        "ann": {"title": "VP Sales", "country": "DE", "employees": 500}
    } == ls.profiles(events, T + dt.timedelta(days=3))
    assert {"ann": 30.0} == ls.fit_scores(MODEL, events, T + dt.timedelta(days=3))


def test_fit_follows_a_change_exactly_at_its_instant():
    """A criterion stops counting the instant the attribute changes."""
    change = T + dt.timedelta(days=10)
    events = [
        Event("ann", "profile.updated", T, {"title": "CTO", "country": "US"}),
        Event("ann", "profile.updated", change, {"title": "Intern"}),
    ]
    assert {"ann": 30.0} == ls.fit_scores(
        MODEL, events, change - dt.timedelta(microseconds=1)
    )
    assert {"ann": 10.0} == ls.fit_scores(MODEL, events, change)


def test_none_clears_a_field_and_fit_is_never_aged():
    """A None value clears the field; an old profile counts fully."""
    events = [
        Event("ann", "profile.updated", T, {"title": "CTO", "country": "US"}),
        Event("ann", "profile.updated", T + dt.timedelta(days=1), {"country": None}),
    ]
    assert {"ann": 15.0} == ls.fit_scores(MODEL, events, T + dt.timedelta(days=3000))


def test_contacts_without_profile_events_get_the_otherwise_points():
    """Every contact with an event is scored; failing criteria give otherwise."""
    assert {"bob": -5.0} == ls.fit_scores(MODEL, [Event("bob", "page.viewed", T)], T)


@given(fit_models(), st.lists(profile_events(), max_size=20), instants())
def test_fit_scores_do_not_depend_on_event_order(model, events, as_of):
    """Order never matters, ties included."""
    assert ls.fit_scores(model, events, as_of) == ls.fit_scores(
        model, events[::-1], as_of
    )


@given(fit_models(), st.lists(profile_events(), max_size=20), instants())
def test_fit_score_is_the_rules_applied_to_the_profile(model, events, as_of):
    """fit_scores equals scoring each contact's profile by hand."""
    expected = {}
    for contact, profile in ls.profiles(events, as_of).items():
        probe = Event(contact, "profile.updated", as_of, profile)
        total = model.initial + sum(
            r.points if r.when(probe) else r.otherwise for r in model.rules
        )
        if model.bounds is not None:
            low, high = model.bounds
            total = min(max(total, low), high)
        expected[contact] = total
    assert expected == ls.fit_scores(model, events, as_of)


@given(fit_models())
def test_fit_models_round_trip(model):
    """Fit models serialise losslessly."""
    assert model == config.from_json(config.to_json(model), FitModel)
