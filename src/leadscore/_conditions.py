"""Declarative conditions on events: ``where(...)`` combined with ``&``, ``|``, ``~``.

Conditions are data, never code: they compile to small closures once per model, and
serialise to plain dicts (see :mod:`leadscore.config`).
"""

from __future__ import annotations

import abc
import enum
import math
import operator
from collections.abc import Callable
from typing import Any, TypeAlias

import attrs

from ._events import AttrValue, Event
from .exceptions import InvalidModelError

__all__ = [
    "OPERATORS",
    "VALUE",
    "All",
    "Any_",
    "Compare",
    "Condition",
    "EventField",
    "Not",
    "where",
]

Matcher: TypeAlias = Callable[[Event], bool]


class EventField(enum.Enum):
    """A field of the event itself, as opposed to a key of ``Event.attrs``.

    ``where(VALUE, gt=100)`` tests ``Event.value``. An enum member can never be
    mistaken for an attribute key, which is always a str.
    """

    VALUE = "value"

    def __repr__(self) -> str:
        """Show the public spelling."""
        return f"leadscore.{self.name}"


#: Address ``Event.value`` in a condition: ``where(VALUE, ge=100)``.
VALUE = EventField.VALUE

_MISSING = object()


def _ordered(op: Callable[[Any, Any], bool]) -> Callable[[Any, Any], bool]:
    # Order comparisons hold only between numbers, or between strings; anything
    # else (a missing key, None, a str against a number) simply does not match.
    def test(actual: Any, operand: Any) -> bool:
        if isinstance(actual, str) and isinstance(operand, str):
            return op(actual, operand)
        if (
            isinstance(actual, int | float)
            and not isinstance(actual, bool)
            and isinstance(operand, int | float)
        ):
            return op(actual, operand)
        return False

    return test


def _contains(actual: Any, operand: Any) -> bool:
    if isinstance(actual, str):
        return isinstance(operand, str) and operand in actual
    if isinstance(actual, tuple):
        return operand in actual
    return False


def _startswith(actual: Any, operand: Any) -> bool:
    return isinstance(actual, str) and actual.startswith(operand)


def _endswith(actual: Any, operand: Any) -> bool:
    return isinstance(actual, str) and actual.endswith(operand)


#: The operators of :func:`where`, each a test of (actual value, operand).
OPERATORS: dict[str, Callable[[Any, Any], bool]] = {
    "eq": operator.eq,
    "ne": operator.ne,
    "contains": _contains,
    "startswith": _startswith,
    "endswith": _endswith,
    "in_": lambda actual, operand: actual in operand,
    "gt": _ordered(operator.gt),
    "ge": _ordered(operator.ge),
    "lt": _ordered(operator.lt),
    "le": _ordered(operator.le),
    "exists": lambda actual, operand: (actual is not _MISSING) == operand,
}


def _check_operand(op: str, operand: Any) -> Any:
    """Validate and normalise an operand; raise InvalidModelError naming it."""
    if op == "exists":
        if not isinstance(operand, bool):
            raise InvalidModelError(
                f"exists takes True or False, got {operand!r}",
                path="exists",
                value=operand,
            )
        return operand
    if op == "in_":
        if isinstance(operand, str) or not isinstance(operand, list | tuple | set):
            raise InvalidModelError(
                f"in_ takes a list or tuple of values, got {operand!r}",
                path="in_",
                value=operand,
            )
        items = tuple(operand)
        if isinstance(operand, set | frozenset):
            items = tuple(sorted(items, key=repr))
        return tuple(_check_operand("eq", v) for v in items)
    if op in {"startswith", "endswith"} and not isinstance(operand, str):
        raise InvalidModelError(
            f"{op} takes a str, got {operand!r}", path=op, value=operand
        )
    if op in {"gt", "ge", "lt", "le"} and (
        isinstance(operand, bool) or not isinstance(operand, int | float | str)
    ):
        raise InvalidModelError(
            f"{op} takes a number or a str, got {operand!r}", path=op, value=operand
        )
    if isinstance(operand, float) and math.isnan(operand):
        raise InvalidModelError(f"{op} cannot compare with NaN", path=op, value=operand)
    if isinstance(operand, list):
        operand = tuple(operand)
    if operand is not None and not isinstance(operand, str | int | float | tuple):
        raise InvalidModelError(
            f"{op} takes str, int, float, bool, None or a tuple, got "
            f"{type(operand).__name__} {operand!r}",
            path=op,
            value=operand,
        )
    return operand


class Condition(abc.ABC):
    """Base of all conditions: combine with ``&``, ``|`` and ``~``."""

    __slots__ = ()

    def __and__(self, other: Condition) -> Condition:
        """Both must hold."""
        if not isinstance(other, Condition):
            return NotImplemented
        return All((*_flat(self, All), *_flat(other, All)))

    def __or__(self, other: Condition) -> Condition:
        """Either must hold."""
        if not isinstance(other, Condition):
            return NotImplemented
        return Any_((*_flat(self, Any_), *_flat(other, Any_)))

    def __invert__(self) -> Condition:
        """The opposite must hold."""
        if isinstance(self, Not):
            return self.condition
        return Not(self)

    @abc.abstractmethod
    def compile(self) -> Matcher:
        """Return a fast predicate on events (built once per model)."""

    def __call__(self, event: Event) -> bool:
        """Return whether *event* satisfies the condition.

        >>> from leadscore import Event
        >>> cond = where("campaign", contains="newsletter")
        >>> cond(Event("ann", "email.opened", "2024-01-01T00:00:00Z",
        ...            {"campaign": "May newsletter"}))
        True
        """
        return self.compile()(event)


