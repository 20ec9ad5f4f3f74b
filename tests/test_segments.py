"""Smart-list segments, what-if previews and backtests."""

from __future__ import annotations

import datetime as dt
import math
import random

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

import leadscore as ls
from leadscore import AgingPolicy, Event, Rule, ScoringModel, Segment, config, presets
from leadscore.strategies import event_lists, instants, models

T0 = dt.datetime(2024, 6, 1, tzinfo=dt.UTC)
DAY = dt.timedelta(days=1)
MODEL = ScoringModel(
    "m",
    [Rule("form.submitted", 40), Rule("page.viewed", 20), Rule("email.opened", 15)],
    aging=AgingPolicy.expire_after(days=60),
)


def test_the_seed_smart_lists():
    """Hot (> 75), cold (< 20) and re-engagement candidates (decreased in 30 days)."""
    events = [
        Event("hot", "form.submitted", T0),
        Event("hot", "form.submitted", T0 + DAY),
        Event("hot", "page.viewed", T0 + DAY),
        Event("fading", "form.submitted", T0 - 70 * DAY),
        Event("fading", "page.viewed", T0 - 20 * DAY),
        Event("cold", "page.viewed", T0 - 90 * DAY),
        Event("edge", "form.submitted", T0),
        Event("edge", "form.submitted", T0),
        Event("75", "form.submitted", T0),
        Event("75", "page.viewed", T0),
        Event("75", "email.opened", T0),
    ]
    as_of = T0 + 2 * DAY
    assert ["edge", "hot"] == ls.segment(MODEL, events, presets.hot_leads(), as_of)
    # "fading" is at exactly 20 (its form expired): not less than 20.
    assert ["cold"] == ls.segment(MODEL, events, presets.cold_leads(), as_of)
    assert ["fading"] == ls.segment(
        MODEL, events, presets.reengagement_candidates(), as_of
    )
    assert ["edge", "hot"] == ls.segment(
        MODEL, events, Segment.between("80+", 80, 100), as_of
    )


@given(
    models(),
    event_lists(),
    instants(days=480),
    st.integers(1, 90),
    st.sampled_from((0.0, 1.0, 5.0)),
)
def test_decreased_agrees_with_scoring_at_both_ends(model, events, as_of, days, by):
    """'Decreased in the last N days' is score(as_of) against score(as_of - N days)."""
    seg = Segment.decreased("down", dt.timedelta(days=days), by=by)
    ledger = ls.fold(model, events)
    expected = []
    for contact, now in ls.score(model, events, as_of).items():
        then = ledger.score(contact, as_of - dt.timedelta(days=days))
        if (then - now >= by) if by else (now < then):
            expected.append(contact)
    assert sorted(expected) == ls.segment(model, events, seg, as_of)


@given(
    st.builds(Segment.greater_than, st.just("hot"), st.integers(-10, 100))
    | st.builds(Segment.between, st.just("mid"), st.just(10), st.integers(10, 50))
    | st.builds(
        Segment.decreased,
        st.just("re"),
        st.integers(1, 90).map(lambda d: dt.timedelta(days=d)),
        st.sampled_from((0, 2.5)),
    )
)
def test_segments_round_trip(seg):
    """Segments serialise losslessly."""
    assert seg == config.from_json(config.to_json(seg), Segment)


@given(models(), event_lists(), instants(days=480), st.data())
def test_raising_one_rules_points_moves_no_contact_down(model, events, as_of, data):
    """What-if of a change that only raises one positive rule's points."""
    positive = [i for i, r in enumerate(model.rules) if r.points > 0]
    if not positive or model.combine != "sum":
        model = attrs.evolve(
            model, combine="sum", rules=(*model.rules, Rule("page.viewed", 1))
        )
        positive = [len(model.rules) - 1]
    i = data.draw(st.sampled_from(positive))
    rules = list(model.rules)
    rules[i] = attrs.evolve(
        rules[i], points=rules[i].points + data.draw(st.sampled_from((1, 10)))
    )
    diff = ls.what_if(
        model, attrs.evolve(model, rules=tuple(rules)), events, as_of, thresholds=[10]
    )
    assert [] == diff.moved_down
    assert [] == diff.crossed_down[10.0]


