"""What an event may carry: attribute values and text, checked when it is built.

An attribute value is a str, an int within ±2**1023, a float other than NaN, a
bool, None or a tuple of those; numpy and pandas scalars become the plain value
they are, and anything else raises InvalidEventError naming the attribute and the
value. Text (contacts, kinds, ids, keys, str values) must be storable: no lone
surrogate and no NUL.
"""

from __future__ import annotations

import math
from typing import Any, TypeAlias

from leadscore.exceptions import InvalidEventError

from ._limits import MAX_CONDITION_DEPTH, MAX_INT_ATTR, shorten
from ._numbers import foreign_scalar

__all__ = ["AttrValue", "Scalar", "bad_text"]

Scalar: TypeAlias = str | int | float | bool | None
AttrValue: TypeAlias = Scalar | tuple[Any, ...]


def bad_text(value: str) -> str | None:
    """Why *value* cannot be stored and compared as text, or None if it can.

    Lone surrogates cannot be encoded (no store, file or database keeps them) and
    NUL ends a string in C and PostgreSQL: both are rejected when an event is built,
    not when it is written.
    """
    if value.isascii():
        return "it contains a NUL character" if "\x00" in value else None
    if "\x00" in value:
        return "it contains a NUL character"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "it contains a lone surrogate, which no encoding can write"
    return None


def _check_text(name: str, value: str, where: str | None) -> str:
    reason = bad_text(value)
    if reason is not None:
        raise InvalidEventError(
            f"{name} cannot be stored: {reason}: {shorten(value)}",
            field=name,
            value=value,
            where=where,
        )
    return value


def _check_attr_value(
    key: str, value: Any, where: str | None, depth: int = 0
) -> AttrValue:
    # Written for speed: the exact plain types are told apart by one identity
    # test each; anything else (a bad value, a tuple, np.int64, a str subclass
    # ...) goes to _other_attr_value.
    cls = value.__class__
    if cls is str:
        if not value.isascii() or "\x00" in value:
            _check_text(f"attrs[{key!r}]", value, where)
        return value  # type: ignore[no-any-return]
    if value is None or cls is bool:
        return value  # type: ignore[no-any-return]
    if (cls is int and -MAX_INT_ATTR <= value <= MAX_INT_ATTR) or (
        cls is float and value == value  # not NaN  # noqa: PLR0124
    ):
        return value  # type: ignore[no-any-return]
    return _other_attr_value(key, value, where, depth)


def _other_attr_value(
    key: str, value: object, where: str | None, depth: int
) -> AttrValue:
    """An attribute value that is not a plain str, bool, None, int or float."""
    if isinstance(value, str):
        return _check_attr_value(key, str(value), where, depth)  # np.str_
    if isinstance(value, int) and not isinstance(value, bool):
        if -MAX_INT_ATTR <= value <= MAX_INT_ATTR:
            return int(value)  # an int subclass (IntEnum): the plain int
        raise InvalidEventError(
            f"attrs[{key!r}] is an int beyond ±2**1023, which stores and float "
            f"comparisons cannot keep exactly: {shorten(value)}",
            field=f"attrs[{key!r}]",
            value=value,
            where=where,
        )
    if isinstance(value, float):
        if math.isnan(value):
            raise InvalidEventError(
                f"attrs[{key!r}] is NaN; NaN is not equal to itself, so events "
                "carrying it could never be matched or de-duplicated; use None",
                field=f"attrs[{key!r}]",
                value=value,
                where=where,
            )
        return float(value)  # np.float64: the plain float
    if isinstance(value, list | tuple):
        if depth >= MAX_CONDITION_DEPTH:
            raise InvalidEventError(
                f"attrs[{key!r}] nests tuples more than {MAX_CONDITION_DEPTH} deep",
                field=f"attrs[{key!r}]",
                value=value,
                where=where,
            )
        return tuple(_check_attr_value(key, v, where, depth + 1) for v in value)
    return _foreign_attr_value(key, value, where, depth)


def _foreign_attr_value(
    key: str, value: object, where: str | None, depth: int
) -> AttrValue:
    """A numpy or pandas scalar as the plain value it is, or InvalidEventError."""
    plain = foreign_scalar(value)  # np.int64, np.bool_, np.float32 ...
    if plain is not value:
        return _check_attr_value(key, plain, where, depth)
    raise InvalidEventError(
        f"attrs[{key!r}] must be str, int, float, bool, None or a tuple of those, "
        f"got {type(value).__name__} {shorten(value)}",
        field=f"attrs[{key!r}]",
        value=value,
        where=where,
    )
