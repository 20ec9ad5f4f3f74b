"""Checks of what a model is given: each field's value as stored, or an error.

The converters and validators of the fields of rules, frequency caps, groups and
scoring models, and the checks other model types share (:func:`finite`,
:func:`points_value`, :func:`tuple_of` ...). Each raises InvalidModelError naming
the field and the value.
"""

from __future__ import annotations

import datetime as dt
import math
import zoneinfo
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, TypeVar

from leadscore.exceptions import InvalidEventError, InvalidModelError

from ._aging import AgingPolicy
from ._events import SPECIAL_KINDS, to_utc
from ._limits import MAX_FREQUENCY, MAX_POINTS, shorten
from ._numbers import as_float, foreign_int

if TYPE_CHECKING:
    import attrs

__all__ = ["finite", "points_value", "to_bounds", "to_name", "tuple_of"]

T = TypeVar("T")


def finite(name: str, value: Any) -> float:
    """*value* as a float; InvalidModelError naming *name* unless a finite number.

    An int too large for a float is not finite either (no ``OverflowError``).
    """
    got = as_float(value)
    if got is None:
        raise InvalidModelError(
            f"{name} must be a number, got {type(value).__name__} {shorten(value)}",
            path=name,
            value=value,
        )
    plain, number = got
    if not math.isfinite(number):
        raise InvalidModelError(
            f"{name} must be finite, got {shorten(plain)}", path=name, value=plain
        )
    return number


def points_value(name: str, value: Any) -> float:
    """*value* as a float within ±MAX_POINTS; InvalidModelError naming *name*.

    Points, ``initial``, ``bounds`` and ``limit`` stay far below the float range,
    so that no sum of them overflows to ``inf``.

    >>> points_value("points", 5)
    5.0
    """
    number = finite(name, value)
    if abs(number) > MAX_POINTS:
        raise InvalidModelError(
            f"{name} must be within ±{MAX_POINTS:g}, got {shorten(value)}",
            path=name,
            value=value,
        )
    return number


def _to_kind(value: Any) -> str | tuple[str, ...]:
    kinds = (value,) if isinstance(value, str) else value
    if not isinstance(kinds, list | tuple) or not kinds:
        raise InvalidModelError(
            "kind must be a non-empty str or a non-empty tuple of str, "
            f"got {shorten(value)}",
            path="kind",
            value=value,
        )
    for k in kinds:
        if not isinstance(k, str) or not k:
            raise InvalidModelError(
                f"kind must be a non-empty str, got {shorten(k)}", path="kind", value=k
            )
        if k in SPECIAL_KINDS:
            raise InvalidModelError(
                f"{shorten(k)} is handled by every model itself (manual scores and "
                "merges); a rule cannot score it",
                path="kind",
                value=k,
            )
    if len(set(kinds)) != len(kinds):
        raise InvalidModelError(
            f"kind lists a kind twice: {shorten(value)}", path="kind", value=value
        )
    return value if isinstance(value, str) else tuple(kinds)


def _to_once_per(value: Any) -> tuple[str, ...] | None:
    if value is None:
        return None
    keys = (value,) if isinstance(value, str) else value
    if not isinstance(keys, list | tuple) or not all(
        isinstance(k, str) and k for k in keys
    ):
        raise InvalidModelError(
            "once_per must be None, () or attribute names (a str or a tuple of str), "
            f"got {shorten(value)}",
            path="once_per",
            value=value,
        )
    return tuple(keys)


def _to_ended_by(value: Any) -> tuple[str, ...] | None:
    if value is None:
        return None
    kinds = (value,) if isinstance(value, str) else value
    if not isinstance(kinds, list | tuple) or not kinds:
        raise InvalidModelError(
            "ended_by must be None, a kind or a non-empty tuple of kinds, "
            f"got {shorten(value)}",
            path="ended_by",
            value=value,
        )
    for k in kinds:
        if not isinstance(k, str) or not k or k in SPECIAL_KINDS:
            raise InvalidModelError(
                f"ended_by must name event kinds a rule could score, got {shorten(k)}",
                path="ended_by",
                value=k,
            )
    return tuple(dict.fromkeys(kinds))


def _to_count(value: Any) -> int:
    if not isinstance(value, int):
        whole = foreign_int(value)  # np.int64
        value = value if whole is None else whole
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidModelError(
            f"count must be a whole number, got {shorten(value)}",
            path="count",
            value=value,
        )
    if not 1 <= value <= MAX_FREQUENCY:
        raise InvalidModelError(
            f"count must be from 1 to {MAX_FREQUENCY:,}, got {shorten(value)}",
            path="count",
            value=value,
        )
    return value


