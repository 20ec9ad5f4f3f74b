"""Rules and models: what the mutation run of ``model/_rules.py`` found unpinned.

docs/mutation.md lists the run. Every validation error here is read whole: its
``path`` and ``value`` exactly, and its message (``reason``, without the path),
which names the field and shows the bad value. The rest pins the accessors the
scoring paths rely on: ``kinds``, ``label``, ``policy``, ``clamp`` and the repr.
"""

from __future__ import annotations

import datetime as dt

import pytest

import leadscore as ls
from leadscore import AgingPolicy, Rule, ScoringModel, where


def _refused(make, path, value):
    """Call *make*; return the InvalidModelError's reason after checking path, value."""
    with pytest.raises(ls.InvalidModelError) as info:
        make()
    error = info.value
    assert (path, value) == (error.path, error.value)
    return error.reason


class _BrokenZone(dt.tzinfo):
    """A zone whose offset is out of range: Python refuses it with ValueError."""

    def utcoffset(self, _):
        return dt.timedelta(hours=30)

    def dst(self, _):
        return dt.timedelta(0)

    def tzname(self, _):
        return "broken"


_BROKEN = dt.datetime(2024, 1, 1, tzinfo=_BrokenZone())

RULE_ERRORS = [
    # points
    (lambda: Rule("a", "5"), "points", "5", "points must be a number, got str '5'"),
    (
        lambda: Rule("a", points=True),
        "points",
        True,
        "points must be a number, got bool True",
    ),
    (
        lambda: Rule("a", None),
        "points",
        None,
        "points must be a number, got NoneType None",
    ),
    (
        lambda: Rule("a", float("inf")),
        "points",
        float("inf"),
        "points must be finite, got inf",
    ),
    (
        lambda: Rule("a", -2e15),
        "points",
        -2e15,
        "points must be within ±1e+15, got -2000000000000000.0",
    ),
    # kind
    (
        lambda: Rule(5, 1),
        "kind",
        5,
        "kind must be a non-empty str or a non-empty tuple of str, got 5",
    ),
    (
        lambda: Rule([], 1),
        "kind",
        [],
        "kind must be a non-empty str or a non-empty tuple of str, got []",
    ),
    (lambda: Rule(("a", 3), 1), "kind", 3, "kind must be a non-empty str, got 3"),
    (lambda: Rule(["a", ""], 1), "kind", "", "kind must be a non-empty str, got ''"),
    (
        lambda: Rule(("a", "score.reset"), 1),
        "kind",
        "score.reset",
        (
            "'score.reset' is handled by every model itself (manual scores and merges); "
            "a rule cannot score it"
        ),
    ),
    (
        lambda: Rule(("a", "b", "a"), 1),
        "kind",
        ("a", "b", "a"),
        "kind lists a kind twice: ('a', 'b', 'a')",
    ),
    # once_per
    *(
        (
            lambda bad=bad: Rule("a", 1, once_per=bad),
            "once_per",
            bad,
            (
                "once_per must be None, () or attribute names (a str or a tuple of str), "
                f"got {bad!r}"
            ),
        )
        for bad in (3, ("m", ""), ["m", 5], "")
    ),
    # limit
    (
        lambda: Rule("a", 1, limit="5"),
        "limit",
        "5",
        "limit must be a number, got str '5'",
    ),
    (lambda: Rule("a", 1, limit=-3), "limit", -3, "limit must be positive, got -3"),
    # when, aging, name
    (
        lambda: Rule("a", 1, when="x == 1"),
        "when",
        "x == 1",
        "when must be Condition or None, got 'x == 1'",
    ),
    (
        lambda: Rule("a", 1, aging="6 months"),
        "aging",
        "6 months",
        "aging must be AgingPolicy or None, got '6 months'",
    ),
    (
        lambda: Rule("a", 1, name=""),
        "name",
        "",
        "name must be a non-empty str or None, got ''",
    ),
    (
        lambda: Rule("a", 1, name=5),
        "name",
        5,
        "name must be a non-empty str or None, got 5",
    ),
]


@pytest.mark.parametrize(("make", "path", "value", "reason"), RULE_ERRORS)
def test_a_bad_rule_names_the_field_and_the_value(make, path, value, reason):
    """Each bad argument of Rule: path, value and message."""
    assert reason == _refused(make, path, value)


