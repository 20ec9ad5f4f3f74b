"""Issue 12's model features, by example: groups, frequency caps, subjects, state rules.

Each feature is defined once in the general path and literally in
``tests/reference.py``; the property tests compare the two for random models using
them all. Here: the boundary examples, the seeds' sentences, and bad input.
"""

from __future__ import annotations

import datetime as dt
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

import leadscore as ls
from leadscore import Event, Frequency, Group, Rule, ScoringModel, strategies, where

from . import reference

#: Every example holds on every execution path (see leadscore.plan._strategy).
pytestmark = pytest.mark.usefixtures("each_path")

T0 = dt.datetime(2024, 5, 6, 9, tzinfo=dt.UTC)  # a Monday
LATER = T0 + dt.timedelta(days=400)


def at(**delta: float) -> dt.datetime:
    return T0 + dt.timedelta(**delta)


def both(model: ScoringModel, events: list[Event], as_of: dt.datetime) -> dict:
    """score(), checked against the literal reference on the way."""
    scores = ls.score(model, events, as_of)
    expected = reference.scores(model, events, as_of)
    assert scores.keys() == expected.keys()
    assert all(math.isclose(scores[c], expected[c], abs_tol=1e-9) for c in scores)
    return scores


# -- groups --------------------------------------------------------------------


def test_a_group_cap_binds_under_the_total_and_explain_still_adds_up():
    """HubSpot caps each score group and the total: the group limit binds first."""
    model = ScoringModel(
        "m",
        [
            Rule("email.opened", 5, group="email"),
            Rule("email.clicked", 10, group="email"),
            Rule("form.submitted", 20),
        ],
        groups=[Group("email", limit=25)],
        bounds=(0, 40),
    )
    events = [Event("ann", "email.opened", at(hours=h)) for h in range(4)]
    events += [Event("ann", "email.clicked", at(hours=5))]
    events += [Event("ann", "form.submitted", at(hours=6))]
    # email: 4*5 + 10 = 30, capped at 25; form 20; total 45, clamped to 40.
    assert both(model, events, LATER) == {"ann": 40.0}
    rows = ls.explain(model, events, "ann", LATER)
    email = [r for r in rows if r.rule is not None and r.rule.group == "email"]
    assert math.isclose(math.fsum(r.effective for r in email), 25.0)
    assert math.isclose(math.fsum(r.effective for r in rows), 45.0)


def test_a_group_limit_applies_after_each_rules_own_limit():
    model = ScoringModel(
        "m",
        [Rule("a", 10, limit=15, group="g"), Rule("b", 10, group="g")],
        groups=[Group("g", limit=30)],
    )
    events = [Event("c", "a", at(hours=h)) for h in range(3)]  # 30 -> 15
    events += [Event("c", "b", at(hours=h)) for h in range(2)]  # 20
    assert both(model, events, LATER) == {"c": 30.0}  # 35 -> 30


def test_only_the_latest_action_on_an_individual_message_is_considered():
    """Seed 002: "only the latest action on an individual message will be considered".

    A group ``once_per=("message",)`` over the email rules: a message opened then
    clicked counts the click only; another message's open still counts.
    """
    model = ScoringModel(
        "m",
        [
            Rule("email.opened", 1, group="email"),
            Rule("email.clicked", 3, group="email"),
        ],
        groups=[Group("email", once_per="message")],
    )
    events = [
        Event("ann", "email.opened", at(hours=1), {"message": "m1"}),
        Event("ann", "email.clicked", at(hours=2), {"message": "m1"}),
        Event("ann", "email.opened", at(hours=3), {"message": "m2"}),
        Event("ann", "email.opened", at(hours=4), {"message": "m2"}),
    ]
    assert both(model, events, LATER) == {"ann": 4.0}


def test_an_event_matching_two_rules_of_a_group_is_one_event_and_counts_for_both():
    model = ScoringModel(
        "m",
        [
            Rule("page.viewed", 1, group="web"),
            Rule("page.viewed", 10, when=where("path", eq="/pricing"), group="web"),
        ],
        groups=[Group("web", once_per=())],
    )
    events = [
        Event("c", "page.viewed", at(hours=1), {"path": "/blog"}),
        Event("c", "page.viewed", at(hours=2), {"path": "/pricing"}),
    ]
    assert both(model, events, LATER) == {"c": 11.0}
    events.append(Event("c", "page.viewed", at(hours=3), {"path": "/blog"}))
    assert both(model, events, LATER) == {"c": 1.0}


# -- frequency caps ------------------------------------------------------------


