"""Fit and engagement together: HubSpot's combined score and its A1-C3 matrix.

A fit score says what a contact *is*, an engagement score what it *did*. HubSpot's
combined score keeps both and grades them on a matrix: a letter for fit (A is the
best fit) and a digit for engagement (1 is the most engaged), so ``A1`` is the
lead to call first and ``C3`` the last. The combined score is one number for
sorting: a weighted sum of the two, by default their plain sum, as HubSpot's total.
"""

from __future__ import annotations

import math
import string
from bisect import bisect_right
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import attrs

from .exceptions import InvalidModelError
from .model._events import Event
from .model._fit import FitModel, fit_scores
from .model._limits import shorten
from .model._rules import ScoringModel, finite
from .paths._fold import score
from .typing import Instant

__all__ = [
    "CombinedModel",
    "Qualification",
    "QualificationMatrix",
    "combined_scores",
    "qualify",
]

#: At most this many cuts per axis: the grades run out at Z.
MAX_CUTS = 25


def _cuts(name: str, value: Any) -> tuple[float, ...]:
    if isinstance(value, str) or not isinstance(value, Sequence):
        raise InvalidModelError(
            f"{name} must be a list of rising numbers, got {shorten(value)}",
            path=name,
            value=value,
        )
    cuts = tuple(finite(f"{name}[{i}]", c) for i, c in enumerate(value))
    if not 1 <= len(cuts) <= MAX_CUTS:
        raise InvalidModelError(
            f"{name} must hold 1 to {MAX_CUTS} numbers, got {len(cuts)}",
            path=name,
            value=value,
        )
    for i in range(1, len(cuts)):
        if cuts[i] <= cuts[i - 1]:
            raise InvalidModelError(
                f"{name} must rise strictly, got {cuts[i - 1]!r} then {cuts[i]!r}",
                path=f"{name}[{i}]",
                value=value[i],
            )
    return cuts


def _fit_cuts(value: Any) -> tuple[float, ...]:
    return _cuts("fit_cuts", value)


def _engagement_cuts(value: Any) -> tuple[float, ...]:
    return _cuts("engagement_cuts", value)


def _weights(value: Any) -> tuple[float, float]:
    if isinstance(value, str) or not isinstance(value, Sequence) or len(value) != 2:
        raise InvalidModelError(
            f"weights must be two numbers (fit, engagement), got {shorten(value)}",
            path="weights",
            value=value,
        )
    fit, engagement = (finite(f"weights[{i}]", w) for i, w in enumerate(value))
    if fit < 0 or engagement < 0 or fit == engagement == 0:
        raise InvalidModelError(
            f"weights must be >= 0 and not both 0, got {shorten(value)}",
            path="weights",
            value=value,
        )
    return (fit, engagement)


def _number(axis: str, value: Any, contact: str | None = None) -> float:
    number = math.nan
    if isinstance(value, int | float) and not isinstance(value, bool):
        try:
            number = float(value)
        except OverflowError:  # an int beyond the float range
            number = math.inf
    if not math.isfinite(number):
        whose = "" if contact is None else f" of {contact!r}"
        raise InvalidModelError(
            f"the {axis} score{whose} must be a finite number, got {shorten(value)}",
            path=axis if contact is None else f"{axis}[{contact!r}]",
            value=value,
        )
    return number


