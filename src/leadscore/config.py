"""Models as data: plain dicts, JSON and TOML, both ways, losslessly.

Nothing is evaluated: a model can come from untrusted configuration. Every problem
raises :class:`~leadscore.InvalidModelError` whose ``path`` names the key
(``rules[2].aging.months``).

The dict form of a model::

    {"name": "Sales readiness",
     "aging": {"policy": "expire_after", "months": 6},
     "rules": [{"kind": "email.opened", "points": 5,
                "when": {"where": "campaign", "contains": "newsletter"}},
               {"kind": "order.paid", "points": 100,
                "aging": {"policy": "never"}}]}

Conditions: ``{"where": KEY, OP: OPERAND}`` with one operator (``eq``, ``ne``,
``contains``, ``startswith``, ``endswith``, ``in``, ``gt``, ``ge``, ``lt``, ``le``,
``exists``), ``{"all": [...]}``, ``{"any": [...]}``, ``{"not": {...}}``. The key of
``Event.value`` is written ``{"event": "value"}``. Periods are ``months``,
``weeks``, ``days``, ``hours``, ``minutes``, ``seconds``, ``microseconds``.
"""

from __future__ import annotations

import datetime as dt
import json
import tomllib
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar

from ._aging import AgingPolicy
from ._conditions import VALUE, All, Any_, Compare, Condition, EventField, Not
from ._model import Rule, ScoringModel
from .exceptions import InvalidModelError, LeadScoreError

__all__ = [
    "aging_from_dict",
    "aging_to_dict",
    "condition_from_dict",
    "condition_to_dict",
    "from_json",
    "load",
    "model_from_dict",
    "model_to_dict",
    "rule_from_dict",
    "rule_to_dict",
    "to_json",
]

T = TypeVar("T")

_PERIOD_KEYS = ("weeks", "days", "hours", "minutes", "seconds", "microseconds")
_OPS_OUT = {"in_": "in"}
_OPS_IN = {"in": "in_"}


def _join(path: str, key: str) -> str:
    if not path:
        return key
    return f"{path}{key}" if key.startswith("[") else f"{path}.{key}"


def _build(path: str, make: Callable[[], T]) -> T:
    """Call *make*; re-raise a constructor's error with the full key path."""
    try:
        return make()
    except InvalidModelError as e:
        full = _join(path, e.path) if e.path else path
        raise InvalidModelError(e.reason, path=full, value=e.value) from None
    except LeadScoreError as e:
        raise InvalidModelError(str(e), path=path, value=None) from None


def _mapping(data: Any, path: str, allowed: set[str]) -> Mapping[str, Any]:
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
                path=_join(path, str(key)),
                value=key,
            )
    return data


def _number(data: Mapping[str, Any], key: str, path: str) -> float | int:
    value = data[key]
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidModelError(
            f"must be a number, got {type(value).__name__} {value!r}",
            path=_join(path, key),
            value=value,
        )
    return value


# -- aging ---------------------------------------------------------------------


def aging_to_dict(policy: AgingPolicy) -> dict[str, Any]:
    """The dict form of an aging policy.

    >>> aging_to_dict(AgingPolicy.expire_after(months=6))
    {'policy': 'expire_after', 'months': 6}
    """
    out: dict[str, Any] = {"policy": policy.kind}
    if policy.months:
        out["months"] = policy.months
    period = policy.period
    parts = {
        "days": period.days,
        "seconds": period.seconds,
        "microseconds": period.microseconds,
    }
    out.update({key: amount for key, amount in parts.items() if amount})
    if policy.kind == "by_count":
        out["factor"] = policy.factor
    return out


def aging_from_dict(data: Any, path: str = "aging") -> AgingPolicy:
    """Build an aging policy from its dict form."""
    data = _mapping(data, path, {"policy", "months", "factor", *_PERIOD_KEYS})
    if "policy" not in data:
        raise InvalidModelError(
            "missing 'policy' (never, expire_after, half_life, linear, by_count)",
            path=_join(path, "policy"),
            value=None,
        )
    kind = data["policy"]
    parts = {k: _number(data, k, path) for k in _PERIOD_KEYS if k in data}
    try:
        period = dt.timedelta(**parts)
    except OverflowError:
        raise InvalidModelError(
            f"period is too long: {parts!r}", path=path, value=parts
        ) from None
    months = data.get("months", 0)
    factor = _number(data, "factor", path) if "factor" in data else 1.0
    return _build(
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
                    path=_join(path, key),
                    value=value,
                )
            parts = tuple(
                condition_from_dict(v, _join(path, f"{key}[{i}]"))
                for i, v in enumerate(value)
            )
            return All(parts) if key == "all" else Any_(parts)
        if key == "not":
            return Not(condition_from_dict(value, _join(path, "not")))
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
    data = _mapping(data, path, {"where", *ops})
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
                path=_join(path, "where"),
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
    return _build(path, lambda: Compare(key, _OPS_IN.get(op, op), operand))


# -- rules and models ----------------------------------------------------------------