def _to_group_name(value: Any) -> str | None:
    if value is not None and (not isinstance(value, str) or not value):
        raise InvalidModelError(
            f"group must be a non-empty str (a group's name) or None, got "
            f"{shorten(value)}",
            path="group",
            value=value,
        )
    return value


def _to_points(value: Any) -> float:
    return points_value("points", value)


def _to_initial(value: Any) -> float:
    return points_value("initial", value)


def _to_limit(value: Any) -> float | None:
    if value is None:
        return None
    limit = points_value("limit", value)
    if limit <= 0:
        raise InvalidModelError(
            f"limit must be positive, got {shorten(value)}", path="limit", value=value
        )
    return limit


def _check_optional(cls: type, name: str) -> Any:
    def check(_: object, __: attrs.Attribute[Any], value: Any) -> None:
        if value is not None and not isinstance(value, cls):
            raise InvalidModelError(
                f"{name} must be {cls.__name__} or None, got {shorten(value)}",
                path=name,
                value=value,
            )

    return check


def to_name(value: Any) -> str | None:
    if value is not None and (not isinstance(value, str) or not value):
        raise InvalidModelError(
            f"name must be a non-empty str or None, got {shorten(value)}",
            path="name",
            value=value,
        )
    return value


def _to_group_label(value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise InvalidModelError(
            f"name must be a non-empty str, got {shorten(value)}",
            path="name",
            value=value,
        )
    return value


def tuple_of(cls: type[T], value: Any, path: str = "rules") -> tuple[T, ...]:
    """*value* as a tuple of *cls*; InvalidModelError naming the bad item."""
    if isinstance(value, cls | str | bytes) or not isinstance(value, Iterable):
        raise InvalidModelError(
            f"{path} must be an iterable of {cls.__name__}, got {shorten(value)}",
            path=path,
            value=value,
        )
    items = tuple(value)
    for i, item in enumerate(items):
        if not isinstance(item, cls):
            raise InvalidModelError(
                f"expected a {cls.__name__}, got {type(item).__name__} {shorten(item)}",
                path=f"{path}[{i}]",
                value=item,
            )
    return items


def _to_subject(value: Any) -> str | None:
    if value is not None and (not isinstance(value, str) or not value):
        raise InvalidModelError(
            "subject must be None (score contacts) or an attribute name, got "
            f"{shorten(value)}",
            path="subject",
            value=value,
        )
    return value


def _to_timezone(value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise InvalidModelError(
            f"timezone must be an IANA time zone name, got {shorten(value)}",
            path="timezone",
            value=value,
        )
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise InvalidModelError(
            f"unknown timezone {shorten(value)}; use an IANA name such as "
            "'Europe/Paris' or 'UTC'",
            path="timezone",
            value=value,
        ) from None
    return value


def to_bounds(value: Any) -> tuple[float | None, float | None] | None:
    if value is None:
        return None
    if not isinstance(value, list | tuple) or len(value) != 2:
        raise InvalidModelError(
            f"bounds must be (low, high), either may be None; got {shorten(value)}",
            path="bounds",
            value=value,
        )
    low, high = (
        None if v is None else points_value(f"bounds[{i}]", v)
        for i, v in enumerate(value)
    )
    if low is not None and high is not None and low > high:
        raise InvalidModelError(
            f"bounds low must not exceed high, got {shorten(value)}",
            path="bounds",
            value=value,
        )
    return (low, high)


def _to_active_from(value: Any) -> dt.datetime | None:
    if value is None:
        return None
    try:
        return to_utc(value, "active_from")
    except InvalidEventError as e:
        raise InvalidModelError(str(e), path="active_from", value=value) from None
    except (ValueError, OverflowError) as e:
        raise InvalidModelError(
            f"active_from is not a valid instant: {shorten(value)} ({e})",
            path="active_from",
            value=value,
        ) from None


def _one_of(name: str, choices: tuple[str, ...]) -> Any:
    def check(_: object, __: attrs.Attribute[Any], value: Any) -> None:
        if value not in choices:
            raise InvalidModelError(
                f"unknown {name} {shorten(value)}; "
                f"use one of {', '.join(map(repr, choices))}",
                path=name,
                value=value,
            )

    return check


def _check_policy(_: object, __: attrs.Attribute[Any], value: Any) -> None:
    if not isinstance(value, AgingPolicy):
        raise InvalidModelError(
            f"aging must be an AgingPolicy, got {shorten(value)}",
            path="aging",
            value=value,
        )
