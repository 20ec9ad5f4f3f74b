"""Rating scales: bands, labels, validation."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

import leadscore as ls
from leadscore.strategies import rating_scales

# Seed 002: "The 1-star value is for contacts that have a score less than 2 ...
# Scores between 2 and 3 equate to a 2-star rating ... As the contact score
# increases above 3, the contact will receive 3-stars and up".
STAR_BANDS = [
    (-1.0, 1),
    (0.0, 1),
    (1.99, 1),
    (2.0, 2),
    (2.99, 2),
    (3.0, 3),
    (3.5, 3),
    (4.0, 4),
    (4.99, 4),
    (5.0, 5),
    (250.0, 5),
]


@pytest.mark.parametrize(("score", "stars"), STAR_BANDS)
def test_the_seed_star_bands(score, stars):
    """Below 2 one star, 2-3 two, 3-4 three, 4-5 four, 5 and up five."""
    assert stars == ls.RatingScale.stars().rate(score)


def test_new_contacts_at_two_are_two_stars():
    """Seed 002: new contacts joining the system are given a score of 2."""
    assert 2 == ls.RatingScale.stars().rate(2.0)


@given(rating_scales(), st.floats(-200, 200), st.floats(-200, 200))
def test_a_rating_never_falls_as_the_score_rises(scale, a, b):
    """Bands are monotone in the score."""
    low, high = sorted((a, b))
    assert scale.band(low) <= scale.band(high)


@given(rating_scales(), st.floats(-200, 200))
def test_cuts_are_inclusive_on_the_left(scale, score):
    """A score equal to a cut belongs to the band above it."""
    for i, cut in enumerate(scale.cuts):
        assert i + 1 == scale.band(cut)
    assert 0 <= scale.band(score) <= len(scale.cuts)


def test_labels_and_whole_dicts():
    """Labels replace numbers; rate_all rates a whole dict."""
    scale = ls.RatingScale((20, 75), ("cold", "warm", "hot"))
    assert {"a": "cold", "b": "warm", "c": "hot"} == scale.rate_all(
        {"a": 19.9, "b": 20, "c": 99}
    )


def test_letter_grades_are_thirds_of_a_letter_from_d():
    """0 is a D; each point a third of a letter; F and A+ are open-ended."""
    grades = ls.RatingScale.grades()
    assert ["F", "D-", "D", "D+", "C-", "C", "A+"] == [
        grades.rate(s) for s in (-9, -1, 0, 1, 2, 3, 30)
    ]


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda: ls.RatingScale((3, 2)), r"cuts must rise strictly, got 3.0 then 2.0"),
        (lambda: ls.RatingScale((2, 2)), "cuts must rise strictly"),
        (lambda: ls.RatingScale(()), "cuts must not be empty"),
        (
            lambda: ls.RatingScale((1, math.nan)),
            r"cuts\[1\] must be finite, got nan",
        ),
        (
            lambda: ls.RatingScale((1, 2), ("a", "b")),
            r"labels must number len\(cuts\) \+ 1 = 3, got 2",
        ),
        (lambda: ls.RatingScale((1,), ("a", "a")), "labels must be distinct"),
        (lambda: ls.RatingScale("1,2"), "cuts must be a list of numbers"),
        (lambda: ls.RatingScale.stars().rate(math.nan), "must not be NaN"),
    ],
)
def test_bad_scales_raise_invalid_model_error(make, match):
    """Bad cuts and labels name the value."""
    with pytest.raises(ls.InvalidModelError, match=match):
        make()
