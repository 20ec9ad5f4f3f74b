"""Rules and scoring models: what earns points, how they age and how they combine."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable
from typing import Any, Literal, TypeVar

import attrs

from leadscore.exceptions import InvalidEventError, InvalidModelError

from ._aging import AgingPolicy
from ._conditions import Condition
from ._events import SPECIAL_KINDS, to_utc
from ._limits import MAX_POINTS, shorten

__all__ = ["COMBINES", "MERGES", "Rule", "ScoringModel", "finite", "points_value"]

T = TypeVar("T")

COMBINES = ("sum", "ratio")
MERGES = ("keep-master", "union")


def finite(name: str, value: Any) -> float:
    """*value* as a float; InvalidModelError naming *name* unless a finite number.

    An int too large for a float is not finite either (no ``OverflowError``).
    """
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidModelError(
            f"{name} must be a number, got {type(value).__name__} {shorten(value)}",
            path=name,
            value=value,
        )
    try:
        number = float(value)
    except OverflowError:
        number = math.inf
    if not math.isfinite(number):
        raise InvalidModelError(
            f"{name} must be finite, got {shorten(value)}", path=name, value=value
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


def short_repr(obj: Any, positional: tuple[str, ...]) -> str:
    """``Name(pos, ..., key=value)`` with only the fields that differ from defaults.

    A model's repr should read like the code that built it, not spell out every
    default (a preset's full repr ran to a thousand characters).
    """
    parts = [repr(getattr(obj, name)) for name in positional]
    for field in attrs.fields(type(obj)):
        if field.name in positional:
            continue
        value = getattr(obj, field.name)
        if field.default is not attrs.NOTHING and value == field.default:
            continue
        parts.append(f"{field.name}={value!r}")
    return f"{type(obj).__name__}({', '.join(parts)})"


@attrs.frozen(repr=False)
class Rule:
    """Points for events of some kinds, optionally only when a condition holds.

    Args:
        kind: The event kind(s) the rule scores: a str or a tuple of str.
        points: Points per counted event; may be negative. Finite.
        when: A condition on the event (see :func:`where`), or None.
        aging: This rule's own aging policy, replacing the model's; None uses the
            model's.
        once_per: None: every matching event counts. ``()``: only the latest
            matching event counts (once ever). ``"message"`` or
            ``("message", "list")``: only the latest per value of those attributes
            (a missing key counts as the value None).
        limit: The most points (absolute value) the rule may contribute at one
            time.
        name: A label for explanations; defaults to the kind and points.

    >>> Rule("email.opened", 5, once_per="message").label
    'email.opened +5'
    """

    kind: str | tuple[str, ...] = attrs.field(converter=_to_kind)
    points: float = attrs.field(converter=_to_points)
    when: Condition | None = attrs.field(
        default=None, kw_only=True, validator=_check_optional(Condition, "when")
    )
    aging: AgingPolicy | None = attrs.field(
        default=None, kw_only=True, validator=_check_optional(AgingPolicy, "aging")
    )
    once_per: tuple[str, ...] | None = attrs.field(
        default=None, kw_only=True, converter=_to_once_per
    )
    limit: float | None = attrs.field(default=None, kw_only=True, converter=_to_limit)
    name: str | None = attrs.field(default=None, kw_only=True, converter=to_name)

    def __repr__(self) -> str:
        """The constructor call, without the fields left at their defaults."""
        return short_repr(self, ("kind", "points"))

    @property
    def kinds(self) -> tuple[str, ...]:
        """The kinds as a tuple."""
        return (self.kind,) if isinstance(self.kind, str) else self.kind

    @property
    def label(self) -> str:
        """The name, or ``"<kinds> <points>"`` when there is none."""
        if self.name is not None:
            return self.name
        return f"{'|'.join(self.kinds)} {self.points:+g}"


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


def _to_rules(value: Any) -> tuple[Rule, ...]:
    return tuple_of(Rule, value)


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


@attrs.frozen(repr=False)
class ScoringModel:
    """A named set of rules and how their points combine into one score.

    Args:
        name: The model's name (special events may name it in ``attrs["model"]``).
        rules: The rules.
        aging: The aging policy of rules that have none of their own.
        combine: ``"sum"``: ``initial + Σ points·weight``. ``"ratio"``:
            ``(initial + Σ positive·weight) / (1 + Σ |negative|·weight)``.
        initial: The score of a contact with no points.
        bounds: ``(low, high)`` clamp applied last; either side may be None.
        active_from: Events earlier than this never count.
        merge: What a merge does with the merged contact's history before the
            merge: ``"keep-master"`` drops it, ``"union"`` folds it into the master.

    Raises:
        InvalidModelError: naming the field and the value.
    """

    name: str = attrs.field()
    rules: tuple[Rule, ...] = attrs.field(converter=_to_rules)
    aging: AgingPolicy = attrs.field(
        factory=AgingPolicy.never, kw_only=True, validator=_check_policy
    )
    combine: Literal["sum", "ratio"] = attrs.field(
        default="sum", kw_only=True, validator=_one_of("combine", COMBINES)
    )
    initial: float = attrs.field(default=0.0, kw_only=True, converter=_to_initial)
    bounds: tuple[float | None, float | None] | None = attrs.field(
        default=None, kw_only=True, converter=to_bounds
    )
    active_from: dt.datetime | None = attrs.field(
        default=None, kw_only=True, converter=_to_active_from
    )
    merge: Literal["keep-master", "union"] = attrs.field(
        default="keep-master", kw_only=True, validator=_one_of("merge", MERGES)
    )

    def __repr__(self) -> str:
        """The constructor call, without the fields left at their defaults."""
        return short_repr(self, ("name", "rules"))

    @name.validator
    def _check_name(self, _: attrs.Attribute[str], value: Any) -> None:
        if not isinstance(value, str) or not value:
            raise InvalidModelError(
                f"name must be a non-empty str, got {shorten(value)}",
                path="name",
                value=value,
            )

    def policy(self, rule: Rule) -> AgingPolicy:
        """The aging policy that applies to *rule*."""
        return rule.aging if rule.aging is not None else self.aging

    def clamp(self, value: float) -> float:
        """Apply the bounds to *value*."""
        if self.bounds is None:
            return value
        low, high = self.bounds
        if low is not None and value < low:
            return low
        if high is not None and value > high:
            return high
        return value
