"""Tests that kill the mutants the rest of the suite let survive (issue 11).

Each test computes its expectation by hand from the semantics in DESIGN.md, with
the arithmetic in a comment, and reads the result through the public API only, on
every read path that computes it (``score``, ``Ledger.scores``, ``Ledger.score``,
``explain``), so that it holds whichever execution path a model is sent to. The
mutant each test was checked against is named in its comment; docs/mutation.md
lists the run.
"""

from __future__ import annotations

import datetime as dt

import pytest

import leadscore as ls

UTC = dt.UTC
AS_OF = dt.datetime(2024, 6, 1, tzinfo=UTC)
DAY = dt.timedelta(days=1)


def _by_score(model, events, contact, as_of):
    return ls.score(model, events, as_of)[contact]


def _by_ledger_scores(model, events, contact, as_of):
    return ls.fold(model, events).scores(as_of)[contact]


def _by_ledger_score(model, events, contact, as_of):
    return ls.fold(model, events).score(contact, as_of)


def _by_explain(model, events, contact, as_of):
    rows = ls.explain(model, events, contact, as_of)
    return model.clamp(model.initial + sum(r.effective for r in rows))


#: Every public way to read one contact's score (explain only for plain sums).
READS = pytest.mark.parametrize(
    "read",
    [_by_score, _by_ledger_scores, _by_ledger_score],
    ids=["score", "Ledger.scores", "Ledger.score"],
)
READS_AND_EXPLAIN = pytest.mark.parametrize(
    "read",
    [_by_score, _by_ledger_scores, _by_ledger_score, _by_explain],
    ids=["score", "Ledger.scores", "Ledger.score", "explain"],
)


# -- time-based decay adds up (mutant: `totals[i] += ...` -> `-=`) --------------


@READS_AND_EXPLAIN
def test_half_life_and_linear_points_add_up(read):
    """Decayed points of several events and rules add up, with their signs."""
    model = ls.ScoringModel(
        "decay",
        [
            ls.Rule("email.opened", 8, aging=ls.AgingPolicy.half_life(days=10)),
            ls.Rule("page.viewed", 4),
        ],
        aging=ls.AgingPolicy.linear(days=8),
    )
    events = [
        ls.Event("ann", "email.opened", AS_OF - 10 * DAY),  # 8 * 0.5 = 4
        ls.Event("ann", "email.opened", AS_OF - 20 * DAY),  # 8 * 0.25 = 2
        ls.Event("ann", "page.viewed", AS_OF - 2 * DAY),  # 4 * (1 - 2/8) = 3
        ls.Event("ann", "page.viewed", AS_OF - 4 * DAY),  # 4 * (1 - 4/8) = 2
    ]

    assert 11.0 == read(model, events, "ann", AS_OF)  # 4 + 2 + 3 + 2


# -- an event later than as_of is skipped, not the end of the loop --------------
# (mutants: `continue` -> `break` in the streaming pass, in Scorer.fast and in both
# loops of Scorer.general)

LATE = AS_OF + 30 * DAY
EARLY = AS_OF - 30 * DAY


@READS
def test_an_event_after_as_of_does_not_hide_the_earlier_ones(read):
    """Events after as_of are skipped; the ones after them in the input still count."""
    model = ls.ScoringModel("plain", [ls.Rule("form.submitted", 10)])
    events = [
        ls.Event("ann", "form.submitted", LATE),  # after as_of: 0
        ls.Event("ann", "form.submitted", EARLY),  # 10
        ls.Event("bob", "form.submitted", EARLY),  # 10
    ]

    assert 10.0 == read(model, events, "ann", AS_OF)
    assert 10.0 == read(model, events, "bob", AS_OF)


