"""The Action Score: what the mutation run of ``_action.py`` found unpinned.

docs/mutation.md lists the run. Custom weights (lists, zeros, weights below 1),
kinds given as one str, another network attribute, fewer networks for 100%, a
frequency window of one day, and every configuration error read whole: ``path``,
``value`` and the message without the path. Expected fractions are worked out by
hand in the comments from the definitions in ``action_scores``' docstring.

Weights are given as lists where the check itself is under test: ``ActionScore``
checks a tuple of weights once and remembers it (a cache), a list every time.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

import leadscore as ls
from leadscore import ActionScore, ActionScoreConfig, AgingPolicy, Event

NOW = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
DAY = dt.timedelta(days=1)
US = dt.timedelta(microseconds=1)


def _refused(make, path, value):
    """Call *make*; return the InvalidModelError's reason after checking path, value."""
    with pytest.raises(ls.InvalidModelError) as info:
        make()
    error = info.value
    assert (path, value) == (error.path, error.value)
    return error.reason


def _score(weights=None, **fractions):
    kwargs = {"recency": 0, "frequency": 0, "value": 0, "social": 0, **fractions}
    if weights is not None:
        kwargs["weights"] = weights
    return ActionScore(**kwargs)


# -- weights -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("weights", "fractions", "total"),
    [
        ([40, 20, 20, 20], {"recency": 1}, 40),
        ([40, 20, 20, 20], {"frequency": 1, "social": 0.5}, 30),
        ([100, 0, 0, 0], {"recency": 0.5, "value": 1}, 50),  # zero weights are valid
        ([99.5, 0.5, 0, 0], {"frequency": 1}, 1),  # ceil(0.5)
        ([99.5, 0.5, 0, 0], {"recency": 1, "frequency": 1}, 100),
        ([33.3, 33.3, 33.4, 0], {"value": 1}, 34),  # the weights add up to 100 exactly
    ],
)
def test_custom_weights_weigh_the_categories(weights, fractions, total):
    """The total is ceil(sum(weight x fraction)); the weights are kept as a tuple."""
    score = _score(weights, **fractions)

    assert (tuple(weights), total) == (score.weights, score.total)


WEIGHT_ERRORS = [
    (
        [25, 25, 50],
        (
            "weights must be four numbers (recency, frequency, value, social), "
            "got [25, 25, 50]"
        ),
    ),
    (
        "abcd",
        "weights must be four numbers (recency, frequency, value, social), got 'abcd'",
    ),
    (
        {1: 25, 2: 25, 3: 25, 4: 25},
        (
            "weights must be four numbers (recency, frequency, value, social), "
            "got {1: 25, 2: 25, 3: 25, 4: 25}"
        ),
    ),
    ([25, 25, 25, True], "weights must be finite numbers >= 0, got True"),
    ([25, 25, 25, "25"], "weights must be finite numbers >= 0, got '25'"),
    ([25, 25, 50, float("nan")], "weights must be finite numbers >= 0, got nan"),
    ([110, -10, 0, 0], "weights must be finite numbers >= 0, got -10"),
    ([25, 25, 25, 24], "weights must add up to 100, got [25, 25, 25, 24] (sum 99)"),
    (
        [25, 25, 25, 25.5],
        "weights must add up to 100, got [25, 25, 25, 25.5] (sum 100.5)",
    ),
]


@pytest.mark.parametrize(("weights", "reason"), WEIGHT_ERRORS)
def test_bad_weights_name_the_weights(weights, reason):
    """Three weights, a str, a bool, NaN, a negative one, a sum other than 100."""
    assert reason == _refused(lambda: _score(weights), "weights", weights)
    assert reason == _refused(
        lambda: ActionScoreConfig(weights=weights), "weights", weights
    )


def test_bad_weights_given_as_a_tuple_are_refused_every_time():
    """The remembered check of tuples does not remember a refusal."""
    for _ in range(2):
        reason = _refused(lambda: _score((50, 50, 1, 0)), "weights", (50, 50, 1, 0))
        assert "weights must add up to 100, got (50, 50, 1, 0) (sum 101)" == reason


