"""Aging policies: weights, boundaries and validation."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

import leadscore as ls
from leadscore._events import to_micros
from leadscore.strategies import EDGE_INSTANTS, aging_policies, instants

from . import reference

UTC = dt.UTC


def test_expiry_is_exact_at_every_month_end_combination():
    """expire_after(months) agrees with as_of < at + months at every edge instant."""
    hours = [dt.timedelta(hours=h) for h in (0, 10, 12, 23)]
    ats = [t + h - dt.timedelta(hours=t.hour) for t in EDGE_INSTANTS for h in hours]
    for months in range(1, 14):
        policy = ls.AgingPolicy.expire_after(months=months)
        for at, as_of in itertools.product(ats, EDGE_INSTANTS + tuple(ats)):
            if at <= as_of:
                expected = reference.weight(policy, at, as_of, 0)
                assert expected == policy.weight(at, as_of), (months, at, as_of)


@given(aging_policies(), instants(), instants(), st.integers(0, 50))
def test_weight_is_the_literal_definition(policy, at, as_of, rank):
    """weight() equals the design card's formula, and lies in [0, 1]."""
    w = policy.weight(at, as_of, rank)
    assert 0.0 <= w <= 1.0
    expected = reference.weight(policy, at, as_of, rank) if at <= as_of else 0.0
    assert expected == pytest.approx(w, rel=1e-12, abs=1e-12)


@given(st.integers(1, 24), instants(), instants())
def test_expiry_window_brackets_the_exact_answer(months, at, as_of):
    """Outside (lo, hi] the window decides alone, and it decides right."""
    policy = ls.AgingPolicy.expire_after(months=months, days=1)
    lo, hi, alive = policy.expiry_window(to_micros(as_of))
    literal = as_of < policy.expires_at(at)
    t = to_micros(at)
    assert literal == alive(t)
    if t <= lo:
        assert not literal
    if t > hi:
        assert literal


def test_expiry_boundary_is_exclusive():
    """A point expiring at at + P counts just before and is gone at that instant."""
    policy = ls.AgingPolicy.expire_after(days=30)
    at = dt.datetime(2024, 5, 1, 9, tzinfo=UTC)
    assert policy.weight(at, at + dt.timedelta(days=30, microseconds=-1)) == 1.0
    assert policy.weight(at, at + dt.timedelta(days=30)) == 0.0


def test_calendar_months_clip_to_the_month_end():
    """Aug 31 + 6 months is Feb 28 (Feb 29 in a leap year)."""
    six = ls.AgingPolicy.expire_after(months=6)
    assert dt.datetime(2025, 2, 28, tzinfo=UTC) == six.expires_at(
        dt.datetime(2024, 8, 31, tzinfo=UTC)
    )
    assert dt.datetime(2024, 2, 29, tzinfo=UTC) == six.expires_at(
        dt.datetime(2023, 8, 31, tzinfo=UTC)
    )


def test_half_life_halves_and_linear_reaches_zero():
    """half_life halves per period; linear is 0 from at + over on."""
    at = dt.datetime(2024, 1, 1, tzinfo=UTC)
    assert 0.5 == ls.AgingPolicy.half_life(days=10).weight(
        at, at + dt.timedelta(days=10)
    )
    linear = ls.AgingPolicy.linear(weeks=1)
    assert 0.5 == linear.weight(at, at + dt.timedelta(days=3.5))
    assert 0.0 == linear.weight(at, at + dt.timedelta(days=7))
    assert 0.0 == linear.weight(at, at + dt.timedelta(days=70))


def test_by_count_uses_the_rank():
    """by_count keeps factor ** rank."""
    at = dt.datetime(2024, 1, 1, tzinfo=UTC)
    assert 0.5**3 == ls.AgingPolicy.by_count(0.5).weight(at, at, rank=3)
    assert 1.0 == ls.AgingPolicy.by_count(1.0).weight(at, at, rank=30)


def test_a_future_point_weighs_nothing():
    """At > as_of weighs 0."""
    at = dt.datetime(2024, 1, 2, tzinfo=UTC)
    assert 0.0 == ls.AgingPolicy.never().weight(at, at - dt.timedelta(seconds=1))


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (
            lambda: ls.AgingPolicy.half_life(dt.timedelta(0)),
            "half_life must be positive",
        ),
        (lambda: ls.AgingPolicy.half_life(days=-1), "must not be negative"),
        (ls.AgingPolicy.linear, "over must be positive"),
        (ls.AgingPolicy.expire_after, "period must be positive"),
        (lambda: ls.AgingPolicy.expire_after(months=-6), "months must not be negative"),
        (
            lambda: ls.AgingPolicy.expire_after(months=1.5),
            "months must be a whole number",
        ),
        (lambda: ls.AgingPolicy.by_count(0), r"factor must be in \(0, 1\], got 0"),
        (lambda: ls.AgingPolicy.by_count(1.5), r"factor must be in \(0, 1\], got 1.5"),
        (lambda: ls.AgingPolicy.by_count(float("nan")), "factor must be in"),
        (lambda: ls.AgingPolicy("decay"), "unknown aging kind 'decay'"),
        (
            lambda: ls.AgingPolicy.half_life(days=float("inf")),
            "days must be a finite number",
        ),
    ],
)
def test_impossible_policies_are_rejected(make, match):
    """Non-positive periods and factors outside (0, 1] raise InvalidModelError."""
    with pytest.raises(ls.InvalidModelError, match=match):
        make()


def test_weight_rejects_naive_datetimes():
    """weight() needs aware instants."""
    with pytest.raises(ls.InvalidEventError, match="as_of must be timezone-aware"):
        ls.AgingPolicy.never().weight("2024-01-01T00:00Z", dt.datetime(2024, 1, 2))


@given(aging_policies(), instants())
def test_end_us_is_the_exact_expiry(policy, at):
    """end_us agrees with expires_at, to the microsecond."""
    end = policy.end_us()
    expected = policy.expires_at(at)
    if end is None:
        assert expected is None
    else:
        assert to_micros(expected) == end(to_micros(at))
