"""Models as data: lossless round trips and errors that name the key's path."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from hypothesis import given

import leadscore as ls
from leadscore import config
from leadscore.model._limits import MAX_CONDITION_DEPTH
from leadscore.strategies import models

EXAMPLES = Path(__file__).parent.parent / "examples" / "models"


@given(models())
def test_dict_round_trip_is_lossless(model):
    """model_from_dict(model_to_dict(m)) == m."""
    assert model == config.model_from_dict(config.model_to_dict(model))


@given(models())
def test_json_round_trip_is_lossless(model):
    """from_json(to_json(m)) == m, through real JSON text."""
    assert model == config.from_json(config.to_json(model))


def test_toml_and_json_files_load(tmp_path):
    """load() reads .toml and .json files into equal models."""
    model = config.load(EXAMPLES / "highlevel.toml")
    path = tmp_path / "highlevel.json"
    path.write_text(config.to_json(model, indent=2))
    assert model == config.load(path)


def test_periods_in_any_unit_normalise():
    """weeks, days and hours are accepted and written back exactly."""
    policy = config.aging_from_dict({"policy": "half_life", "weeks": 1, "hours": 12})
    assert {"policy": "half_life", "days": 7, "seconds": 43200} == config.aging_to_dict(
        policy
    )


@pytest.mark.parametrize(
    ("data", "path", "match"),
    [
        (
            {
                "name": "m",
                "rules": [
                    {"kind": "a", "points": 1},
                    {"kind": "b", "points": 1},
                    {
                        "kind": "c",
                        "points": 2,
                        "aging": {"policy": "expire_after", "months": -1},
                    },
                ],
            },
            "rules[2].aging.months",
            "months must not be negative, got -1",
        ),
        (
            {"name": "m", "rules": [{"kind": "a", "points": 1, "weight": 2}]},
            "rules[0].weight",
            "unknown key 'weight'",
        ),
        (
            {"name": "m", "rules": [{"kind": "a", "points": "1"}]},
            "rules[0].points",
            "points must be a number, got str '1'",
        ),
        (
            {"name": "m", "rules": [{"kind": "a"}]},
            "rules[0].points",
            "missing 'points'",
        ),
        ({"name": "m", "rules": {"kind": "a"}}, "rules", "rules must be a list"),
        (
            {"name": "m", "rules": [], "bounds": [5, 1]},
            "bounds",
            "low must not exceed high",
        ),
        (
            {"name": "m", "rules": [], "combine": "max"},
            "combine",
            "unknown combine 'max'",
        ),
        (
            {"name": "m", "rules": [], "aging": {"policy": "by_count", "factor": 2}},
            "aging.factor",
            r"factor must be in \(0, 1\], got 2",
        ),
        (
            {"name": "m", "rules": [], "aging": {"months": 6}},
            "aging.policy",
            "missing 'policy'",
        ),
        (
            {
                "name": "m",
                "rules": [
                    {
                        "kind": "a",
                        "points": 1,
                        "when": {
                            "all": [{"where": "x", "eq": 1}, {"where": "x", "like": 1}]
                        },
                    }
                ],
            },
            "rules[0].when.all[1].like",
            "unknown key 'like'",
        ),
        (
            {
                "name": "m",
                "rules": [
                    {"kind": "a", "points": 1, "when": {"where": "x", "gt": [1]}}
                ],
            },
            "rules[0].when.gt",
            "gt takes a number or a str",
        ),
        (
            {
                "name": "m",
                "rules": [
                    {"kind": "a", "points": 1, "when": {"where": "x", "eq": 1, "ne": 2}}
                ],
            },
            "rules[0].when",
            "exactly one operator",
        ),
        (
            {"name": "m", "rules": [], "active_from": "2024-01-01"},
            "active_from",
            "no UTC offset",
        ),
        ({"rules": []}, "name", "missing 'name'"),
        ([], "", "expected a table/object, got list"),
    ],
)
def test_bad_model_data_names_the_path(data, path, match):
    """Unknown keys, wrong types and impossible values name the key's path."""
    with pytest.raises(ls.InvalidModelError, match=match) as info:
        config.model_from_dict(data)
    assert path == info.value.path
    if path:
        assert str(info.value).startswith(f"{path}: ")


def test_bad_files_name_the_file(tmp_path):
    """Syntax errors and unknown suffixes name the file."""
    bad = tmp_path / "bad.toml"
    bad.write_text("name = ")
    with pytest.raises(ls.InvalidModelError, match=r"bad.toml: not valid TOML"):
        config.load(bad)
    worse = tmp_path / "model.json"
    worse.write_text('{"name": "m", "rules": [}')
    with pytest.raises(
        ls.InvalidModelError, match=r"model.json: not valid JSON: .*line 1"
    ):
        config.load(worse)
    with pytest.raises(ls.InvalidModelError, match=r"unknown model file type '\.yaml'"):
        config.load(tmp_path / "model.yaml")