@pytest.mark.parametrize(
    ("field", "bad"),
    [
        ("recency", -0.1),
        ("frequency", 1.01),
        ("value", True),
        ("social", "1"),
        ("recency", None),
    ],
)
def test_a_fraction_outside_0_to_1_is_refused(field, bad):
    """Each fraction must be a number in [0, 1]; the error names it and the value."""
    reason = _refused(lambda: _score(**{field: bad}), field, bad)

    assert f"{field} must be a fraction in [0, 1], got {bad!r}" == reason


@pytest.mark.parametrize(
    ("score", "text"),
    [
        (
            _score(recency=0.77, frequency=0.01, value=0.01, social=1.0),
            (
                "ActionScore(total=45, recency=0.77, frequency=0.01, value=0.01, "
                "social=1.0)"
            ),
        ),
        (
            _score([40, 20, 20, 20], recency=1),
            (
                "ActionScore(total=40, recency=1, frequency=0, value=0, social=0, "
                "weights=(40, 20, 20, 20))"
            ),
        ),
    ],
)
def test_repr_shows_the_total_first_and_weights_only_when_not_the_default(score, text):
    """The total, the four fractions, and the weights if they are not 25 each."""
    assert text == repr(score)


# -- the configuration -----------------------------------------------------------------


CONFIG_ERRORS = [
    (
        {"kinds": 5},
        "kinds",
        5,
        "kinds must map roles to event kinds, got 5",
    ),
    (
        {"kinds": {"purchases": ("order.paid",)}},
        "kinds.purchases",
        "purchases",
        "unknown role 'purchases'; roles are activity, purchase, refund, social",
    ),
    (
        {"kinds": {"social": [3]}},
        "kinds.social",
        [3],
        "kinds.social must be event kinds, got [3]",
    ),
    (
        {"kinds": {"refund": ""}},
        "kinds.refund",
        "",
        "kinds.refund must be event kinds, got ''",
    ),
    (
        {"kinds": {"activity": 7}},
        "kinds.activity",
        7,
        "kinds.activity must be event kinds, got 7",
    ),
    (
        {"max_networks": 0},
        "max_networks",
        0,
        "max_networks must be a whole number >= 1, got 0",
    ),
    (
        {"max_networks": True},
        "max_networks",
        True,
        "max_networks must be a whole number >= 1, got True",
    ),
    (
        {"max_networks": 2.0},
        "max_networks",
        2.0,
        "max_networks must be a whole number >= 1, got 2.0",
    ),
    (
        {"recency": AgingPolicy.by_count(0.5)},
        "recency",
        AgingPolicy.by_count(0.5),
        "recency must be a time-based AgingPolicy, got AgingPolicy.by_count(0.5)",
    ),
    (
        {"recency": "30 days"},
        "recency",
        "30 days",
        "recency must be a time-based AgingPolicy, got '30 days'",
    ),
    (
        {"frequency_window": "365 days"},
        "frequency_window",
        "365 days",
        "frequency_window must be a positive timedelta or None, got '365 days'",
    ),
    (
        {"frequency_window": -US},
        "frequency_window",
        -US,
        (
            "frequency_window must be a positive timedelta or None, got "
            "datetime.timedelta(days=-1, seconds=86399, microseconds=999999)"
        ),
    ),
]


@pytest.mark.parametrize(("kwargs", "path", "value", "reason"), CONFIG_ERRORS)
def test_a_bad_config_names_the_field_and_the_value(kwargs, path, value, reason):
    """Each bad argument of ActionScoreConfig: path, value and message."""
    assert reason == _refused(lambda: ActionScoreConfig(**kwargs), path, value)


def test_kinds_given_as_one_str_replace_that_role_only():
    """kinds={"social": "x.followed"}: that role is ("x.followed",); others default."""
    config = ActionScoreConfig(kinds={"social": "x.followed", "refund": ["a", "b"]})

    assert {
        "activity": ("contact.opted_in", "page.viewed", "order.paid"),
        "purchase": ("order.paid",),
        "refund": ("a", "b"),
        "social": ("x.followed",),
    } == dict(config.kinds)


