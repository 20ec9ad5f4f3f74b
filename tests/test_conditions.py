"""Conditions: operators, combinators and validation."""

from __future__ import annotations

import pickle

import attrs
import pytest

import leadscore as ls
from leadscore import VALUE, All, AnyOf, Not, where
from leadscore.model._limits import MAX_CONDITION_DEPTH


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


# -- booleans are not numbers ------------------------------------------------------


@pytest.mark.parametrize(
    ("condition", "attrs", "expected"),
    [
        (where("x", eq=1), {"x": True}, False),
        (where("x", eq=0), {"x": False}, False),
        (where("x", eq=0.0), {"x": False}, False),
        (where("x", eq=True), {"x": 1}, False),
        (where("x", eq=True), {"x": True}, True),
        (where("x", eq=1), {"x": 1.0}, True),
        (where("x", eq=1.0), {"x": 1}, True),
        (where("x", ne=1), {"x": True}, True),
        (where("x", ne=True), {"x": 1}, True),
        (where("x", ne=1), {"x": 1.0}, False),
        (where("x", in_=(1, 2)), {"x": True}, False),
        (where("x", in_=(True,)), {"x": 1}, False),
        (where("x", in_=(True,)), {"x": True}, True),
        (where("x", in_=(2.0, 1)), {"x": 2}, True),
        (where("x", in_=((1, True),)), {"x": (1, 1)}, False),
        (where("x", in_=((1, True),)), {"x": (1.0, True)}, True),
        (where("x", eq=(1, 2)), {"x": (True, 2)}, False),
        (where("x", eq=(1, 2)), {"x": (1.0, 2)}, True),
        (where("x", contains=1), {"x": (True, "a")}, False),
        (where("x", contains=True), {"x": (1, "a")}, False),
        (where("x", contains=1.0), {"x": (1, "a")}, True),
        (where("x", gt=0), {"x": True}, False),
        (where("x", ge=1), {"x": True}, False),
        (where("x", lt=1), {"x": False}, False),
        (where("x", le=0), {"x": False}, False),
        (where("x", ge=1), {"x": 1.0}, True),
        (where("x", lt=2.5), {"x": 2}, True),
    ],
)
def test_a_bool_is_never_a_number(condition, attrs, expected):
    """eq/ne/in_/contains tell True from 1; order tests never match a bool."""
    assert expected == condition(event(**attrs))


@pytest.mark.parametrize("op", ["gt", "ge", "lt", "le"])
def test_order_tests_refuse_a_bool_operand(op):
    """where(k, gt=True) is rejected: a bool has no order among numbers here."""
    with pytest.raises(ls.InvalidModelError) as info:
        where("x", **{op: True})
    assert op == info.value.path
    assert info.value.value is True


def test_conditions_equal_only_when_they_match_alike():
    """where(k, eq=True) != where(k, eq=1), but eq=1 == eq=1.0 (and hashes agree)."""
    assert where("x", eq=True) != where("x", eq=1)
    assert where("x", in_=(True,)) != where("x", in_=(1,))
    assert where("x", eq=1) == where("x", eq=1.0)
    assert hash(where("x", eq=1)) == hash(where("x", eq=1.0))


@pytest.mark.parametrize(
    ("condition", "value", "expected"),
    [
        (where("name", gt="m"), "n", True),
        (where("name", gt="m"), "m", False),
        (where("name", ge="m"), "m", True),
        (where("name", lt="b"), "a", True),
        (where("name", le="a"), "ab", False),
        (where("name", gt="m"), 5, False),
        (where("name", lt="z"), None, False),
        (where("name", gt=5), "9", False),
    ],
)
def test_order_tests_with_a_string_operand_compare_strings_only(
    condition, value, expected
):
    """gt/lt on str compare lexicographically, and never match a non-str."""
    assert expected == condition(event(name=value))


@pytest.mark.parametrize(
    ("visits", "expected"),
    [(0, False), (1, True), (9, True), (9.99, True), (10, False), (11, False)],
)
def test_several_operators_in_one_where_must_all_hold(visits, expected):
    """where(k, ge=1, lt=10) keeps both bounds: 10 fails lt, 0 fails ge."""
    assert expected == where("visits", ge=1, lt=10)(event(visits=visits))