@READS_AND_EXPLAIN
def test_an_event_after_as_of_does_not_hide_earlier_ones_on_the_general_path(read):
    """With once_per and manual adjustments, a later event hides nothing either."""
    model = ls.ScoringModel("general", [ls.Rule("email.opened", 5, once_per="message")])
    events = [
        ls.Event("ann", "email.opened", LATE, {"message": "m1"}),  # after as_of
        ls.Event("ann", "email.opened", EARLY, {"message": "m2"}),  # 5
        ls.Event("ann", ls.SCORE_ADJUSTED, LATE, value=3),  # after as_of
        ls.Event("ann", ls.SCORE_ADJUSTED, EARLY, value=2),  # +2
    ]

    assert 7.0 == read(model, events, "ann", AS_OF)  # 5 + 2


# -- where() with several operators: all must hold ------------------------------


@pytest.mark.parametrize(
    "condition",
    [ls.where("amount", ge=10, lt=100), ls.where("amount", lt=100, ge=10)],
    ids=["ge-lt", "lt-ge"],
)
@pytest.mark.parametrize(
    ("amount", "expected"),
    [(5, False), (10, True), (99.5, True), (100, False), (1000, False)],
)
def test_where_with_two_operators_needs_both(condition, amount, expected):
    """where(k, ge=a, lt=b) matches a <= value < b, whatever the keyword order."""
    event = ls.Event("ann", "order.paid", AS_OF, {"amount": amount})

    assert expected is condition(event)


def test_where_with_two_operators_is_their_conjunction():
    """where(k, ge=a, lt=b) is where(k, ge=a) & where(k, lt=b)."""
    expected = ls.All((ls.Compare("amount", "ge", 10), ls.Compare("amount", "lt", 100)))

    assert expected == ls.where("amount", ge=10, lt=100)


# -- exists ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("attrs", "expected"),
    [({}, True), ({"coupon": None}, False), ({"coupon": "X"}, False)],
    ids=["missing", "None", "present"],
)
def test_exists_false_matches_only_a_missing_key(attrs, expected):
    """exists=False holds when the key is absent (a None value is present)."""
    event = ls.Event("ann", "order.paid", AS_OF, attrs)

    assert expected is ls.where("coupon", exists=False)(event)
    assert (not expected) is ls.where("coupon", exists=True)(event)


def test_exists_on_the_event_value():
    """Event.value always exists: exists=True always holds, exists=False never."""
    event = ls.Event("ann", "order.paid", AS_OF, value=0.0)

    assert ls.where(ls.VALUE, exists=True)(event)
    assert not ls.where(ls.VALUE, exists=False)(event)


def test_exists_false_scores_only_events_without_the_key():
    """A rule with exists=False scores the events that lack the attribute."""
    model = ls.ScoringModel(
        "no coupon",
        [ls.Rule("order.paid", 10, when=ls.where("coupon", exists=False))],
    )
    events = [
        ls.Event("ann", "order.paid", EARLY),  # no coupon: 10
        ls.Event("bob", "order.paid", EARLY, {"coupon": "X"}),  # coupon: 0
    ]

    assert {"ann": 10.0, "bob": 0.0} == ls.score(model, events, AS_OF)


def test_exists_takes_only_a_bool():
    """exists=1 is refused, naming the operator and the value."""
    with pytest.raises(ls.InvalidModelError) as info:
        ls.where("coupon", exists=1)

    assert ("exists", 1) == (info.value.path, info.value.value)


# -- order tests against a str operand --------------------------------------------


@pytest.mark.parametrize(
    ("op", "operand", "plan", "expected"),
    [
        ("gt", "basic", "pro", True),  # "p" > "b"
        ("gt", "basic", "basic", False),
        ("gt", "basic", "agency", False),  # "a" < "b"
        ("lt", "m", "free", True),  # "f" < "m"
        ("lt", "m", "m", False),
        ("lt", "m", "pro", False),
        ("ge", "m", "m", True),
        ("le", "m", "m", True),
        ("gt", "basic", 7, False),  # a number is not ordered against a str
        ("lt", "m", 7, False),
        ("gt", 5, "pro", False),  # nor a str against a number
        ("lt", 5, "pro", False),
        ("gt", "basic", True, False),  # nor a bool
        ("lt", "m", None, False),
    ],
)
def test_order_tests_against_a_str_compare_strs_only(op, operand, plan, expected):
    """gt/lt/ge/le with a str operand order strs; anything else does not match."""
    event = ls.Event("ann", "page.viewed", AS_OF, {"plan": plan})

    assert expected is ls.where("plan", **{op: operand})(event)


