"""Conditions: operators, combinators and validation."""

from __future__ import annotations

import pytest

import leadscore as ls
from leadscore import VALUE, where


def event(**attrs):
    return ls.Event("ann", "page.viewed", "2024-05-01T00:00:00Z", attrs, value=120.0)


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        (where("path", eq="/pricing"), True),
        (where("path", ne="/pricing"), False),
        (where("missing", eq=None), True),
        (where("missing", ne="x"), True),
        (where("campaign", contains="newsletter"), True),
        (where("tags", contains="vip"), True),
        (where("path", startswith="/pri"), True),
        (where("path", endswith="cing"), True),
        (where("path", in_=("/pricing", "/demo")), True),
        (where("visits", gt=3), True),
        (where("visits", ge=4), True),
        (where("visits", lt=4), False),
        (where("visits", le=4), True),
        (where("path", gt=3), False),
        (where("missing", gt=3), False),
        (where("missing", exists=True), False),
        (where("path", exists=True), True),
        (where(VALUE, ge=100), True),
        (where(VALUE, lt=100), False),
        (where("visits", ge=1, lt=10), True),
        (where("path", eq="/pricing") & ~where("path", eq="/unsubscribe"), True),
        (where("path", eq="/blog") | where("visits", gt=1), True),
        (~where("path", eq="/pricing"), False),
    ],
)
def test_operators(condition, expected):
    """Each operator tests what its name says; a missing key never crashes."""
    e = event(path="/pricing", campaign="May newsletter", tags=("vip", "b2b"), visits=4)
    assert expected == condition(e)


def test_value_cannot_collide_with_an_attribute_named_value():
    """VALUE addresses Event.value, 'value' an attribute."""
    e = event(value="from attrs")
    assert where(VALUE, eq=120.0)(e)
    assert where("value", eq="from attrs")(e)


def test_double_negation_cancels():
    """~~c is c."""
    c = where("path", eq="/x")
    assert c == ~~c


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda: where("path"), r"where\('path'\) needs an operator"),
        (lambda: where("path", like="x"), "unknown operator 'like'"),
        (lambda: where("", eq="x"), "key must be a non-empty str"),
        (lambda: where("path", startswith=3), "startswith takes a str, got 3"),
        (lambda: where("path", in_="abc"), "in_ takes a list or tuple"),
        (lambda: where("path", gt=None), "gt takes a number or a str, got None"),
        (lambda: where("path", exists="yes"), "exists takes True or False"),
        (lambda: where("path", eq=float("nan")), "cannot compare with NaN"),
        (lambda: where("path", eq=object()), "eq takes str, int"),
    ],
)
def test_bad_conditions_raise_invalid_model_error(make, match):
    """Unknown operators and bad operands are rejected with the value."""
    with pytest.raises(ls.InvalidModelError, match=match):
        make()
