"""Shared pieces of the dict codec: key paths, checks, aging and conditions."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from ._aging import AgingPolicy
from ._conditions import VALUE, All, Any_, Compare, Condition, EventField, Not
from .exceptions import InvalidModelError, LeadScoreError

__all__ = [
    "aging_from_dict",
    "aging_to_dict",
    "build",
    "condition_from_dict",
    "condition_to_dict",
    "join",
    "mapping",
    "number",
    "period_from_dict",
    "period_to_dict",
]

T = TypeVar("T")

PERIOD_KEYS = ("weeks", "days", "hours", "minutes", "seconds", "microseconds")
_OPS_OUT = {"in_": "in"}
_OPS_IN = {"in": "in_"}


def join(path: str, key: str) -> str:
    if not path:
        return key
    return f"{path}{key}" if key.startswith("[") else f"{path}.{key}"


def build(path: str, make: Callable[[], T]) -> T:
    """Call *make*; re-raise a constructor's error with the full key path."""
    try:
        return make()
    except InvalidModelError as e:
        full = join(path, e.path) if e.path else path
        raise InvalidModelError(e.reason, path=full, value=e.value) from None
    except LeadScoreError as e:
        raise InvalidModelError(str(e), path=path, value=None) from None


def mapping(data: Any, path: str, allowed: set[str]) -> Mapping[str, Any]:
    if not isinstance(data, Mapping):
        raise InvalidModelError(
            f"expected a table/object, got {type(data).__name__} {data!r}",
            path=path,
            value=data,
        )
    for key in data:
        if key not in allowed:
            raise InvalidModelError(
                f"unknown key {key!r}; expected one of {', '.join(sorted(allowed))}",
                path=join(path, str(key)),
                value=key,
            )
    return data


def number(data: Mapping[str, Any], key: str, path: str) -> float | int:
    value = data[key]
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidModelError(
            f"must be a number, got {type(value).__name__} {value!r}",
            path=join(path, key),
            value=value,
        )
    return value


# -- aging ---------------------------------------------------------------------


def period_to_dict(period: dt.timedelta) -> dict[str, int]:
    """A timedelta as its non-zero ``days``, ``seconds`` and ``microseconds``."""
    parts = {
        "days": period.days,
        "seconds": period.seconds,
        "microseconds": period.microseconds,
    }
    return {key: amount for key, amount in parts.items() if amount}


def period_from_dict(data: Mapping[str, Any], path: str) -> dt.timedelta:
    """The timedelta of the period keys (weeks ... microseconds) in *data*."""
    parts = {k: number(data, k, path) for k in PERIOD_KEYS if k in data}
    try:
        return dt.timedelta(**parts)
    except OverflowError:
        raise InvalidModelError(
            f"period is too long: {parts!r}", path=path, value=parts
        ) from None


def aging_to_dict(policy: AgingPolicy) -> dict[str, Any]:
    """The dict form of an aging policy.

    >>> aging_to_dict(AgingPolicy.expire_after(months=6))
    {'policy': 'expire_after', 'months': 6}
    """
    out: dict[str, Any] = {"policy": policy.kind}
    if policy.months:
        out["months"] = policy.months
    out.update(period_to_dict(policy.period))
    if policy.kind == "by_count":
        out["factor"] = policy.factor
    return out


def aging_from_dict(data: Any, path: str = "aging") -> AgingPolicy:
    """Build an aging policy from its dict form."""
    data = mapping(data, path, {"policy", "months", "factor", *PERIOD_KEYS})
    if "policy" not in data:
        raise InvalidModelError(
            "missing 'policy' (never, expire_after, half_life, linear, by_count)",
            path=join(path, "policy"),
            value=None,
        )
    kind = data["policy"]
    period = period_from_dict(data, path)
    months = data.get("months", 0)
    factor = number(data, "factor", path) if "factor" in data else 1.0
    return build(
        path, lambda: AgingPolicy(kind, months=months, period=period, factor=factor)
    )


# -- conditions ------------------------------------------------------------------


def condition_to_dict(condition: Condition) -> dict[str, Any]:
    """The dict form of a condition.

    >>> from leadscore import where
    >>> condition_to_dict(where("campaign", contains="newsletter"))
    {'where': 'campaign', 'contains': 'newsletter'}
    """
    if isinstance(condition, Compare):
        key: Any = condition.key
        if isinstance(key, EventField):
            key = {"event": key.value}
        return {
            "where": key,
            _OPS_OUT.get(condition.op, condition.op): _plain(condition.operand),
        }
    if isinstance(condition, All):
        return {"all": [condition_to_dict(c) for c in condition.conditions]}
    if isinstance(condition, Any_):
        return {"any": [condition_to_dict(c) for c in condition.conditions]}
    if isinstance(condition, Not):
        return {"not": condition_to_dict(condition.condition)}
    msg = f"unknown condition type {type(condition).__name__}"
    raise TypeError(msg)


def _plain(value: Any) -> Any:
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    return value


def _operand(value: Any) -> Any:
    if isinstance(value, list):
        return tuple(_operand(v) for v in value)
    return value


def condition_from_dict(data: Any, path: str = "when") -> Condition:
    """Build a condition from its dict form."""
    if isinstance(data, Mapping) and len(data) == 1:
        ((key, value),) = data.items()
        if key in {"all", "any"}:
            if not isinstance(value, list) or not value:
                raise InvalidModelError(
                    f"{key} takes a non-empty list of conditions, got {value!r}",
                    path=join(path, key),
                    value=value,
                )
            parts = tuple(
                condition_from_dict(v, join(path, f"{key}[{i}]"))
                for i, v in enumerate(value)
            )
            return All(parts) if key == "all" else Any_(parts)
        if key == "not":
            return Not(condition_from_dict(value, join(path, "not")))
    ops = {
        "eq",
        "ne",
        "contains",
        "startswith",
        "endswith",
        "in",
        "gt",
        "ge",
        "lt",
        "le",
        "exists",
    }
    data = mapping(data, path, {"where", *ops})
    if "where" not in data:
        raise InvalidModelError(
            "a condition needs 'where' (or is 'all', 'any' or 'not')",
            path=path,
            value=dict(data),
        )
    key = data["where"]
    if isinstance(key, Mapping):
        if dict(key) != {"event": "value"}:
            raise InvalidModelError(
                f"the only event field is {{event = 'value'}}, got {key!r}",
                path=join(path, "where"),
                value=key,
            )
        key = VALUE
    given = [op for op in data if op != "where"]
    if len(given) != 1:
        raise InvalidModelError(
            f"a condition takes exactly one operator, got {given!r}",
            path=path,
            value=given,
        )
    (op,) = given
    operand = _operand(data[op])
    return build(path, lambda: Compare(key, _OPS_IN.get(op, op), operand))