def test_order_tests_on_a_missing_key_do_not_match():
    """A missing key is neither greater nor less than any operand."""
    event = ls.Event("ann", "page.viewed", AS_OF)

    assert not ls.where("plan", gt="a")(event)
    assert not ls.where("plan", lt="z")(event)


@pytest.mark.parametrize("operand", [True, [1], None])
def test_order_tests_refuse_an_operand_that_is_not_a_number_or_str(operand):
    """gt=True, gt=[1] and gt=None are refused, naming the operator and the value."""
    with pytest.raises(ls.InvalidModelError) as info:
        ls.where("plan", gt=operand)

    assert ("gt", operand) == (info.value.path, info.value.value)


# -- expiry with months and days -----------------------------------------------------

# Jan 30 2024 12:00 + 1 month = Feb 29 12:00 (clipped, leap year), + 2 days = Mar 2
# 12:00. (Days first would give Feb 1 + 1 month = Mar 1: the order matters.)
MONTH_AND_DAYS = ls.AgingPolicy.expire_after(months=1, days=2)
EARNED = dt.datetime(2024, 1, 30, 12, tzinfo=UTC)
GONE = dt.datetime(2024, 3, 2, 12, tzinfo=UTC)
US = dt.timedelta(microseconds=1)


def test_expiry_of_months_and_days_adds_the_months_first():
    """expire_after(months=1, days=2) ends at at + 1 month (clipped) + 2 days."""
    assert GONE == MONTH_AND_DAYS.expires_at(EARNED)
    assert 1.0 == MONTH_AND_DAYS.weight(EARNED, GONE - US)
    assert 0.0 == MONTH_AND_DAYS.weight(EARNED, GONE)


@READS_AND_EXPLAIN
@pytest.mark.parametrize(
    ("as_of", "expected"),
    [(GONE - US, 110.0), (GONE, 100.0)],
    ids=["just-before", "at-expiry"],
)
def test_scores_expire_after_months_and_days(read, as_of, expected):
    """Scores count a point while as_of < at + months + days, on every read path."""
    model = ls.ScoringModel(
        "months and days",
        [ls.Rule("a", 1), ls.Rule("b", 10), ls.Rule("c", 100)],
        aging=MONTH_AND_DAYS,
    )
    events = [
        # Jan 1 + 1 month + 2 days = Feb 3: long gone.
        ls.Event("ann", "a", dt.datetime(2024, 1, 1, tzinfo=UTC)),
        # Gone exactly at GONE.
        ls.Event("ann", "b", EARNED),
        # Feb 20 + 1 month + 2 days = Mar 22: alive.
        ls.Event("ann", "c", dt.datetime(2024, 2, 20, tzinfo=UTC)),
    ]

    assert expected == read(model, events, "ann", as_of)


# -- the action score ---------------------------------------------------------------

NOW = dt.datetime(2025, 1, 1, tzinfo=UTC)


def _action(recency, frequency, value, social):
    return ls.ActionScore(
        recency=recency, frequency=frequency, value=value, social=social
    )


def test_action_frequency_counts_the_last_365_days_inclusive():
    """Frequency counts activities at or after as_of - 365 days, none earlier."""
    window = dt.timedelta(days=365)
    events = [
        ls.Event("ann", "page.viewed", NOW),
        ls.Event("ann", "page.viewed", NOW - window),  # on the edge: counts
        ls.Event("bob", "page.viewed", NOW),
        ls.Event("bob", "page.viewed", NOW - DAY),
        ls.Event("bob", "page.viewed", NOW - window - US),  # just outside
    ]
    # Counts: ann 2, bob 2; percentile rank of 2 among [2, 2] = 2/2 = 1.0 for both.
    # Recency 1.0 (latest activity at as_of); no purchase, no network: 1% floors.
    expected = _action(1.0, 1.0, 0.01, 0.01)

    assert {"ann": expected, "bob": expected} == ls.action_scores(events, NOW)