def test_a_role_given_as_one_kind_reads_those_events():
    """activity="form.submitted": page views no longer count; form submissions do."""
    config = ActionScoreConfig(kinds={"activity": "form.submitted"})
    events = [
        Event("ann", "form.submitted", NOW - 30 * DAY),
        Event("ann", "page.viewed", NOW),
        Event("bob", "form.submitted", NOW),
        Event("bob", "form.submitted", NOW - DAY),
    ]
    scores = ls.action_scores(events, NOW, config)

    # ann: latest activity 30 days ago: 0.5 ** (30 / 30) = 0.5; 1 activity.
    # bob: latest today: 1.0; 2 activities. Ranks among [1, 2]: 0.5 and 1.0.
    assert (0.5, 0.5) == (scores["ann"].recency, scores["ann"].frequency)
    assert (1.0, 1.0) == (scores["bob"].recency, scores["bob"].frequency)


def test_another_network_attribute_and_fewer_networks_for_100_percent():
    """network="platform", max_networks=2: two distinct platforms are 100%."""
    config = ActionScoreConfig(network="platform", max_networks=2)
    events = [
        Event("ann", "social.connected", NOW, {"platform": "x", "network": "a"}),
        Event("ann", "social.connected", NOW, {"platform": "x", "network": "b"}),
        Event("bob", "social.connected", NOW, {"platform": "x"}),
        Event("bob", "social.connected", NOW, {"platform": "y"}),
    ]
    scores = ls.action_scores(events, NOW, config)

    # ann: one distinct platform of 2 = 0.5; bob: 2 of 2 = 1.0.
    assert (0.5, 1.0) == (scores["ann"].social, scores["bob"].social)


def test_a_frequency_window_of_one_day():
    """frequency_window=1 day counts activities at or after as_of - 1 day."""
    config = ActionScoreConfig(frequency_window=DAY)
    events = [
        Event("ann", "page.viewed", NOW),
        Event("ann", "page.viewed", NOW - DAY),  # on the edge: counts
        Event("bob", "page.viewed", NOW),
        Event("bob", "page.viewed", NOW - DAY - US),  # just outside
        Event("bob", "page.viewed", NOW - 2 * DAY),
    ]
    scores = ls.action_scores(events, NOW, config)

    # Counts ann 2, bob 1; ranks among [1, 2]: ann 1.0, bob 0.5.
    assert (1.0, 0.5) == (scores["ann"].frequency, scores["bob"].frequency)


def test_custom_weights_carry_into_action_scores():
    """The config's weights are every score's weights and make its total."""
    config = ActionScoreConfig(weights=[70, 10, 10, 10])
    events = [Event("ann", "page.viewed", NOW - 60 * DAY)]
    score = ls.action_scores(events, NOW, config)["ann"]

    # recency 0.5 ** (60 / 30) = 0.25; frequency 1/1 = 1.0; value, social 0.01.
    # 70 x 0.25 + 10 x 1.0 + 10 x 0.01 + 10 x 0.01 = 27.7, rounded up: 28.
    assert ((70, 10, 10, 10), 0.25, 28) == (score.weights, score.recency, score.total)


def test_a_linear_recency_reaches_the_floor():
    """recency=linear(10 days): 4 days old is 0.6, 10 days old is 0, floored at 1%."""
    config = ActionScoreConfig(recency=AgingPolicy.linear(days=10))
    events = [
        Event("ann", "page.viewed", NOW - 4 * DAY),
        Event("bob", "page.viewed", NOW - 10 * DAY),
    ]
    scores = ls.action_scores(events, NOW, config)

    assert (0.6, 0.01) == (scores["ann"].recency, scores["bob"].recency)