MODEL_ERRORS = [
    (
        lambda: ScoringModel("", []),
        "name",
        "",
        "name must be a non-empty str, got ''",
    ),
    (
        lambda: ScoringModel(5, []),
        "name",
        5,
        "name must be a non-empty str, got 5",
    ),
    (
        lambda: ScoringModel("m", "ab"),
        "rules",
        "ab",
        "rules must be an iterable of Rule, got 'ab'",
    ),
    (
        lambda: ScoringModel("m", 5),
        "rules",
        5,
        "rules must be an iterable of Rule, got 5",
    ),
    (
        lambda: ScoringModel("m", [Rule("a", 1), "b"]),
        "rules[1]",
        "b",
        "expected a Rule, got str 'b'",
    ),
    (
        lambda: ScoringModel("m", [], aging="never"),
        "aging",
        "never",
        "aging must be an AgingPolicy, got 'never'",
    ),
    (
        lambda: ScoringModel("m", [], combine="max"),
        "combine",
        "max",
        "unknown combine 'max'; use one of 'sum', 'ratio'",
    ),
    (
        lambda: ScoringModel("m", [], merge="newest"),
        "merge",
        "newest",
        "unknown merge 'newest'; use one of 'keep-master', 'union'",
    ),
    (
        lambda: ScoringModel("m", [], initial="0"),
        "initial",
        "0",
        "initial must be a number, got str '0'",
    ),
    (
        lambda: ScoringModel("m", [], bounds=5),
        "bounds",
        5,
        "bounds must be (low, high), either may be None; got 5",
    ),
    (
        lambda: ScoringModel("m", [], bounds=(1, 2, 3)),
        "bounds",
        (1, 2, 3),
        "bounds must be (low, high), either may be None; got (1, 2, 3)",
    ),
    (
        lambda: ScoringModel("m", [], bounds=["0", 1]),
        "bounds[0]",
        "0",
        "bounds[0] must be a number, got str '0'",
    ),
    (
        lambda: ScoringModel("m", [], bounds=(0, "1")),
        "bounds[1]",
        "1",
        "bounds[1] must be a number, got str '1'",
    ),
    (
        lambda: ScoringModel("m", [], bounds=[5.5, 5]),
        "bounds",
        [5.5, 5],
        "bounds low must not exceed high, got [5.5, 5]",
    ),
    (
        lambda: ScoringModel("m", [], active_from=5),
        "active_from",
        5,
        (
            "active_from must be an aware datetime or an ISO-8601 string with an offset, "
            "got int 5"
        ),
    ),
]


@pytest.mark.parametrize(("make", "path", "value", "reason"), MODEL_ERRORS)
def test_a_bad_model_names_the_field_and_the_value(make, path, value, reason):
    """Each bad argument of ScoringModel: path, value and message."""
    assert reason == _refused(make, path, value)


def test_an_active_from_without_an_offset_is_refused_as_a_model_error():
    """The event-time check's message is kept; path and value are the model's."""
    reason = _refused(
        lambda: ScoringModel("m", [], active_from="2024-01-01"),
        "active_from",
        "2024-01-01",
    )

    assert reason.startswith("active_from has no UTC offset: '2024-01-01'")


def test_an_active_from_in_a_broken_zone_is_refused_as_a_model_error():
    """A datetime whose zone Python cannot apply is not a valid instant."""
    reason = _refused(
        lambda: ScoringModel("m", [], active_from=_BROKEN), "active_from", _BROKEN
    )

    assert reason.startswith(f"active_from is not a valid instant: {_BROKEN!r} (")


def test_a_valid_active_from_is_kept_in_utc():
    """An ISO string with an offset becomes the same instant in UTC."""
    model = ScoringModel("m", [], active_from="2024-01-01T02:00:00+02:00")

    assert dt.datetime(2024, 1, 1, tzinfo=dt.UTC) == model.active_from


# -- values that are accepted, and what they become -------------------------------------


