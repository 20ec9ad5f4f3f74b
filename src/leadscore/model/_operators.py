"""The operators of ``where``: tests of an event's value against an operand.

Each operator is a test of (actual value, operand), listed in :data:`OPERATORS`.
A bool is never a number here: equality is :func:`strict_equal`, and the order
tests match only numbers against numbers or str against str. ``_in_matcher`` is
the fast test of ``in_`` that ``Compare.compile`` builds for an attribute.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import Any, TypeAlias

from ._events import AttrValue, Event

__all__ = ["OPERATORS", "Matcher", "strict_equal"]

Matcher: TypeAlias = Callable[[Event], bool]

_MISSING = object()


def strict_equal(a: Any, b: Any) -> bool:
    """Equality of attribute values in which a bool is never a number.

    ``True`` is not ``1`` and ``False`` is not ``0`` (nor ``0.0``), all the way into
    tuples; ints and floats stay equal by value.

    >>> strict_equal(1, 1.0), strict_equal(True, 1), strict_equal((1, True), (1, 1))
    (True, False, False)
    """
    if a.__class__ is tuple:
        return (
            b.__class__ is tuple
            and len(a) == len(b)
            and all(strict_equal(x, y) for x, y in zip(a, b, strict=True))
        )
    return a == b and (a.__class__ is bool) == (b.__class__ is bool)


def _eq(actual: Any, operand: Any) -> bool:
    return strict_equal(actual, operand)


def _ne(actual: Any, operand: Any) -> bool:
    return not strict_equal(actual, operand)


def _in(actual: Any, operand: Any) -> bool:
    return any(strict_equal(actual, o) for o in operand)


def _ordered(op: Callable[[Any, Any], bool]) -> Callable[[Any, Any], bool]:
    # Order comparisons hold only between numbers, or between strings; anything
    # else (a missing key, None, a bool, a str against a number) does not match.
    def test(actual: Any, operand: Any) -> bool:
        if isinstance(actual, str) and isinstance(operand, str):
            return op(actual, operand)
        if (
            isinstance(actual, int | float)
            and not isinstance(actual, bool)
            and isinstance(operand, int | float)
            and not isinstance(operand, bool)
        ):
            return op(actual, operand)
        return False

    return test


def _contains(actual: Any, operand: Any) -> bool:
    if isinstance(actual, str):
        return isinstance(operand, str) and operand in actual
    if isinstance(actual, tuple):
        return any(strict_equal(item, operand) for item in actual)
    return False


def _startswith(actual: Any, operand: Any) -> bool:
    return isinstance(actual, str) and actual.startswith(operand)


def _endswith(actual: Any, operand: Any) -> bool:
    return isinstance(actual, str) and actual.endswith(operand)


#: The operators of :func:`where`, each a test of (actual value, operand).
OPERATORS: dict[str, Callable[[Any, Any], bool]] = {
    "eq": _eq,
    "ne": _ne,
    "contains": _contains,
    "startswith": _startswith,
    "endswith": _endswith,
    "in_": _in,
    "gt": _ordered(operator.gt),
    "ge": _ordered(operator.ge),
    "lt": _ordered(operator.lt),
    "le": _ordered(operator.le),
    "exists": lambda actual, operand: (actual is not _MISSING) == operand,
}

_ORDER = frozenset({"gt", "ge", "lt", "le"})


def _in_matcher(key: str, operand: tuple[AttrValue, ...]) -> Matcher:
    # Hot path: one set lookup for plain values; bools and tuples, which plain
    # equality would take for numbers, are compared strictly.
    plain = frozenset(o for o in operand if o.__class__ not in {bool, tuple})
    bools = tuple(o for o in operand if o.__class__ is bool)
    tuples = tuple(o for o in operand if o.__class__ is tuple)

    def matcher(e: Event) -> bool:
        actual = e.attrs.get(key)
        kind = actual.__class__
        if kind is bool:
            return actual in bools
        if kind is tuple:
            return any(strict_equal(actual, t) for t in tuples)
        return actual in plain

    return matcher