def _flat(c: Condition, cls: type[All | Any_]) -> tuple[Condition, ...]:
    return c.conditions if isinstance(c, cls) else (c,)


def _check_key(key: Any) -> str | EventField:
    if isinstance(key, EventField):
        return key
    if not isinstance(key, str) or not key:
        raise InvalidModelError(
            "a condition's key must be a non-empty str or leadscore.VALUE, "
            f"got {key!r}",
            path="where",
            value=key,
        )
    return key


@attrs.frozen
class Compare(Condition):
    """One test of one attribute (or of ``Event.value``): ``where(key, op=operand)``.

    A missing attribute counts as ``None`` for ``eq``/``ne``/``in_``; ``exists``
    tells a missing key from one that is present. Order tests (``gt`` ...) match
    only numbers against numbers or str against str; ``contains`` is a substring
    test on str and a membership test on tuples.
    """

    key: str | EventField = attrs.field(converter=_check_key)
    op: str = attrs.field()
    operand: AttrValue = attrs.field()

    @op.validator
    def _check_op(self, _: attrs.Attribute[str], op: str) -> None:
        if op not in OPERATORS:
            raise InvalidModelError(
                f"unknown operator {op!r}; use one of {', '.join(OPERATORS)}",
                path="op",
                value=op,
            )

    def __attrs_post_init__(self) -> None:
        """Validate the operand for the operator."""
        object.__setattr__(self, "operand", _check_operand(self.op, self.operand))

    def compile(self) -> Matcher:
        """Return a predicate on events."""
        test, operand, key = OPERATORS[self.op], self.operand, self.key
        if key is VALUE:
            return lambda e: test(e.value, operand)
        if self.op == "exists":
            return lambda e: (key in e.attrs) == operand
        missing_is_none = self.op in {"eq", "ne", "in_"}
        default = None if missing_is_none else _MISSING

        def matcher(e: Event) -> bool:
            actual = e.attrs.get(key, default)
            return actual is not _MISSING and test(actual, operand)

        return matcher


def _tuple_of_conditions(value: Any) -> tuple[Condition, ...]:
    items = tuple(value)
    for i, c in enumerate(items):
        if not isinstance(c, Condition):
            raise InvalidModelError(
                f"expected a condition, got {c!r}", path=f"[{i}]", value=c
            )
    if not items:
        raise InvalidModelError("needs at least one condition", path="", value=items)
    return items


@attrs.frozen
class All(Condition):
    """Every condition must hold (``a & b``)."""

    conditions: tuple[Condition, ...] = attrs.field(converter=_tuple_of_conditions)

    def compile(self) -> Matcher:
        """Return a predicate on events."""
        matchers = tuple(c.compile() for c in self.conditions)
        return lambda e: all(m(e) for m in matchers)


@attrs.frozen
class Any_(Condition):  # noqa: N801 - `Any` would shadow typing.Any
    """At least one condition must hold (``a | b``)."""

    conditions: tuple[Condition, ...] = attrs.field(converter=_tuple_of_conditions)

    def compile(self) -> Matcher:
        """Return a predicate on events."""
        matchers = tuple(c.compile() for c in self.conditions)
        return lambda e: any(m(e) for m in matchers)


def _check_condition(value: Any) -> Condition:
    if not isinstance(value, Condition):
        raise InvalidModelError(
            f"expected a condition, got {value!r}", path="condition", value=value
        )
    return value


@attrs.frozen
class Not(Condition):
    """The condition must not hold (``~a``)."""

    condition: Condition = attrs.field(converter=_check_condition)

    def compile(self) -> Matcher:
        """Return a predicate on events."""
        inner = self.condition.compile()
        return lambda e: not inner(e)


def where(key: str | EventField, **tests: Any) -> Condition:
    """A condition on one attribute of an event (or on ``VALUE``).

    Operators: ``eq``, ``ne``, ``contains``, ``startswith``, ``endswith``, ``in_``,
    ``gt``, ``ge``, ``lt``, ``le`` and ``exists``. Several operators in one call must
    all hold (``where("amount", ge=10, lt=100)``).

    Raises:
        InvalidModelError: for no operator, an unknown one or a bad operand.

    >>> where("campaign", contains="newsletter") & ~where("path", eq="/unsubscribe")
    All(conditions=(Compare(key='campaign', op='contains', operand='newsletter'), \
Not(condition=Compare(key='path', op='eq', operand='/unsubscribe'))))
    """
    if not tests:
        raise InvalidModelError(
            f"where({key!r}) needs an operator, e.g. where({key!r}, eq=...); "
            f"operators: {', '.join(OPERATORS)}",
            path="where",
            value=key,
        )
    parts = [Compare(key, op, operand) for op, operand in tests.items()]
    return parts[0] if len(parts) == 1 else All(tuple(parts))
