"""Conditions: the behaviour the mutation run of ``model/_conditions.py`` found unpinned.

docs/mutation.md lists the run and the mutants each test here kills: operators
on values of the wrong type (a number under ``contains`` or ``endswith``),
``in_`` on ``Event.value``, ``!=`` between junctions, a junction built from a
tuple then chained, the repr of nested conditions, and the errors' ``path``,
``value`` and message.
"""

from __future__ import annotations

import pytest

import leadscore as ls
from leadscore import VALUE, All, AnyOf, Not, where
from leadscore.model._limits import MAX_CONDITION_DEPTH

A, B, C = where("a", eq=1), where("b", eq=2), where("c", eq=3)


def event(value=0.0, **attrs):
    return ls.Event("ann", "page.viewed", "2024-05-01T00:00:00Z", attrs, value=value)


def _refused(make, path, value):
    """Call *make*; return the InvalidModelError's reason after checking path, value."""
    with pytest.raises(ls.InvalidModelError) as info:
        make()
    error = info.value
    assert (path, value) == (error.path, error.value)
    return error.reason


# -- operators on values they do not apply to -------------------------------------


@pytest.mark.parametrize("actual", [5, 5.0, None, True])
def test_contains_on_a_number_or_none_does_not_match(actual):
    """The contains test is for a str or a tuple: a number, None or a bool never holds."""
    assert not where("x", contains=5)(event(x=actual))
    assert not where("x", contains="5")(event(x=actual))


@pytest.mark.parametrize("op", ["startswith", "endswith"])
@pytest.mark.parametrize("actual", [5, None, ("5",)])
def test_startswith_and_endswith_on_a_non_str_do_not_match(op, actual):
    """startswith/endswith hold only for a str: a number, None or a tuple never."""
    assert not where("x", **{op: "5"})(event(x=actual))


def test_startswith_and_endswith_test_the_ends():
    """The startswith test reads the start of a str, endswith its end."""
    e = event(path="/blog/post")

    assert (True, False) == (
        where("path", startswith="/blog")(e),
        where("path", endswith="/blog")(e),
    )
    assert (False, True) == (
        where("path", startswith="post")(e),
        where("path", endswith="post")(e),
    )


@pytest.mark.parametrize(
    ("operand", "value", "expected"),
    [
        ((100, 120.0), 120.0, True),
        ((100, 120), 120.0, True),  # ints and floats compare by value
        ((100, 120), 5.0, False),
        ((True,), 1.0, False),  # a bool is never a number
        ((0,), 0.0, True),
        ((False,), 0.0, False),
    ],
)
def test_in_on_the_event_value(operand, value, expected):
    """where(VALUE, in_=...) tests Event.value against each item, strictly."""
    assert expected is where(VALUE, in_=operand)(event(value=value))


def test_ne_on_a_missing_key_reads_it_as_none():
    """A missing key is None for ne: ne=5 holds, ne=None does not."""
    e = event()

    assert where("x", ne=5)(e)
    assert where("x", ne="a")(e)
    assert not where("x", ne=None)(e)


def test_in_on_a_missing_key_reads_it_as_none():
    """A missing key is None for in_: in_=(None, ...) holds, in_ without None not."""
    e = event()

    assert where("x", in_=(None, "a"))(e)
    assert where("x", in_=[1, None])(e)
    assert not where("x", in_=("a", 1))(e)


# -- junctions: equality, chaining, repr ---------------------------------------------


def test_junctions_compare_unequal_only_when_they_differ():
    """!= is the opposite of == between junctions, and True against other types."""
    assert not (All((A, B)) != All((A, B)))  # noqa: SIM202 - testing __ne__ itself
    assert All((A, B)) != All((A, C))
    assert All((A, B)) != AnyOf((A, B))
    assert AnyOf((A,)) != A
    assert All((A,)) != "All"


def test_a_junction_built_from_a_tuple_chains_like_any_other():
    """All((a, b)) & c is the flat All((a, b, c)); AnyOf the same with |."""
    assert (A, B, C) == (All((A, B)) & C).conditions
    assert (C, A, B) == (C & All((A, B))).conditions
    assert (A, B, C) == (AnyOf((A, B)) | C).conditions
    assert All((A, B, C)) == All((A, B)) & C