def test_a_frequency_window_longer_than_floats_count_microseconds():
    """A window of 300 years plus 1 µs still starts exactly at as_of - window.

    About 9.5e15 µs, beyond 2**53: a float cannot hold every such count of
    microseconds, so the start of the window must be computed in integers.
    """
    window = dt.timedelta(days=109_500, microseconds=1)
    config = ActionScoreConfig(frequency_window=window)
    events = [
        Event("ann", "page.viewed", NOW),
        Event("ann", "page.viewed", NOW - window),  # on the edge: counts
        Event("bob", "page.viewed", NOW),
        Event("bob", "page.viewed", NOW - window - US),  # just outside
    ]
    scores = ls.action_scores(events, NOW, config)

    # Counts ann 2, bob 1; ranks among [1, 2]: ann 1.0, bob 0.5.
    assert (1.0, 0.5) == (scores["ann"].frequency, scores["bob"].frequency)


def test_each_score_carries_the_raw_values_its_fractions_came_from():
    """recency_days, activities, spend and networks, as action_scores documents."""
    events = [
        Event("ann", "page.viewed", NOW - 10 * DAY),
        Event("ann", "page.viewed", NOW - 3 * DAY),
        Event("ann", "order.paid", NOW - 12 * DAY, value=19.99),
        Event("ann", "order.refunded", NOW - DAY, value=4.5),
        Event("ann", "social.connected", NOW, {"network": "x"}),
        Event("ann", "social.connected", NOW, {"network": "y"}),
        Event("ann", "social.connected", NOW, {"network": "z"}),
        Event("bob", "social.connected", NOW, {"network": "x"}),
    ]
    scores = ls.action_scores(events, NOW)
    ann, bob = scores["ann"], scores["bob"]

    # ann: latest activity 3 days ago; 3 activities (2 views, 1 purchase);
    # 19.99 - 4.5 = 15.49 net; 3 networks.
    assert (3.0, 3, Decimal("15.49"), 3) == (
        ann.recency_days,
        ann.activities,
        ann.spend,
        ann.networks,
    )
    # bob: no activity (no recency_days), none counted, no money, 1 network.
    assert (None, 0, 0, 1) == (
        bob.recency_days,
        bob.activities,
        bob.spend,
        bob.networks,
    )


@pytest.mark.parametrize("as_of", ["2025-01-01", dt.datetime(2025, 1, 1), 5])
def test_action_scores_name_an_as_of_that_is_not_an_aware_instant(as_of):
    """An as_of without a zone: InvalidEventError naming as_of and the value."""
    with pytest.raises(ls.InvalidEventError) as info:
        ls.action_scores([], as_of)

    assert ("as_of", as_of) == (info.value.field, info.value.value)
    assert str(info.value).startswith("as_of ")


@pytest.mark.parametrize(
    ("field", "bad"),
    [
        ("recency_days", -1),
        ("recency_days", float("inf")),
        ("recency_days", "3"),
        ("activities", 1.5),
        ("activities", True),
        ("activities", -1),
        ("spend", 5),
        ("spend", Decimal("NaN")),
        ("networks", -1),
        ("networks", 2.0),
    ],
)
def test_a_raw_value_of_the_wrong_kind_is_refused(field, bad):
    """A hand-built score's raw values: None or a number of the documented kind."""
    reason = _refused(lambda: _score(**{field: bad}), field, bad)

    assert reason.startswith(f"{field} must be None or ")
    assert reason.endswith(f", got {bad!r}")


def test_raw_values_in_range_are_kept_and_not_part_of_the_value():
    """Floats, zeros, a negative spend (refunds) are kept; == ignores them."""
    score = _score(recency_days=2.5, activities=0, spend=Decimal("-3.5"), networks=0)

    assert (2.5, 0, Decimal("-3.5"), 0) == (
        score.recency_days,
        score.activities,
        score.spend,
        score.networks,
    )
    assert _score() == score


def test_one_network_can_be_all_it_takes():
    """max_networks=1 is valid: one network is 100% social."""
    config = ActionScoreConfig(max_networks=1)
    events = [Event("ann", "social.connected", NOW, {"network": "x"})]

    assert 1.0 == ls.action_scores(events, NOW, config)["ann"].social
