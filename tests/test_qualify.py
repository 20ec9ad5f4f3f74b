"""Fit + engagement: HubSpot's combined score and its A1-C3 qualification matrix."""

from __future__ import annotations

import datetime as dt
import itertools
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

import leadscore as ls
from leadscore import (
    CombinedModel,
    Event,
    FitModel,
    FitRule,
    QualificationMatrix,
    Rule,
    ScoringModel,
    presets,
    where,
)

T = dt.datetime(2024, 5, 1, 12, tzinfo=dt.UTC)
FIT_CUTS, ENGAGEMENT_CUTS = (30.0, 60.0), (20.0, 50.0)
MATRIX = QualificationMatrix(FIT_CUTS, ENGAGEMENT_CUTS)

# One score below, at and above each cut of either axis, and the grade (level) the
# contract gives it: at or above a cut is the band above it; A and 1 are the best.
FIT_POINTS = [(0.0, "C"), (29.9, "C"), (30.0, "B"), (59.9, "B"), (60.0, "A"), (99, "A")]
ENGAGEMENT_POINTS = [
    (0, "3"),
    (19.9, "3"),
    (20, "2"),
    (49.9, "2"),
    (50, "1"),
    (80, "1"),
]


@pytest.mark.parametrize(
    ("fit", "engagement"), list(itertools.product(FIT_POINTS, ENGAGEMENT_POINTS))
)
def test_every_cell_of_the_three_by_three_matrix(fit, engagement):
    """The code is the fit grade, then the engagement level: A1 ... C3."""
    (f, grade), (e, level) = fit, engagement
    assert grade + level == MATRIX.code(f, e)
    assert (grade, level) == (MATRIX.grade(f), MATRIX.level(e))


def test_the_matrix_names_its_grades_and_levels_best_first():
    """Two cuts per axis give A, B, C and 1, 2, 3; more cuts give more of each."""
    assert (("A", "B", "C"), ("1", "2", "3")) == (MATRIX.grades, MATRIX.levels)
    four = QualificationMatrix((10, 20, 30), (5,))
    assert (("A", "B", "C", "D"), ("1", "2")) == (four.grades, four.levels)
    assert ["D2", "C2", "B1", "A1"] == [
        four.code(f, e) for f, e in [(0, 0), (10, 0), (20, 5), (30, 5)]
    ]


def test_qualify_covers_both_mappings_and_a_missing_score_is_zero():
    """Contacts of either mapping, sorted; one missing from a side scored 0 there."""
    fit = {"bob": 70.0, "ann": 35.0}
    engagement = {"ann": 55.0, "cy": 25.0}
    assert {"ann": "B1", "bob": "A3", "cy": "C2"} == ls.qualify(
        fit, engagement, FIT_CUTS, ENGAGEMENT_CUTS
    )
    assert list(ls.qualify(fit, engagement, FIT_CUTS, ENGAGEMENT_CUTS)) == [
        "ann",
        "bob",
        "cy",
    ]
    assert MATRIX.qualify(fit, engagement) == ls.qualify(
        fit, engagement, FIT_CUTS, ENGAGEMENT_CUTS
    )