def test_the_value_field_has_its_own_spelling():
    """where(VALUE, ...) is written {event = 'value'} and never collides."""
    cond = ls.where(ls.VALUE, ge=100) & ls.where("value", eq="x")
    data = config.condition_to_dict(cond)
    assert {
        "all": [{"where": {"event": "value"}, "ge": 100}, {"where": "value", "eq": "x"}]
    } == data
    assert cond == config.condition_from_dict(json.loads(json.dumps(data)))


def _rule(**extra):
    return {"name": "m", "rules": [{"kind": "a", "points": 1, **extra}]}


def _nested_not(depth):
    when = {"where": "x", "eq": 1}
    for _ in range(depth - 1):
        when = {"not": when}
    return when


@pytest.mark.parametrize(
    ("data", "path", "value"),
    [
        (
            {"name": "m", "rules": [], "aging": {"policy": "decay"}},
            "aging.policy",
            "decay",
        ),
        ({"name": "m", "rules": [], "aging": {"policy": ["x"]}}, "aging.policy", ["x"]),
        (
            {
                "name": "m",
                "rules": [],
                "aging": {"policy": "expire_after", "days": 4e5},
            },
            "aging.days",
            4e5,
        ),
        (
            {"name": "m", "rules": [], "aging": {"policy": "half_life", "days": 1e300}},
            "aging.days",
            1e300,
        ),
        (
            {
                "name": "m",
                "rules": [],
                "aging": {"policy": "linear", "days": 1, "hours": float("nan")},
            },
            "aging",
            {"days": 1, "hours": float("nan")},
        ),
        (
            {"name": "m", "rules": [], "aging": {"policy": "half_life"}},
            "aging",
            {},
        ),
        (
            {
                "name": "m",
                "rules": [],
                "aging": {"policy": "by_count", "factor": 10**400},
            },
            "aging.factor",
            10**400,
        ),
        (
            _rule(aging={"policy": "expire_after", "months": 1_000_000}),
            "rules[0].aging.months",
            1_000_000,
        ),
        (_rule(points=1e308), "rules[0].points", 1e308),
        (_rule(limit=10**400), "rules[0].limit", 10**400),
        ({"name": "m", "rules": [], "initial": -1e16}, "initial", -1e16),
        ({"name": "m", "rules": [], "bounds": [0, 1e300]}, "bounds[1]", 1e300),
        (_rule(when={"where": "x", "in": [1, [2, {}]]}), "rules[0].when.in[1][1]", {}),
        (_rule(when={"where": "x", "in": "abc"}), "rules[0].when.in", "abc"),
        (_rule(when={"where": "x", "eq": 10**400}), "rules[0].when.eq", 10**400),
        (_rule(when={"where": "x", "gt": True}), "rules[0].when.gt", True),
        (_rule(when={"where": ["x"], "eq": 1}), "rules[0].when.where", ["x"]),
        (
            _rule(when=_nested_not(MAX_CONDITION_DEPTH + 1)),
            "rules[0].when" + ".not" * MAX_CONDITION_DEPTH,
            MAX_CONDITION_DEPTH + 1,
        ),
        ({"name": ["m"], "rules": []}, "name", ["m"]),
        ({"type": ["points"], "name": "m"}, "type", ["points"]),
        ({"name": "m", "rules": [], "active_from": 5}, "active_from", 5),
    ],
)
def test_errors_name_the_document_key_and_value(data, path, value):
    """The path is the document's (policy, in, days), and .value the bad value."""
    with pytest.raises(ls.InvalidModelError) as info:
        config.model_from_dict(data)
    assert path == info.value.path
    if isinstance(value, float) and math.isnan(value):
        assert math.isnan(info.value.value)
    elif isinstance(value, dict) and any(map(math.isnan, value.values())):
        assert value.keys() == info.value.value.keys()
    else:
        assert value == info.value.value
    assert str(info.value).startswith(f"{path}: ")


def test_conditions_load_to_the_documented_depth():
    """A condition exactly MAX_CONDITION_DEPTH deep loads, round-trips and scores."""
    model = config.model_from_dict(_rule(when=_nested_not(MAX_CONDITION_DEPTH)))
    assert MAX_CONDITION_DEPTH == model.rules[0].when.depth
    assert model == config.from_json(config.to_json(model))
    event = ls.Event("c", "a", "2024-01-01T00:00Z", {"x": 2})
    assert {"c": 1.0} == ls.score(model, [event], "2024-01-02T00:00Z")


