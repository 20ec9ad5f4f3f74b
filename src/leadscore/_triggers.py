"""Thresholds the engine reports crossings of: the "score reaches a value" trigger.

A value type of the core (standard library and attrs only), so that
``leadscore.Threshold`` is importable without importing the engine.
"""

from __future__ import annotations

from typing import Any, Literal

import attrs

from .exceptions import InvalidModelError
from .model._rules import finite

__all__ = ["Threshold"]

Direction = Literal["up", "down", "both"]
_DIRECTIONS = ("up", "down", "both")


def _finite_value(value: Any) -> float:
    return finite("value", value)


def _check_direction(_: object, __: object, value: Any) -> None:
    if value not in _DIRECTIONS:
        raise InvalidModelError(
            f"direction must be one of {_DIRECTIONS}, got {value!r}",
            path="direction",
            value=value,
        )


def _check_flag(_: object, attribute: attrs.Attribute[bool], value: Any) -> None:
    if not isinstance(value, bool):
        raise InvalidModelError(
            f"{attribute.name} must be True or False, got {value!r}",
            path=attribute.name,
            value=value,
        )


@attrs.frozen
class Threshold:
    """A score value whose crossings the engine reports.

    Args:
        value: The score to reach (finite).
        direction: ``"up"`` reports rising through it, ``"down"`` falling below
            it, ``"both"`` either way.
        first_only: Report only the first crossing per contact, ever: HighLevel's
            "when a contact's score first exceeds a value". The engine remembers it
            durably, per model name, threshold and contact: a restart, a rebuild or
            a new version of the model never fires it again.
        strict: "Exceeds" is ``>``; by default reaching the value (``>=``) counts.

    A plain number ``v`` where a threshold is expected is ``Threshold(v,
    direction="both")``: every crossing, up and down.

    >>> t = Threshold(50, first_only=True)
    >>> t.crossing(40.0, 50.0), t.crossing(50.0, 40.0)
    ('up', None)
    >>> Threshold(50, strict=True).crossing(40.0, 50.0) is None
    True
    """

    value: float = attrs.field(converter=_finite_value)
    direction: Direction = attrs.field(
        default="up", kw_only=True, validator=_check_direction
    )
    first_only: bool = attrs.field(default=False, kw_only=True, validator=_check_flag)
    strict: bool = attrs.field(default=False, kw_only=True, validator=_check_flag)

    @classmethod
    def from_value(cls, value: Threshold | float) -> Threshold:
        """*value* if a Threshold, else ``Threshold(value, direction="both")``."""
        if isinstance(value, Threshold):
            return value
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise InvalidModelError(
                f"a threshold must be a number or a Threshold, got {value!r:.200}",
                path="thresholds",
                value=value,
            )
        return cls(value, direction="both")

    def above(self, score: float) -> bool:
        """Whether *score* is past the threshold (``>=``, or ``>`` when strict)."""
        return score > self.value if self.strict else score >= self.value

    def crossing(self, before: float, after: float) -> Literal["up", "down"] | None:
        """The direction of the move from *before* to *after*, if it is reported."""
        was, now = self.above(before), self.above(after)
        if was == now:
            return None
        way: Literal["up", "down"] = "up" if now else "down"
        return way if self.direction in ("both", way) else None

    @property
    def key(self) -> str:
        """A canonical text naming the threshold (in outbox ids and markers)."""
        op = ">" if self.strict else ">="
        once = "first" if self.first_only else "every"
        return f"{op}{self.value!r}|{self.direction}|{once}"
