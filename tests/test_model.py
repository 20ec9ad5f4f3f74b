"""Rules and models: validation with errors that name the field and value."""

from __future__ import annotations

import math

import pytest

import leadscore as ls
from leadscore import Rule, ScoringModel
from leadscore.model._limits import MAX_POINTS


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda: Rule("email.opened", math.nan), "points must be finite, got nan"),
        (lambda: Rule("email.opened", math.inf), "points must be finite, got inf"),
        (lambda: Rule("email.opened", "5"), "points must be a number, got str '5'"),
        (lambda: Rule("", 5), "kind must be a non-empty str"),
        (lambda: Rule((), 5), "kind must be a non-empty str or a non-empty tuple"),
        (lambda: Rule("score.set", 5), "'score.set' is handled by every model"),
        (lambda: Rule("a", 5, limit=0), "limit must be positive, got 0"),
        (lambda: Rule("a", 5, once_per=3), "once_per must be None"),
        (lambda: Rule("a", 5, when="path == x"), "when must be Condition or None"),
        (lambda: Rule("a", 5, aging="6 months"), "aging must be AgingPolicy or None"),
        (lambda: ScoringModel("m", [], combine="max"), "unknown combine 'max'"),
        (lambda: ScoringModel("m", [], merge="newest"), "unknown merge 'newest'"),
        (
            lambda: ScoringModel("m", [], bounds=(10, 0)),
            r"bounds low must not exceed high, got \(10, 0\)",
        ),
        (lambda: ScoringModel("m", [], bounds=(0,)), "bounds must be"),
        (lambda: ScoringModel("m", [], initial=math.nan), "initial must be finite"),
        (lambda: ScoringModel("", []), "name must be a non-empty str"),
        # The engine writes the model's name with every change it reports.
        (lambda: ScoringModel("m\udc80", []), "name cannot be stored: .*surrogate"),
        (lambda: ScoringModel("m\x00", []), "name cannot be stored: .*NUL"),
        (
            lambda: ScoringModel("m", [Rule("a", 1), "b"]),
            r"rules\[1\]: expected a Rule, got str",
        ),
        (
            lambda: ScoringModel("m", [], active_from="2024-01-01"),
            "active_from has no UTC offset",
        ),
        (lambda: ScoringModel("m", [], aging=None), "aging must be an AgingPolicy"),
    ],
)
def test_impossible_models_raise_invalid_model_error(make, match):
    """Each bad field is named with its value."""
    with pytest.raises(ls.InvalidModelError, match=match):
        make()


def test_rules_and_models_are_immutable_values():
    """Equal definitions are equal and hashable."""
    a = ScoringModel("m", [Rule("a", 1, once_per="message")])
    b = ScoringModel("m", (Rule("a", 1.0, once_per=("message",)),))
    assert a == b
    assert hash(a) == hash(b)


def test_a_rule_names_itself_for_explanations():
    """Label is the name, or kinds and points."""
    assert (
        "email.opened|email.clicked -2.5"
        == Rule(("email.opened", "email.clicked"), -2.5).label
    )
    assert "opens" == Rule("email.opened", 1, name="opens").label


@pytest.mark.parametrize(
    ("make", "path", "value"),
    [
        (lambda: Rule("k", 1e308), "points", 1e308),
        (lambda: Rule("k", -1e16), "points", -1e16),
        (lambda: Rule("k", 10**400), "points", 10**400),
        (lambda: Rule("k", 1, limit=1e16), "limit", 1e16),
        (lambda: Rule("k", 1, limit=10**400), "limit", 10**400),
        (lambda: ScoringModel("m", [], initial=2e15), "initial", 2e15),
        (lambda: ScoringModel("m", [], bounds=(None, 1e300)), "bounds[1]", 1e300),
        (lambda: ScoringModel("m", [], bounds=(-(10**20), 0)), "bounds[0]", -(10**20)),
        (lambda: ls.FitRule(ls.where("x", eq=1), 1e300), "points", 1e300),
        (
            lambda: ls.FitRule(ls.where("x", eq=1), 1, otherwise=-1e300),
            "otherwise",
            -1e300,
        ),
        (lambda: ls.FitRule(ls.where("x", eq=1), 1, name=["a"]), "name", ["a"]),
        (lambda: ls.FitModel("f", [], initial=1e16), "initial", 1e16),
    ],
)
def test_points_beyond_max_points_are_rejected(make, path, value):
    """|points|, initial, bounds and limit are at most MAX_POINTS: no sum overflows."""
    with pytest.raises(ls.InvalidModelError) as info:
        make()
    assert path == info.value.path
    assert value == info.value.value
    assert len(str(info.value)) < 500


def test_the_largest_points_score_finite():
    """Rules at ±MAX_POINTS, many times over, still give a finite score."""
    model = ScoringModel(
        "m",
        [Rule("k", MAX_POINTS, limit=MAX_POINTS), Rule("j", -MAX_POINTS)],
        initial=MAX_POINTS,
        bounds=(-MAX_POINTS, None),
    )
    events = [
        ls.Event("a", kind, "2024-01-01T00:00Z", id=f"{kind}{i}")
        for i in range(1000)
        for kind in ("k", "j")
    ]
    score = ls.score(model, events, "2024-02-01T00:00Z")["a"]
    assert math.isfinite(score)
    assert -MAX_POINTS == score


def test_a_huge_bad_value_makes_a_short_message():
    """A 10 MB bad name is kept on the error but cut in the message."""
    huge = ["x" * 10_000_000]
    with pytest.raises(ls.InvalidModelError) as info:
        ScoringModel(huge, [])
    assert huge is info.value.value
    assert len(str(info.value)) < 500
