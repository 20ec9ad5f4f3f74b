"""Models as data: plain dicts, JSON and TOML, both ways, losslessly.

Nothing is evaluated: a model can come from untrusted configuration. Every problem
raises :class:`~leadscore.InvalidModelError` whose ``path`` names the key
(``rules[2].aging.months``). The format is described in the manual ("Models as
data"); points models, fit models, rating scales and segments are told apart by
an optional ``type`` key.
"""

from __future__ import annotations

import json
import math
import re
import tomllib
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any, TypeVar

from ._codec import (
    PERIOD_KEYS,
    aging_from_dict,
    aging_to_dict,
    build,
    check_nesting,
    condition_from_dict,
    condition_to_dict,
    join,
    mapping,
    period_from_dict,
    period_to_dict,
)
from ._segments import Segment
from .exceptions import InvalidModelError
from .model._aging import AgingPolicy
from .model._fit import PROFILE_UPDATED, FitModel, FitRule
from .model._limits import shorten
from .model._rating import RatingScale
from .model._rules import Frequency, Group, Rule, ScoringModel

#: What :func:`to_dict` and :func:`from_dict` convert.
Document = ScoringModel | FitModel | RatingScale[Any] | Segment
D = TypeVar("D", ScoringModel, FitModel, RatingScale[Any], Segment)

__all__ = [
    "Document",
    "aging_from_dict",
    "aging_to_dict",
    "condition_from_dict",
    "condition_to_dict",
    "dump",
    "fit_model_from_dict",
    "fit_model_to_dict",
    "from_dict",
    "from_json",
    "from_toml",
    "load",
    "model_from_dict",
    "model_to_dict",
    "rule_from_dict",
    "rule_to_dict",
    "scale_from_dict",
    "scale_to_dict",
    "segment_from_dict",
    "segment_to_dict",
    "to_dict",
    "to_json",
    "to_toml",
]

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
    if rule.group is not None:
        out["group"] = rule.group
    if rule.at_most is not None:
        out["at_most"] = {"count": rule.at_most.count, "per": rule.at_most.per}
    if rule.ended_by is not None:
        ended_by = rule.ended_by
        out["ended_by"] = ended_by[0] if len(ended_by) == 1 else list(ended_by)
    return out


def rule_from_dict(data: Any, path: str = "rule") -> Rule:
    """Build a rule from its dict form."""
    check_nesting(data, path)
    return _rule(data, path)


_RULE_KEYS = {
    "kind",
    "points",
    "when",
    "aging",
    "once_per",
    "limit",
    "name",
    "group",
    "at_most",
    "ended_by",
}


def _required(data: Mapping[str, Any], path: str, *keys: str) -> None:
    for key in keys:
        if key not in data:
            raise InvalidModelError(
                f"missing {key!r}", path=join(path, key), value=None
            )


def _frequency(data: Any, path: str) -> Frequency:
    """A rule's ``at_most`` table: ``{count = 20, per = "day"}``."""
    data = mapping(data, path, {"count", "per"})
    _required(data, path, "count", "per")
    return build(path, lambda: Frequency(data["count"], data["per"]))


def _rule(data: Any, path: str) -> Rule:
    data = mapping(data, path, _RULE_KEYS)
    _required(data, path, "kind", "points")
    when = (
        condition_from_dict(data["when"], join(path, "when"))
        if "when" in data
        else None
    )
    aging = (
        aging_from_dict(data["aging"], join(path, "aging")) if "aging" in data else None
    )
    at_most = (
        _frequency(data["at_most"], join(path, "at_most"))
        if "at_most" in data
        else None
    )
    return build(
        path,
        lambda: Rule(
            data["kind"],
            data["points"],
            when=when,
            aging=aging,
            once_per=data.get("once_per"),
            limit=data.get("limit"),
            name=data.get("name"),
            group=data.get("group"),
            at_most=at_most,
            ended_by=data.get("ended_by"),
        ),
    )


def _group_to_dict(group: Group) -> dict[str, Any]:
    out: dict[str, Any] = {"name": group.name}
    if group.limit is not None:
        out["limit"] = group.limit
    if group.once_per is not None:
        out["once_per"] = list(group.once_per)
    return out