@attrs.frozen
class QualificationMatrix:
    """HubSpot's qualification matrix: fit grades A, B, C by engagement levels 1, 2, 3.

    A score at or above a cut is in the band above it (as :class:`RatingScale`).
    With ``fit_cuts=(b, a)`` a fit of at least ``a`` is A, at least ``b`` B, and
    below ``b`` C; with ``engagement_cuts=(two, one)`` an engagement of at least
    ``one`` is 1, at least ``two`` 2, and below ``two`` 3. Two cuts give
    HubSpot's 3 x 3 matrix, A1 to C3; ``n`` cuts give ``n + 1`` grades (A, B, C,
    D, ...) or levels (1, 2, 3, 4, ...).

    The combined score is ``weights[0] * fit + weights[1] * engagement``; the
    default ``(1, 1)`` is HubSpot's total, fit points plus engagement points.
    Weights are >= 0, so a higher fit or engagement never lowers it.

    >>> matrix = QualificationMatrix(fit_cuts=(30, 60), engagement_cuts=(20, 50))
    >>> matrix.code(fit=75, engagement=10), matrix.code(fit=30, engagement=50)
    ('A3', 'B1')
    >>> matrix.combined(fit=75, engagement=10)
    85.0
    """

    fit_cuts: tuple[float, ...] = attrs.field(converter=_fit_cuts)
    engagement_cuts: tuple[float, ...] = attrs.field(converter=_engagement_cuts)
    weights: tuple[float, float] = attrs.field(
        default=(1.0, 1.0), kw_only=True, converter=_weights
    )

    @property
    def grades(self) -> tuple[str, ...]:
        """The fit grades, best first: ``('A', 'B', 'C')`` for two cuts."""
        return tuple(string.ascii_uppercase[: len(self.fit_cuts) + 1])

    @property
    def levels(self) -> tuple[str, ...]:
        """The engagement levels, most engaged first: ``('1', '2', '3')``."""
        return tuple(str(i) for i in range(1, len(self.engagement_cuts) + 2))

    def grade(self, fit: float) -> str:
        """The fit grade of a fit score: A for the best fit."""
        band = bisect_right(self.fit_cuts, _number("fit", fit))
        return string.ascii_uppercase[len(self.fit_cuts) - band]

    def level(self, engagement: float) -> str:
        """The engagement level of an engagement score: 1 for the most engaged."""
        band = bisect_right(self.engagement_cuts, _number("engagement", engagement))
        return str(len(self.engagement_cuts) + 1 - band)

    def code(self, fit: float, engagement: float) -> str:
        """The matrix cell: the fit grade, then the engagement level (``"A1"``)."""
        return self.grade(fit) + self.level(engagement)

    def combined(self, fit: float, engagement: float) -> float:
        """The combined score: ``weights[0] * fit + weights[1] * engagement``."""
        w_fit, w_engagement = self.weights
        return w_fit * _number("fit", fit) + w_engagement * _number(
            "engagement", engagement
        )

    def qualify(
        self, fit_scores: Mapping[str, float], engagement_scores: Mapping[str, float]
    ) -> dict[str, str]:
        """Every contact's cell, ``{contact: "A1"}``; see :func:`qualify`."""
        return {
            c: self.code(f, e) for c, (f, e) in _pairs(fit_scores, engagement_scores)
        }

    def combined_scores(
        self, fit_scores: Mapping[str, float], engagement_scores: Mapping[str, float]
    ) -> dict[str, float]:
        """Every contact's combined score; see :func:`combined_scores`."""
        return {
            c: self.combined(f, e)
            for c, (f, e) in _pairs(fit_scores, engagement_scores)
        }


def _pairs(
    fit_scores: Mapping[str, float], engagement_scores: Mapping[str, float]
) -> list[tuple[str, tuple[float, float]]]:
    # Every contact of either mapping, sorted; a missing score counts as 0.0.
    for name, scores in (
        ("fit_scores", fit_scores),
        ("engagement_scores", engagement_scores),
    ):
        if not isinstance(scores, Mapping):
            raise InvalidModelError(
                f"{name} must map contacts to scores, got {shorten(scores)}",
                path=name,
                value=scores,
            )
    return [
        (
            c,
            (
                _number("fit", fit_scores.get(c, 0.0), c),
                _number("engagement", engagement_scores.get(c, 0.0), c),
            ),
        )
        for c in sorted({*fit_scores, *engagement_scores})
    ]


