"""Models as data: lossless round trips and errors that name the key's path."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given

import leadscore as ls
from leadscore import config
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
            r"factor must be in \(0, 1\], got 2.0",
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