def test_action_frequency_window_none_counts_everything():
    """frequency_window=None counts every activity, however old."""
    config = ls.ActionScoreConfig(frequency_window=None)
    events = [
        ls.Event("ann", "page.viewed", NOW),
        ls.Event("ann", "page.viewed", NOW - 1000 * DAY),
        ls.Event("bob", "page.viewed", NOW),
    ]
    # Counts: ann 2, bob 1; ranks among [1, 2]: ann 2/2 = 1.0, bob 1/2 = 0.5.
    scores = ls.action_scores(events, NOW, config)

    assert (1.0, 0.5) == (scores["ann"].frequency, scores["bob"].frequency)


@pytest.mark.parametrize("window", [dt.timedelta(0), dt.timedelta(days=-1), 365])
def test_action_frequency_window_must_be_a_positive_timedelta(window):
    """A zero, negative or non-timedelta window is refused, naming field and value."""
    with pytest.raises(ls.InvalidModelError) as info:
        ls.ActionScoreConfig(frequency_window=window)

    assert ("frequency_window", window) == (info.value.path, info.value.value)


def test_action_value_nets_refunds_that_come_first():
    """A refund before any purchase is subtracted; a net refund gets the floor."""
    events = [
        ls.Event("cid", "order.refunded", NOW, value=30),  # cid's first money event
        ls.Event("cid", "order.paid", NOW, value=100),  # net 100 - 30 = 70
        ls.Event("dan", "order.paid", NOW, value=50),  # net 50
        ls.Event("eve", "order.refunded", NOW, value=20),  # net -20: not ranked
    ]
    # Value ranks among the positive nets [50, 70]: cid 2/2 = 1.0, dan 1/2 = 0.5.
    # order.paid is an activity (recency 1.0, counts 1 and 1: frequency 1.0);
    # order.refunded is not, so eve has only floors.
    expected = {
        "cid": _action(1.0, 1.0, 1.0, 0.01),
        "dan": _action(1.0, 1.0, 0.5, 0.01),
        "eve": _action(0.01, 0.01, 0.01, 0.01),
    }

    assert expected == ls.action_scores(events, NOW)


def test_action_scores_skip_late_and_unscored_events_and_go_on():
    """Events after as_of and events of other kinds are skipped, not the end."""
    events = [
        ls.Event("ann", "page.viewed", NOW + DAY),  # after as_of: ann not reported
        ls.Event("bob", "email.opened", NOW),  # no role: bob gets floors only
        ls.Event("cid", "page.viewed", NOW),  # recency 1.0; the only count: 1/1
    ]
    expected = {
        "bob": _action(0.01, 0.01, 0.01, 0.01),
        "cid": _action(1.0, 1.0, 0.01, 0.01),
    }

    assert expected == ls.action_scores(events, NOW)


def test_action_value_ranks_a_net_spend_below_one():
    """Any positive net spend is ranked, however small."""
    events = [ls.Event("dan", "order.paid", NOW, value=0.5)]
    # The only positive net (0.5): rank 1/1 = 1.0.

    assert 1.0 == ls.action_scores(events, NOW)["dan"].value


def test_action_scores_report_contacts_with_only_views_or_only_networks():
    """A contact with only page views, only social events or only other kinds."""
    events = [
        ls.Event("fay", "page.viewed", NOW - 30 * DAY),
        ls.Event("gus", "social.connected", NOW, {"network": "x"}),
        ls.Event("hal", "email.opened", NOW),
    ]
    # fay: recency 0.5 ** (30 / 30) = 0.5; the only count, so frequency 1/1 = 1.0.
    # gus: one network of 4 = 0.25; nothing else. hal: floors only.
    expected = {
        "fay": _action(0.5, 1.0, 0.01, 0.01),
        "gus": _action(0.01, 0.01, 0.01, 0.25),
        "hal": _action(0.01, 0.01, 0.01, 0.01),
    }

    assert expected == ls.action_scores(events, NOW)


