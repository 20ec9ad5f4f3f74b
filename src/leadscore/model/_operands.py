"""Operands of conditions: checked and normalised when a condition is built.

An operand is what an event attribute may hold (lists become tuples, numpy and
pandas scalars the plain value), and what its operator takes: ``in_`` a
collection, ``exists`` a bool, the order tests a number or a str. A bad operand
raises InvalidModelError naming it. Operands compare and hash so that a bool is
never a number (:func:`operand_key`).
"""

from __future__ import annotations

import math
from typing import Any

from leadscore.exceptions import InvalidModelError

from ._events import AttrValue
from ._limits import MAX_CONDITION_DEPTH, MAX_INT_ATTR, shorten
from ._numbers import foreign_scalar
from ._operators import _ORDER

__all__ = ["operand_key"]


def _check_value(op: str, path: str, value: Any, nesting: int = 0) -> AttrValue:
    """*value* as an attribute value (lists become tuples), or InvalidModelError."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str):
        return value if value.__class__ is str else str(value)  # np.str_
    if isinstance(value, int):
        if -MAX_INT_ATTR <= value <= MAX_INT_ATTR:
            return value if value.__class__ is int else int(value)
        raise InvalidModelError(
            f"{op} takes ints within ±2**1023 (what an event attribute may hold), "
            f"got {shorten(value)}",
            path=path,
            value=value,
        )
    if isinstance(value, float):
        if math.isnan(value):
            raise InvalidModelError(
                f"{op} cannot compare with NaN", path=path, value=value
            )
        return value if value.__class__ is float else float(value)  # np.float64
    if isinstance(value, list | tuple):
        if nesting >= MAX_CONDITION_DEPTH:
            raise InvalidModelError(
                f"{op} takes tuples nested at most {MAX_CONDITION_DEPTH} deep",
                path=path,
                value=value,
            )
        return tuple(
            _check_value(op, f"{path}[{i}]", v, nesting + 1)
            for i, v in enumerate(value)
        )
    plain = foreign_scalar(value)  # np.int64, np.bool_, np.float32 ...
    if plain is not value:
        return _check_value(op, path, plain, nesting)
    raise InvalidModelError(
        f"{op} takes str, int, float, bool, None or a tuple of those, got "
        f"{type(value).__name__} {shorten(value)}",
        path=path,
        value=value,
    )


def _check_operand(op: str, operand: Any) -> Any:
    """Validate and normalise an operand; raise InvalidModelError naming it."""
    if not isinstance(operand, str | int | float | list | tuple | set | frozenset):
        operand = foreign_scalar(operand)  # np.int64, np.bool_ ... (None stays)
    if op == "exists":
        if not isinstance(operand, bool):
            raise InvalidModelError(
                f"exists takes True or False, got {shorten(operand)}",
                path="exists",
                value=operand,
            )
        return operand
    if op == "in_":
        if isinstance(operand, str) or not isinstance(
            operand, list | tuple | set | frozenset
        ):
            raise InvalidModelError(
                f"in_ takes a list or tuple of values, got {shorten(operand)}",
                path="in_",
                value=operand,
            )
        items = tuple(_check_value(op, f"in_[{i}]", v) for i, v in enumerate(operand))
        if isinstance(operand, set | frozenset):
            items = tuple(sorted(items, key=repr))
        return items
    if op in {"startswith", "endswith"} and not isinstance(operand, str):
        raise InvalidModelError(
            f"{op} takes a str, got {shorten(operand)}", path=op, value=operand
        )
    if op in _ORDER and (
        isinstance(operand, bool) or not isinstance(operand, int | float | str)
    ):
        raise InvalidModelError(
            f"{op} takes a number or a str, got {shorten(operand)}",
            path=op,
            value=operand,
        )
    return _check_value(op, op, operand)


def operand_key(value: Any) -> Any:
    # Equality and hashing of operands tell a bool from a number, as matching does:
    # where("x", eq=True) and where("x", eq=1) are different conditions.
    if value.__class__ is tuple:
        return tuple(operand_key(v) for v in value)
    return (value.__class__ is bool, value)