def test_the_combined_score_is_the_weighted_sum():
    """By default fit plus engagement (HubSpot's total); weights scale each side."""
    fit, engagement = {"ann": 35.0, "bob": 70.0}, {"ann": 55.0}
    assert {"ann": 90.0, "bob": 70.0} == ls.combined_scores(fit, engagement)
    assert {"ann": 45.0, "bob": 35.0} == ls.combined_scores(
        fit, engagement, weights=(0.5, 0.5)
    )
    assert {"ann": 55.0, "bob": 0.0} == ls.combined_scores(
        fit, engagement, weights=(0, 1)
    )
    weighted = QualificationMatrix(FIT_CUTS, ENGAGEMENT_CUTS, weights=(2, 1))
    assert {"ann": 125.0, "bob": 140.0} == weighted.combined_scores(fit, engagement)


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda: QualificationMatrix((60, 30), (1,)), "fit_cuts must rise strictly"),
        (lambda: QualificationMatrix((), (1,)), "fit_cuts must hold 1 to 25 numbers"),
        (
            lambda: QualificationMatrix((1,), tuple(range(26))),
            "engagement_cuts must hold 1 to 25",
        ),
        (
            lambda: QualificationMatrix((1,), (math.nan,)),
            r"engagement_cuts\[0\] must be finite",
        ),
        (lambda: QualificationMatrix("AB", (1,)), "fit_cuts must be a list"),
        (
            lambda: QualificationMatrix((1,), (2,), weights=(-1, 1)),
            "weights must be >= 0 and not both 0",
        ),
        (
            lambda: QualificationMatrix((1,), (2,), weights=(0, 0)),
            "weights must be >= 0 and not both 0",
        ),
        (
            lambda: ls.combined_scores({}, {}, weights=(1, 1, 1)),
            r"weights must be two numbers \(fit, engagement\)",
        ),
        (
            lambda: ls.qualify({"ann": math.nan}, {}, (1,), (1,)),
            "the fit score of 'ann' must be a finite number, got nan",
        ),
        (
            lambda: ls.qualify({}, {"bob": "high"}, (1,), (1,)),
            "the engagement score of 'bob' must be a finite number",
        ),
        (lambda: MATRIX.grade(fit=True), "the fit score must be a finite number"),
        (
            lambda: ls.qualify([("ann", 1)], {}, (1,), (1,)),
            "fit_scores must map contacts to scores",
        ),
    ],
)
def test_bad_cuts_weights_and_scores_raise_naming_the_value(make, match):
    """Bad cuts, weights or scores raise InvalidModelError naming field and value."""
    with pytest.raises(ls.InvalidModelError, match=match):
        make()


CUTS = st.lists(
    st.floats(-1e6, 1e6, allow_nan=False), min_size=1, max_size=5, unique=True
).map(sorted)
SCORES = st.floats(-1e9, 1e9, allow_nan=False)


@given(CUTS, CUTS, SCORES, SCORES, SCORES)
def test_a_higher_score_never_gives_a_worse_grade_or_level(fit_cuts, eng_cuts, a, b, c):
    """A higher fit never gives a worse letter, a higher engagement a worse digit."""
    matrix = QualificationMatrix(fit_cuts, eng_cuts)
    low, high = sorted((a, b))
    # Letters: A is the best, so the better grade sorts first; levels: 1 first.
    assert matrix.grades.index(matrix.grade(high)) <= matrix.grades.index(
        matrix.grade(low)
    )
    assert matrix.levels.index(matrix.level(high)) <= matrix.levels.index(
        matrix.level(low)
    )
    # ... and the other axis is left alone.
    assert matrix.code(high, c)[1:] == matrix.code(low, c)[1:]
    assert matrix.code(c, high)[0] == matrix.code(c, low)[0]


@given(
    st.tuples(st.floats(0, 100), st.floats(0, 100)).filter(any),
    SCORES,
    SCORES,
    SCORES,
)
def test_a_higher_score_never_lowers_the_combined_score(weights, a, b, other):
    """With weights >= 0 the combined score never falls as either score rises."""
    matrix = QualificationMatrix((0,), (0,), weights=weights)
    low, high = sorted((a, b))
    assert matrix.combined(low, other) <= matrix.combined(high, other)
    assert matrix.combined(other, low) <= matrix.combined(other, high)


# -- a FitModel and a ScoringModel together -------------------------------------------

FIT = FitModel(
    "Contact fit",
    [
        FitRule(where("title", contains="VP"), 40, name="Decision maker"),
        FitRule(where("employees", ge=200), 30, name="Mid-market or larger"),
    ],
)
ENGAGEMENT = ScoringModel(
    "Engagement",
    [
        Rule("form.submitted", 30, name="Form"),
        Rule("page.viewed", 10, name="Page view"),
    ],
    aging=ls.AgingPolicy.expire_after(days=90),
)
EVENTS = [
    Event("ann", "profile.updated", T, {"title": "VP Sales", "employees": 500}),
    Event("ann", "form.submitted", T),
    Event("ann", "page.viewed", T),
    Event("bob", "profile.updated", T, {"title": "Intern", "employees": 500}),
    Event("bob", "form.submitted", T),
    Event("bob", "form.submitted", T + dt.timedelta(hours=1)),
    Event("cy", "page.viewed", T),
]


