"""Aging policies: weights, boundaries and validation."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
from dateutil.relativedelta import relativedelta
from hypothesis import given
from hypothesis import strategies as st

import leadscore as ls
from leadscore.model._aging import BEYOND_US, end_us, expiry_window, kernel, weigher
from leadscore.model._events import to_micros
from leadscore.model._limits import MAX_DAYS, MAX_MONTHS
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
    lo, hi, alive = expiry_window(policy, to_micros(as_of))
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
            r"days must be a number within ±366000, got inf",
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
    end = end_us(policy)
    expected = policy.expires_at(at)
    if end is None:
        assert expected is None
    else:
        assert to_micros(expected) == end(to_micros(at))


# -- ranges and the edges of time ------------------------------------------------------

LOW = dt.datetime.min.replace(tzinfo=UTC)
HIGH = dt.datetime.max.replace(tzinfo=UTC)
EXTREMES = (LOW, LOW + dt.timedelta(days=45), HIGH - dt.timedelta(days=45), HIGH)
POLICIES = {
    "expire_after days": ls.AgingPolicy.expire_after(days=30),
    "expire_after months": ls.AgingPolicy.expire_after(months=6),
    "expire_after longest": ls.AgingPolicy.expire_after(
        months=MAX_MONTHS, days=MAX_DAYS
    ),
    "half_life": ls.AgingPolicy.half_life(days=7),
    "half_life longest": ls.AgingPolicy.half_life(days=MAX_DAYS),
    "linear": ls.AgingPolicy.linear(days=10),
    "linear longest": ls.AgingPolicy.linear(days=MAX_DAYS),
    "by_count": ls.AgingPolicy.by_count(0.5),
    "never": ls.AgingPolicy.never(),
    "inverse": ls.AgingPolicy.inverse(days=7),
    "inverse longest": ls.AgingPolicy.inverse(days=MAX_DAYS),
    "steps": ls.AgingPolicy.steps(
        [(dt.timedelta(days=20), 0.5), (relativedelta(months=1), 0.0)]
    ),
    "steps longest": ls.AgingPolicy.steps(
        [
            (relativedelta(months=MAX_MONTHS), 0.5),
            (relativedelta(months=MAX_MONTHS, days=MAX_DAYS), 0.0),
        ]
    ),
}


@pytest.mark.parametrize(
    ("make", "path", "value"),
    [
        (lambda: ls.AgingPolicy.expire_after(months=1_000_000), "months", 1_000_000),
        (lambda: ls.AgingPolicy.expire_after(months=MAX_MONTHS + 1), "months", None),
        (lambda: ls.AgingPolicy.expire_after(days=MAX_DAYS + 1), "days", MAX_DAYS + 1),
        (
            lambda: ls.AgingPolicy.expire_after(dt.timedelta(days=MAX_DAYS), days=1),
            "period",
            dt.timedelta(days=MAX_DAYS + 1),
        ),
        (lambda: ls.AgingPolicy.expire_after(days=1e300), "days", 1e300),
        (lambda: ls.AgingPolicy.half_life(weeks=10**400), "weeks", 10**400),
        (lambda: ls.AgingPolicy.half_life(days=float("nan")), "days", None),
        (
            lambda: ls.AgingPolicy.linear(dt.timedelta.max),
            "period",
            dt.timedelta.max,
        ),
        (
            lambda: ls.AgingPolicy.linear(dt.timedelta.max, days=1),
            "over",
            dt.timedelta.max,
        ),
        (lambda: ls.AgingPolicy.by_count(10**5000), "factor", None),
        (lambda: ls.AgingPolicy.by_count(-0.5), "factor", -0.5),
        (lambda: ls.AgingPolicy.by_count(factor=True), "factor", True),
        (lambda: ls.AgingPolicy(["never"]), "kind", ["never"]),
    ],
)
def test_out_of_range_policies_name_the_field_and_value(make, path, value):
    """Periods beyond 1,000 years, huge or NaN numbers: InvalidModelError, no crash."""
    with pytest.raises(ls.InvalidModelError) as info:
        make()
    assert path == info.value.path
    if value is not None:
        assert value == info.value.value
    assert len(str(info.value)) < 500


def test_the_longest_periods_are_accepted():
    """MAX_MONTHS months and MAX_DAYS days are inside the range."""
    policy = ls.AgingPolicy.expire_after(months=MAX_MONTHS, days=MAX_DAYS)
    assert (MAX_MONTHS, dt.timedelta(days=MAX_DAYS)) == (policy.months, policy.period)


@pytest.mark.parametrize("name", POLICIES)
def test_aging_works_at_the_edges_of_time(name):
    """weight, kernel, weigher, expiry_window, end_us and expires_at never raise."""
    policy = POLICIES[name]
    weigh, end = kernel(policy), end_us(policy)
    for at, as_of in itertools.product(EXTREMES, EXTREMES):
        at_us, as_of_us = to_micros(at), to_micros(as_of)
        w = policy.weight(at, as_of, 3)
        assert 0.0 <= w <= 1.0
        if at > as_of:
            continue
        assert w == weigh(at_us, 3, as_of_us) == weigher(policy, as_of_us)(at_us, 3)
        expiry = policy.expires_at(at)
        if policy.is_step and name != "never":
            assert (w == 1.0) == (expiry is None or as_of < expiry)
            lo, hi, alive = expiry_window(policy, as_of_us)
            assert (w == 1.0) == alive(at_us)
            assert not (at_us <= lo and w == 1.0)
            assert not (at_us > hi and w == 0.0)
        if end is not None:
            stop = end(at_us)
            assert stop <= BEYOND_US
            assert (expiry is None) == (stop == BEYOND_US)
            if expiry is not None:
                assert to_micros(expiry) == stop


def test_a_point_whose_expiry_is_past_the_year_9999_never_expires():
    """expire_after(months=1) of an event in December 9999 weighs 1 to the end."""
    at = dt.datetime(9999, 12, 5, tzinfo=UTC)
    month = ls.AgingPolicy.expire_after(months=1)
    assert month.expires_at(at) is None
    assert 1.0 == month.weight(at, HIGH)
    assert BEYOND_US == end_us(month)(to_micros(at))
    assert 0.0 == month.weight(LOW, HIGH)
    assert 1.0 == month.weight(LOW, LOW + dt.timedelta(days=30))


@pytest.mark.parametrize("name", POLICIES)
@pytest.mark.parametrize("at", [LOW, HIGH], ids=["year 1", "year 9999"])
def test_scoring_at_the_edges_of_time_never_raises(name, at):
    """Score and explain events at 0001-01-01 and 9999-12-31 under every policy."""
    model = ls.ScoringModel("m", [ls.Rule("k", 10)], aging=POLICIES[name])
    events = [ls.Event("a", "k", at, id="e1"), ls.Event("a", "k", LOW, id="e0")]
    for as_of in (LOW, HIGH):
        scores = ls.score(model, events, as_of)
        rows = ls.explain(model, events, "a", as_of)
        assert set(scores) == {"a"}
        assert scores["a"] == pytest.approx(sum(r.effective for r in rows))


@pytest.mark.parametrize("name", list(POLICIES))
def test_timelines_and_crossings_at_the_edges_of_time_never_raise(name):
    """Timelines and crossings of events at 0001-01-01 and 9999-12-31 never raise."""
    model = ls.ScoringModel("m", [ls.Rule("k", 10)], aging=POLICIES[name])
    events = [ls.Event("a", "k", HIGH, id="e1"), ls.Event("a", "k", LOW, id="e0")]
    assert ls.timeline(model, events, "a")[-1][0] <= HIGH
    assert ls.timeline(model, events, "a", end=HIGH)[-1][0] <= HIGH
    for first_only in (True, False):
        for until in (None, HIGH):
            found = ls.crossings(model, events, 5, first_only=first_only, until=until)
            assert all(c.at <= HIGH for c in found)
