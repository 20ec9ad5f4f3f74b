"""Declarative conditions on events: ``where(...)`` combined with ``&``, ``|``, ``~``.

Conditions are data, never code: they compile to small closures once per model, and
serialise to plain dicts (see :mod:`leadscore.config`).

Two limits keep every accepted condition usable (see ``docs/concepts.md``):
conditions nest at most ``MAX_CONDITION_DEPTH`` (64) levels deep (a ``where`` is
one level, each ``All``/``AnyOf``/``Not`` around it one more; chains such as
``a & b & c`` flatten into one ``All`` and do not nest), and an operand is what an
event attribute may hold.

Booleans are not numbers here: ``where(k, eq=1)`` does not match ``True``, and the
order tests (``gt`` ...) never match a bool. Ints and floats compare by value
(``1 == 1.0``), exactly as events are told apart (``FrozenAttrs``).

The tests of the operators are in :mod:`._operators`, the checks of operands in
:mod:`._operands`. The condition types stay together here: each builds the others
(``a & b`` is an ``All``, ``~a`` a ``Not``, ``where`` a ``Compare``).
"""

from __future__ import annotations

import abc
import enum
from collections.abc import Iterable, Iterator
from typing import Any, ClassVar

import attrs

from leadscore.exceptions import InvalidModelError

from ._events import AttrValue, Event
from ._limits import MAX_CONDITION_DEPTH, shorten
from ._operands import _check_operand, operand_key
from ._operators import _MISSING, OPERATORS, Matcher, _in_matcher, strict_equal

__all__ = [
    "OPERATORS",
    "VALUE",
    "All",
    "AnyOf",
    "Any_",
    "Compare",
    "Condition",
    "EventField",
    "Matcher",
    "Not",
    "operand_key",
    "strict_equal",
    "where",
]


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


def _too_deep(depth: int, path: str) -> InvalidModelError:
    return InvalidModelError(
        f"conditions nest {depth} levels deep; at most {MAX_CONDITION_DEPTH} are "
        "allowed (a where() is one level, each all/any/not around it one more)",
        path=path,
        value=depth,
    )


class Condition(abc.ABC):
    """Base of all conditions: combine with ``&``, ``|`` and ``~``."""

    __slots__ = ()

    @property
    @abc.abstractmethod
    def depth(self) -> int:
        """Nesting levels: 1 for a ``where``, +1 per ``All``, ``AnyOf``, ``Not``."""

    def __and__(self, other: Condition) -> Condition:
        """Both must hold (a chain ``a & b & c`` is one flat ``All``)."""
        if not isinstance(other, Condition):
            return NotImplemented
        return All.join(self, other)

    def __or__(self, other: Condition) -> Condition:
        """Either must hold (a chain ``a | b | c`` is one flat ``AnyOf``)."""
        if not isinstance(other, Condition):
            return NotImplemented
        return AnyOf.join(self, other)

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


def _check_key(key: Any) -> str | EventField:
    if isinstance(key, EventField):
        return key
    if not isinstance(key, str) or not key:
        raise InvalidModelError(
            "a condition's key must be a non-empty str or leadscore.VALUE, "
            f"got {shorten(key)}",
            path="where",
            value=key,
        )
    return key


