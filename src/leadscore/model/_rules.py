"""Rules and scoring models: what earns points, how they age and how they combine."""

from __future__ import annotations

import datetime as dt
import math
import zoneinfo
from collections.abc import Iterable
from typing import Any, Literal, TypeVar

import attrs

from leadscore._notebook import html_table
from leadscore.exceptions import InvalidEventError, InvalidModelError

from ._aging import AgingPolicy
from ._conditions import Condition
from ._events import SPECIAL_KINDS, bad_text, to_utc
from ._limits import MAX_FREQUENCY, MAX_POINTS, shorten
from ._numbers import foreign_int, foreign_number

__all__ = [
    "COMBINES",
    "MERGES",
    "PERIODS",
    "Frequency",
    "Group",
    "Rule",
    "ScoringModel",
    "finite",
    "points_value",
]

T = TypeVar("T")

COMBINES = ("sum", "ratio")
MERGES = ("keep-master", "union")
#: The calendar buckets of :class:`Frequency`.
PERIODS = ("hour", "day", "week", "month")


def finite(name: str, value: Any) -> float:
    """*value* as a float; InvalidModelError naming *name* unless a finite number.

    An int too large for a float is not finite either (no ``OverflowError``).
    """
    if isinstance(value, bool) or not isinstance(value, int | float):
        plain = foreign_number(value)  # np.int64, np.float32, Decimal ...
        if plain is None:
            raise InvalidModelError(
                f"{name} must be a number, got {type(value).__name__} {shorten(value)}",
                path=name,
                value=value,
            )
        value = plain
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


@attrs.frozen(repr=False)
class Frequency:
    """At most *count* counted events per calendar *per* (a frequency cap).

    ``Rule(..., at_most=Frequency(20, "day"))``: "at most 20 email opens a day".
    Buckets are calendar hours, days, Monday-based weeks or months in the model's
    ``timezone``; in each, only the first *count* of the rule's remaining events
    (canonical order) count. An hour bucket is one hour of wall-clock time at one
    UTC offset, so the repeated hour of a DST change is two buckets.

    >>> Frequency(20, "day")
    Frequency(20, 'day')
    """

    count: int = attrs.field(converter=_to_count)
    per: Literal["hour", "day", "week", "month"] = attrs.field()

    @per.validator
    def _check_per(self, _: attrs.Attribute[str], value: Any) -> None:
        if value not in PERIODS:
            raise InvalidModelError(
                f"unknown per {shorten(value)}; use one of "
                f"{', '.join(map(repr, PERIODS))}",
                path="per",
                value=value,
            )

    def __repr__(self) -> str:
        """The constructor call."""
        return f"Frequency({self.count!r}, {self.per!r})"


def _check_frequency(_: object, __: attrs.Attribute[Any], value: Any) -> None:
    if value is not None and not isinstance(value, Frequency):
        raise InvalidModelError(
            f"at_most must be a Frequency or None, got {shorten(value)}",
            path="at_most",
            value=value,
        )


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


#: The longest repr kept on one line; a longer one is laid out one field a line.
MAX_LINE_REPR = 120
#: The line length of a multi-line repr (ruff's): a tuple longer is one item a line.
_LINE = 88


def short_repr(obj: Any, positional: tuple[str, ...]) -> str:
    """``Name(pos, ..., key=value)`` with only the fields that differ from defaults.

    A model's repr should read like the code that built it, not spell out every
    default (a preset's full repr ran to a thousand characters).
    """
    parts = (f"{key}{value!r}" for key, value in _fields(obj, positional))
    return f"{type(obj).__name__}({', '.join(parts)})"


def _fields(obj: Any, positional: tuple[str, ...]) -> list[tuple[str, Any]]:
    """``(prefix, value)`` of the fields to show: ``""`` or ``"name="`` and value."""
    fields = [("", getattr(obj, name)) for name in positional]
    for field in attrs.fields(type(obj)):
        if field.name in positional or not field.init:
            continue
        value = getattr(obj, field.name)
        default = field.default
        if isinstance(default, attrs.Factory):  # type: ignore[arg-type]
            default = default.factory()
        if default is not attrs.NOTHING and value == default:
            continue
        fields.append((f"{field.name}=", value))
    return fields


def long_repr(obj: Any, positional: tuple[str, ...]) -> str:
    """:func:`short_repr`, or one field a line (one item a line) when it is long.

    Still the Python that builds the object, laid out as ``ruff format`` would:
    a tuple of several items (a model's rules) one item a line, nested reprs
    that span lines indented with their field.

    >>> from leadscore import Rule, ScoringModel
    >>> print(long_repr(ScoringModel("m", [Rule("a", 1)] * 2, initial=1), ("name",)))
    ScoringModel('m', rules=(Rule('a', 1.0), Rule('a', 1.0)), initial=1.0)
    """
    short = short_repr(obj, positional)
    if len(short) <= MAX_LINE_REPR and "\n" not in short:
        return short
    lines = [f"{type(obj).__name__}("]
    for prefix, value in _fields(obj, positional):
        inline = f"    {prefix}{_indent(repr(value), 4)},"
        if isinstance(value, tuple) and len(value) > 1 and len(inline) > _LINE:
            lines.append(f"    {prefix}(")
            lines.extend(f"        {_indent(repr(item), 8)}," for item in value)
            lines.append("    ),")
        else:
            lines.append(inline)
    lines.append(")")
    return "\n".join(lines)


