"""Rating scales refuse bad input with the field and the value (issue 11).

The mutation run of ``model/_rating.py`` (docs/mutation.md) left alive the
mutants that change an error's ``path``, ``value`` or message, and those that
turn a type check's ``or`` into ``and`` (a ``TypeError`` instead of an
``InvalidModelError``). Each test here reads all three: ``path`` and ``value``
exactly, and the message (``reason``, without the path) by its opening words and
the bad value it shows.
"""

from __future__ import annotations

import math

import pytest

import leadscore as ls


def _refused(make, path, value):
    """Call *make*; return the InvalidModelError's reason after checking path, value."""
    with pytest.raises(ls.InvalidModelError) as info:
        make()
    error = info.value
    assert (path, value) == (error.path, error.value)
    return error.reason


@pytest.mark.parametrize("cuts", [5, "1,2", None, {1: 2}], ids=repr)
def test_cuts_that_are_not_a_list_are_refused(cuts):
    """Cuts given as a number, a str, None or a dict name the field and the value."""
    reason = _refused(lambda: ls.RatingScale(cuts), "cuts", cuts)

    assert f"cuts must be a list of numbers, got {cuts!r}" == reason


@pytest.mark.parametrize("cuts", [(), []], ids=["tuple", "list"])
def test_empty_cuts_are_refused(cuts):
    """No cuts at all is refused, with the empty value."""
    reason = _refused(lambda: ls.RatingScale(cuts), "cuts", cuts)

    assert "cuts must not be empty" == reason


def test_cuts_that_do_not_rise_name_the_first_bad_cut():
    """The error names the index and the value of the first cut not above the last."""
    reason = _refused(lambda: ls.RatingScale((1, 3, 2, 0)), "cuts[2]", 2)

    assert "cuts must rise strictly, got 3.0 then 2.0" == reason


def test_a_cut_that_is_not_finite_is_named():
    """A NaN or infinite cut names its index."""
    reason = _refused(lambda: ls.RatingScale((1, math.inf)), "cuts[1]", math.inf)

    assert reason.startswith("cuts[1] must be finite")


@pytest.mark.parametrize("labels", ["ab", 5, {"a": 1}], ids=repr)
def test_labels_that_are_not_a_list_are_refused(labels):
    """Labels given as a str, a number or a dict name the field and the value."""
    reason = _refused(lambda: ls.RatingScale((1,), labels), "labels", labels)

    assert f"labels must be a list, got {labels!r}" == reason


def test_an_unhashable_label_is_named_by_index():
    """A label that cannot be hashed names its index, its type and its value."""
    reason = _refused(lambda: ls.RatingScale((1,), ("a", ["b"])), "labels[1]", ["b"])

    assert "labels must be hashable (a str, a number ...), got list ['b']" == reason


def test_repeated_labels_are_refused():
    """Two equal labels: the error shows the labels."""
    reason = _refused(lambda: ls.RatingScale((1,), ("a", "a")), "labels", ("a", "a"))

    assert "labels must be distinct, got ('a', 'a')" == reason


@pytest.mark.parametrize("labels", [("a", "b"), ("a", "b", "c", "d")])
def test_labels_must_number_one_more_than_the_cuts(labels):
    """Two cuts need three labels; the error shows the count and the labels."""
    reason = _refused(lambda: ls.RatingScale((1, 2), labels), "labels", labels)

    assert (
        f"labels must number len(cuts) + 1 = 3, got {len(labels)}: {labels!r}" == reason
    )


@pytest.mark.parametrize("score", ["3", True, None, (3,)], ids=repr)
def test_rating_something_that_is_not_a_number_is_refused(score):
    """rate() of a str, a bool, None or a tuple names the score."""
    reason = _refused(lambda: ls.RatingScale.stars().rate(score), "score", score)

    assert f"a score must be a number, got {score!r}" == reason


def test_rating_nan_is_refused():
    """rate(nan) is refused, with path "score" and the NaN as the value."""
    with pytest.raises(ls.InvalidModelError) as info:
        ls.RatingScale.stars().rate(math.nan)

    assert "score" == info.value.path
    assert math.isnan(info.value.value)
    assert "a score must not be NaN" == info.value.reason


def test_stars_and_grades_are_the_documented_scales():
    """stars() cuts at 2, 3, 4, 5 without labels; grades() labels F to A+."""
    assert ((2.0, 3.0, 4.0, 5.0), None) == (
        ls.RatingScale.stars().cuts,
        ls.RatingScale.stars().labels,
    )
    assert ls.GRADE_LETTERS == ls.RatingScale.grades().labels
