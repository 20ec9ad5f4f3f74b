"""The semantics of DESIGN.md, one example each, at their boundaries."""

from __future__ import annotations

import datetime as dt

import pytest

import leadscore as ls
from leadscore import AgingPolicy, Event, Rule, ScoringModel, where

#: Every law here holds on every execution path (see leadscore.plan._strategy).
pytestmark = pytest.mark.usefixtures("each_path")

T0 = dt.datetime(2024, 3, 1, 12, tzinfo=dt.UTC)


def at(days: float = 0, **kw: float) -> dt.datetime:
    return T0 + dt.timedelta(days=days, **kw)


OPENS = ScoringModel("m", [Rule("email.opened", 5), Rule("form.submitted", 10)])


def ev(contact, kind, when, value=0.0, id=None, **attrs):
    return Event(contact, kind, when, attrs, value=value, id=id)


# -- identity and who is reported ---------------------------------------------


def test_an_event_given_twice_with_its_id_counts_once():
    """The same event with an id counts once in score and fold."""
    e = ev("ann", "email.opened", at(), id="e1")
    assert {"ann": 5.0} == ls.score(OPENS, [e, e, e], at(1))
    assert {"ann": 5.0} == ls.fold(OPENS, [e], ls.fold(OPENS, [e])).scores(at(1))


def test_two_different_events_with_one_id_raise():
    """A conflicting id is an InvalidEventError naming the id and position."""
    a = ev("ann", "email.opened", at(), id="e1")
    b = ev("bob", "email.opened", at(), id="e1")
    with pytest.raises(
        ls.InvalidEventError, match=r"events\[1\]: id 'e1' is already used"
    ):
        ls.score(OPENS, [a, b], at(1))
    ledger = ls.fold(OPENS, [a])
    with pytest.raises(ls.InvalidEventError, match="already used") as info:
        ls.fold(OPENS, [b], ledger)
    assert info.value.field == "id"
    assert {"ann": 5.0} == ledger.scores(at(1))


def test_events_without_an_id_are_always_distinct():
    """Two equal id-less events are two opens."""
    e = ev("ann", "email.opened", at())
    assert {"ann": 10.0} == ls.score(OPENS, [e, e], at(1))


def test_a_contact_without_matching_events_scores_initial_clamped():
    """Every contact with an event is reported, even when no rule matched."""
    model = ScoringModel("m", [Rule("form.submitted", 10)], initial=-5, bounds=(0, 100))
    assert {"ann": 0.0} == ls.score(model, [ev("ann", "page.viewed", at())], at(1))


def test_contacts_with_only_future_events_are_not_reported():
    """Events after as_of do not count and do not report a contact."""
    events = [ev("ann", "email.opened", at(2)), ev("bob", "email.opened", at(0))]
    assert {"bob": 5.0} == ls.score(OPENS, events, at(1))
    assert {"ann": 5.0, "bob": 5.0} == ls.score(OPENS, events, at(2))


def test_an_event_at_as_of_counts():
    """At <= as_of counts."""
    assert {"ann": 5.0} == ls.score(OPENS, [ev("ann", "email.opened", at())], at())


def test_ledger_score_of_an_unknown_contact_is_initial_clamped():
    """Ledger.score for a contact it has not seen is initial, clamped."""
    model = ScoringModel("m", [], initial=150, bounds=(0, 100))
    assert 100.0 == ls.fold(model, []).score("nobody", at())


# -- ties, several rules, once_per, by_count, limit ------------------------------


def test_an_event_matching_several_rules_scores_under_each():
    """One event, two rules: both points count."""
    model = ScoringModel(
        "m",
        [
            Rule("page.viewed", 1),
            Rule("page.viewed", 20, when=where("path", eq="/pricing")),
        ],
    )
    assert {"ann": 21.0} == ls.score(
        model, [ev("ann", "page.viewed", at(), path="/pricing")], at()
    )


def test_once_per_message_counts_only_the_latest_per_message():
    """Four opens of one message count once (and age from the latest)."""
    model = ScoringModel(
        "m",
        [Rule("email.opened", 5, once_per="message")],
        aging=AgingPolicy.expire_after(days=10),
    )
    events = [ev("ann", "email.opened", at(d), message="m1") for d in (0, 1, 2, 8)]
    events.append(ev("ann", "email.opened", at(0), message="m2"))
    assert {"ann": 10.0} == ls.score(model, events, at(9))
    # The m2 open expired at day 10; the latest m1 open (day 8) still counts.
    assert {"ann": 5.0} == ls.score(model, events, at(10))
    assert {"ann": 0.0} == ls.score(model, events, at(18))