@attrs.frozen(repr=False)
class Compare(Condition):
    """One test of one attribute (or of ``Event.value``): ``where(key, op=operand)``.

    A missing attribute counts as ``None`` for ``eq``/``ne``/``in_``; ``exists``
    tells a missing key from one that is present. Order tests (``gt`` ...) match
    only numbers against numbers or str against str, never a bool; ``contains``
    is a substring test on str and a membership test on tuples. Equality never
    takes a bool for a number (``eq=1`` does not match ``True``).
    """

    key: str | EventField = attrs.field(converter=_check_key)
    op: str = attrs.field()
    operand: AttrValue = attrs.field(eq=operand_key)

    def __repr__(self) -> str:
        """The ``where`` call that builds this test."""
        return f"where({self.key!r}, {self.op}={self.operand!r})"

    @op.validator
    def _check_op(self, _: attrs.Attribute[str], op: str) -> None:
        if not isinstance(op, str) or op not in OPERATORS:
            raise InvalidModelError(
                f"unknown operator {shorten(op)}; use one of {', '.join(OPERATORS)}",
                path="op",
                value=op,
            )

    def __attrs_post_init__(self) -> None:
        """Validate the operand for the operator."""
        object.__setattr__(self, "operand", _check_operand(self.op, self.operand))

    @property
    def depth(self) -> int:
        """A ``where`` is one level."""
        return 1

    def compile(self) -> Matcher:
        """Return a predicate on events."""
        op, operand, key = self.op, self.operand, self.key
        test = OPERATORS[op]
        if key is VALUE:
            return lambda e: test(e.value, operand)
        if op == "exists":
            return lambda e: (key in e.attrs) == operand
        if op in {"eq", "ne"} and (operand is None or isinstance(operand, str)):
            # Hot path: a str or None equals only itself, so == is already strict.
            if op == "eq":
                return lambda e: e.attrs.get(key) == operand
            return lambda e: e.attrs.get(key) != operand
        if op == "in_":
            return _in_matcher(key, operand)  # type: ignore[arg-type]
        missing_is_none = op in {"eq", "ne"}
        default = None if missing_is_none else _MISSING

        def matcher(e: Event) -> bool:
            actual = e.attrs.get(key, default)
            return actual is not _MISSING and test(actual, operand)

        return matcher


def _conditions_of(value: Any) -> tuple[Condition, ...]:
    if isinstance(value, Condition | str | bytes) or not isinstance(value, Iterable):
        raise InvalidModelError(
            f"expected an iterable of conditions, got {shorten(value)}",
            path="conditions",
            value=value,
        )
    items = tuple(value)
    for i, c in enumerate(items):
        if not isinstance(c, Condition):
            raise InvalidModelError(
                f"expected a condition, got {shorten(c)}",
                path=f"conditions[{i}]",
                value=c,
            )
    if not items:
        raise InvalidModelError(
            "needs at least one condition", path="conditions", value=items
        )
    return items


class _Link:
    """Two parts of a chain not yet flattened: a junction or a tuple, each side."""

    __slots__ = ("left", "right")

    def __init__(self, left: Any, right: Any) -> None:
        self.left, self.right = left, right