def test_at_most_twenty_email_opens_a_day():
    """Issue 12: at most 20 email opens a day; the 21st open of a day counts nothing."""
    model = ScoringModel(
        "m", [Rule("email.opened", 1, at_most=Frequency(20, "day"))], timezone="UTC"
    )
    day1 = [Event("c", "email.opened", at(minutes=m)) for m in range(25)]
    day2 = [Event("c", "email.opened", at(days=1, minutes=m)) for m in range(3)]
    assert both(model, day1 + day2, LATER) == {"c": 23.0}


def test_day_buckets_follow_the_models_time_zone():
    """23:30 and 00:30 Paris time are two days, though one UTC day."""
    paris = ScoringModel(
        "m",
        [Rule("k", 1, at_most=Frequency(1, "day"))],
        timezone="Europe/Paris",
    )
    utc = attrs_evolve(paris, timezone="UTC")
    events = [  # 2024-06-30 23:30 and 2024-07-01 00:30 in Paris (UTC+2)
        Event("c", "k", "2024-06-30T21:30:00Z"),
        Event("c", "k", "2024-06-30T22:30:00Z"),
    ]
    assert both(paris, events, LATER) == {"c": 2.0}
    assert both(utc, events, LATER) == {"c": 1.0}


def test_the_repeated_hour_of_a_dst_change_is_two_hour_buckets():
    """Paris falls back at 01:00 UTC on 2024-10-27: 02:30 local happens twice."""
    model = ScoringModel(
        "m", [Rule("k", 1, at_most=Frequency(1, "hour"))], timezone="Europe/Paris"
    )
    first, second = "2024-10-27T00:30:00Z", "2024-10-27T01:30:00Z"  # both 02:30
    events = [Event("c", "k", first), Event("c", "k", second)]
    assert both(model, events, LATER) == {"c": 2.0}
    # Across the spring change (2024-03-31 01:00 UTC), 01:30 and 03:30 local are
    # two hours one hour apart; two events within one local hour stay capped.
    spring = [
        Event("c", "k", "2024-03-31T00:30:00Z"),
        Event("c", "k", "2024-03-31T00:50:00Z"),
        Event("c", "k", "2024-03-31T01:30:00Z"),
    ]
    assert both(model, spring, LATER) == {"c": 2.0}


def test_weeks_start_on_monday_and_months_on_the_first():
    week = ScoringModel("m", [Rule("k", 1, at_most=Frequency(1, "week"))])
    sunday, monday = "2024-05-12T23:00:00Z", "2024-05-13T01:00:00Z"
    events = [Event("c", "k", sunday), Event("c", "k", monday)]
    assert both(week, events, LATER) == {"c": 2.0}
    month = ScoringModel("m", [Rule("k", 1, at_most=Frequency(2, "month"))])
    may = [Event("c", "k", f"2024-05-{d:02d}T12:00:00Z") for d in (1, 15, 31)]
    june = [Event("c", "k", "2024-06-01T00:00:00Z")]
    assert both(month, may + june, LATER) == {"c": 3.0}


def test_capped_events_are_not_actions_for_by_count():
    """DESIGN: the events at_most drops count "neither as points nor as actions"."""
    model = ScoringModel(
        "m",
        [Rule("a", 8), Rule("b", 0, at_most=Frequency(1, "day"))],
        aging=ls.AgingPolicy.by_count(0.5),
    )
    events = [Event("c", "a", at(hours=0))]
    events += [Event("c", "b", at(hours=h)) for h in (1, 2, 3)]
    assert both(model, events, LATER) == {"c": 4.0}  # one later action, not three


# -- subjects and roll-ups -----------------------------------------------------


def test_a_company_scored_from_an_attribute_of_its_events():
    model = ScoringModel("companies", [Rule("form.submitted", 10)], subject="company")
    events = [
        Event("ann", "form.submitted", at(hours=1), {"company": "acme"}),
        Event("bob", "form.submitted", at(hours=2), {"company": "acme"}),
        Event("cy", "form.submitted", at(hours=3), {"company": "globex"}),
        Event("dee", "form.submitted", at(hours=4)),  # no company: ignored
        Event("eve", "form.submitted", at(hours=5), {"company": None}),  # neither
        # Manual score events name the subject in their contact field.
        Event("acme", "score.adjusted", at(hours=6), value=5),
    ]
    assert both(model, events, LATER) == {"acme": 25.0, "globex": 10.0}
    rows = ls.explain(model, events, "acme", LATER)
    assert sorted(r.event.contact for r in rows) == ["acme", "ann", "bob"]


