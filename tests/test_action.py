"""The Action Score's range (seed 000) and the raw values beside its fractions."""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

import leadscore as ls
from leadscore import ActionScore, Event

T0 = dt.datetime(2024, 6, 1, tzinfo=dt.UTC)
DAY = dt.timedelta(days=1)

# Seed 000: "The Action Score can be any number between 1 - 100."


def test_a_score_of_all_zero_fractions_is_1_not_0():
    """'any number between 1 - 100': nothing at all is still 1."""
    zero = ActionScore(recency=0, frequency=0, value=0, social=0)
    assert Decimal(0) == zero.exact
    assert 1 == zero.total
    assert 1 == ActionScore(recency=0.0, frequency=0.0, value=0.0, social=0.0).total


def test_a_sum_just_above_zero_rounds_up_to_1():
    """'The average number would then be rounded up': 0.25 is 1, like 0."""
    assert 1 == ActionScore(recency=0.01, frequency=0, value=0, social=0).total


# Four weights adding up to exactly 100 (whole or in hundredths), and fractions with
# up to four decimals, as the seed's percentages print.
WEIGHTS = (
    st.lists(st.integers(0, 10_000), min_size=3, max_size=3)
    .map(sorted)
    .map(lambda c: [b - a for a, b in zip([0, *c], [*c, 10_000], strict=True)])
    .map(lambda parts: tuple(p / 100 if p % 100 else p // 100 for p in parts))
)
FRACTIONS = st.integers(0, 10_000).map(lambda n: n / 10_000)


@given(WEIGHTS, FRACTIONS, FRACTIONS, FRACTIONS, FRACTIONS)
def test_every_total_is_between_1_and_100(weights, r, f, v, s):
    """'any number between 1 - 100', whatever the fractions and the weights."""
    score = ActionScore(recency=r, frequency=f, value=v, social=s, weights=weights)
    assert 1 <= score.total <= 100
    exact = sum(
        Fraction(repr(w)) * Fraction(repr(x))
        for w, x in zip(weights, (r, f, v, s), strict=True)
    )
    assert max(1, math.ceil(exact)) == score.total  # the sum rounded up, at least 1


def test_weights_must_add_up_to_exactly_100():
    """100 plus a tiny part is not 100: the check is exact, so totals stay <= 100."""
    with pytest.raises(ls.InvalidModelError, match="weights must add up to 100"):
        ActionScore(
            recency=1, frequency=1, value=0, social=0, weights=(100, 1e-30, 0, 0)
        )
    assert 100 == (
        ActionScore(
            recency=1, frequency=1, value=1, social=1, weights=(33.3, 33.3, 33.4, 0)
        ).total
    )


def test_action_scores_carry_the_raw_values_of_each_category():
    """Days since the latest activity, activities counted, net spend, networks."""
    events = [
        Event("ann", "contact.opted_in", T0 - 30 * DAY),
        Event("ann", "page.viewed", T0 - dt.timedelta(days=2, hours=12)),
        Event("ann", "order.paid", T0 - 10 * DAY, value=0.1),
        Event("ann", "order.paid", T0 - 10 * DAY, value=0.2),
        Event("ann", "order.refunded", T0 - 5 * DAY, value=0.05),
        Event("ann", "social.connected", T0, {"network": "x"}),
        Event("ann", "social.connected", T0, {"network": "x"}),
        Event("ann", "social.connected", T0, {"network": "linkedin"}),
        Event("bob", "email.opened", T0),
    ]
    scores = ls.action_scores(events, T0)
    ann, bob = scores["ann"], scores["bob"]
    assert (2.5, 4, Decimal("0.25"), 2) == (
        ann.recency_days,
        ann.activities,
        ann.spend,
        ann.networks,
    )
    assert (None, 0, Decimal(0), 0) == (
        bob.recency_days,
        bob.activities,
        bob.spend,
        bob.networks,
    )


def test_the_raw_values_are_not_part_of_the_scores_value():
    """A score built by hand from the same fractions is equal, raw values or not."""
    events = [Event("ann", "order.paid", T0, value=10.0)]
    found = ls.action_scores(events, T0)["ann"]
    by_hand = ActionScore(
        recency=found.recency,
        frequency=found.frequency,
        value=found.value,
        social=found.social,
    )
    assert (None, None, None, None) == (
        by_hand.recency_days,
        by_hand.activities,
        by_hand.spend,
        by_hand.networks,
    )
    assert by_hand == found
    assert hash(by_hand) == hash(found)


@pytest.mark.parametrize(
    ("field", "value", "match"),
    [
        ("recency_days", -1.0, "recency_days must be None or a number >= 0"),
        ("recency_days", float("inf"), "recency_days must be None or a number"),
        ("activities", 1.5, "activities must be None or a whole number >= 0"),
        ("activities", True, "activities must be None or a whole number"),
        ("spend", 3.0, "spend must be None or a finite Decimal, got 3.0"),
        ("spend", Decimal("NaN"), "spend must be None or a finite Decimal"),
        ("networks", -1, "networks must be None or a whole number >= 0, got -1"),
    ],
)
def test_bad_raw_values_raise(field, value, match):
    """A raw value of the wrong type or sign raises, naming the field."""
    with pytest.raises(ls.InvalidModelError, match=match):
        ActionScore(recency=1, frequency=1, value=1, social=1, **{field: value})


def test_value_ranks_exact_spend_so_point_one_plus_point_two_ties_point_three():
    """0.1 + 0.2 and 0.3 are equal spend: the same value fraction."""
    events = [
        Event("a", "order.paid", T0, value=0.1),
        Event("a", "order.paid", T0, value=0.2),
        Event("b", "order.paid", T0, value=0.3),
        *(Event(f"c{i}", "order.paid", T0, value=float(i)) for i in range(1, 4)),
    ]
    scores = ls.action_scores(events, T0)
    # a and b are the two lowest spenders of five: both at most 0.3 -> 2/5.
    assert 0.4 == scores["a"].value == scores["b"].value
    assert Decimal("0.3") == scores["a"].spend == scores["b"].spend