def test_kinds_and_once_per_are_normalised():
    """A kind list becomes a tuple, a str stays a str; once_per is a tuple of keys."""
    assert ("a", "b") == Rule(["a", "b"], 1).kind
    assert "a" == Rule("a", 1).kind
    assert ("a",) == Rule("a", 1).kinds
    assert ("a", "b") == Rule(("a", "b"), 1).kinds
    assert ("message",) == Rule("a", 1, once_per="message").once_per
    assert ("m", "l") == Rule("a", 1, once_per=["m", "l"]).once_per
    assert () == Rule("a", 1, once_per=()).once_per
    assert Rule("a", 1, once_per=None).once_per is None


@pytest.mark.parametrize(
    ("bounds", "kept"),
    [
        (None, None),
        ((None, None), (None, None)),
        ((None, 4), (None, 4.0)),
        ([-4, None], (-4.0, None)),
        ([1, 2], (1.0, 2.0)),
    ],
)
def test_bounds_are_kept_as_a_pair_of_floats(bounds, kept):
    """Bounds become a (low, high) tuple; None on either side stays None."""
    assert kept == ScoringModel("m", [], bounds=bounds).bounds


@pytest.mark.parametrize(
    ("bounds", "inputs", "outputs"),
    [
        (None, (-1e9, 0.0, 1e9), (-1e9, 0.0, 1e9)),
        ((0, 10), (-1.0, 0.0, 5.0, 10.0, 11.0), (0.0, 0.0, 5.0, 10.0, 10.0)),
        ((None, 10), (-1e9, 10.0, 11.0), (-1e9, 10.0, 10.0)),
        ((0, None), (-1.0, 1e9), (0.0, 1e9)),
    ],
)
def test_clamp_applies_each_bound(bounds, inputs, outputs):
    """Clamping raises a value below low to low and lowers one above high to high."""
    model = ScoringModel("m", [], bounds=bounds)

    assert outputs == tuple(model.clamp(v) for v in inputs)


def test_a_rule_without_aging_takes_the_models():
    """policy(rule) is the rule's own aging, else the model's."""
    own = AgingPolicy.half_life(days=3)
    plain, aged = Rule("a", 1), Rule("b", 1, aging=own)
    model = ScoringModel("m", [plain, aged], aging=AgingPolicy.linear(days=9))

    assert (AgingPolicy.linear(days=9), own) == (
        model.policy(plain),
        model.policy(aged),
    )


@pytest.mark.parametrize(
    ("rule", "label"),
    [
        (Rule("a", 5), "a +5"),
        (Rule(("a", "b"), -2.5), "a|b -2.5"),
        (Rule("a", 0), "a +0"),
        (Rule("a", 5, name="opens"), "opens"),
    ],
)
def test_a_rule_label_is_its_name_or_kinds_and_points(rule, label):
    """The label of explanations: the name, or the kinds joined by | and the points."""
    assert label == rule.label


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (Rule("a", 1), "Rule('a', 1.0)"),
        (
            Rule("a", -2, once_per="m", limit=3, name="x"),
            "Rule('a', -2.0, once_per=('m',), limit=3.0, name='x')",
        ),
        (
            Rule("a", 1, when=where("p", eq="/"), aging=AgingPolicy.never()),
            "Rule('a', 1.0, when=where('p', eq='/'), aging=AgingPolicy.never())",
        ),
        # The models name an aging policy other than the default: whether the
        # default one (a factory) is shown is not what these tests are about.
        (
            ScoringModel(
                "m",
                [Rule("a", 1)],
                aging=AgingPolicy.linear(days=2),
                combine="ratio",
                initial=2,
                bounds=(0, 5),
            ),
            (
                "ScoringModel('m', (Rule('a', 1.0),), aging=AgingPolicy.linear(days=2), "
                "combine='ratio', initial=2.0, bounds=(0.0, 5.0))"
            ),
        ),
        (
            ScoringModel(
                "m", [], aging=AgingPolicy.expire_after(days=3), merge="union"
            ),
            (
                "ScoringModel('m', (), aging=AgingPolicy.expire_after(days=3), "
                "merge='union')"
            ),
        ),
    ],
)
def test_repr_shows_the_arguments_that_differ_from_the_defaults(value, text):
    """A rule's and a model's repr read like the call that built them."""
    assert text == repr(value)