def test_a_subject_that_is_not_a_string_is_a_clear_error():
    model = ScoringModel("companies", [Rule("k", 1)], subject="company")
    events = [
        Event("a", "k", T0, {"company": "acme"}),
        Event("b", "k", T0, {"company": 7}),
    ]
    with pytest.raises(ls.InvalidEventError) as info:
        ls.score(model, events, LATER)
    assert (info.value.field, info.value.value, info.value.where) == (
        "attrs['company']",
        7,
        "events[1]",
    )


def test_a_bad_subject_before_active_from_is_never_read_on_any_path():
    """Events earlier than active_from are ignored whole, their subject too."""
    from leadscore.engine import Engine
    from leadscore.stores import MemoryStore

    model = ScoringModel(
        "companies",
        [Rule("email.opened", 5)],
        subject="company",
        active_from="2024-03-01T00:00:00Z",
    )
    events = [
        Event("ann", "email.opened", "2024-01-01T00:00:00Z", {"company": 7}),
        Event("ann", "email.opened", "2024-04-01T00:00:00Z", {"company": "acme"}),
        Event("acme", "score.adjusted", "2024-04-02T00:00:00Z", value=3.0),
    ]
    as_of = dt.datetime(2024, 5, 1, tzinfo=dt.UTC)
    assert both(model, events, as_of) == {"acme": 8.0}
    engine = Engine([model], MemoryStore())
    engine.ingest(events)
    assert engine.scores(model.name, as_of) == {"acme": 8.0}


def test_rollup_sums_maxes_and_averages_the_members_scores():
    scores = {"ann": 10.0, "bob": 4.0, "cy": 7.0, "dee": 1.0}
    members = {"ann": "acme", "bob": "acme", "cy": "globex", "eve": "acme", "dee": None}
    assert ls.rollup(scores, members) == {"acme": 14.0, "globex": 7.0}
    assert ls.rollup(scores, members, "max") == {"acme": 10.0, "globex": 7.0}
    assert ls.rollup(scores, members, "mean") == {"acme": 7.0, "globex": 7.0}
    with pytest.raises(ls.InvalidModelError) as info:
        ls.rollup(scores, members, "median")  # type: ignore[arg-type]
    assert (info.value.path, info.value.value) == ("how", "median")


# -- state rules ---------------------------------------------------------------

LISTS = ScoringModel(
    "segments",
    [Rule("list.joined", 10, once_per="list", ended_by="list.left")],
)


def test_segment_points_hold_while_in_the_list_and_go_when_it_is_left():
    """Mautic's segment membership points: joining gives, leaving takes back."""
    joined = Event("c", "list.joined", at(days=1), {"list": "vip"})
    left = Event("c", "list.left", at(days=5), {"list": "vip"})
    back = Event("c", "list.joined", at(days=9), {"list": "vip"})
    other = Event("c", "list.left", at(days=6), {"list": "newsletter"})
    assert both(LISTS, [joined], at(days=2)) == {"c": 10.0}
    assert both(LISTS, [joined, left, other], at(days=4)) == {"c": 10.0}
    assert both(LISTS, [joined, left, other], at(days=6)) == {"c": 0.0}
    assert both(LISTS, [joined, left, back], LATER) == {"c": 10.0}
    # A timeline shows the points going at the leave and coming back.
    steps = ls.timeline(LISTS, [joined, left, back], "c")
    assert [v for _, v in steps] == [10.0, 0.0, 10.0]


def test_lifecycle_stage_points_follow_the_latest_change_of_the_field():
    """Lifecycle stage changed from lead to MQL: points while the stage is MQL."""
    model = ScoringModel(
        "stage",
        [
            Rule(
                "field.changed",
                20,
                when=where("field", eq="lifecycle") & where("to", eq="mql"),
                once_per="field",
                ended_by="field.changed",
            )
        ],
    )
    lead = Event("c", "field.changed", at(days=1), {"field": "lifecycle", "to": "lead"})
    mql = Event("c", "field.changed", at(days=2), {"field": "lifecycle", "to": "mql"})
    email = Event("c", "field.changed", at(days=3), {"field": "email", "to": "x@y"})
    sql = Event("c", "field.changed", at(days=4), {"field": "lifecycle", "to": "sql"})
    assert both(model, [lead, mql, email], LATER) == {"c": 20.0}
    assert both(model, [lead, mql, email, sql], LATER) == {"c": 0.0}


# -- manual scores and bounds --------------------------------------------------


