"""Shared pieces of the dict codec: key paths, checks, aging and conditions."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from .exceptions import InvalidModelError, LeadScoreError
from .model._aging import AGING_KINDS, AgingPolicy, Step
from .model._conditions import VALUE, All, AnyOf, Compare, Condition, EventField, Not
from .model._limits import MAX_CONDITION_DEPTH, MAX_INT_ATTR, MAX_REPR, shorten

__all__ = [
    "MAX_NESTING",
    "aging_from_dict",
    "aging_to_dict",
    "build",
    "check_nesting",
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
_STEP_PATH = re.compile(r"steps\[(\d+)\](?:\.(\w+))?")
_OPS_OUT = {"in_": "in"}
_OPS_IN = {"in": "in_"}
_OPS = ("eq", "ne", "contains", "startswith", "endswith", "in", "gt", "ge", "lt", "le")

#: Deepest nesting of tables and lists in a document. Conditions nest at most
#: MAX_CONDITION_DEPTH deep, two document levels each (``{all = [...]}``), and an
#: operand may hold tuples as deep again: nothing valid comes near this, and
#: checking it first keeps every later step (and every error message) shallow.
MAX_NESTING = 4 * MAX_CONDITION_DEPTH


def key_text(key: object) -> str:
    """A document key as it appears in a path: escaped if unprintable, cut if long."""
    text = key if isinstance(key, str) and key.isprintable() else repr(key)
    return text if len(text) <= MAX_REPR else f"{text[:MAX_REPR]}…"


def join(path: str, key: str) -> str:
    """*path* extended by *key* (``rules`` + ``[2]`` is ``rules[2]``)."""
    if not path:
        return key
    return f"{path}{key}" if key.startswith("[") else f"{path}.{key}"


def check_nesting(data: Any, path: str = "") -> None:
    """Raise InvalidModelError for a document no valid one resembles.

    Tables and lists nested deeper than ``MAX_NESTING``, and ints beyond
    ±2**1023 (no field takes one; beyond 4,300 digits Python cannot even print
    them). Iterative, so that a document nested thousands deep is rejected
    rather than exhausting the stack of whatever reads it next.
    """
    stack: list[tuple[Any, str, int]] = [(data, path, 0)]
    while stack:
        item, where, level = stack.pop()
        if isinstance(item, Mapping):
            children: Any = ((join(where, key_text(k)), v) for k, v in item.items())
        elif isinstance(item, list | tuple):
            children = ((join(where, f"[{i}]"), v) for i, v in enumerate(item))
        else:
            if isinstance(item, int) and not -MAX_INT_ATTR <= item <= MAX_INT_ATTR:
                raise InvalidModelError(
                    f"no number in a document is an int beyond ±2**1023, got "
                    f"{shorten(item)}",
                    path=where,
                    value=item,
                )
            continue
        if level >= MAX_NESTING:
            raise InvalidModelError(
                f"the document nests deeper than {MAX_NESTING} tables and lists",
                path=where,
                value=level + 1,
            )
        stack.extend((v, w, level + 1) for w, v in children)


def build(
    path: str, make: Callable[[], T], rename: Callable[[str], str] | None = None
) -> T:
    """Call *make*; re-raise a constructor's error with the full key path.

    *rename* turns a constructor's field name into the document's key (an aging
    policy's ``kind`` is the document's ``policy``).
    """
    try:
        return make()
    except InvalidModelError as e:
        field = rename(e.path) if rename and e.path else e.path
        full = join(path, field) if field else path
        raise InvalidModelError(e.reason, path=full, value=e.value) from None
    except LeadScoreError as e:
        raise InvalidModelError(str(e), path=path, value=None) from None


def mapping(data: Any, path: str, allowed: set[str]) -> Mapping[str, Any]:
    """*data* as a table with only *allowed* keys; InvalidModelError otherwise."""
    if not isinstance(data, Mapping):
        raise InvalidModelError(
            f"expected a table/object, got {type(data).__name__} {shorten(data)}",
            path=path,
            value=data,
        )
    for key in data:
        if key not in allowed:
            raise InvalidModelError(
                f"unknown key {shorten(key)}; expected one of "
                f"{', '.join(sorted(allowed))}",
                path=join(path, key_text(key)),
                value=key,
            )
    return data


def number(data: Mapping[str, Any], key: str, path: str) -> float | int:
    """``data[key]`` if it is a number (not a bool); InvalidModelError otherwise."""
    value = data[key]
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidModelError(
            f"must be a number, got {type(value).__name__} {shorten(value)}",
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
    except (OverflowError, ValueError):  # too long, or NaN
        key, value = _period_key(data, path)
        raise InvalidModelError(
            f"a period must be a finite number of days within ±999999999, got "
            f"{shorten(value)}",
            path=key,
            value=value,
        ) from None


def _period_key(data: Mapping[str, Any], path: str) -> tuple[str, Any]:
    """The key (path) and value to blame for a bad period in *data*.

    The one period key given, or the table itself when there are several or none.
    """
    given = [k for k in PERIOD_KEYS if k in data]
    if len(given) == 1:
        return join(path, given[0]), data[given[0]]
    return path, {k: data[k] for k in given}


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
    if policy.kind == "steps":
        out["steps"] = [_step_to_dict(step) for step in policy.schedule]
    return out


def _step_to_dict(step: Step) -> dict[str, Any]:
    """``{"months": 1, "days": 3, "weight": 0.75}``: the non-zero parts of *after*."""
    out: dict[str, Any] = {"months": step.months} if step.months else {}
    out.update(period_to_dict(step.period))
    out["weight"] = step.weight
    return out


def _steps_from_list(data: Any, path: str) -> list[Step]:
    """The steps of a ``steps`` policy: a list of tables of months, period, weight."""
    if isinstance(data, str | bytes | Mapping) or not isinstance(data, list | tuple):
        raise InvalidModelError(
            f"expected a list of steps, got {type(data).__name__} {shorten(data)}",
            path=path,
            value=data,
        )
    out = []
    for i, item in enumerate(data):
        where = f"{path}[{i}]"
        table = mapping(item, where, {"months", "weight", *PERIOD_KEYS})
        if "weight" not in table:
            raise InvalidModelError(
                "missing 'weight' (what remains of a point, in [0, 1])",
                path=join(where, "weight"),
                value=None,
            )
        weight = number(table, "weight", where)
        period = period_from_dict(table, where)
        out.append(Step(table.get("months", 0), period, weight))  # checked when built
    return out


def aging_from_dict(data: Any, path: str = "aging") -> AgingPolicy:
    """Build an aging policy from its dict form."""
    check_nesting(data, path)
    data = mapping(data, path, {"policy", "months", "factor", "steps", *PERIOD_KEYS})
    if "policy" not in data:
        raise InvalidModelError(
            f"missing 'policy' ({', '.join(AGING_KINDS)})",
            path=join(path, "policy"),
            value=None,
        )
    kind = data["policy"]
    period = period_from_dict(data, path)
    months = data.get("months", 0)
    factor = number(data, "factor", path) if "factor" in data else 1.0
    given = data.get("steps", ())
    schedule = tuple(
        _steps_from_list(given, join(path, "steps")) if "steps" in data else ()
    )

    def make() -> AgingPolicy:
        try:
            return AgingPolicy(
                kind, months=months, period=period, factor=factor, schedule=schedule
            )
        except InvalidModelError as e:
            # The period is the sum of the period keys: blame the one given; a
            # step's order or emptiness: blame the step's table.
            step = _STEP_PATH.fullmatch(e.path)
            if e.path == "period":
                key, value = _period_key(data, "")
            elif e.path == "steps":
                key, value = e.path, given
            elif step is not None and step[2] in {None, "period"}:
                where, item = f"steps[{step[1]}]", given[int(step[1])]
                key, value = (
                    (where, item) if step[2] is None else _period_key(item, where)
                )
            else:
                raise
            raise InvalidModelError(e.reason, path=key, value=value) from None

    return build(path, make, lambda field: "policy" if field == "kind" else field)


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
    if isinstance(condition, AnyOf):
        return {"any": [condition_to_dict(c) for c in condition.conditions]}
    if isinstance(condition, Not):
        return {"not": condition_to_dict(condition.condition)}
    msg = f"unknown condition type {type(condition).__name__}"
    raise TypeError(msg)


def _plain(value: Any) -> Any:
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    return value


def _op_key(field: str) -> str:
    # Compare's operator names are Python keywords' escapes; the document's are not.
    return "in" + field[3:] if field.startswith("in_") else field


def condition_from_dict(data: Any, path: str = "when") -> Condition:
    """Build a condition from its dict form.

    Raises:
        InvalidModelError: naming the key path, also for conditions nested deeper
            than ``MAX_CONDITION_DEPTH``.
    """
    check_nesting(data, path)
    return _condition(data, path, 1)


def _condition(data: Any, path: str, level: int) -> Condition:
    if level > MAX_CONDITION_DEPTH:
        raise InvalidModelError(
            f"conditions nest {level} levels deep here; at most "
            f"{MAX_CONDITION_DEPTH} are allowed (a where is one level, each "
            "all/any/not around it one more)",
            path=path,
            value=level,
        )
    if isinstance(data, Mapping) and len(data) == 1:
        ((key, value),) = data.items()
        if key in {"all", "any"}:
            if not isinstance(value, list) or not value:
                raise InvalidModelError(
                    f"{key} takes a non-empty list of conditions, got {shorten(value)}",
                    path=join(path, key),
                    value=value,
                )
            parts = tuple(
                _condition(v, join(path, f"{key}[{i}]"), level + 1)
                for i, v in enumerate(value)
            )
            return All(parts) if key == "all" else AnyOf(parts)
        if key == "not":
            return Not(_condition(value, join(path, "not"), level + 1))
    data = mapping(data, path, {"where", "exists", *_OPS})
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
                f"the only event field is {{event = 'value'}}, got {shorten(key)}",
                path=join(path, "where"),
                value=key,
            )
        key = VALUE
    given = [op for op in data if op != "where"]
    if len(given) != 1:
        raise InvalidModelError(
            f"a condition takes exactly one operator, got {shorten(given)}",
            path=path,
            value=given,
        )
    (op,) = given
    operand = data[op]
    return build(path, lambda: Compare(key, _OPS_IN.get(op, op), operand), _op_key)