def qualify(
    fit_scores: Mapping[str, float],
    engagement_scores: Mapping[str, float],
    fit_cuts: Sequence[float],
    engagement_cuts: Sequence[float],
) -> dict[str, str]:
    """Every contact's cell of the qualification matrix: ``{contact: "A1"}``.

    The letter grades the fit score against *fit_cuts* (A is the best fit), the
    digit the engagement score against *engagement_cuts* (1 is the most engaged);
    a score at or above a cut is in the band above it. Contacts are those of
    either mapping, sorted; a contact missing from one has scored 0 on it (as in
    HubSpot, where a contact that matched no criterion scores 0).

    Raises:
        InvalidModelError: for cuts that are not rising finite numbers, or a score
            that is not a finite number (naming the contact).

    >>> qualify({"ann": 80, "bob": 10}, {"ann": 5, "bob": 60},
    ...         fit_cuts=(30, 60), engagement_cuts=(20, 50))
    {'ann': 'A3', 'bob': 'C1'}
    """
    return QualificationMatrix(fit_cuts, engagement_cuts).qualify(
        fit_scores, engagement_scores
    )


def combined_scores(
    fit_scores: Mapping[str, float],
    engagement_scores: Mapping[str, float],
    weights: Sequence[float] = (1.0, 1.0),
) -> dict[str, float]:
    """Every contact's combined score: ``weights[0] * fit + weights[1] * engagement``.

    The default weights ``(1, 1)`` give HubSpot's total, fit points plus engagement
    points; ``(0.5, 0.5)`` is their mean. Weights are >= 0 (not both 0). Contacts
    as in :func:`qualify`.

    >>> combined_scores({"ann": 80, "bob": 10}, {"ann": 5, "bob": 60})
    {'ann': 85.0, 'bob': 70.0}
    >>> combined_scores({"ann": 80}, {"ann": 5, "bob": 60}, weights=(0.75, 0.25))
    {'ann': 61.25, 'bob': 15.0}
    """
    # The cuts do not matter for the combined score; any valid ones do.
    matrix = QualificationMatrix((0.0,), (0.0,), weights=weights)
    return matrix.combined_scores(fit_scores, engagement_scores)


@attrs.frozen
class Qualification:
    """A contact's fit and engagement scores, their combination and matrix cell."""

    fit: float
    engagement: float
    combined: float
    code: str

    @property
    def grade(self) -> str:
        """The fit grade, the code's letter."""
        return self.code[0]

    @property
    def level(self) -> str:
        """The engagement level, the code's digits."""
        return self.code[1:]


def _check(name: str, cls: type) -> Any:
    def check(_: object, __: attrs.Attribute[Any], value: Any) -> None:
        if not isinstance(value, cls):
            raise InvalidModelError(
                f"{name} must be a {cls.__name__}, got {shorten(value)}",
                path=name,
                value=value,
            )

    return check


@attrs.frozen
class CombinedModel:
    """HubSpot's combined score: a fit model and an engagement model, and a matrix.

    A :class:`FitModel` scores profiles, a :class:`ScoringModel` activity; this
    scores both over the same events and grades each contact on the matrix.
    Contacts are those either model reports at ``as_of``; one the fit model does
    not report has the fit of an empty profile, one the engagement model does not
    report scores its ``initial`` (clamped by its bounds).

    Args:
        fit: The fit model.
        engagement: The engagement model.
        matrix: The cuts and the weights of the combined score.
    """

    fit: FitModel = attrs.field(validator=_check("fit", FitModel))
    engagement: ScoringModel = attrs.field(validator=_check("engagement", ScoringModel))
    matrix: QualificationMatrix = attrs.field(
        validator=_check("matrix", QualificationMatrix)
    )

    def qualifications(
        self, events: Iterable[Event], as_of: Instant
    ) -> dict[str, Qualification]:
        """Every contact's :class:`Qualification` at *as_of*, sorted by contact."""
        events = list(events)
        fits = fit_scores(self.fit, events, as_of)
        engaged = score(self.engagement, events, as_of)
        no_fit = self.fit.score_profile({})
        no_engagement = self.engagement.clamp(self.engagement.initial)
        out = {}
        for c in sorted({*fits, *engaged}):
            f, e = fits.get(c, no_fit), engaged.get(c, no_engagement)
            out[c] = Qualification(
                f, e, self.matrix.combined(f, e), self.matrix.code(f, e)
            )
        return out

    def codes(self, events: Iterable[Event], as_of: Instant) -> dict[str, str]:
        """Every contact's matrix cell at *as_of*: ``{contact: "A1"}``."""
        return {c: q.code for c, q in self.qualifications(events, as_of).items()}