def rule_to_dict(rule: Rule) -> dict[str, Any]:
    """The dict form of a rule (only the keys that are set)."""
    out: dict[str, Any] = {
        "kind": rule.kind if isinstance(rule.kind, str) else list(rule.kind),
        "points": rule.points,
    }
    if rule.when is not None:
        out["when"] = condition_to_dict(rule.when)
    if rule.aging is not None:
        out["aging"] = aging_to_dict(rule.aging)
    if rule.once_per is not None:
        out["once_per"] = list(rule.once_per)
    if rule.limit is not None:
        out["limit"] = rule.limit
    if rule.name is not None:
        out["name"] = rule.name
    return out


def rule_from_dict(data: Any, path: str = "rule") -> Rule:
    """Build a rule from its dict form."""
    data = _mapping(
        data, path, {"kind", "points", "when", "aging", "once_per", "limit", "name"}
    )
    for required in ("kind", "points"):
        if required not in data:
            raise InvalidModelError(
                f"missing {required!r}", path=_join(path, required), value=None
            )
    when = (
        condition_from_dict(data["when"], _join(path, "when"))
        if "when" in data
        else None
    )
    aging = (
        aging_from_dict(data["aging"], _join(path, "aging"))
        if "aging" in data
        else None
    )
    return _build(
        path,
        lambda: Rule(
            data["kind"],
            data["points"],
            when=when,
            aging=aging,
            once_per=data.get("once_per"),
            limit=data.get("limit"),
            name=data.get("name"),
        ),
    )


def model_to_dict(model: ScoringModel) -> dict[str, Any]:
    """The dict form of a scoring model (JSON- and TOML-ready).

    >>> from leadscore import Rule, ScoringModel
    >>> model_to_dict(ScoringModel("m", [Rule("form.submitted", 10)]))
    {'name': 'm', 'rules': [{'kind': 'form.submitted', 'points': 10.0}]}
    """
    out: dict[str, Any] = {
        "name": model.name,
        "rules": [rule_to_dict(r) for r in model.rules],
    }
    if model.aging != AgingPolicy.never():
        out["aging"] = aging_to_dict(model.aging)
    if model.combine != "sum":
        out["combine"] = model.combine
    if model.initial != 0.0:
        out["initial"] = model.initial
    if model.bounds is not None:
        out["bounds"] = list(model.bounds)
    if model.active_from is not None:
        out["active_from"] = model.active_from.isoformat()
    if model.merge != "keep-master":
        out["merge"] = model.merge
    return out


def model_from_dict(data: Any, path: str = "") -> ScoringModel:
    """Build a scoring model from its dict form.

    Raises:
        InvalidModelError: naming the path of the offending key.
    """
    data = _mapping(
        data,
        path,
        {
            "name",
            "rules",
            "aging",
            "combine",
            "initial",
            "bounds",
            "active_from",
            "merge",
        },
    )
    if "name" not in data:
        raise InvalidModelError("missing 'name'", path=_join(path, "name"), value=None)
    raw_rules = data.get("rules", [])
    if not isinstance(raw_rules, list):
        raise InvalidModelError(
            f"rules must be a list, got {type(raw_rules).__name__}",
            path=_join(path, "rules"),
            value=raw_rules,
        )
    rules = [
        rule_from_dict(r, _join(path, f"rules[{i}]")) for i, r in enumerate(raw_rules)
    ]
    kwargs: dict[str, Any] = {
        k: data[k]
        for k in ("combine", "initial", "bounds", "active_from", "merge")
        if k in data
    }
    if "aging" in data:
        kwargs["aging"] = aging_from_dict(data["aging"], _join(path, "aging"))
    return _build(path, lambda: ScoringModel(data["name"], rules, **kwargs))


def to_json(model: ScoringModel, **dumps: Any) -> str:
    """The model as a JSON document."""
    return json.dumps(model_to_dict(model), **dumps)


def from_json(text: str) -> ScoringModel:
    """A model from a JSON document.

    Raises:
        InvalidModelError: for invalid JSON (with line and column) or model.
    """
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise InvalidModelError(
            f"not valid JSON: {e.msg} (line {e.lineno}, column {e.colno})",
            path="",
            value=text[:200],
        ) from None
    return model_from_dict(data)


def load(path: str | Path) -> ScoringModel:
    """A model from a ``.toml`` or ``.json`` file.

    Raises:
        InvalidModelError: for an unknown suffix, invalid syntax or an invalid
            model; the message names the file.
    """
    path = Path(path)
    if path.suffix not in {".toml", ".json"}:
        raise InvalidModelError(
            f"unknown model file type {path.suffix!r}; use .toml or .json",
            path="",
            value=str(path),
            source=str(path),
        )
    text = path.read_text(encoding="utf-8")
    try:
        if path.suffix == ".toml":
            try:
                data: Any = tomllib.loads(text)
            except tomllib.TOMLDecodeError as e:
                raise InvalidModelError(
                    f"not valid TOML: {e}", path="", value=None
                ) from None
            return model_from_dict(data)
        return from_json(text)
    except InvalidModelError as e:
        raise InvalidModelError(
            e.reason, path=e.path, value=e.value, source=str(path)
        ) from None
