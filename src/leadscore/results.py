"""What scoring returns: explanation rows, crossings, score and band changes.

Frozen values, whatever path computed them. Importable from :mod:`leadscore` too.

The collections scoring returns are the plain ``dict`` and ``list`` they are
documented as, subclassed to show themselves as tables in a notebook
(``_repr_html_``) and to become DataFrames (``to_pandas()``, ``to_polars()``;
pandas and Polars are imported only then): :class:`Scores`,
:class:`Explanation`, :class:`Timeline`, :class:`Crossings`. They compare equal to
the plain ``dict`` or ``list`` of the same items.

>>> import datetime as dt
>>> Crossing("ann", dt.datetime(2024, 5, 3, tzinfo=dt.UTC), 40.0, 60.0, "up")
Crossing('ann', '2024-05-03T00:00:00+00:00', 40.0 -> 60.0, 'up')
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any, Literal

import attrs

from ._notebook import Table, Tabular
from .model._events import Event
from .model._rules import Rule

__all__ = [
    "BandChange",
    "Contribution",
    "Crossing",
    "Crossings",
    "Explanation",
    "ScoreChange",
    "Scores",
    "Timeline",
]


@attrs.frozen(repr=False)
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

    def __repr__(self) -> str:
        """The rule's label and the numbers first, then the event.

        >>> import leadscore as ls
        >>> e = ls.Event("ann", "form.submitted", "2024-05-01T00:00Z")
        >>> Contribution(e, ls.Rule("form.submitted", 10), 10.0, 0.5, 5.0)
        Contribution('form.submitted +10', points=10.0, weight=0.5, effective=5.0, \
event=Event('ann', 'form.submitted', '2024-05-01T00:00:00+00:00'))
        """
        return (
            f"Contribution({self.label!r}, points={self.points!r}, "
            f"weight={self.weight!r}, effective={self.effective!r}, "
            f"event={self.event!r})"
        )

    @property
    def label(self) -> str:
        """The rule's label, or the event's kind for a manual change."""
        return self.event.kind if self.rule is None else self.rule.label


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


@attrs.frozen(repr=False)
class BandChange:
    """A contact left band ``before`` and entered band ``after`` at ``at``."""

    contact: str
    at: dt.datetime
    before: Any
    after: Any
    score: float

    def __repr__(self) -> str:
        """Show the instant in ISO form and the move as ``before -> after``.

        >>> BandChange("ann", dt.datetime(2024, 5, 3, tzinfo=dt.UTC), 2, 3, 3.25)
        BandChange('ann', '2024-05-03T00:00:00+00:00', 2 -> 3, score=3.25)
        """
        return (
            f"BandChange({self.contact!r}, {self.at.isoformat()!r}, "
            f"{self.before!r} -> {self.after!r}, score={self.score!r})"
        )


# -- collections -------------------------------------------------------------------


class Scores(dict[str, float], Tabular):
    """``{contact: score}``: a plain dict that is also a table.

    >>> scores = Scores({"ann": 12.5, "bob": 3.0})
    >>> scores == {"ann": 12.5, "bob": 3.0}, scores
    (True, {'ann': 12.5, 'bob': 3.0})
    >>> scores.to_pandas().to_dict("records")  # doctest: +SKIP
    [{'contact': 'ann', 'score': 12.5}, {'contact': 'bob', 'score': 3.0}]
    """

    _caption = "scores"

    def _table(self) -> Table:
        return ("contact", "score"), list(self.items())


class Explanation(list[Contribution], Tabular):
    """The rows of :func:`~leadscore.explain`: a plain list that is also a table.

    Columns: ``at``, ``contact``, ``kind``, ``id``, ``rule`` (its label, or the
    kind of a manual change), ``points``, ``weight``, ``effective``.
    """

    _caption = "explanation"

    def _table(self) -> Table:
        return (
            ("at", "contact", "kind", "id", "rule", "points", "weight", "effective"),
            [
                (
                    c.event.at,
                    c.event.contact,
                    c.event.kind,
                    c.event.id,
                    c.label,
                    c.points,
                    c.weight,
                    c.effective,
                )
                for c in self
            ],
        )

    @property
    def total(self) -> float:
        """``Σ effective``: with ``initial``, the score before bounds (sum models)."""
        return sum(c.effective for c in self)


class Timeline(list[tuple[dt.datetime, float]], Tabular):
    """``[(at, score), ...]`` of :func:`~leadscore.timeline`, also a table."""

    _caption = "timeline"

    def _table(self) -> Table:
        return ("at", "score"), list(self)


class Crossings(list[Crossing], Tabular):
    """The :class:`Crossing` s of :func:`~leadscore.crossings`, also a table."""

    _caption = "crossings"

    def _table(self) -> Table:
        return rows_of(self, ("contact", "at", "before", "after", "direction"))


def rows_of(items: Sequence[Any], fields: Sequence[str]) -> Table:
    """Columns *fields* and one row of those attributes per item."""
    return tuple(fields), [tuple(getattr(i, f) for f in fields) for i in items]
