"""Fit scoring: points for what a contact *is* (job title, company size, country).

A contact's profile at ``as_of`` is the latest value of each attribute that
``profile.updated`` events carried up to then. Fit criteria are conditions on that
profile; they are not aged, and they stop counting the instant the attribute
changes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

import attrs

from leadscore.exceptions import InvalidModelError
from leadscore.typing import Instant

from ._conditions import Condition
from ._events import SPECIAL_KINDS, AttrValue, Event, canonical_key, to_micros, to_utc
from ._identity import not_an_event
from ._limits import shorten
from ._rules import long_repr, points_value, short_repr, to_bounds, to_name, tuple_of

__all__ = ["PROFILE_UPDATED", "FitModel", "FitRule", "fit_scores", "profiles"]

PROFILE_UPDATED = "profile.updated"
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def _check_condition(_: object, __: attrs.Attribute[Any], value: Any) -> None:
    if not isinstance(value, Condition):
        raise InvalidModelError(
            f"when must be a Condition, got {shorten(value)}", path="when", value=value
        )


def _to_points(value: Any) -> float:
    return points_value("points", value)


def _to_otherwise(value: Any) -> float:
    return points_value("otherwise", value)


@attrs.frozen(repr=False)
class FitRule:
    """Points while the contact's profile matches *when* (else *otherwise*).

    >>> from leadscore import where
    >>> FitRule(where("job_title", contains="VP"), 10, otherwise=-5).points
    10.0
    """

    when: Condition = attrs.field(validator=_check_condition)
    points: float = attrs.field(converter=_to_points)
    otherwise: float = attrs.field(default=0.0, kw_only=True, converter=_to_otherwise)
    name: str | None = attrs.field(default=None, kw_only=True, converter=to_name)

    def __repr__(self) -> str:
        """The constructor call, without the fields left at their defaults."""
        return short_repr(self, ("when", "points"))


def _to_fit_rules(value: Any) -> tuple[FitRule, ...]:
    return tuple_of(FitRule, value)


def _to_kind(value: Any) -> str:
    if not isinstance(value, str) or not value or value in SPECIAL_KINDS:
        raise InvalidModelError(
            f"kind must be a non-empty, non-special event kind, got {shorten(value)}",
            path="kind",
            value=value,
        )
    return value


def _to_initial(value: Any) -> float:
    return points_value("initial", value)


@attrs.frozen(repr=False)
class FitModel:
    """A named set of fit rules over contacts' profiles.

    Args:
        name: The model's name.
        rules: The fit rules.
        initial: The score before any rule.
        bounds: ``(low, high)`` clamp, either side may be None.
        kind: The event kind that carries profile changes.
    """

    name: str = attrs.field()
    rules: tuple[FitRule, ...] = attrs.field(converter=_to_fit_rules)
    initial: float = attrs.field(default=0.0, kw_only=True, converter=_to_initial)
    bounds: tuple[float | None, float | None] | None = attrs.field(
        default=None, kw_only=True, converter=to_bounds
    )
    kind: str = attrs.field(default=PROFILE_UPDATED, kw_only=True, converter=_to_kind)

    def __repr__(self) -> str:
        """The constructor call; one rule a line when it is long.

        >>> from leadscore import where
        >>> FitModel("fit", [FitRule(where("title", contains="VP"), 10)])
        FitModel('fit', (FitRule(where('title', contains='VP'), 10.0),))
        """
        return long_repr(self, ("name", "rules"))

    @name.validator
    def _check_name(self, _: attrs.Attribute[str], value: Any) -> None:
        if not isinstance(value, str) or not value:
            raise InvalidModelError(
                f"name must be a non-empty str, got {shorten(value)}",
                path="name",
                value=value,
            )

    def score_profile(self, profile: dict[str, AttrValue], contact: str = "-") -> float:
        """The fit score of one profile (a mapping of attributes)."""
        probe = Event(contact, self.kind, _EPOCH, profile)
        total = self.initial
        for rule in self.rules:
            total += rule.points if rule.when(probe) else rule.otherwise
        low, high = self.bounds or (None, None)
        if low is not None:
            total = max(low, total)
        if high is not None:
            total = min(high, total)
        return total


def profiles(
    events: Iterable[Event], as_of: Instant, kind: str = PROFILE_UPDATED
) -> dict[str, dict[str, AttrValue]]:
    """Each contact's profile at *as_of*: the latest value of every attribute.

    The latest ``kind`` event (canonical order) that carried an attribute decides
    its value; a value of None clears it.

    >>> from leadscore import Event
    >>> profiles([
    ...     Event("ann", "profile.updated", "2024-01-01T00:00Z", {"title": "CTO"}),
    ...     Event("ann", "profile.updated", "2024-02-01T00:00Z", {"country": "DE"}),
    ... ], "2024-03-01T00:00Z")
    {'ann': {'title': 'CTO', 'country': 'DE'}}
    """
    as_of_us = to_micros(to_utc(as_of, "as_of"))
    latest: dict[str, dict[str, tuple[Event, AttrValue]]] = {}
    contacts: set[str] = set()
    for pos, e in enumerate(events):
        if not isinstance(e, Event):
            raise not_an_event(pos, e)
        if e._us > as_of_us:  # noqa: SLF001
            continue
        contacts.add(e.contact)
        if e.kind != kind:
            continue
        fields = latest.setdefault(e.contact, {})
        for key, value in e.attrs.items():
            seen = fields.get(key)
            if seen is None or canonical_key(e) > canonical_key(seen[0]):
                fields[key] = (e, value)
    return {
        c: {k: v for k, (_, v) in latest.get(c, {}).items() if v is not None}
        for c in sorted(contacts)
    }


def fit_scores(
    model: FitModel, events: Iterable[Event], as_of: Instant
) -> dict[str, float]:
    """Every contact's fit score at *as_of* (contacts with any event by then).

    >>> from leadscore import Event, where
    >>> model = FitModel("fit", [FitRule(where("title", contains="VP"), 10)])
    >>> fit_scores(model, [Event("ann", "profile.updated", "2024-01-01T00:00Z",
    ...                          {"title": "VP Sales"})], "2024-02-01T00:00Z")
    {'ann': 10.0}
    """
    if not isinstance(model, FitModel):
        raise InvalidModelError(
            f"expected a FitModel, got {model!r:.200}", path="model", value=model
        )
    found = profiles(events, as_of, model.kind)
    return {c: model.score_profile(p, c) for c, p in found.items()}