# -- depth and chains ----------------------------------------------------------------


def _nested(depth):
    c = where("x", eq=1)
    for i in range(depth - 1):
        c = ~c if i % 3 == 0 else (c & where("y", eq=2)) if i % 3 == 1 else AnyOf([c])
    return c


def test_conditions_may_nest_to_the_documented_depth():
    """A condition exactly MAX_CONDITION_DEPTH deep builds, compiles and matches."""
    c = _nested(MAX_CONDITION_DEPTH)
    assert MAX_CONDITION_DEPTH == c.depth
    assert isinstance(c(event(x=1, y=2)), bool)


@pytest.mark.parametrize(
    ("make", "path"),
    [
        (lambda c: ~c, "condition"),
        (Not, "condition"),
        (lambda c: All([where("z", eq=0), c]), "conditions[1]"),
        (lambda c: AnyOf([c]), "conditions[0]"),
        (lambda c: where("z", eq=0) & c, "conditions[1]"),
        (lambda c: c | where("z", eq=0), "conditions[0]"),
    ],
)
def test_one_level_too_deep_is_rejected_by_every_constructor(make, path):
    """~, &, |, Not, All and AnyOf refuse depth MAX + 1, naming the path and depth."""
    # A one-item All: ~ cannot cancel it and neither & nor | flattens it away.
    deep = All([Not(_nested(MAX_CONDITION_DEPTH - 2))])
    assert MAX_CONDITION_DEPTH == deep.depth
    if path == "conditions[1]":
        deep = AnyOf([Not(_nested(MAX_CONDITION_DEPTH - 2))])
    with pytest.raises(ls.InvalidModelError, match="nest 65 levels deep") as info:
        make(deep)
    assert path == info.value.path
    assert MAX_CONDITION_DEPTH + 1 == info.value.value


def test_a_long_chain_is_flat():
    """10,000 conditions chained with & or | are one flat junction of depth 2.

    Building the chain was quadratic (28 s); it is linear now (about 0.06 s). No
    timing is asserted: a quadratic regression shows as a test that takes minutes.
    """
    parts = [where("k", ne=i) for i in range(10_000)]
    chain = parts[0]
    for c in parts[1:]:
        chain = chain & c
    either = parts[0]
    for c in parts[1:]:
        either = c | either
    assert All(tuple(parts)) == chain
    assert tuple(reversed(parts)) == either.conditions
    assert 2 == chain.depth == either.depth
    assert chain(event(k=10_000))
    assert not chain(event(k=9_999))
    assert either(event(k=5_000))


def test_chains_are_values():
    """A chained All equals, hashes and pickles like one built at once."""
    a, b, c = where("a", eq=1), where("b", eq=2), where("c", eq=3)
    chained = (a & b) & (c & a)
    direct = All((a, b, c, a))
    assert direct == chained
    assert hash(direct) == hash(chained)
    assert direct == pickle.loads(pickle.dumps(chained))  # noqa: S301 - our own bytes
    assert repr(direct) == repr(chained)
    assert (a | b) != (a & b)
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        chained.conditions = ()


@pytest.mark.parametrize(
    ("make", "path", "value"),
    [
        (lambda: where("x", eq=2**1024), "eq", 2**1024),
        (lambda: where("x", in_=(1, [2, {"a": 1}])), "in_[1][1]", {"a": 1}),
        (lambda: where("x", eq=(1, float("nan"))), "eq[1]", None),
        (lambda: All([]), "conditions", ()),
        (lambda: All(["x"]), "conditions[0]", "x"),
        (lambda: AnyOf(where("x", eq=1)), "conditions", None),
    ],
)
def test_bad_operands_and_parts_name_the_path_and_value(make, path, value):
    """Operands an event could not hold, and parts that are not conditions."""
    with pytest.raises(ls.InvalidModelError) as info:
        make()
    assert path == info.value.path
    if value is not None:
        assert value == info.value.value


def test_a_huge_bad_operand_gives_a_short_message():
    """A 10 MB bad value is kept on the error but not put in its message."""
    huge = ["x" * 10_000_000]
    with pytest.raises(ls.InvalidModelError) as info:
        where("x", startswith=huge)
    assert len(str(info.value)) < 500
    assert huge is info.value.value
