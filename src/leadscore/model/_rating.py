"""Rating scales: scores into bands (1-5 stars, letter grades, cold/warm/hot)."""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Mapping
from typing import Any, Generic, TypeVar

import attrs

from leadscore.exceptions import InvalidModelError

from ._limits import shorten
from ._numbers import foreign_number
from ._rules import finite, short_repr

__all__ = ["GRADE_LETTERS", "RatingScale"]

L = TypeVar("L")

#: Pardot-style letter grades, lowest first.
GRADE_LETTERS = (
    "F",
    "D-",
    "D",
    "D+",
    "C-",
    "C",
    "C+",
    "B-",
    "B",
    "B+",
    "A-",
    "A",
    "A+",
)


def _to_cuts(value: Any) -> tuple[float, ...]:
    if isinstance(value, str) or not isinstance(value, list | tuple):
        raise InvalidModelError(
            f"cuts must be a list of numbers, got {shorten(value)}",
            path="cuts",
            value=value,
        )
    cuts = [finite(f"cuts[{i}]", c) for i, c in enumerate(value)]
    if not cuts:
        raise InvalidModelError("cuts must not be empty", path="cuts", value=value)
    for i in range(1, len(cuts)):
        if cuts[i] <= cuts[i - 1]:
            raise InvalidModelError(
                f"cuts must rise strictly, got {cuts[i - 1]!r} then {cuts[i]!r}",
                path=f"cuts[{i}]",
                value=value[i],
            )
    return tuple(cuts)


def _to_labels(value: Any) -> tuple[Any, ...] | None:
    if value is None:
        return None
    if isinstance(value, str) or not isinstance(value, list | tuple):
        raise InvalidModelError(
            f"labels must be a list, got {shorten(value)}", path="labels", value=value
        )
    labels = tuple(value)
    for i, label in enumerate(labels):
        try:
            hash(label)
        except TypeError:
            raise InvalidModelError(
                f"labels must be hashable (a str, a number ...), got "
                f"{type(label).__name__} {shorten(label)}",
                path=f"labels[{i}]",
                value=label,
            ) from None
    if len(set(labels)) != len(labels):
        raise InvalidModelError(
            f"labels must be distinct, got {shorten(value)}",
            path="labels",
            value=value,
        )
    return labels


@attrs.frozen(repr=False)
class RatingScale(Generic[L]):
    """Bands of scores, cut at rising thresholds.

    ``score < cuts[0]`` is the first band, ``cuts[i-1] <= score < cuts[i]`` the
    next, and so on. Without labels the bands are 1, 2, 3, ...; with labels they are
    the labels, which must number ``len(cuts) + 1``.

    >>> RatingScale.stars().rate(3.2)
    3
    >>> RatingScale((20, 75), ("cold", "warm", "hot")).rate(75)
    'hot'
    """

    cuts: tuple[float, ...] = attrs.field(converter=_to_cuts)
    labels: tuple[L, ...] | None = attrs.field(default=None, converter=_to_labels)

    def __repr__(self) -> str:
        """The constructor call, without labels when there are none.

        >>> RatingScale.stars()
        RatingScale((2.0, 3.0, 4.0, 5.0))
        """
        return short_repr(self, ("cuts",))

    def __attrs_post_init__(self) -> None:
        """Check that the labels match the bands."""
        if self.labels is not None and len(self.labels) != len(self.cuts) + 1:
            raise InvalidModelError(
                f"labels must number len(cuts) + 1 = {len(self.cuts) + 1}, "
                f"got {len(self.labels)}: {shorten(self.labels)}",
                path="labels",
                value=self.labels,
            )

    @classmethod
    def stars(cls) -> RatingScale[int]:
        """The 1-5 star scale of the email engagement score: cuts (2, 3, 4, 5).

        Below 2 is one star, 2 to 3 two stars, 3 to 4 three, 4 to 5 four, 5 and up
        five.
        """
        return RatingScale((2, 3, 4, 5))

    @classmethod
    def grades(cls) -> RatingScale[str]:
        """Letter grades F, D-, D, ..., A+ on a score counted in thirds of a letter.

        A score of 0 is a D; each point is a third of a letter (3 points is a whole
        letter: 3 is a C, -3 an F).
        """
        cuts = tuple(-1.5 + i for i in range(len(GRADE_LETTERS) - 1))
        return RatingScale(cuts, GRADE_LETTERS)

    def band(self, score: float) -> int:
        """The 0-based index of the band *score* falls in."""
        if isinstance(score, bool) or not isinstance(score, int | float):
            plain = foreign_number(score)  # np.float32, Decimal
            if plain is None:
                raise InvalidModelError(
                    f"a score must be a number, got {shorten(score)}",
                    path="score",
                    value=score,
                )
            score = plain
        if math.isnan(score):
            raise InvalidModelError(
                "a score must not be NaN", path="score", value=score
            )
        return bisect_right(self.cuts, score)

    def rate(self, score: float) -> Any:
        """The band of *score*: its label, or its number from 1."""
        index = self.band(score)
        return index + 1 if self.labels is None else self.labels[index]

    def rate_all(self, scores: Mapping[str, float]) -> dict[str, Any]:
        """Rate a whole ``{contact: score}`` dict.

        >>> RatingScale.stars().rate_all({"ann": 5.0, "bob": 1.2})
        {'ann': 5, 'bob': 1}
        """
        return {contact: self.rate(score) for contact, score in scores.items()}