@pytest.mark.parametrize(
    ("kind", "data", "path", "value"),
    [
        (ls.RatingScale, {"type": "scale", "cuts": [1, 10**400]}, "cuts[1]", 10**400),
        (
            ls.RatingScale,
            {"type": "scale", "cuts": [1], "labels": [[1], "b"]},
            "labels[0]",
            [1],
        ),
        (ls.RatingScale, {"type": "scale", "cuts": "1"}, "cuts", "1"),
        (
            ls.FitModel,
            {
                "type": "fit",
                "name": "f",
                "rules": [{"when": {"where": "x", "eq": 1}, "points": 1, "name": 5}],
            },
            "rules[0].name",
            5,
        ),
        (
            ls.FitModel,
            {
                "type": "fit",
                "name": "f",
                "rules": [{"when": {"where": "x", "eq": 1}, "points": 1e300}],
            },
            "rules[0].points",
            1e300,
        ),
        (
            ls.Segment,
            {"type": "segment", "name": "s", "above": 10**400},
            "above",
            10**400,
        ),
        (ls.Segment, {"type": "segment", "name": "s", "by": None}, "by", None),
        (
            ls.Segment,
            {
                "type": "segment",
                "name": "s",
                "change": ["decreased"],
                "within": {"days": 1},
            },
            "change",
            ["decreased"],
        ),
        (
            ls.Segment,
            {
                "type": "segment",
                "name": "s",
                "change": "decreased",
                "within": {"days": float("inf")},
            },
            "within.days",
            float("inf"),
        ),
    ],
)
def test_every_document_kind_raises_only_invalid_model_error(kind, data, path, value):
    """Scales, fit models and segments name the key and value too."""
    with pytest.raises(ls.InvalidModelError) as info:
        config.from_dict(data, kind)
    assert path == info.value.path
    assert value == info.value.value


def test_a_huge_bad_value_makes_a_short_message():
    """A 10 MB bad value (or key) is kept on the error but cut in the message."""
    huge = "x" * 10_000_000
    for data in (_rule(points=huge), _rule(**{huge: 1}), {"name": "m", "rules": huge}):
        with pytest.raises(ls.InvalidModelError) as info:
            config.model_from_dict(data)
        assert len(str(info.value)) < 1000
        assert len(info.value.path) < 300
    assert huge == info.value.value


@pytest.mark.parametrize(
    "text",
    [
        '{"name": "m", "rules": [], "initial": ' + "9" * 5000 + "}",
        "[" * 100_000 + "]" * 100_000,
        '{"name": "m", "rules": [{"kind": "a", "points": 1, "when": '
        + '{"not": ' * 2000
        + '{"where": "x", "eq": 1}'
        + "}" * 2000
        + "}]}",
        '{"name": "m", "rules": [{"kind": "a", "points": 1, '
        '"when": {"where": "x", "eq": ' + "[" * 500 + "]" * 500 + "}}]}",
        b'{"name": "\xff"}',
        '{"name": "\\ud800", "rules": [], "initial": NaN}',
    ],
    ids=["5000 digits", "deep list", "deep not", "deep operand", "bad utf-8", "nan"],
)
def test_unreadable_json_raises_invalid_model_error(text):
    """Huge ints, deep nesting and bad bytes in JSON text: InvalidModelError."""
    with pytest.raises(ls.InvalidModelError) as info:
        config.from_json(text)
    assert isinstance(info.value.path, str)
    assert len(str(info.value)) < 1000


@pytest.mark.parametrize(
    ("name", "content", "match"),
    [
        ("latin1.toml", 'name = "caf\xe9"\n'.encode("latin-1"), "not UTF-8 text"),
        ("latin1.json", '{"name": "caf\xe9"}'.encode("latin-1"), "not UTF-8 text"),
        ("digits.toml", b"name = 'm'\ninitial = " + b"9" * 5000 + b"\n", "TOML"),
        ("deep.toml", b"x = " + b"[" * 5000 + b"]" * 5000 + b"\n", "TOML"),
        ("range.toml", b"name = 'm'\ninitial = 1e300\n", "initial must be within"),
    ],
)
def test_bad_files_raise_invalid_model_error_naming_the_file(
    tmp_path, name, content, match
):
    """Non-UTF-8 bytes, unreadable numbers and nesting name the file in .source."""
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(ls.InvalidModelError, match=match) as info:
        config.load(path)
    assert str(path) == info.value.source
    assert str(info.value).startswith(f"{path}: ")
