"""What scoring returns: explanation rows, crossings, score and band changes.

Frozen values, whatever path computed them. Importable from :mod:`leadscore` too.

>>> import datetime as dt
>>> Crossing("ann", dt.datetime(2024, 5, 3, tzinfo=dt.UTC), 40.0, 60.0, "up")
Crossing('ann', '2024-05-03T00:00:00+00:00', 40.0 -> 60.0, 'up')
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

import attrs

from .model._events import Event
from .model._rules import Rule

__all__ = ["BandChange", "Contribution", "Crossing", "ScoreChange"]


@attrs.frozen
class Contribution:
    """One row of an explanation: what one event added to a score.

    Attributes:
        event: The event.
        rule: The rule it counted under; None for manual changes
            (``score.adjusted``, ``score.set``, ``score.reset``).
        points: The rule's points (for manual changes, the points they add).
        weight: The aging weight in [0, 1] at ``as_of``.
        effective: What the row adds: ``points * weight``, scaled down where the
            rule's ``limit`` binds, so that the rows of a rule add up to its capped
            total. For ``combine="sum"``, ``initial + Σ effective`` is the score
            before bounds.
    """

    event: Event
    rule: Rule | None
    points: float
    weight: float
    effective: float


@attrs.frozen(repr=False)
class Crossing:
    """A contact's score crossed a threshold at ``at``.

    ``direction`` is ``"up"`` when it reached the threshold (``>=``) and ``"down"``
    when it fell below; ``before`` and ``after`` are the scores around ``at``.
    """

    contact: str
    at: dt.datetime
    before: float
    after: float
    direction: Literal["up", "down"]

    def __repr__(self) -> str:
        """Show the instant in ISO form and the move as ``before -> after``."""
        return (
            f"Crossing({self.contact!r}, {self.at.isoformat()!r}, "
            f"{self.before!r} -> {self.after!r}, {self.direction!r})"
        )


@attrs.frozen(repr=False)
class ScoreChange:
    """A contact's score under ``model`` changed at ``at``: ``before`` -> ``after``."""

    contact: str
    model: str
    at: dt.datetime
    before: float
    after: float

    def __repr__(self) -> str:
        """Show the instant in ISO form and the move as ``before -> after``."""
        return (
            f"ScoreChange({self.contact!r}, {self.model!r}, {self.at.isoformat()!r}, "
            f"{self.before!r} -> {self.after!r})"
        )


@attrs.frozen
class BandChange:
    """A contact left band ``before`` and entered band ``after`` at ``at``."""

    contact: str
    at: dt.datetime
    before: Any
    after: Any
    score: float
