"""numpy and pandas scalars are accepted wherever a number is, as plain numbers."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

import leadscore as ls
from leadscore import config

np = pytest.importorskip("numpy")
pd = pytest.importorskip("pandas")

AT = "2024-05-01T10:00:00Z"
INT64 = st.integers(-(2**63), 2**63 - 1)
FLOATS = st.floats(allow_nan=False, allow_infinity=False)


@given(INT64, FLOATS, st.booleans())
def test_numpy_attrs_make_the_same_event_as_plain_ones(n, x, flag):
    """np.int64, np.float64 and np.bool_ attributes equal int, float and bool."""
    plain = ls.Event("ann", "page.viewed", AT, {"n": n, "x": x, "b": flag, "t": [n]})
    foreign = ls.Event(
        "ann",
        "page.viewed",
        AT,
        {"n": np.int64(n), "x": np.float64(x), "b": np.bool_(flag), "t": [np.int64(n)]},
    )
    assert plain == foreign
    assert hash(plain) == hash(foreign)
    assert [int, float, bool, tuple] == [type(v) for v in foreign.attrs.values()]
    assert type(foreign.attrs["t"][0]) is int


@given(st.integers(-(10**6), 10**6), st.floats(-1e6, 1e6))
def test_numpy_values_are_plain_floats(n, x):
    """Event.value accepts np.int64, np.int32, np.float32 and np.float64 as floats."""
    for given_value, expected in (
        (np.int64(n), float(n)),
        (np.int32(n), float(n)),
        (np.float64(x), x),
        (np.float32(x), float(np.float32(x))),
    ):
        event = ls.Event("ann", "order.paid", AT, value=given_value)
        assert expected == event.value
        assert type(event.value) is float


def test_a_dataframe_row_builds_an_event():
    """The scalars a pandas DataFrame hands out (np.int64, np.str_ ...) just work."""
    frame = pd.DataFrame(
        {
            "contact": ["ann"],
            "kind": ["order.paid"],
            "at": pd.to_datetime(["2024-05-01T10:00:00.000001Z"]),
            "value": [19.99],
            "qty": [3],
            "gift": [True],
            "id": [7],
        }
    )
    row = frame.iloc[0]
    event = ls.Event(
        row["contact"],
        row["kind"],
        row["at"],
        {"qty": row["qty"], "gift": row["gift"]},
        value=row["value"],
        id=row["id"],
    )
    expected = ls.Event(
        "ann",
        "order.paid",
        dt.datetime(2024, 5, 1, 10, 0, 0, 1, tzinfo=dt.UTC),
        {"qty": 3, "gift": True},
        value=19.99,
        id="7",
    )
    assert expected == event
    assert type(event.at) is dt.datetime
    assert "Event('ann', 'order.paid', '2024-05-01T10:00:00.000001+00:00'" in repr(
        event
    )


def test_numpy_strings_are_stored_as_str():
    """np.str_ contact, kind, id and attributes become plain str."""
    event = ls.Event(
        np.str_("ann"),
        np.str_("page.viewed"),
        AT,
        {"p": np.str_("/x")},
        id=np.str_("1"),
    )
    assert [str, str, str, str] == [
        type(v) for v in (event.contact, event.kind, event.id, event.attrs["p"])
    ]


def test_model_numbers_accept_numpy_scalars():
    """Points, limits, caps, bounds, aging periods and scale cuts take numpy."""
    rule = ls.Rule(
        "page.viewed",
        np.int64(5),
        limit=np.float32(20),
        at_most=ls.Frequency(np.int64(3), "day"),
        when=ls.where("n", ge=np.int64(2)) & ls.where("b", eq=np.True_),
    )
    expected = ls.Rule(
        "page.viewed",
        5,
        limit=20,
        at_most=ls.Frequency(3, "day"),
        when=ls.where("n", ge=2) & ls.where("b", eq=True),
    )
    assert expected == rule
    model = ls.ScoringModel(
        "m",
        [rule],
        initial=np.float64(1),
        bounds=(np.int64(0), np.int64(100)),
        aging=ls.AgingPolicy.expire_after(months=np.int64(6), days=np.int64(3)),
    )
    # The model serialises as plain numbers (no numpy types leak into JSON).
    assert model == config.from_json(config.to_json(model))
    assert ls.AgingPolicy.by_count(0.5) == ls.AgingPolicy.by_count(np.float32(0.5))
    assert ls.AgingPolicy.half_life(days=1.5) == ls.AgingPolicy.half_life(
        days=np.float64(1.5)
    )
    assert ls.AgingPolicy.steps([(dt.timedelta(days=7), 0.5)]) == ls.AgingPolicy.steps(
        [(dt.timedelta(days=7), np.float32(0.5))]
    )
    assert 4 == ls.RatingScale(np.array([2, 3, 4, 5])[:].tolist()).rate(np.float32(4.5))
    assert 4 == ls.RatingScale((np.int64(2), 3, 4, 5)).rate(np.float32(4.5))


def test_scores_with_numpy_input_equal_scores_with_plain_input():
    """A DataFrame's numbers score exactly as the same Python numbers do."""
    model = ls.ScoringModel(
        "m", [ls.Rule("order.paid", 10, when=ls.where(ls.VALUE, ge=np.int64(50)))]
    )
    frame = pd.DataFrame({"contact": ["ann", "bob"], "value": [60, 40]})
    foreign = [
        ls.Event(row.contact, "order.paid", AT, value=row.value)
        for row in frame.itertuples()
    ]
    plain = [
        ls.Event("ann", "order.paid", AT, value=60),
        ls.Event("bob", "order.paid", AT, value=40),
    ]
    assert ls.score(model, plain, "2024-06-01T00:00Z") == ls.score(
        model, foreign, "2024-06-01T00:00Z"
    )


def test_other_real_numbers_are_accepted():
    """Fraction and Decimal are numbers too (as the float nearest to them)."""
    assert 0.25 == ls.Event("a", "k", AT, value=Fraction(1, 4)).value
    assert 19.99 == ls.Event("a", "k", AT, value=Decimal("19.99")).value
    assert 2.5 == ls.Rule("k", Decimal("2.5")).points


@pytest.mark.parametrize(
    ("value", "kind"),
    [
        (np.True_, "bool"),
        (pd.NA, "NAType"),
        (np.array([1, 2]), "ndarray"),
        (np.datetime64("2024-01-01"), "datetime64"),
        (Decimal("NaN"), "Decimal"),
    ],
)
def test_what_is_not_a_number_is_still_refused(value, kind):
    """Booleans, NA, arrays and non-numbers are refused, naming the type."""
    with pytest.raises(ls.InvalidEventError, match="value must be"):
        ls.Event("a", "k", AT, value=value)
    with pytest.raises(ls.InvalidModelError, match="points"):
        ls.Rule("k", value)
    if kind != "Decimal":
        with pytest.raises(ls.InvalidEventError, match=kind):
            ls.Event("a", "k", AT, value=value)


def test_numpy_nan_in_an_attribute_is_refused_like_nan():
    """np.float32('nan') is NaN: refused with the same message as float('nan')."""
    with pytest.raises(ls.InvalidEventError, match="NaN"):
        ls.Event("a", "k", AT, {"x": np.float32("nan")})
    with pytest.raises(ls.InvalidEventError, match="NaN"):
        ls.Event("a", "k", AT, {"x": np.float64("nan")})
