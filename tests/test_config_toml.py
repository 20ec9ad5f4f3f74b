"""Models out as TOML: lossless round trips through the TOML reader, clear errors."""

from __future__ import annotations

import datetime as dt
import json
import tomllib
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import leadscore as ls
from leadscore import config
from leadscore.strategies import (
    deep_conditions,
    fit_models,
    models,
    rating_scales,
)

EXAMPLES = Path(__file__).parent.parent / "examples" / "models"


@given(models())
def test_toml_round_trip_is_lossless(model):
    """from_toml(to_toml(m)) == m for every model feature."""
    assert model == config.from_toml(config.to_toml(model))


@given(models(adversarial=True))
def test_toml_round_trip_holds_for_hostile_models(model):
    """Extreme numbers, None operands, hostile strings and deep conditions survive."""
    assert model == config.from_toml(config.to_toml(model))


@given(deep_conditions())
def test_toml_round_trip_of_conditions_to_the_documented_depth(condition):
    """A condition nested to MAX_CONDITION_DEPTH is written and read back equal."""
    model = ls.ScoringModel("m", [ls.Rule("page.viewed", 1, when=condition)])
    assert model == config.from_toml(config.to_toml(model))


@given(fit_models())
def test_fit_model_toml_round_trip(model):
    """Fit models round-trip through TOML."""
    assert model == config.from_toml(config.to_toml(model), ls.FitModel)


@given(rating_scales())
def test_scale_toml_round_trip(scale):
    """Rating scales round-trip through TOML."""
    assert scale == config.from_toml(config.to_toml(scale), ls.RatingScale)


@given(
    st.sampled_from(
        [
            ls.presets.hot_leads(),
            ls.presets.cold_leads(),
            ls.presets.reengagement_candidates(),
            ls.Segment.between("Warm", 20, 75),
            ls.Segment.increased("Rising", dt.timedelta(days=7), by=5),
        ]
    )
)
def test_segment_toml_round_trip(segment):
    """Segments round-trip through TOML."""
    assert segment == config.from_toml(config.to_toml(segment), ls.Segment)


@given(models(), st.sampled_from([".toml", ".json"]))
def test_dump_then_load_gives_the_model_back(tmp_path_factory, model, suffix):
    """dump() writes by suffix; load() reads an equal model."""
    path = tmp_path_factory.mktemp("models") / f"model{suffix}"
    config.dump(model, path)
    assert model == config.load(path)


@given(models())
def test_toml_and_json_say_the_same(model):
    """The TOML document parses to the JSON document, None written as {}."""

    def nulls(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: nulls(v) for k, v in value.items()} if value else None
        if isinstance(value, list):
            return [nulls(v) for v in value]
        return value

    assert json.loads(config.to_json(model)) == nulls(
        tomllib.loads(config.to_toml(model))
    )


@pytest.mark.parametrize("name", ["highlevel.toml", "activecampaign.toml"])
def test_shipped_model_files_write_back_to_the_same_model(name, tmp_path):
    """A shipped model file, loaded and dumped again, loads equal (a fixed point)."""
    model = config.load(EXAMPLES / name)
    text = config.to_toml(model)
    assert model == config.from_toml(text)
    assert text == config.to_toml(config.from_toml(text))


def test_the_engagement_preset_reads_like_the_manual():
    """Top-level keys, inline tables, [[groups]] before [[rules]], None as {}."""
    text = config.to_toml(ls.presets.email_engagement())
    expected_head = (
        'name = "Email engagement"\n'
        'aging = { policy = "by_count", factor = 0.9 }\n'
        'combine = "ratio"\n'
        "initial = 2.0\n"
        "bounds = [0.0, {}]\n"
        "\n"
        "[[groups]]\n"
        'name = "message"\n'
        'once_per = ["message"]\n'
        "\n"
        "[[rules]]\n"
        'kind = "contact.subscribed"\n'
        "points = 0.75\n"
        "once_per = []\n"
        'name = "Subscribed"\n'
    )
    assert expected_head == text[: len(expected_head)]
    assert ls.presets.email_engagement() == config.from_toml(text)


def test_a_none_operand_is_written_as_an_empty_table():
    """where(key, eq=None) and in_ with None are written {} and read back as None."""
    cond = ls.where("x", eq=None) | ls.where("y", in_=(None, "a", 1))
    model = ls.ScoringModel("m", [ls.Rule("a", 1, when=cond)])
    text = config.to_toml(model)
    assert (
        'when = { any = [{ where = "x", eq = {} }, { where = "y", in = [{}, "a", 1] }] }'
        in text
    )
    assert model == config.from_toml(text)


def test_an_empty_table_elsewhere_is_still_an_error():
    """{} means None only where None is allowed; aging = {} still names the key."""
    with pytest.raises(ls.InvalidModelError, match="policy") as info:
        config.from_toml('name = "m"\naging = {}')
    assert "aging.policy" == info.value.path


def test_a_lone_surrogate_cannot_be_written_as_toml():
    """TOML files are UTF-8: a lone surrogate is refused, naming its key path."""
    model = ls.ScoringModel("m", [ls.Rule("a", 1, name="x\ud800")])
    with pytest.raises(ls.InvalidModelError, match="surrogate") as info:
        config.to_toml(model)
    assert "rules[0].name" == info.value.path
    assert model == config.from_json(config.to_json(model))  # JSON escapes it


def test_dump_refuses_an_unknown_suffix(tmp_path):
    """dump() names the file when its suffix is neither .toml nor .json."""
    path = tmp_path / "model.yaml"
    with pytest.raises(ls.InvalidModelError, match=r"\.yaml") as info:
        config.dump(ls.presets.highlevel(), path)
    assert str(path) == info.value.source
    assert not path.exists()


def test_from_toml_reports_syntax_errors_with_line_and_column():
    """Invalid TOML text raises InvalidModelError, not tomllib's error."""
    with pytest.raises(ls.InvalidModelError, match=r"line 2, column"):
        config.from_toml('name = "m"\nrules = [1 2]')


def test_from_toml_reads_bytes_and_refuses_bad_utf8():
    """Bytes are decoded as UTF-8; a bad byte is named."""
    assert "m" == config.from_toml(b'name = "m"').name
    with pytest.raises(ls.InvalidModelError, match="not UTF-8"):
        config.from_toml(b'name = "\xff"')