def test_once_per_empty_counts_once_ever_and_missing_key_is_none():
    """once_per=() keeps one event; a missing key groups with the value None."""
    once = ScoringModel("m", [Rule("form.submitted", 10, once_per=())])
    per_list = ScoringModel("m", [Rule("list.invited", 1, once_per="list")])
    forms = [ev("ann", "form.submitted", at(d)) for d in range(3)]
    invites = [
        ev("ann", "list.invited", at(0), list="a"),
        ev("ann", "list.invited", at(1)),
        ev("ann", "list.invited", at(2), list=None),
        ev("ann", "list.invited", at(3), list="a"),
    ]
    assert {"ann": 10.0} == ls.score(once, forms, at(5))
    assert {"ann": 2.0} == ls.score(per_list, invites, at(5))


def test_by_count_rank_counts_later_actions_including_zero_point_rules():
    """Deliveries (0 points) still age older reads by count."""
    model = ScoringModel(
        "m",
        [Rule("email.opened", 4), Rule("email.delivered", 0)],
        aging=AgingPolicy.by_count(0.5),
    )
    events = [
        ev("ann", "email.opened", at(0)),
        ev("ann", "email.delivered", at(1)),
        ev("ann", "email.delivered", at(2)),
    ]
    assert {"ann": 1.0} == ls.score(model, events, at(3))
    # Actions later than as_of do not age anything yet.
    assert {"ann": 2.0} == ls.score(model, events, at(1))


def test_by_count_ties_in_time_do_not_age_each_other():
    """Only strictly later actions count for the rank."""
    model = ScoringModel(
        "m", [Rule("email.opened", 4)], aging=AgingPolicy.by_count(0.5)
    )
    events = [
        ev("ann", "email.opened", at(0)),
        ev("ann", "email.opened", at(0)),
        ev("ann", "email.opened", at(1)),
    ]
    assert {"ann": 8.0} == ls.score(model, events, at(2))


def test_by_count_events_dropped_by_once_per_are_not_actions():
    """once_per losers count neither as points nor as actions."""
    model = ScoringModel(
        "m",
        [Rule("email.opened", 4, once_per="message")],
        aging=AgingPolicy.by_count(0.5),
    )
    events = [
        ev("ann", "email.opened", at(0), message="a"),
        ev("ann", "email.opened", at(1), message="b"),
        ev("ann", "email.opened", at(2), message="b"),
    ]
    # a has one later action (b's latest), b's latest has none: 2 + 4.
    assert {"ann": 6.0} == ls.score(model, events, at(3))


def test_an_event_under_two_rules_is_one_action():
    """by_count counts an event once however many rules it matches."""
    model = ScoringModel(
        "m",
        [Rule("email.opened", 4), Rule(("email.opened", "email.clicked"), 0)],
        aging=AgingPolicy.by_count(0.5),
    )
    events = [ev("ann", "email.opened", at(0)), ev("ann", "email.clicked", at(1))]
    assert {"ann": 2.0} == ls.score(model, events, at(2))


def test_limit_caps_the_rule_and_explain_rows_are_scaled():
    """A limit caps a rule's total; its rows still add up."""
    model = ScoringModel(
        "m", [Rule("page.viewed", 20, limit=50), Rule("email.opened", -3, limit=5)]
    )
    events = [ev("ann", "page.viewed", at(d)) for d in range(4)]
    events += [ev("ann", "email.opened", at(d)) for d in range(2)]
    assert {"ann": 45.0} == ls.score(model, events, at(5))
    rows = ls.explain(model, events, "ann", at(5))
    assert [12.5] * 4 == [r.effective for r in rows if r.rule is model.rules[0]]
    assert [1.0] * 4 == [r.weight for r in rows if r.rule is model.rules[0]]
    assert 45.0 == sum(r.effective for r in rows)


# -- combine, bounds, active_from ----------------------------------------------------


def test_ratio_divides_positives_by_one_plus_negatives():
    """(initial + Σ positive) / (1 + Σ |negative|), then adjustments, then bounds."""
    model = ScoringModel(
        "m",
        [Rule("email.opened", 2), Rule("email.bounced", -1)],
        combine="ratio",
        initial=2.0,
    )
    events = [
        ev("ann", "email.opened", at(0)),
        ev("ann", "email.opened", at(1)),
        ev("ann", "email.bounced", at(2)),
        ev("ann", "score.adjusted", at(3), value=0.5),
    ]
    assert {"ann": 6.0 / 2.0 + 0.5} == ls.score(model, events, at(4))