def test_what_if_reports_band_moves_and_threshold_crossings():
    """Per contact before/after, bands entered and left, thresholds crossed."""
    old = ScoringModel("m", [Rule("page.viewed", 20)])
    new = ScoringModel("m", [Rule("page.viewed", 20), Rule("form.submitted", -30)])
    events = [
        Event("ann", "page.viewed", T0),
        Event("ann", "page.viewed", T0),
        Event("bob", "page.viewed", T0),
        Event("bob", "form.submitted", T0),
    ]
    scale = ls.RatingScale((20, 40), ("cold", "warm", "hot"))
    diff = ls.what_if(old, new, events, T0, scale=scale, thresholds=[20])
    assert [
        ls.ScoreDiff("ann", 40.0, 40.0, "hot", "hot"),
        ls.ScoreDiff("bob", 20.0, -10.0, "warm", "cold"),
    ] == list(diff.rows)
    assert ({"cold": ["bob"]}, {"warm": ["bob"]}) == (diff.entered, diff.left)
    assert ({20.0: []}, {20.0: ["bob"]}) == (diff.crossed_up, diff.crossed_down)
    assert ["bob"] == diff.moved_down


def _book(seed):
    """A synthetic book: 400 contacts, half engaged; 95% of those buy, 2% of the rest."""
    rng = random.Random(seed)
    events = []
    for n in range(400):
        engaged = n % 2 == 0
        visits = rng.randint(3, 6) if engaged else rng.randint(0, 1)
        events.extend(
            Event(
                f"c{n}",
                "page.viewed",
                T0 + rng.randint(0, 59) * DAY,
                {"path": "/pricing"},
            )
            for _ in range(visits)
        )
        events.append(Event(f"c{n}", "email.delivered", T0 + rng.randint(0, 59) * DAY))
        if rng.random() < (0.95 if engaged else 0.02):
            events.append(
                Event(f"c{n}", "order.paid", T0 + rng.randint(61, 89) * DAY, value=50)
            )
    return events


def test_backtest_finds_a_planted_signal_and_no_signal_in_noise():
    """AUC near 1 when outcomes follow high scores, near 0.5 for an unrelated model."""
    events = _book(7)
    engaged = ScoringModel("engaged", [Rule("page.viewed", 10)])
    result = ls.backtest(
        engaged, events, "order.paid", dates=[T0 + 60 * DAY], horizon=30 * DAY
    )
    assert result.auc > 0.9
    assert result.lift[0] > 1.5 > result.lift[-1]
    assert result.precision_at[10] > result.base_rate
    rng = random.Random(1)
    noise = [
        Event(e.contact, "tag.added", e.at, {"coin": rng.random() < 0.5})
        for e in events
        if e.kind == "email.delivered"
    ]
    unrelated = ScoringModel(
        "coin", [Rule("tag.added", 1, when=ls.where("coin", eq=True))]
    )
    blind = ls.backtest(
        unrelated, events + noise, "order.paid", dates=[T0 + 60 * DAY], horizon=30 * DAY
    )
    assert 0.4 < blind.auc < 0.6
    assert blind.observations == result.observations == 400


def test_roc_auc_counts_ties_as_halves():
    """Mann-Whitney with average ranks."""
    assert 0.5 == ls.roc_auc([1, 1, 1, 1], [True, False, True, False])
    assert 1.0 == ls.roc_auc([1, 2, 3, 4], [False, False, True, True])
    assert math.isnan(ls.roc_auc([1, 2], [True, True]))


def test_contacts_that_already_converted_are_left_out():
    """An outcome at or before the date removes the contact from that date."""
    events = [Event("ann", "order.paid", T0), Event("bob", "page.viewed", T0)]
    result = ls.backtest(MODEL, events, "order.paid", dates=[T0 + DAY], horizon=DAY)
    assert (1, 0) == (result.observations, result.positives)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"horizon": dt.timedelta(0)}, "horizon must be a positive timedelta"),
        ({"horizon": 30}, "horizon must be a positive timedelta, got 30"),
        ({"dates": []}, "dates must not be empty"),
        ({"ks": [0]}, "ks must be whole numbers >= 1, got 0"),
    ],
)
def test_bad_backtest_arguments(kwargs, match):
    """Empty horizons, no dates and bad k raise InvalidModelError."""
    args = {"dates": [T0], "horizon": DAY} | kwargs
    with pytest.raises(ls.InvalidModelError, match=match):
        ls.backtest(MODEL, [], "order.paid", **args)


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (
            lambda: Segment.greater_than("x", math.nan),
            "above must be finite, got nan",
        ),
        (lambda: Segment.between("x", 5, 1), "between needs low <= high"),
        (
            lambda: Segment.decreased("x", dt.timedelta(0)),
            "within must be a positive timedelta",
        ),
        (lambda: Segment("x", change="decreased"), "change and within go together"),
        (
            lambda: Segment.decreased("x", dt.timedelta(days=1), by=-1),
            "by must be >= 0",
        ),
        (
            lambda: ls.what_if(MODEL, MODEL, [], T0, thresholds=[math.inf]),
            "thresholds must be finite, got inf",
        ),
    ],
)
def test_bad_segments_and_what_ifs(make, match):
    """Bad segment conditions name the value."""
    with pytest.raises(ls.InvalidModelError, match=match):
        make()