def test_a_score_set_outside_the_bounds_is_rejected_not_clamped():
    """Seed 003: "You can define your own range (e.g., 1-10, 0-100)".

    A hand-set score outside it is a mistake to report, not to hide; adjustments
    still clamp.
    """
    model = ScoringModel("m", [Rule("k", 5)], bounds=(0, 100))
    ok = [
        Event("c", "score.set", T0, value=100),
        Event("c", "score.adjusted", at(hours=1), value=50),
    ]
    assert both(model, ok, LATER) == {"c": 100.0}
    bad = [Event("c", "k", T0), Event("c", "score.set", at(hours=1), value=150)]
    for call in (
        lambda: ls.score(model, bad, LATER),
        lambda: ls.fold(model, bad),
        lambda: ls.crossings(model, bad, 50),
    ):
        with pytest.raises(ls.InvalidEventError) as info:
            call()
        assert (info.value.field, info.value.value, info.value.where) == (
            "value",
            150.0,
            "events[1]",
        )
    other = [Event("c", "score.set", T0, value=150, attrs={"model": "another"})]
    assert both(model, other, LATER) == {}  # another model's set: not this one's


def test_the_engine_rejects_an_out_of_bounds_set_and_stores_nothing():
    from leadscore.engine import Engine
    from leadscore.stores import MemoryStore

    model = ScoringModel("m", [Rule("k", 5)], bounds=(0, 100))
    engine = Engine([model], MemoryStore())
    with pytest.raises(ls.InvalidEventError):
        engine.ingest([Event("c", "k", T0), Event("c", "score.set", T0, value=-1)])
    assert list(engine.store.events()) == []


# -- bad input -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("build", "path", "value"),
    [
        (lambda: Frequency(0, "day"), "count", 0),
        (lambda: Frequency(3, "fortnight"), "per", "fortnight"),
        (lambda: Frequency(2.5, "day"), "count", 2.5),
        (
            lambda: ScoringModel("m", [], timezone="Mars/Olympus"),
            "timezone",
            "Mars/Olympus",
        ),
        (
            lambda: ScoringModel("m", [Rule("k", 1, group="nope")]),
            "rules[0].group",
            "nope",
        ),
        (
            lambda: ScoringModel("m", [], groups=[Group("g"), Group("g")]),
            "groups[1].name",
            "g",
        ),
        (lambda: Group("g", limit=0), "limit", 0),
        (lambda: Rule("k", 1, at_most=20), "at_most", 20),
        (lambda: Rule("k", 1, ended_by=""), "ended_by", ""),
        (lambda: Rule("k", 1, ended_by="score.set"), "ended_by", "score.set"),
        (lambda: ScoringModel("m", [], subject=""), "subject", ""),
    ],
)
def test_bad_feature_options_name_the_field_and_the_value(build, path, value):
    with pytest.raises(ls.InvalidModelError) as info:
        build()
    assert (info.value.path, info.value.value) == (path, value)


def attrs_evolve(model: ScoringModel, **changes: object) -> ScoringModel:
    import attrs

    return attrs.evolve(model, **changes)


# -- all together ----------------------------------------------------------------


@st.composite
def models_using_everything(draw: st.DrawFn) -> ScoringModel:
    """A model with groups (limits and once_per), caps, state rules, a zone."""
    groups = (
        Group("email", limit=draw(st.sampled_from((8.0, 30.0))), once_per="message"),
        Group("web", limit=draw(st.sampled_from((None, 12.0))), once_per=()),
    )
    rules = [
        draw(strategies.rules(groups=["email", "web"]))
        for _ in range(draw(st.integers(2, 4)))
    ]
    rules[0] = attrs_evolve(rules[0], group="email", at_most=Frequency(1, "day"))
    rules[1] = attrs_evolve(rules[1], group="web", ended_by=("form.submitted",))
    return ScoringModel(
        "engagement",
        rules,
        aging=draw(strategies.aging_policies()),
        combine=draw(st.sampled_from(("sum", "ratio"))),
        groups=groups,
        subject=draw(st.sampled_from((None, "company"))),
        timezone=draw(st.sampled_from(("Europe/Paris", "America/New_York"))),
        merge=draw(st.sampled_from(("keep-master", "union"))),
    )


@given(
    models_using_everything(), strategies.event_lists(), strategies.instants(days=480)
)
def test_every_feature_together_agrees_with_the_reference(model, events, as_of):
    both(model, events, as_of)
    for contact in list(ls.score(model, events, as_of))[:2]:
        expected = sorted(
            (repr(e), -1 if r is None else model.rules.index(r), round(eff, 9))
            for e, r, eff in reference.rows(model, events, contact, as_of)
        )
        actual = sorted(
            (
                repr(r.event),
                -1 if r.rule is None else model.rules.index(r.rule),
                round(r.effective, 9),
            )
            for r in ls.explain(model, events, contact, as_of)
        )
        assert expected == actual
