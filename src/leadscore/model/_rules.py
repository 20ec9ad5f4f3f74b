"""Rules and scoring models: what earns points, how they age and how they combine.

:class:`Rule`, :class:`Frequency`, :class:`Group` and :class:`ScoringModel` live
here. The checks of their fields are in :mod:`._checks` and their reprs in
:mod:`._reprs`; the names other modules use are imported here too, where the rest
of the package finds them.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

import attrs

from leadscore._notebook import html_table
from leadscore.exceptions import InvalidModelError

from ._aging import AgingPolicy
from ._checks import (
    _check_optional,
    _check_policy,
    _one_of,
    _to_active_from,
    _to_count,
    _to_ended_by,
    _to_group_label,
    _to_group_name,
    _to_initial,
    _to_kind,
    _to_limit,
    _to_once_per,
    _to_points,
    _to_subject,
    _to_timezone,
    finite,
    points_value,
    to_bounds,
    to_name,
    tuple_of,
)
from ._conditions import Condition
from ._events import bad_text
from ._limits import shorten
from ._reprs import MAX_LINE_REPR, _fields, long_repr, short_repr

__all__ = [
    "COMBINES",
    "MAX_LINE_REPR",
    "MERGES",
    "PERIODS",
    "Frequency",
    "Group",
    "Rule",
    "ScoringModel",
    "finite",
    "long_repr",
    "points_value",
    "short_repr",
    "to_bounds",
    "to_name",
    "tuple_of",
]

COMBINES = ("sum", "ratio")
MERGES = ("keep-master", "union")
#: The calendar buckets of :class:`Frequency`.
PERIODS = ("hour", "day", "week", "month")


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