def _indent(text: str, spaces: int) -> str:
    """*text* with every line after the first indented by *spaces*."""
    return text.replace("\n", "\n" + " " * spaces)


def _to_group_label(value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise InvalidModelError(
            f"name must be a non-empty str, got {shorten(value)}",
            path="name",
            value=value,
        )
    return value


@attrs.frozen(repr=False)
class Group:
    """A named set of rules (``Rule(group=name)``) with a shared cap and dedupe.

    Args:
        name: The group's name; rules join it with ``Rule(group=name)``.
        limit: The most points (absolute value) the group's rules may contribute
            together at one time, after their own limits.
        once_per: Like a rule's ``once_per``, over every rule of the group: among
            the events matching any of them, only the latest per key counts (for
            each of the group's rules it matches).

    >>> Group("email", once_per="message")
    Group('email', once_per=('message',))
    """

    name: str = attrs.field(converter=_to_group_label)
    limit: float | None = attrs.field(default=None, kw_only=True, converter=_to_limit)
    once_per: tuple[str, ...] | None = attrs.field(
        default=None, kw_only=True, converter=_to_once_per
    )

    def __repr__(self) -> str:
        """The constructor call, without the fields left at their defaults."""
        return short_repr(self, ("name",))


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
        group: The name of the model's :class:`Group` the rule belongs to.
        at_most: A :class:`Frequency` cap: at most so many counted events per
            calendar hour, day, week or month (in the model's ``timezone``).
        ended_by: Kinds that take the points back (a *state rule*): a counted
            event stops counting once an event of one of these kinds with the same
            ``once_per`` key (the same contact, when ``once_per`` is None) follows
            it. ``Rule("list.joined", 10, once_per="list", ended_by="list.left")``
            holds 10 points while the contact is in a list.

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
    group: str | None = attrs.field(
        default=None, kw_only=True, converter=_to_group_name
    )
    at_most: Frequency | None = attrs.field(
        default=None, kw_only=True, validator=_check_frequency
    )
    ended_by: tuple[str, ...] | None = attrs.field(
        default=None, kw_only=True, converter=_to_ended_by
    )

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


def _to_groups(value: Any) -> tuple[Group, ...]:
    groups = tuple_of(Group, value, "groups")
    seen: set[str] = set()
    for i, group in enumerate(groups):
        if group.name in seen:
            raise InvalidModelError(
                f"two groups are named {shorten(group.name)}",
                path=f"groups[{i}].name",
                value=group.name,
            )
        seen.add(group.name)
    return groups


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
        groups: The :class:`Group` s that rules may join (``Rule(group=name)``).
        subject: What is scored: None scores ``event.contact``; an attribute name
            (``"company"``, ``"deal"``) scores the value of that attribute, and
            events without it (or with None) are ignored by this model. Manual
            score events and merges name the subject in their ``contact``.
        timezone: The IANA time zone of ``at_most`` buckets (aging stays in UTC).

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
    groups: tuple[Group, ...] = attrs.field(
        default=(), kw_only=True, converter=_to_groups
    )
    subject: str | None = attrs.field(default=None, kw_only=True, converter=_to_subject)
    timezone: str = attrs.field(default="UTC", kw_only=True, converter=_to_timezone)

    def __repr__(self) -> str:
        """The constructor call, without the fields left at their defaults.

        One line when it is short, else one field and one rule a line:

        >>> ScoringModel("m", [Rule("form.submitted", 10)])
        ScoringModel('m', (Rule('form.submitted', 10.0),))
        """
        return long_repr(self, ("name", "rules"))

    def _repr_html_(self) -> str:
        """The model's settings and a table of its rules, for Jupyter."""
        settings = [
            f"{prefix}{value!r}"
            for prefix, value in _fields(self, ("name", "rules"))[2:]
        ]
        columns = ("rule", "kind", "points", "when", "aging", "once per", "limit")
        rows = [
            (
                r.label,
                " | ".join(r.kinds),
                r.points,
                "" if r.when is None else repr(r.when),
                "(model)" if r.aging is None else repr(r.aging),
                "" if r.once_per is None else ", ".join(r.once_per) or "(ever)",
                r.limit,
            )
            for r in self.rules
        ]
        caption = f"ScoringModel {self.name!r}" + (
            f": {', '.join(settings)}" if settings else ""
        )
        return html_table(columns, rows, caption=caption, limit=len(rows))

    def __attrs_post_init__(self) -> None:
        """Check that every rule's group is one of the model's groups."""
        names = {g.name for g in self.groups}
        for i, rule in enumerate(self.rules):
            if rule.group is not None and rule.group not in names:
                known = ", ".join(map(repr, sorted(names))) or "none"
                raise InvalidModelError(
                    f"rules[{i}] names the unknown group {shorten(rule.group)} "
                    f"(the model's groups: {known})",
                    path=f"rules[{i}].group",
                    value=rule.group,
                )

    def group_of(self, rule: Rule) -> Group | None:
        """The :class:`Group` *rule* belongs to, or None."""
        if rule.group is None:
            return None
        return next(g for g in self.groups if g.name == rule.group)

    @name.validator
    def _check_name(self, _: attrs.Attribute[str], value: Any) -> None:
        if not isinstance(value, str) or not value:
            raise InvalidModelError(
                f"name must be a non-empty str, got {shorten(value)}",
                path="name",
                value=value,
            )
        # The name is written where scores are reported (the engine's outbox).
        reason = bad_text(value)
        if reason is not None:
            raise InvalidModelError(
                f"name cannot be stored: {reason}: {shorten(value)}",
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