def test_bounds_clamp_last():
    """Bounds apply after adjustments."""
    model = ScoringModel("m", [Rule("email.opened", 60)], bounds=(0, 100))
    events = [
        ev("ann", "email.opened", at(0)),
        ev("ann", "email.opened", at(1)),
        ev("ann", "score.adjusted", at(2), value=-30),
    ]
    assert {"ann": 90.0} == ls.score(model, events, at(3))
    assert {"ann": 100.0} == ls.score(model, events, at(1))


def test_active_from_ignores_earlier_events_and_retroactive_scoring_moves_it():
    """Events before active_from never count; an earlier active_from scores history."""
    live = ScoringModel("m", [Rule("email.opened", 5)], active_from=at(1))
    history = [
        ev("ann", "email.opened", at(0)),
        ev("bob", "email.opened", at(0)),
        ev("bob", "email.opened", at(1)),
    ]
    assert {"bob": 5.0} == ls.score(live, history, at(2))
    retro = ScoringModel("m", [Rule("email.opened", 5)], active_from=at(-30))
    assert {"ann": 5.0, "bob": 10.0} == ls.score(retro, history, at(2))


# -- special kinds ------------------------------------------------------------------


def test_score_adjusted_is_permanent_and_never_aged():
    """Manual adjustments keep their full value forever."""
    model = ScoringModel(
        "m", [Rule("email.opened", 5)], aging=AgingPolicy.expire_after(days=1)
    )
    events = [
        ev("ann", "email.opened", at(0)),
        ev("ann", "score.adjusted", at(0), value=7),
    ]
    assert {"ann": 7.0} == ls.score(model, events, at(400))


def test_score_set_replaces_everything_strictly_earlier():
    """score.set: the value replaces initial; earlier events stop counting."""
    events = [
        ev("ann", "email.opened", at(0)),
        ev("ann", "score.adjusted", at(0), value=3),
        ev("ann", "score.set", at(1), value=50),
        ev("ann", "email.opened", at(1)),
        ev("ann", "score.adjusted", at(1), value=1),
        ev("ann", "email.opened", at(2)),
    ]
    assert {"ann": 8.0} == ls.score(OPENS, events, at(0, hours=12))
    assert {"ann": 56.0} == ls.score(OPENS, events, at(1))
    assert {"ann": 61.0} == ls.score(OPENS, events, at(2))


def test_score_reset_restarts_as_a_new_contact():
    """score.reset: the score restarts at initial."""
    model = ScoringModel("m", [Rule("email.opened", 5)], initial=2.0)
    events = [
        ev("ann", "email.opened", at(0)),
        ev("ann", "score.reset", at(1)),
        ev("ann", "email.opened", at(2)),
    ]
    assert {"ann": 7.0} == ls.score(model, events, at(1, hours=-1))
    assert {"ann": 2.0} == ls.score(model, events, at(1))
    assert {"ann": 7.0} == ls.score(model, events, at(3))


def test_the_latest_of_two_sets_at_one_instant_wins_by_canonical_key():
    """Ties at one instant are broken by id, never by arrival order."""
    a = ev("ann", "score.set", at(1), value=10, id="a")
    b = ev("ann", "score.set", at(1), value=20, id="b")
    assert (
        ls.score(OPENS, [a, b], at(2))
        == ls.score(OPENS, [b, a], at(2))
        == {"ann": 20.0}
    )


def test_special_events_can_be_limited_to_one_model():
    """attrs['model'] limits a manual change to the model of that name."""
    other = ScoringModel("other", [Rule("email.opened", 5)])
    events = [
        ev("ann", "email.opened", at(0)),
        ev("ann", "score.adjusted", at(0), value=100, model="other"),
        ev("bob", "score.set", at(0), value=9, model="other"),
    ]
    assert {"ann": 5.0} == ls.score(OPENS, events, at(1))
    assert {"ann": 105.0, "bob": 9.0} == ls.score(other, events, at(1))


# -- merges ---------------------------------------------------------------------


MERGE_EVENTS = [
    ev("ann", "email.opened", at(0)),
    ev("dup", "email.opened", at(0)),
    ev("dup", "form.submitted", at(0, hours=1)),
    ev("ann", "contact.merged", at(1), **{"from": "dup"}),
    ev("dup", "email.opened", at(1)),  # at the merge instant: the master's now
    ev("dup", "email.opened", at(2)),
]


def test_merge_keep_master_drops_the_merged_history():
    """The master keeps its score; later events of the merged id count for it."""
    assert {"ann": 5.0, "dup": 15.0} == ls.score(OPENS, MERGE_EVENTS, at(1, seconds=-1))
    assert {"ann": 10.0} == ls.score(OPENS, MERGE_EVENTS, at(1))
    assert {"ann": 15.0} == ls.score(OPENS, MERGE_EVENTS, at(3))