def _group(data: Any, path: str) -> Group:
    data = mapping(data, path, {"name", "limit", "once_per"})
    _required(data, path, "name")
    return build(
        path,
        lambda: Group(
            data["name"], limit=data.get("limit"), once_per=data.get("once_per")
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
    if model.groups:
        out["groups"] = [_group_to_dict(g) for g in model.groups]
    if model.subject is not None:
        out["subject"] = model.subject
    if model.timezone != "UTC":
        out["timezone"] = model.timezone
    return out


def _items(data: Mapping[str, Any], path: str, key: str = "rules") -> list[Any]:
    raw = data.get(key, [])
    if not isinstance(raw, list):
        raise InvalidModelError(
            f"{key} must be a list, got {type(raw).__name__} {shorten(raw)}",
            path=join(path, key),
            value=raw,
        )
    return raw


def model_from_dict(data: Any, path: str = "") -> ScoringModel:
    """Build a scoring model from its dict form.

    Raises:
        InvalidModelError: naming the path of the offending key.
    """
    check_nesting(data, path)
    data = mapping(
        data,
        path,
        {
            "type",
            "name",
            "rules",
            "aging",
            "combine",
            "initial",
            "bounds",
            "active_from",
            "merge",
            "groups",
            "subject",
            "timezone",
        },
    )
    _check_type(data, "points", path)
    _required(data, path, "name")
    rules = [
        _rule(r, join(path, f"rules[{i}]")) for i, r in enumerate(_items(data, path))
    ]
    kwargs: dict[str, Any] = {
        k: data[k]
        for k in (
            "combine",
            "initial",
            "bounds",
            "active_from",
            "merge",
            "subject",
            "timezone",
        )
        if k in data
    }
    if "groups" in data:
        kwargs["groups"] = [
            _group(g, join(path, f"groups[{i}]"))
            for i, g in enumerate(_items(data, path, "groups"))
        ]
    if "aging" in data:
        kwargs["aging"] = aging_from_dict(data["aging"], join(path, "aging"))
    return build(path, lambda: ScoringModel(data["name"], rules, **kwargs))


def _check_type(data: Mapping[str, Any], expected: str, path: str) -> None:
    kind = data.get("type", "points")
    if kind != expected:
        raise InvalidModelError(
            f"expected a document of type {expected!r}, got {shorten(kind)}",
            path=join(path, "type"),
            value=kind,
        )


def scale_to_dict(scale: RatingScale[Any]) -> dict[str, Any]:
    """The dict form of a rating scale.

    >>> scale_to_dict(RatingScale.stars())
    {'type': 'scale', 'cuts': [2.0, 3.0, 4.0, 5.0]}
    """
    out: dict[str, Any] = {"type": "scale", "cuts": list(scale.cuts)}
    if scale.labels is not None:
        out["labels"] = list(scale.labels)
    return out


def scale_from_dict(data: Any, path: str = "") -> RatingScale[Any]:
    """Build a rating scale from its dict form."""
    check_nesting(data, path)
    data = mapping(data, path, {"type", "cuts", "labels"})
    _check_type(data, "scale", path)
    if "cuts" not in data:
        raise InvalidModelError("missing 'cuts'", path=join(path, "cuts"), value=None)
    return build(path, lambda: RatingScale(data["cuts"], data.get("labels")))


def fit_model_to_dict(model: FitModel) -> dict[str, Any]:
    """The dict form of a fit model."""
    rules = []
    for rule in model.rules:
        item: dict[str, Any] = {
            "when": condition_to_dict(rule.when),
            "points": rule.points,
        }
        if rule.otherwise:
            item["otherwise"] = rule.otherwise
        if rule.name is not None:
            item["name"] = rule.name
        rules.append(item)
    out: dict[str, Any] = {"type": "fit", "name": model.name, "rules": rules}
    if model.initial != 0.0:
        out["initial"] = model.initial
    if model.bounds is not None:
        out["bounds"] = list(model.bounds)
    if model.kind != PROFILE_UPDATED:
        out["kind"] = model.kind
    return out


def _fit_rule_from_dict(item: Any, path: str) -> FitRule:
    item = mapping(item, path, {"when", "points", "otherwise", "name"})
    for required in ("when", "points"):
        if required not in item:
            raise InvalidModelError(
                f"missing {required!r}", path=join(path, required), value=None
            )
    when = condition_from_dict(item["when"], join(path, "when"))
    return build(
        path,
        lambda: FitRule(
            when,
            item["points"],
            otherwise=item.get("otherwise", 0.0),
            name=item.get("name"),
        ),
    )


def fit_model_from_dict(data: Any, path: str = "") -> FitModel:
    """Build a fit model from its dict form."""
    check_nesting(data, path)
    data = mapping(data, path, {"type", "name", "rules", "initial", "bounds", "kind"})
    _check_type(data, "fit", path)
    rules = [
        _fit_rule_from_dict(r, join(path, f"rules[{i}]"))
        for i, r in enumerate(_items(data, path))
    ]
    kwargs = {k: data[k] for k in ("initial", "bounds", "kind") if k in data}
    return build(path, lambda: FitModel(data.get("name"), rules, **kwargs))


_SEGMENT_KEYS = ("above", "below", "at_least", "at_most", "change", "by")


def segment_to_dict(segment: Segment) -> dict[str, Any]:
    """The dict form of a segment (only the conditions that are set).

    >>> segment_to_dict(Segment.greater_than("Hot leads", 75))
    {'type': 'segment', 'name': 'Hot leads', 'above': 75.0}
    """
    out: dict[str, Any] = {"type": "segment", "name": segment.name}
    for key in _SEGMENT_KEYS:
        value = getattr(segment, key)
        if value is not None and not (key == "by" and value == 0.0):
            out[key] = value
    if segment.within is not None:
        out["within"] = period_to_dict(segment.within)
    return out


def segment_from_dict(data: Any, path: str = "") -> Segment:
    """Build a segment from its dict form."""
    check_nesting(data, path)
    data = mapping(data, path, {"type", "name", "within", *_SEGMENT_KEYS})
    _check_type(data, "segment", path)
    # Types the Segment constructor assumes (a set lookup, a comparison with 0).
    change = data.get("change")
    if change is not None and not isinstance(change, str):
        raise InvalidModelError(
            f"change must be 'decreased' or 'increased', got {shorten(change)}",
            path=join(path, "change"),
            value=change,
        )
    if "by" in data and data["by"] is None:
        raise InvalidModelError(
            "by must be a number, got None", path=join(path, "by"), value=None
        )
    kwargs = {k: data[k] for k in _SEGMENT_KEYS if k in data}
    if "within" in data:
        within = mapping(data["within"], join(path, "within"), set(PERIOD_KEYS))
        kwargs["within"] = period_from_dict(within, join(path, "within"))
    return build(path, lambda: Segment(data.get("name"), **kwargs))


_TO_DICT: dict[type, Callable[[Any], dict[str, Any]]] = {
    Segment: segment_to_dict,
    ScoringModel: model_to_dict,
    FitModel: fit_model_to_dict,
    RatingScale: scale_to_dict,
}
_FROM_DICT: dict[type, Callable[[Any], Any]] = {
    Segment: segment_from_dict,
    ScoringModel: model_from_dict,
    FitModel: fit_model_from_dict,
    RatingScale: scale_from_dict,
}


def to_dict(document: Document) -> dict[str, Any]:
    """The dict form of a points model, a fit model or a rating scale."""
    return _TO_DICT[type(document)](document)


def from_dict(data: Any, kind: type[D] = ScoringModel) -> D:  # type: ignore[assignment]
    """Build a *kind* (``ScoringModel``, ``FitModel`` or ``RatingScale``)."""
    if kind not in _FROM_DICT:
        msg = f"cannot build a {kind!r}; use ScoringModel, FitModel or RatingScale"
        raise TypeError(msg)
    result: D = _FROM_DICT[kind](data)
    return result


def to_json(document: Document, **dumps: Any) -> str:
    """A model or scale as a JSON document (``json.dumps`` keywords allowed)."""
    return json.dumps(to_dict(document), **dumps)


def from_json(text: str | bytes, kind: type[D] = ScoringModel) -> D:  # type: ignore[assignment]
    """A *kind* (default ``ScoringModel``) from a JSON document.

    Raises:
        InvalidModelError: for invalid JSON (with line and column) or content,
            and for anything else that cannot be read as a document (text that
            nests too deep, an integer of more digits than Python reads).
    """
    if not isinstance(text, str | bytes | bytearray):
        raise InvalidModelError(
            f"expected JSON text, got {type(text).__name__} {shorten(text)}",
            path="",
            value=text,
        )
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise InvalidModelError(
            f"not valid JSON: {e.msg} (line {e.lineno}, column {e.colno})",
            path="",
            value=text[:200],
        ) from None
    except (ValueError, RecursionError) as e:  # bad UTF-8, 4,300+ digits, nesting
        raise InvalidModelError(
            f"not a readable JSON document: {shorten(str(e))}",
            path="",
            value=text[:200],
        ) from None
    return from_dict(data, kind)


def from_toml(text: str | bytes, kind: type[D] = ScoringModel) -> D:  # type: ignore[assignment]
    r"""A *kind* (default ``ScoringModel``) from a TOML document.

    TOML has no null: ``{}`` (an empty inline table) stands for None where a
    document may hold one (see :func:`to_toml`).

    >>> from_toml('name = "m"\nbounds = [0, {}]').bounds
    (0.0, None)

    Raises:
        InvalidModelError: for text that is not UTF-8, invalid TOML (with line and
            column) or invalid content.
    """
    if isinstance(text, bytes | bytearray):
        text = _utf8(bytes(text))
    if not isinstance(text, str):
        raise InvalidModelError(
            f"expected TOML text, got {type(text).__name__} {shorten(text)}",
            path="",
            value=text,
        )
    try:
        data: Any = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise InvalidModelError(f"not valid TOML: {e}", path="", value=None) from None
    except (ValueError, RecursionError) as e:  # 4,300+ digits, nesting
        raise InvalidModelError(
            f"not a readable TOML document: {shorten(str(e))}", path="", value=None
        ) from None
    check_nesting(data)  # before the walk below, which recurses
    return from_dict(_toml_nulls(data, kind), kind)


def _utf8(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise InvalidModelError(
            f"not UTF-8 text: byte {e.start} is {raw[e.start : e.start + 1]!r}",
            path="",
            value=raw[max(0, e.start - 20) : e.start + 20],
        ) from None


def load(path: str | Path, kind: type[D] = ScoringModel) -> D:  # type: ignore[assignment]
    """A *kind* (default ``ScoringModel``) from a ``.toml`` or ``.json`` file.

    ``config.load("grade.toml", FitModel)`` loads a fit model. The file must be
    UTF-8.

    Raises:
        InvalidModelError: for an unknown suffix, text that is not UTF-8, invalid
            syntax or invalid content; the message names the file and ``source``
            holds it.
        OSError: when the file cannot be read at all (missing, a directory ...).
    """
    path = _model_path(path)
    raw = path.read_bytes()
    try:
        text = _utf8(raw)
        if path.suffix == ".toml":
            return from_toml(text, kind)
        return from_json(text, kind)
    except InvalidModelError as e:
        raise InvalidModelError(
            e.reason, path=e.path, value=e.value, source=str(path)
        ) from None


def dump(document: Document, path: str | Path) -> None:
    """Write *document* to a ``.toml`` or ``.json`` file (by its suffix), in UTF-8.

    TOML as :func:`to_toml` writes it; JSON indented by two spaces. What
    :func:`load` reads back is equal to *document*.

    Raises:
        InvalidModelError: for an unknown suffix, or a document TOML cannot hold
            (a lone surrogate in a string); the message names the file.
        OSError: when the file cannot be written.
    """
    path = _model_path(path)
    try:
        if path.suffix == ".toml":
            text = to_toml(document)
        else:
            text = to_json(document, indent=2) + "\n"
    except InvalidModelError as e:
        raise InvalidModelError(
            e.reason, path=e.path, value=e.value, source=str(path)
        ) from None
    path.write_text(text, encoding="utf-8")


def _model_path(path: str | Path) -> Path:
    path = Path(path)
    if path.suffix not in {".toml", ".json"}:
        raise InvalidModelError(
            f"unknown model file type {shorten(path.suffix)}; use .toml or .json",
            path="",
            value=str(path),
            source=str(path),
        )
    return path


# -- TOML writing ------------------------------------------------------------------
# Written here rather than with a TOML library: documents are small and regular
# (scalars, lists, small tables), and the layout is the manual's: top-level keys,
# nested tables inline, then ``[[groups]]`` and ``[[rules]]`` sections. The round
# trip through ``tomllib`` is property-tested (tests/test_config_toml.py).


def to_toml(document: Document) -> str:
    """A model, fit model, rating scale or segment as a TOML document.

    Top-level keys first, nested tables inline, rules and groups as ``[[rules]]``
    and ``[[groups]]`` sections. TOML has no null: where the dict form holds None
    (an open side of ``bounds``, a condition's operand ``eq=None`` or an item of
    one, a scale's label) it is written ``{}``, an empty inline table, which
    :func:`from_toml` and :func:`load` read back as None.

    >>> from leadscore import Rule, ScoringModel, where
    >>> model = ScoringModel("Sales", [Rule("page.viewed", 20,
    ...     when=where("path", eq="/pricing"))], bounds=(0, None))
    >>> print(to_toml(model), end="")
    name = "Sales"
    bounds = [0.0, {}]
    <BLANKLINE>
    [[rules]]
    kind = "page.viewed"
    points = 20.0
    when = { where = "path", eq = "/pricing" }
    >>> from_toml(to_toml(model)) == model
    True

    Raises:
        InvalidModelError: for a string that no TOML file can hold (a lone
            surrogate), naming its key path.
    """
    data = to_dict(document)
    lines: list[str] = []
    sections: list[tuple[str, list[Mapping[str, Any]]]] = []
    for key, value in data.items():
        if (
            isinstance(value, list)
            and value
            and all(isinstance(item, Mapping) for item in value)
        ):
            sections.append((key, value))
        else:
            lines.append(f"{_toml_key(key)} = {_toml_value(value)}")
    sections.sort(key=lambda section: section[0] != "groups")  # groups, then rules
    for key, items in sections:
        for item in items:
            lines.extend(("", f"[[{_toml_key(key)}]]"))
            lines.extend(f"{_toml_key(k)} = {_toml_value(v)}" for k, v in item.items())
    text = "\n".join(lines) + "\n"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        where, value = next(_surrogates(data, ""))
        raise InvalidModelError(
            f"TOML cannot hold a lone surrogate, as in {shorten(value)}; "
            "write the document as JSON",
            path=where,
            value=value,
        ) from None
    return text


_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")
_TOML_ESCAPE = re.compile(r'[\x00-\x1f"\\\x7f]')
_TOML_ESCAPES = {
    '"': '\\"',
    "\\": "\\\\",
    "\b": "\\b",
    "\t": "\\t",
    "\n": "\\n",
    "\f": "\\f",
    "\r": "\\r",
}


def _toml_string(text: str) -> str:
    """*text* as a TOML basic string: quotes, backslashes and controls escaped."""
    return '"{}"'.format(
        _TOML_ESCAPE.sub(lambda m: _TOML_ESCAPES.get(m[0], f"\\u{ord(m[0]):04x}"), text)
    )


def _toml_key(key: str) -> str:
    return key if _BARE_KEY.fullmatch(key) else _toml_string(key)


def _toml_value(value: Any) -> str:
    """*value* inline: scalars, arrays, inline tables; None as ``{}``."""
    if isinstance(value, Mapping):
        items = ", ".join(
            f"{_toml_key(k)} = {_toml_value(v)}" for k, v in value.items()
        )
        return f"{{ {items} }}" if items else "{}"
    if isinstance(value, list | tuple):
        return f"[{', '.join(_toml_value(v) for v in value)}]"
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    return _toml_scalar(value)


def _toml_scalar(value: Any) -> str:
    if value is None:
        return "{}"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return _toml_string(value)
    msg = f"cannot write {type(value).__name__} {shorten(value)} as TOML"
    raise TypeError(msg)


def _surrogates(data: Any, path: str) -> Iterator[tuple[str, str]]:
    """The key paths and strings of *data* that UTF-8 cannot encode."""
    if isinstance(data, str):
        try:
            data.encode("utf-8")
        except UnicodeEncodeError:
            yield path, data
    elif isinstance(data, Mapping):
        for key, value in data.items():
            yield from _surrogates(key, path)
            yield from _surrogates(value, join(path, key))
    elif isinstance(data, list | tuple):
        for i, value in enumerate(data):
            yield from _surrogates(value, join(path, f"[{i}]"))


# -- TOML reading: {} for None -------------------------------------------------------


def _toml_nulls(data: Any, kind: type) -> Any:
    """*data* read from TOML, with ``{}`` as None where a document may hold None.

    Only there: the open side of ``bounds``, condition operands (and their items),
    a scale's labels. Anything of another shape is left for :func:`from_dict` to
    reject with its usual message.
    """
    if not isinstance(data, dict):
        return data
    data = dict(data)
    if kind is RatingScale and isinstance(data.get("labels"), list):
        data["labels"] = [_null(label) for label in data["labels"]]
    if kind in {ScoringModel, FitModel}:
        if isinstance(data.get("bounds"), list):
            data["bounds"] = [_null(bound) for bound in data["bounds"]]
        if isinstance(data.get("rules"), list):
            data["rules"] = [
                {**rule, "when": _condition_nulls(rule["when"])}
                if isinstance(rule, dict) and "when" in rule
                else rule
                for rule in data["rules"]
            ]
    return data


def _null(value: Any) -> Any:
    return None if isinstance(value, dict) and not value else value


def _operand_nulls(value: Any) -> Any:
    if isinstance(value, list):
        return [_operand_nulls(v) for v in value]
    return _null(value)


def _condition_nulls(condition: Any) -> Any:
    if not isinstance(condition, dict):
        return condition
    out: dict[str, Any] = {}
    for key, value in condition.items():
        if key in {"all", "any"} and isinstance(value, list):
            out[key] = [_condition_nulls(c) for c in value]
        elif key == "not":
            out[key] = _condition_nulls(value)
        elif key == "where":
            out[key] = value
        else:
            out[key] = _operand_nulls(value)
    return out