def test_action_social_is_capped_at_100_percent():
    """More networks than max_networks is 100%; the same network twice is one."""
    events = [
        *(
            ls.Event("ivy", "social.connected", NOW, {"network": n})
            for n in ("a", "b", "c", "d", "e")
        ),
        ls.Event("jon", "social.connected", NOW, {"network": "a"}),
        ls.Event("jon", "social.connected", NOW - DAY, {"network": "a"}),
        ls.Event("jon", "social.connected", NOW, {"network": "b"}),
    ]
    scores = ls.action_scores(events, NOW)

    # ivy: min(1, 5 / 4) = 1.0; jon: 2 distinct / 4 = 0.5.
    assert (1.0, 0.5) == (scores["ivy"].social, scores["jon"].social)
    # ivy: ceil(25 * 0.01 * 3 + 25 * 1.0) = ceil(25.75) = 26.
    assert 26 == scores["ivy"].total


# -- rule limits in (0, 1], equal bounds ---------------------------------------------


@READS_AND_EXPLAIN
def test_rule_limits_of_at_most_one_cap_the_rule(read):
    """A limit of 0.5 or 1 is valid and caps the rule's absolute total."""
    model = ls.ScoringModel(
        "small limits",
        [
            ls.Rule("a", 0.375, limit=0.5),
            ls.Rule("b", -0.5, limit=0.25),
            ls.Rule("c", 1.5, limit=1),
        ],
    )
    events = [
        ls.Event("ann", "a", EARLY),
        ls.Event("ann", "a", EARLY + DAY),  # a: 0.375 * 2 = 0.75, capped at 0.5
        ls.Event("ann", "b", EARLY),  # b: -0.5, capped at -0.25
        ls.Event("ann", "c", EARLY),  # c: 1.5, capped at 1
    ]

    assert 1.25 == read(model, events, "ann", AS_OF)  # 0.5 - 0.25 + 1


def test_a_rule_limit_keeps_its_value():
    """Rule(limit=0.5).limit is 0.5 and Rule(limit=1).limit is 1.0."""
    assert (0.5, 1.0) == (
        ls.Rule("a", 3, limit=0.5).limit,
        ls.Rule("a", 3, limit=1).limit,
    )


@pytest.mark.parametrize("limit", [0, 0.0, -0.5, -1])
def test_a_rule_limit_must_be_positive(limit):
    """A limit of 0 or less is refused, naming the field and the value."""
    with pytest.raises(ls.InvalidModelError) as info:
        ls.Rule("a", 3, limit=limit)

    assert ("limit", limit) == (info.value.path, info.value.value)


@READS
def test_equal_bounds_pin_every_score(read):
    """bounds=(5, 5) is valid and every contact scores 5, whatever its points."""
    model = ls.ScoringModel(
        "pinned", [ls.Rule("a", 5.5), ls.Rule("b", -10)], bounds=(5, 5)
    )
    events = [
        ls.Event("ann", "a", EARLY),  # 5.5, clamped to 5
        ls.Event("bob", "b", EARLY),  # -10, clamped to 5
        ls.Event("cid", "other", EARLY),  # initial 0, clamped to 5
    ]

    assert (5.0, 5.0) == model.bounds
    assert [5.0, 5.0, 5.0] == [
        read(model, events, c, AS_OF) for c in ("ann", "bob", "cid")
    ]


def test_bounds_low_above_high_are_refused():
    """bounds=(5, 4) is refused, naming the field and the value."""
    with pytest.raises(ls.InvalidModelError) as info:
        ls.ScoringModel("x", [], bounds=(5, 4))

    assert ("bounds", (5, 4)) == (info.value.path, info.value.value)