def test_merge_union_folds_the_history_into_the_master():
    """merge='union' adds the merged contact's earlier history too."""
    union = ScoringModel("m", OPENS.rules, merge="union")
    assert {"ann": 5.0, "dup": 15.0} == ls.score(union, MERGE_EVENTS, at(1, seconds=-1))
    assert {"ann": 30.0} == ls.score(union, MERGE_EVENTS, at(3))


def test_union_dedupes_once_per_across_both_contacts():
    """Under union, once_per keys apply across the merged histories."""
    model = ScoringModel(
        "m", [Rule("email.opened", 5, once_per="message")], merge="union"
    )
    events = [
        ev("ann", "email.opened", at(0), message="m1"),
        ev("dup", "email.opened", at(0), message="m1"),
        ev("ann", "contact.merged", at(1), **{"from": "dup"}),
    ]
    assert {"ann": 5.0} == ls.score(model, events, at(2))


def test_merge_chains_resolve_transitively():
    """A -> b -> c: a's later events count for c."""
    events = [
        ev("b", "contact.merged", at(1), **{"from": "a"}),
        ev("c", "contact.merged", at(2), **{"from": "b"}),
        ev("a", "email.opened", at(3)),
        ev("b", "form.submitted", at(3)),
        ev("a", "email.opened", at(1, hours=12)),
    ]
    assert {"c": 15.0} == ls.score(OPENS, events, at(4))
    assert ls.fold(OPENS, events).score("a", at(4)) == 15.0
    assert {"b": 5.0} == ls.score(OPENS, events, at(1, hours=13))


def test_a_merge_cycle_is_ignored_and_a_second_merge_of_one_id_too():
    """The first merge of an id wins; a merge closing a cycle is ignored."""
    events = [
        ev("b", "contact.merged", at(1), **{"from": "a"}),
        ev("a", "contact.merged", at(2), **{"from": "b"}),
        ev("c", "contact.merged", at(3), **{"from": "a"}),
        ev("a", "email.opened", at(4)),
    ]
    assert {"b": 5.0, "c": 0.0} == ls.score(OPENS, events, at(5))


def test_a_merge_needs_a_from_attribute():
    """contact.merged without attrs['from'] is an InvalidEventError."""
    with pytest.raises(ls.InvalidEventError, match=r"attrs\['from'\]"):
        ls.score(OPENS, [ev("ann", "contact.merged", at())], at(1))
    with pytest.raises(ls.InvalidEventError, match="merged into itself"):
        ls.fold(OPENS, [ev("ann", "contact.merged", at(), **{"from": "ann"})])


# -- the stream ------------------------------------------------------------------


def test_something_that_is_not_an_event_is_named_by_position():
    """A dict in the stream is rejected with its position."""
    stream = [ev("ann", "email.opened", at()), {"contact": "bob"}]
    for call in (
        lambda: ls.score(OPENS, stream, at(1)),
        lambda: ls.fold(OPENS, stream),
    ):
        with pytest.raises(
            ls.InvalidEventError, match=r"events\[1\] is not an Event: dict"
        ):
            call()


def test_a_generator_of_events_works():
    """Any iterable of events is accepted, once."""
    gen = (ev("ann", "email.opened", at(d)) for d in range(3))
    assert {"ann": 15.0} == ls.score(OPENS, gen, at(5))


def test_fold_with_another_models_ledger_raises():
    """A ledger belongs to one model."""
    with pytest.raises(ls.InvalidModelError, match="another model"):
        ls.fold(ScoringModel("x", []), [], ls.fold(OPENS, []))


def test_ledgers_are_immutable():
    """Folding returns a new ledger and leaves the old one as it was."""
    first = ls.fold(OPENS, [ev("ann", "email.opened", at())])
    second = ls.fold(OPENS, [ev("ann", "email.opened", at(1))], first)
    assert {"ann": 5.0} == first.scores(at(2))
    assert {"ann": 10.0} == second.scores(at(2))
    with pytest.raises(AttributeError):
        first.model = OPENS


def test_explain_lists_rules_and_manual_rows_in_order():
    """Explain gives one row per counted event and rule, manual rows included."""
    events = [
        ev("ann", "email.opened", at(0)),
        ev("ann", "score.set", at(1), value=40),
        ev("ann", "form.submitted", at(2)),
        ev("ann", "score.adjusted", at(3), value=-2),
    ]
    rows = ls.explain(OPENS, events, "ann", at(4))
    assert [
        ("score.set", None, 40.0),
        ("form.submitted", OPENS.rules[1], 10.0),
        ("score.adjusted", None, -2.0),
    ] == [(r.event.kind, r.rule, r.effective) for r in rows]
    assert [] == ls.explain(OPENS, events, "nobody", at(4))
