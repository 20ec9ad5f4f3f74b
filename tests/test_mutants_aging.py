"""Aging policies: what the mutation run of ``model/_aging.py`` found unpinned.

docs/mutation.md lists the run. The errors are read whole (``path``, ``value``
and the message without the path); the rest pins the public ``weight()`` (its
default rank and the checks of its rank), ``expires_at``, the repr, and weights
at the edges of each policy, worked out by hand from the definitions in DESIGN.md.
"""

from __future__ import annotations

import datetime as dt

import pytest

import leadscore as ls
from leadscore import AgingPolicy
from leadscore.model._aging import AGING_KINDS
from leadscore.model._limits import MAX_DAYS, MAX_MONTHS

UTC = dt.UTC
T0 = dt.datetime(2024, 1, 10, 12, tzinfo=UTC)
DAY = dt.timedelta(days=1)
US = dt.timedelta(microseconds=1)


def _refused(make, path, value):
    """Call *make*; return the InvalidModelError's reason after checking path, value."""
    with pytest.raises(ls.InvalidModelError) as info:
        make()
    error = info.value
    assert (path, value) == (error.path, error.value)
    return error.reason


def _td(days):
    return dt.timedelta(days=days)


ERRORS = [
    # the named constructors' periods
    (
        lambda: AgingPolicy.expire_after(5),
        "period",
        5,
        "period must be a datetime.timedelta, got 5",
    ),
    (
        lambda: AgingPolicy.half_life("1 week"),
        "half_life",
        "1 week",
        "half_life must be a datetime.timedelta, got '1 week'",
    ),
    (
        lambda: AgingPolicy.linear(3),
        "over",
        3,
        "over must be a datetime.timedelta, got 3",
    ),
    (
        lambda: AgingPolicy.expire_after(days=MAX_DAYS + 1),
        "days",
        MAX_DAYS + 1,
        f"days must be a number within ±{MAX_DAYS}, got {MAX_DAYS + 1}",
    ),
    (
        lambda: AgingPolicy.half_life(days=-MAX_DAYS - 1),
        "days",
        -MAX_DAYS - 1,
        f"days must be a number within ±{MAX_DAYS}, got {-MAX_DAYS - 1}",
    ),
    (
        lambda: AgingPolicy.linear(days=True),
        "days",
        True,
        f"days must be a number within ±{MAX_DAYS}, got True",
    ),
    (
        lambda: AgingPolicy.linear(days="3"),
        "days",
        "3",
        f"days must be a number within ±{MAX_DAYS}, got '3'",
    ),
    (
        lambda: AgingPolicy.half_life(weeks=MAX_DAYS // 7 + 1),
        "weeks",
        MAX_DAYS // 7 + 1,
        f"weeks must be a number within ±{MAX_DAYS // 7}, got {MAX_DAYS // 7 + 1}",
    ),
    (
        lambda: AgingPolicy.expire_after(dt.timedelta.max, days=1),
        "period",
        dt.timedelta.max,
        f"period must be at most {MAX_DAYS} days, got {dt.timedelta.max!r}",
    ),
    # the fields
    (
        lambda: AgingPolicy("sometimes"),
        "kind",
        "sometimes",
        f"unknown aging kind 'sometimes'; use one of {', '.join(AGING_KINDS)}",
    ),
    (
        lambda: AgingPolicy(5),
        "kind",
        5,
        f"unknown aging kind 5; use one of {', '.join(AGING_KINDS)}",
    ),
    (
        lambda: AgingPolicy("expire_after", months=1.5),
        "months",
        1.5,
        "months must be a whole number, got 1.5",
    ),
    (
        lambda: AgingPolicy("expire_after", months=True),
        "months",
        True,
        "months must be a whole number, got True",
    ),
    (
        lambda: AgingPolicy("half_life", period=7),
        "period",
        7,
        "period must be a datetime.timedelta, got 7",
    ),
    (
        lambda: AgingPolicy("by_count", factor="0.5"),
        "factor",
        "0.5",
        "factor must be a number, got '0.5'",
    ),
    (
        lambda: AgingPolicy("by_count", factor=True),
        "factor",
        True,
        "factor must be a number, got True",
    ),
    (
        lambda: AgingPolicy("expire_after", months=-1),
        "months",
        -1,
        "months must not be negative, got -1",
    ),
    (
        lambda: AgingPolicy("expire_after", months=MAX_MONTHS + 1),
        "months",
        MAX_MONTHS + 1,
        f"months must be at most {MAX_MONTHS} (1,000 years), got {MAX_MONTHS + 1}",
    ),
    (
        lambda: AgingPolicy("linear", period=-US),
        "period",
        -US,
        f"period must not be negative, got {-US!r}",
    ),
    (
        lambda: AgingPolicy("linear", period=_td(MAX_DAYS) + US),
        "period",
        _td(MAX_DAYS) + US,
        (
            f"period must be at most {MAX_DAYS} days (1,000 years), "
            f"got {_td(MAX_DAYS) + US!r}"
        ),
    ),
    # the fields that do not fit the kind
    (
        lambda: AgingPolicy("half_life", months=1, period=DAY),
        "months",
        1,
        "months apply only to expire_after, not half_life",
    ),
    (
        AgingPolicy.expire_after,
        "period",
        dt.timedelta(0),
        "period must be positive, got datetime.timedelta(0)",
    ),
    (
        AgingPolicy.half_life,
        "period",
        dt.timedelta(0),
        "half_life must be positive, got datetime.timedelta(0)",
    ),
    (
        lambda: AgingPolicy.linear(days=0),
        "period",
        dt.timedelta(0),
        "over must be positive, got datetime.timedelta(0)",
    ),
    (
        lambda: AgingPolicy("never", period=DAY),
        "period",
        DAY,
        "a period does not apply to never",
    ),
    (
        lambda: AgingPolicy("by_count", period=DAY, factor=0.5),
        "period",
        DAY,
        "a period does not apply to by_count",
    ),
    *(
        (
            lambda f=f: AgingPolicy.by_count(f),
            "factor",
            f,
            f"by_count factor must be in (0, 1], got {f!r}",
        )
        for f in (0, -0.5, 1.0000001, 2)
    ),
    (
        lambda: AgingPolicy("half_life", period=DAY, factor=0.5),
        "factor",
        0.5,
        "a factor applies only to by_count, not half_life",
    ),
    (
        lambda: AgingPolicy("never", factor=0),
        "factor",
        0,
        "a factor applies only to by_count, not never",
    ),
]


@pytest.mark.parametrize(("make", "path", "value", "reason"), ERRORS)
def test_an_impossible_policy_names_the_field_and_the_value(make, path, value, reason):
    """Each bad argument: path, value and message."""
    assert reason == _refused(make, path, value)


@pytest.mark.parametrize(
    "make",
    [
        lambda: AgingPolicy("expire_after", months=MAX_MONTHS),
        lambda: AgingPolicy("linear", period=_td(MAX_DAYS)),
        lambda: AgingPolicy.expire_after(days=MAX_DAYS),
        lambda: AgingPolicy.half_life(weeks=MAX_DAYS // 7),
        lambda: AgingPolicy.expire_after(days=-1, weeks=1),
        lambda: AgingPolicy.expire_after(_td(MAX_DAYS + 10), days=-MAX_DAYS),
        lambda: AgingPolicy.linear(_td(MAX_DAYS), weeks=-(MAX_DAYS // 7)),
        lambda: AgingPolicy.by_count(1),
        lambda: AgingPolicy.expire_after(months=1),
    ],
)
def test_the_edges_of_the_ranges_are_accepted(make):
    """The longest periods, factor 1, and a negative part of a positive period."""
    assert isinstance(make(), AgingPolicy)


def test_a_by_count_factor_is_kept_as_a_float():
    """by_count(1) keeps the factor 1.0, a float."""
    factor = AgingPolicy.by_count(1).factor

    assert (1.0, float) == (factor, type(factor))


# -- weight(): rank ----------------------------------------------------------------


def test_weight_counts_no_later_action_by_default():
    """weight(at, as_of) is weight(at, as_of, rank=0): by_count gives 1."""
    halves = AgingPolicy.by_count(0.5)

    assert 1.0 == halves.weight(T0, T0 + DAY)
    assert 0.25 == halves.weight(T0, T0 + DAY, rank=2)


@pytest.mark.parametrize("rank", [-1, True, 1.0, "1", None])
def test_weight_refuses_a_rank_that_is_not_a_whole_number(rank):
    """A rank must be an int >= 0, not a bool: path "rank", the value, the message."""
    reason = _refused(
        lambda: AgingPolicy.by_count(0.5).weight(T0, T0, rank=rank), "rank", rank
    )

    assert f"rank must be a whole number >= 0, got {rank!r}" == reason


def test_weight_of_a_point_from_the_future_is_zero():
    """A point with at > as_of weighs 0 under every policy, never included."""
    for policy in (
        AgingPolicy.never(),
        AgingPolicy.by_count(1),
        AgingPolicy.half_life(days=1),
        AgingPolicy.linear(days=1),
        AgingPolicy.expire_after(days=1),
    ):
        assert 0.0 == policy.weight(T0 + US, T0)
        assert 1.0 == policy.weight(T0, T0)


@pytest.mark.parametrize(
    ("policy", "age", "expected"),
    [
        # half_life: a half per period of age
        (AgingPolicy.half_life(days=2), 2 * DAY, 0.5),
        (AgingPolicy.half_life(days=2), 6 * DAY, 0.125),
        # linear: from 1 down to 0 at age == over, then 0
        (AgingPolicy.linear(days=4), DAY, 0.75),
        (AgingPolicy.linear(days=4), 4 * DAY, 0.0),
        (AgingPolicy.linear(days=4), 5 * DAY, 0.0),
        # expire_after: 1 while age < period, then 0
        (AgingPolicy.expire_after(days=4), 4 * DAY - US, 1.0),
        (AgingPolicy.expire_after(days=4), 4 * DAY, 0.0),
        (AgingPolicy.never(), 10_000 * DAY, 1.0),
    ],
)
def test_weight_follows_the_definition(policy, age, expected):
    """half_life, linear, expire_after and never at a few ages."""
    assert expected == policy.weight(T0, T0 + age)


# -- expires_at and repr ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("policy", "expected"),
    [
        (AgingPolicy.expire_after(days=3), T0 + 3 * DAY),
        # Jan 10 + 1 month = Feb 10, + 1 day = Feb 11
        (AgingPolicy.expire_after(months=1, days=1), T0.replace(month=2, day=11)),
        (AgingPolicy.linear(days=3), T0 + 3 * DAY),
        (AgingPolicy.half_life(days=3), None),
        (AgingPolicy.never(), None),
        (AgingPolicy.by_count(0.5), None),
    ],
)
def test_expires_at_is_the_first_instant_of_weight_zero(policy, expected):
    """expire_after and linear end at at + period; the others never reach 0."""
    assert expected == policy.expires_at(T0)


def test_an_expiry_past_the_year_9999_is_none():
    """No instant in range: expires_at is None."""
    late = dt.datetime(9999, 12, 1, tzinfo=UTC)

    assert AgingPolicy.expire_after(months=1).expires_at(late) is None
    assert AgingPolicy.linear(days=31).expires_at(late) is None


@pytest.mark.parametrize(
    ("policy", "text"),
    [
        (AgingPolicy.never(), "AgingPolicy.never()"),
        (AgingPolicy.by_count(0.5), "AgingPolicy.by_count(0.5)"),
        (AgingPolicy.expire_after(months=6), "AgingPolicy.expire_after(months=6)"),
        (
            AgingPolicy.expire_after(months=6, days=3),
            "AgingPolicy.expire_after(months=6, days=3)",
        ),
        (AgingPolicy.linear(weeks=1, days=1), "AgingPolicy.linear(days=8)"),
        (
            AgingPolicy.half_life(dt.timedelta(hours=12)),
            "AgingPolicy.half_life(period=datetime.timedelta(seconds=43200))",
        ),
        (
            AgingPolicy.expire_after(dt.timedelta(days=1, hours=1)),
            "AgingPolicy.expire_after(period=datetime.timedelta(days=1, seconds=3600))",
        ),
    ],
)
def test_repr_is_the_named_constructor_call(policy, text):
    """The repr names the constructor and the months, days or exact period."""
    assert text == repr(policy)


@pytest.mark.parametrize(
    ("policy", "uses_rank", "is_step"),
    [
        (AgingPolicy.never(), False, True),
        (AgingPolicy.expire_after(days=1), False, True),
        (AgingPolicy.half_life(days=1), False, False),
        (AgingPolicy.linear(days=1), False, False),
        (AgingPolicy.by_count(0.5), True, False),
    ],
)
def test_only_by_count_uses_the_rank_and_only_never_and_expiry_are_steps(
    policy, uses_rank, is_step
):
    """uses_rank: the weight depends on later actions; is_step: it is 0 or 1."""
    assert (uses_rank, is_step) == (policy.uses_rank, policy.is_step)


@pytest.mark.parametrize(
    ("at", "as_of", "field", "value"),
    [
        ("2024-01-10", T0, "at", "2024-01-10"),
        (T0, "2024-01-10", "as_of", "2024-01-10"),
        (T0.replace(tzinfo=None), T0, "at", T0.replace(tzinfo=None)),
        (T0, 5, "as_of", 5),
    ],
)
def test_weight_names_the_instant_that_is_not_aware(at, as_of, field, value):
    """A naive or offset-less at or as_of: InvalidEventError naming the field."""
    with pytest.raises(ls.InvalidEventError) as info:
        AgingPolicy.never().weight(at, as_of)

    assert (field, value, None) == (
        info.value.field,
        info.value.value,
        info.value.where,
    )
    assert str(info.value).startswith(f"{field} ")


def test_expiry_of_a_period_longer_than_floats_count_microseconds():
    """A 300-year period plus 1 µs still ends exactly at at + period.

    300 years is about 9.5e15 µs, beyond 2**53: a float cannot hold every such
    count of microseconds, so the expiry must be computed in integers.
    """
    period = dt.timedelta(days=109_500, microseconds=1)
    policy = AgingPolicy.expire_after(period)

    assert (1.0, 0.0) == (
        policy.weight(T0, T0 + period - US),
        policy.weight(T0, T0 + period),
    )