def _deepest():
    """A condition exactly MAX_CONDITION_DEPTH deep: ~~...~where(...)."""
    deep = A
    for _ in range(MAX_CONDITION_DEPTH - 1):
        deep = Not(deep)
    assert MAX_CONDITION_DEPTH == deep.depth
    return deep


def test_a_chain_too_deep_names_its_position_in_the_flat_junction():
    """The path of a part too deep counts the parts before it, tuples included."""
    with pytest.raises(ls.InvalidModelError) as info:
        All((A, B)) & _deepest()

    assert ("conditions[2]", MAX_CONDITION_DEPTH + 1) == (
        info.value.path,
        info.value.value,
    )


@pytest.mark.parametrize(
    ("condition", "text"),
    [
        (A & B, "where('a', eq=1) & where('b', eq=2)"),
        (A | B, "where('a', eq=1) | where('b', eq=2)"),
        (A & B & C, "where('a', eq=1) & where('b', eq=2) & where('c', eq=3)"),
        ((A | B) & C, "(where('a', eq=1) | where('b', eq=2)) & where('c', eq=3)"),
        (A | (B & C), "where('a', eq=1) | (where('b', eq=2) & where('c', eq=3))"),
        (All((A,)), "All(conditions=(where('a', eq=1),))"),
        (AnyOf((A,)), "AnyOf(conditions=(where('a', eq=1),))"),
        (
            All((AnyOf((A,)), B)),
            "AnyOf(conditions=(where('a', eq=1),)) & where('b', eq=2)",
        ),
        (~A, "~where('a', eq=1)"),
        (~(A & B), "~(where('a', eq=1) & where('b', eq=2))"),
        (~All((A,)), "~All(conditions=(where('a', eq=1),))"),
    ],
)
def test_repr_is_the_expression_that_builds_the_condition(condition, text):
    """The repr is a & b, a | b, ~c, with parentheses around a nested junction."""
    assert text == repr(condition)


# -- errors: path, value and message -------------------------------------------------


@pytest.mark.parametrize("value", [5, "ab", A, None], ids=repr)
def test_a_junction_of_something_not_iterable_is_refused(value):
    """All(5), All("ab"), All(where(...)) and All(None) name the value."""
    reason = _refused(lambda: All(value), "conditions", value)

    assert reason.startswith("expected an iterable of conditions, got ")
    assert repr(value) in reason


def test_a_junction_part_that_is_not_a_condition_is_named():
    """The index and the value of the bad part."""
    reason = _refused(lambda: AnyOf([A, 7]), "conditions[1]", 7)

    assert "expected a condition, got 7" == reason


@pytest.mark.parametrize("empty", [(), []], ids=["tuple", "list"])
def test_an_empty_junction_is_refused(empty):
    """All(()) needs at least one condition."""
    reason = _refused(lambda: All(empty), "conditions", ())

    assert "needs at least one condition" == reason


def test_too_deep_says_how_deep_and_what_counts():
    """The message gives the depth, the limit and how levels are counted."""
    reason = _refused(lambda: Not(_deepest()), "condition", MAX_CONDITION_DEPTH + 1)

    assert (
        f"conditions nest {MAX_CONDITION_DEPTH + 1} levels deep; at most "
        f"{MAX_CONDITION_DEPTH} are allowed (a where() is one level, each "
        "all/any/not around it one more)"
    ) == reason


def test_not_of_something_that_is_not_a_condition_is_refused():
    """Not(5) names the value."""
    reason = _refused(lambda: Not(5), "condition", 5)

    assert "expected a condition, got 5" == reason


@pytest.mark.parametrize("operand", [2**1023, -(2**1023), 0])
def test_ints_up_to_2_to_the_1023_are_operands(operand):
    """The largest ints an attribute may hold are valid operands and match."""
    assert where("x", eq=operand)(event(x=operand))


@pytest.mark.parametrize("operand", [2**1023 + 1, -(2**1023) - 1])
def test_a_larger_int_is_refused_as_an_operand(operand):
    """An int beyond what an attribute may hold names the operator and the value."""
    reason = _refused(lambda: where("x", ge=operand), "ge", operand)

    assert reason.startswith(
        "ge takes ints within ±2**1023 (what an event attribute may hold), "
        f"got {str(operand)[:50]}"
    )