def test_a_fit_model_enters_a_combined_model_beside_an_engagement_model():
    """Both models score the same events; each contact gets a cell and a total."""
    combined = CombinedModel(FIT, ENGAGEMENT, MATRIX)
    as_of = T + dt.timedelta(days=1)
    found = combined.qualifications(EVENTS, as_of)
    fits = ls.fit_scores(FIT, EVENTS, as_of)
    engaged = ls.score(ENGAGEMENT, EVENTS, as_of)
    assert {"ann", "bob", "cy"} == set(found) == set(fits) == set(engaged)
    for contact, q in found.items():
        assert (fits[contact], engaged[contact]) == (q.fit, q.engagement)
        assert fits[contact] + engaged[contact] == q.combined
        assert MATRIX.code(q.fit, q.engagement) == q.code
        assert (q.code[0], q.code[1:]) == (q.grade, q.level)
    # ann: a VP at a 500-person company (70) who sent a form and viewed a page (40);
    # bob: the right company, not the right title (30), two forms (60); cy: a view.
    assert {"ann": "A2", "bob": "B1", "cy": "C3"} == combined.codes(EVENTS, as_of)


def test_engagement_ages_while_fit_stays():
    """Months later the engagement has expired and only the fit grade is left."""
    combined = CombinedModel(FIT, ENGAGEMENT, MATRIX)
    assert {"ann": "A3", "bob": "B3", "cy": "C3"} == combined.codes(
        EVENTS, T + dt.timedelta(days=120)
    )


def test_a_contact_one_model_does_not_report_gets_its_empty_score():
    """One the engagement model leaves out scores its initial; no profile, no fit."""
    later = T + dt.timedelta(days=1)
    engagement = ScoringModel(
        "Engagement", [Rule("form.submitted", 30)], initial=25, active_from=later
    )
    fit = FitModel("Fit", [FitRule(where("title", contains="VP"), 40)], initial=10)
    combined = CombinedModel(fit, engagement, MATRIX)
    events = [
        Event("ann", "profile.updated", T, {"title": "VP Sales"}),  # before active_from
        Event("bob", "form.submitted", later),
    ]
    found = combined.qualifications(events, later)
    assert 25.0 == found["ann"].engagement  # only fit reports ann at this instant
    assert (10.0, 55.0) == (found["bob"].fit, found["bob"].engagement)


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (
            lambda: CombinedModel(ENGAGEMENT, ENGAGEMENT, MATRIX),
            "fit must be a FitModel",
        ),
        (lambda: CombinedModel(FIT, FIT, MATRIX), "engagement must be a ScoringModel"),
        (lambda: CombinedModel(FIT, ENGAGEMENT, (1, 2)), "matrix must be a Qualif"),
        (
            lambda: presets.qualification_matrix(FIT, ENGAGEMENT, score_limit=0),
            "score_limit must be > 0, got 0",
        ),
        (
            lambda: presets.qualification_matrix(FIT, ENGAGEMENT, score_limit="100"),
            "score_limit must be a number",
        ),
    ],
)
def test_bad_combined_models_raise(make, match):
    """Models of the wrong type and a bad score limit raise InvalidModelError."""
    with pytest.raises(ls.InvalidModelError, match=match):
        make()


def test_the_preset_cuts_each_axis_in_thirds_of_the_score_limit():
    """HubSpot's 100-point limit: 2/3 of it is A (or 1), 1/3 is B (or 2)."""
    combined = presets.qualification_matrix(FIT, ENGAGEMENT)
    matrix = combined.matrix
    third, two_thirds = 100 / 3, 200 / 3
    assert (third, two_thirds) == matrix.fit_cuts == matrix.engagement_cuts
    assert "A1" == matrix.code(two_thirds, two_thirds)
    assert "B2" == matrix.code(math.nextafter(two_thirds, 0), third)
    assert "C3" == matrix.code(math.nextafter(third, 0), 0)
    assert (1.0, 1.0) == matrix.weights
    assert (FIT, ENGAGEMENT) == (combined.fit, combined.engagement)
    assert (30.0, 60.0) == presets.qualification_matrix(
        FIT, ENGAGEMENT, score_limit=90
    ).matrix.fit_cuts