class _Junction(Condition):
    """Shared body of :class:`All` and :class:`AnyOf`: an immutable, flat tuple.

    ``a & b`` must not copy ``a``'s conditions, or a chain of n conditions costs
    n**2: a joined junction keeps a link to its two parts and flattens them (once,
    iteratively) the first time its conditions are read. Written by hand rather
    than with attrs because that field is lazy; it behaves as a frozen attrs value
    (equality, hashing, repr, pickling, ``match``).
    """

    __slots__ = ("_depth", "_items", "_size")
    __match_args__: ClassVar[tuple[str, ...]] = ("conditions",)
    _items: tuple[Condition, ...] | _Link
    _depth: int
    _size: int

    def __init__(self, conditions: Iterable[Condition]) -> None:
        """Build from one or more conditions (kept as given, not flattened)."""
        items = _conditions_of(conditions)
        depth = 1
        for i, c in enumerate(items):
            if c.depth >= MAX_CONDITION_DEPTH:
                raise _too_deep(c.depth + 1, f"conditions[{i}]")
            depth = max(depth, c.depth + 1)
        self._set(items, depth, len(items))

    def _set(self, items: tuple[Condition, ...] | _Link, depth: int, size: int) -> None:
        object.__setattr__(self, "_items", items)
        object.__setattr__(self, "_depth", depth)
        object.__setattr__(self, "_size", size)

    @classmethod
    def join(cls, a: Condition, b: Condition) -> _Junction:
        """``a`` and ``b`` as one junction of *cls*, flattening junctions of *cls*.

        Constant time: the flat tuple is built when it is first read.
        """
        parts: list[Any] = []
        depth, size = 1, 0
        for c in (a, b):
            if isinstance(c, cls):
                parts.append(c)
                depth, size = max(depth, c.depth), size + c._size  # noqa: SLF001
            else:
                if c.depth >= MAX_CONDITION_DEPTH:
                    raise _too_deep(c.depth + 1, f"conditions[{size}]")
                parts.append((c,))
                depth, size = max(depth, c.depth + 1), size + 1
        self = object.__new__(cls)
        self._set(_Link(*parts), depth, size)
        return self

    @property
    def conditions(self) -> tuple[Condition, ...]:
        """The conditions, flat."""
        items = self._items
        if isinstance(items, tuple):
            return items
        flat = tuple(_flatten(items))
        object.__setattr__(self, "_items", flat)
        return flat

    @property
    def depth(self) -> int:
        """One more than the deepest of the conditions."""
        return self._depth

    def __setattr__(self, name: str, value: object) -> None:
        """Refuse: conditions are immutable values."""
        raise attrs.exceptions.FrozenInstanceError

    def __delattr__(self, name: str) -> None:
        """Refuse: conditions are immutable values."""
        raise attrs.exceptions.FrozenInstanceError

    def __eq__(self, other: object) -> bool:
        """Equal to a junction of the same type with equal conditions."""
        if other.__class__ is not self.__class__:
            return NotImplemented
        return self.conditions == other.conditions

    def __ne__(self, other: object) -> bool:
        """Not equal."""
        result = self.__eq__(other)
        return result if result is NotImplemented else not result

    def __hash__(self) -> int:
        """Hash as the type and the conditions."""
        return hash((self.__class__.__name__, self.conditions))

    def __repr__(self) -> str:
        """The expression that builds it: ``a & b & c`` (``|`` for ``AnyOf``)."""
        conditions = self.conditions
        if len(conditions) < 2:
            return f"{self.__class__.__name__}(conditions={conditions!r})"
        sep = " & " if isinstance(self, All) else " | "
        return sep.join(_operand_repr(c) for c in conditions)

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickle as the flat tuple."""
        return (self.__class__, (self.conditions,))


def _flatten(link: _Link) -> Iterator[Condition]:
    # Depth-first, left to right, without recursion: chains may be 100,000 long.
    stack: list[Any] = [link]
    while stack:
        part = stack.pop()
        if isinstance(part, _Link):
            stack.append(part.right)
            stack.append(part.left)
        elif isinstance(part, tuple):
            yield from part
        else:
            items = part._items  # noqa: SLF001
            stack.append(items)


class All(_Junction):
    """Every condition must hold (``a & b``)."""

    __slots__ = ()

    def compile(self) -> Matcher:
        """Return a predicate on events."""
        matchers = tuple(c.compile() for c in self.conditions)
        return lambda e: all(m(e) for m in matchers)


class AnyOf(_Junction):
    """At least one condition must hold (``a | b``)."""

    __slots__ = ()

    def compile(self) -> Matcher:
        """Return a predicate on events."""
        matchers = tuple(c.compile() for c in self.conditions)
        return lambda e: any(m(e) for m in matchers)


def _check_condition(value: Any) -> Condition:
    if not isinstance(value, Condition):
        raise InvalidModelError(
            f"expected a condition, got {shorten(value)}",
            path="condition",
            value=value,
        )
    if value.depth >= MAX_CONDITION_DEPTH:
        raise _too_deep(value.depth + 1, "condition")
    return value


def _operand_repr(c: Condition) -> str:
    text = repr(c)
    return f"({text})" if isinstance(c, All | AnyOf) and len(c.conditions) > 1 else text


@attrs.frozen(repr=False)
class Not(Condition):
    """The condition must not hold (``~a``)."""

    condition: Condition = attrs.field(converter=_check_condition)

    def __repr__(self) -> str:
        """The expression that builds it: ``~c``."""
        return f"~{_operand_repr(self.condition)}"

    @property
    def depth(self) -> int:
        """One more than the negated condition."""
        return self.condition.depth + 1

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
    where('campaign', contains='newsletter') & ~where('path', eq='/unsubscribe')
    """
    if not tests:
        raise InvalidModelError(
            f"where({shorten(key)}) needs an operator, e.g. where({shorten(key)}, "
            f"eq=...); operators: {', '.join(OPERATORS)}",
            path="where",
            value=key,
        )
    parts = [Compare(key, op, operand) for op, operand in tests.items()]
    return parts[0] if len(parts) == 1 else All(tuple(parts))


#: The first round's name of :class:`AnyOf`, kept so that old code still runs.
Any_ = AnyOf