@pytest.mark.parametrize(
    ("operand", "path"), [(float("nan"), "eq"), ((1, float("nan")), "eq[1]")]
)
def test_nan_is_refused_as_an_operand(operand, path):
    """NaN equals nothing: it is refused, with its path and the NaN as the value."""
    with pytest.raises(ls.InvalidModelError) as info:
        where("x", eq=operand)

    assert path == info.value.path
    assert info.value.value != info.value.value  # the NaN itself
    assert "eq cannot compare with NaN" == info.value.reason


def _nested_list(levels):
    value = 1
    for _ in range(levels):
        value = [value]
    return value


def test_operands_may_nest_tuples_to_the_documented_depth():
    """A tuple nested MAX_CONDITION_DEPTH deep is an operand; one more is not."""
    assert where("x", eq=_nested_list(MAX_CONDITION_DEPTH)).op == "eq"

    reason = _refused(
        lambda: where("x", eq=_nested_list(MAX_CONDITION_DEPTH + 1)),
        "eq" + "[0]" * MAX_CONDITION_DEPTH,
        [1],
    )
    assert f"eq takes tuples nested at most {MAX_CONDITION_DEPTH} deep" == reason


@pytest.mark.parametrize(
    ("operand", "path", "value"),
    [(b"x", "eq", b"x"), ((1, b"x"), "eq[1]", b"x"), ((1, {2}), "eq[1]", {2})],
)
def test_an_operand_no_attribute_could_hold_is_refused(operand, path, value):
    """Bytes or a set, alone or in a tuple: the path to it, its type and value."""
    reason = _refused(lambda: where("x", eq=operand), path, value)

    assert (
        "eq takes str, int, float, bool, None or a tuple of those, got "
        f"{type(value).__name__} {value!r}"
    ) == reason


_OPERATORS = "eq, ne, contains, startswith, endswith, in_, gt, ge, lt, le, exists"

WHERE_ERRORS = [
    (
        lambda: where("", eq=1),
        "where",
        "",
        "a condition's key must be a non-empty str or leadscore.VALUE, got ''",
    ),
    (
        lambda: where(5, eq=1),
        "where",
        5,
        "a condition's key must be a non-empty str or leadscore.VALUE, got 5",
    ),
    (
        lambda: where("x"),
        "where",
        "x",
        f"where('x') needs an operator, e.g. where('x', eq=...); operators: {_OPERATORS}",
    ),
    (
        lambda: where("x", like=1),
        "op",
        "like",
        f"unknown operator 'like'; use one of {_OPERATORS}",
    ),
    (
        lambda: where("x", exists="yes"),
        "exists",
        "yes",
        "exists takes True or False, got 'yes'",
    ),
    (
        lambda: where("x", in_="abc"),
        "in_",
        "abc",
        "in_ takes a list or tuple of values, got 'abc'",
    ),
    (
        lambda: where("x", in_=5),
        "in_",
        5,
        "in_ takes a list or tuple of values, got 5",
    ),
    (
        lambda: where("x", in_=(1, b"x")),
        "in_[1]",
        b"x",
        "in_ takes str, int, float, bool, None or a tuple of those, got bytes b'x'",
    ),
    (
        lambda: where("x", startswith=3),
        "startswith",
        3,
        "startswith takes a str, got 3",
    ),
    (
        lambda: where("x", endswith=None),
        "endswith",
        None,
        "endswith takes a str, got None",
    ),
    (
        lambda: where("x", le=[1]),
        "le",
        [1],
        "le takes a number or a str, got [1]",
    ),
]


@pytest.mark.parametrize(("make", "path", "value", "reason"), WHERE_ERRORS)
def test_a_bad_where_names_the_key_operator_or_operand(make, path, value, reason):
    """Keys, operators and operands that where() refuses: path, value and message."""
    assert reason == _refused(make, path, value)


@pytest.mark.parametrize("items", [{3, 1, "a"}, frozenset({3, 1, "a"})], ids=repr)
def test_in_of_a_set_is_kept_as_a_tuple_in_a_fixed_order(items):
    """A set operand becomes a tuple of its items, in one order whatever the set."""
    condition = where("x", in_=items)

    assert tuple is type(condition.operand)
    assert (3, {1, 3, "a"}) == (len(condition.operand), set(condition.operand))
    assert where("x", in_={"a", 1, 3}) == condition
    assert where("x", in_=frozenset((1, "a", 3))).operand == condition.operand
    assert condition(event(x="a"))
