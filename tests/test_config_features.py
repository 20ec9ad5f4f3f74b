"""Groups, frequency caps, state rules, subjects and time zones as data.

Every option round-trips through dicts and JSON; TOML documents (which
``config`` reads, not writes) load to the model built in Python; each bad value
raises InvalidModelError naming the document's key path and the value.
"""

from __future__ import annotations

import json

import attrs
import pytest
from hypothesis import given

import leadscore as ls
from leadscore import config
from leadscore.strategies import models

# -- round trips ---------------------------------------------------------------------


@given(models())
def test_dict_round_trip_keeps_every_new_option(model):
    """from_dict(to_dict(m)) == m with groups, at_most, ended_by, subject, zone."""
    assert model == config.from_dict(config.to_dict(model))


@given(models())
def test_json_round_trip_keeps_every_new_option(model):
    """from_json(to_json(m)) == m, through real JSON text."""
    assert model == config.from_json(config.to_json(model))


@given(model=models())
def test_json_files_load_every_new_option(tmp_path_factory, model):
    """load() of a .json file written from to_json gives the model back."""
    path = tmp_path_factory.getbasetemp() / "features.json"
    path.write_text(config.to_json(model, indent=2), encoding="utf-8")
    assert model == config.load(path)


@given(models())
def test_options_at_their_defaults_are_not_written(model):
    """to_dict writes a new option only when it differs from its default."""
    data = config.to_dict(model)
    assert ("groups" in data) == bool(model.groups)
    assert ("subject" in data) == (model.subject is not None)
    assert ("timezone" in data) == (model.timezone != "UTC")
    for rule, item in zip(model.rules, data["rules"], strict=True):
        assert ("group" in item) == (rule.group is not None)
        assert ("at_most" in item) == (rule.at_most is not None)
        assert ("ended_by" in item) == (rule.ended_by is not None)


def test_a_model_without_new_options_writes_what_it_wrote_before():
    """Old models keep their dict form (the engine's model version hashes it)."""
    model = ls.ScoringModel("m", [ls.Rule("email.opened", 5, once_per="message")])
    expected = {
        "name": "m",
        "rules": [{"kind": "email.opened", "points": 5.0, "once_per": ["message"]}],
    }
    assert expected == config.to_dict(model)


def test_the_dict_form_of_every_new_option():
    """at_most is {count, per}; one ended_by kind is a str, several a list."""
    model = ls.ScoringModel(
        "Email",
        [
            ls.Rule(
                "email.opened",
                1,
                group="email",
                at_most=ls.Frequency(20, "day"),
                ended_by="contact.unsubscribed",
            ),
            ls.Rule("list.joined", 10, once_per="list", ended_by=("list.left", "gone")),
        ],
        groups=[ls.Group("email", limit=40, once_per="message"), ls.Group("web")],
        subject="company",
        timezone="Europe/Paris",
    )
    expected = {
        "name": "Email",
        "rules": [
            {
                "kind": "email.opened",
                "points": 1.0,
                "group": "email",
                "at_most": {"count": 20, "per": "day"},
                "ended_by": "contact.unsubscribed",
            },
            {
                "kind": "list.joined",
                "points": 10.0,
                "once_per": ["list"],
                "ended_by": ["list.left", "gone"],
            },
        ],
        "groups": [
            {"name": "email", "limit": 40.0, "once_per": ["message"]},
            {"name": "web"},
        ],
        "subject": "company",
        "timezone": "Europe/Paris",
    }
    assert expected == config.to_dict(model)
    assert model == config.from_dict(json.loads(json.dumps(expected)))


TOML = """\
name = "Company engagement"
subject = "company"
timezone = "America/New_York"
bounds = [0, 100]

[[groups]]
name = "email"
limit = 30
once_per = ["message"]

[[groups]]
name = "web"
once_per = []

[[rules]]
kind = ["email.opened", "email.clicked"]
points = 2
group = "email"
at_most = { count = 20, per = "day" }

[[rules]]
kind = "page.viewed"
points = 5
group = "web"
at_most = { count = 1, per = "week" }

[[rules]]
kind = "list.joined"
points = 10
once_per = "list"
ended_by = "list.left"

[[rules]]
kind = "lifecycle.changed"
points = 25
when = { where = "stage", eq = "mql" }
once_per = []
ended_by = ["lifecycle.changed", "contact.deleted"]
"""

PYTHON = ls.ScoringModel(
    "Company engagement",
    [
        ls.Rule(
            ("email.opened", "email.clicked"),
            2,
            group="email",
            at_most=ls.Frequency(20, "day"),
        ),
        ls.Rule("page.viewed", 5, group="web", at_most=ls.Frequency(1, "week")),
        ls.Rule("list.joined", 10, once_per="list", ended_by="list.left"),
        ls.Rule(
            "lifecycle.changed",
            25,
            when=ls.where("stage", eq="mql"),
            once_per=(),
            ended_by=("lifecycle.changed", "contact.deleted"),
        ),
    ],
    bounds=(0, 100),
    groups=(
        ls.Group("email", limit=30, once_per=("message",)),
        ls.Group("web", once_per=()),
    ),
    subject="company",
    timezone="America/New_York",
)


def test_a_hand_written_toml_document_loads_every_new_option(tmp_path):
    """The TOML document loads to the model built in Python, and round-trips."""
    path = tmp_path / "company.toml"
    path.write_text(TOML, encoding="utf-8")
    model = config.load(path)
    assert PYTHON == model
    assert model == config.from_json(config.to_json(model))


# -- errors --------------------------------------------------------------------------


def _raises(make):
    with pytest.raises(ls.InvalidModelError) as info:
        make()
    return info.value


def _model(rules=(), **extra):
    return {"name": "m", "rules": [{"kind": "a", "points": 1}, *rules], **extra}


#: (what, Python constructor, its path and value, document, its path and value)
CASES = [
    (
        "an unknown group",
        lambda: ls.ScoringModel(
            "m",
            [ls.Rule("a", 1), ls.Rule("b", 1, group="mail")],
            groups=[ls.Group("email")],
        ),
        ("rules[1].group", "mail"),
        _model([{"kind": "b", "points": 1, "group": "mail"}], groups=[{"name": "x"}]),
        ("rules[1].group", "mail"),
    ),
    (
        "a group no model defines",
        lambda: ls.ScoringModel("m", [ls.Rule("a", 1, group="email")]),
        ("rules[0].group", "email"),
        {"name": "m", "rules": [{"kind": "a", "points": 1, "group": "email"}]},
        ("rules[0].group", "email"),
    ),
    (
        "a count of 0",
        lambda: ls.Frequency(0, "day"),
        ("count", 0),
        _model(
            [
                {"kind": "b", "points": 1},
                {"kind": "c", "points": 1, "at_most": {"count": 0, "per": "day"}},
            ]
        ),
        ("rules[2].at_most.count", 0),
    ),
    (
        "a count that is not whole",
        lambda: ls.Frequency(2.5, "day"),
        ("count", 2.5),
        _model([{"kind": "b", "points": 1, "at_most": {"count": 2.5, "per": "day"}}]),
        ("rules[1].at_most.count", 2.5),
    ),
    (
        "an unknown per",
        lambda: ls.Frequency(3, "fortnight"),
        ("per", "fortnight"),
        _model(
            [{"kind": "b", "points": 1, "at_most": {"count": 3, "per": "fortnight"}}]
        ),
        ("rules[1].at_most.per", "fortnight"),
    ),
    (
        "an at_most that is not a Frequency",
        lambda: ls.Rule("a", 1, at_most=20),
        ("at_most", 20),
        _model([{"kind": "b", "points": 1, "at_most": 20}]),
        ("rules[1].at_most", 20),
    ),
    (
        "an unknown time zone",
        lambda: ls.ScoringModel("m", [], timezone="Mars/Olympus_Mons"),
        ("timezone", "Mars/Olympus_Mons"),
        _model(timezone="Mars/Olympus_Mons"),
        ("timezone", "Mars/Olympus_Mons"),
    ),
    (
        "a time zone that is a path",
        lambda: ls.ScoringModel("m", [], timezone="../../etc/passwd"),
        ("timezone", "../../etc/passwd"),
        _model(timezone="../../etc/passwd"),
        ("timezone", "../../etc/passwd"),
    ),
    (
        "a group without a name",
        lambda: ls.Group(""),
        ("name", ""),
        _model(groups=[{"name": ""}]),
        ("groups[0].name", ""),
    ),
    (
        "two groups of one name",
        lambda: ls.ScoringModel(
            "m", [], groups=[ls.Group("email"), ls.Group("web"), ls.Group("email")]
        ),
        ("groups[2].name", "email"),
        _model(groups=[{"name": "email"}, {"name": "web"}, {"name": "email"}]),
        ("groups[2].name", "email"),
    ),
    (
        "a group limit of 0",
        lambda: ls.Group("email", limit=0),
        ("limit", 0),
        _model(groups=[{"name": "email", "limit": 0}]),
        ("groups[0].limit", 0),
    ),
    (
        "a group once_per that is a number",
        lambda: ls.Group("email", once_per=3),
        ("once_per", 3),
        _model(groups=[{"name": "web"}, {"name": "email", "once_per": 3}]),
        ("groups[1].once_per", 3),
    ),
    (
        "an ended_by of a special kind",
        lambda: ls.Rule("a", 1, ended_by="score.reset"),
        ("ended_by", "score.reset"),
        _model([{"kind": "b", "points": 1, "ended_by": ["left", "score.reset"]}]),
        ("rules[1].ended_by", "score.reset"),
    ),
    (
        "an empty ended_by",
        lambda: ls.Rule("a", 1, ended_by=()),
        ("ended_by", ()),
        _model([{"kind": "b", "points": 1, "ended_by": []}]),
        ("rules[1].ended_by", []),
    ),
    (
        "an empty subject",
        lambda: ls.ScoringModel("m", [], subject=""),
        ("subject", ""),
        _model(subject=""),
        ("subject", ""),
    ),
]


@pytest.mark.parametrize(
    ("python", "python_error", "document", "document_error"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_bad_values_name_the_field_and_the_value(
    python, python_error, document, document_error
):
    """The constructor names its field; the document names the key path."""
    error = _raises(python)
    assert python_error == (error.path, error.value)
    error = _raises(lambda: config.from_dict(document))
    assert document_error == (error.path, error.value)
    assert str(error).startswith(f"{document_error[0]}: ")


@pytest.mark.parametrize(
    ("document", "path", "value"),
    [
        (
            _model(
                [
                    {
                        "kind": "b",
                        "points": 1,
                        "at_most": {"count": 1, "per": "day", "every": 2},
                    }
                ]
            ),
            "rules[1].at_most.every",
            "every",
        ),
        (_model(groups=[{"name": "email", "cap": 5}]), "groups[0].cap", "cap"),
        (_model(zone="UTC"), "zone", "zone"),
        (
            _model([{"kind": "b", "points": 1, "frequency": 2}]),
            "rules[1].frequency",
            "frequency",
        ),
        (
            _model([{"kind": "b", "points": 1, "at_most": {"per": "day"}}]),
            "rules[1].at_most.count",
            None,
        ),
        (
            _model([{"kind": "b", "points": 1, "at_most": {"count": 1}}]),
            "rules[1].at_most.per",
            None,
        ),
        (_model(groups=[{"limit": 5}]), "groups[0].name", None),
        (_model(groups={"name": "email"}), "groups", {"name": "email"}),
        (_model(groups=["email"]), "groups[0]", "email"),
        (
            _model([{"kind": "b", "points": 1, "at_most": [20, "day"]}]),
            "rules[1].at_most",
            [20, "day"],
        ),
    ],
)
def test_unknown_and_missing_keys_name_the_key(document, path, value):
    """An unknown key names itself; a missing one its path with value None."""
    error = _raises(lambda: config.from_dict(document))
    assert (path, value) == (error.path, error.value)


def _toml(*lines: str) -> str:
    return "\n".join(lines) + "\n"


_RULE = ("[[rules]]", 'kind = "a"', "points = 1")

TOML_ERRORS = [
    (
        _toml(
            'name = "m"',
            *("[[groups]]", 'name = "email"'),
            *_RULE,
            *("[[rules]]", 'kind = "b"', "points = 1", 'group = "e-mail"'),
        ),
        "rules[1].group",
        "e-mail",
    ),
    (
        _toml(
            'name = "m"',
            *_RULE,
            *_RULE,
            *_RULE,
            'at_most = { count = 0, per = "day" }',
        ),
        "rules[2].at_most.count",
        0,
    ),
    (
        _toml('name = "m"', *_RULE, 'at_most = { count = 20, per = "days" }'),
        "rules[0].at_most.per",
        "days",
    ),
    (_toml('name = "m"', 'timezone = "Europe/Pariss"'), "timezone", "Europe/Pariss"),
    (_toml('name = "m"', "[[groups]]", 'name = ""'), "groups[0].name", ""),
    (
        _toml('name = "m"', "[[groups]]", 'name = "email"', "limt = 5"),
        "groups[0].limt",
        "limt",
    ),
    (
        _toml('name = "m"', *_RULE, 'at_most = { count = 2, per = "day", tz = "UTC" }'),
        "rules[0].at_most.tz",
        "tz",
    ),
    (
        _toml('name = "m"', *_RULE, 'ended_by = "contact.merged"'),
        "rules[0].ended_by",
        "contact.merged",
    ),
]


@pytest.mark.parametrize(("text", "path", "value"), TOML_ERRORS)
def test_bad_toml_documents_name_the_file_the_key_and_the_value(
    tmp_path, text, path, value
):
    """load() of a bad TOML document: the key path, the value and the file."""
    file = tmp_path / "bad.toml"
    file.write_text(text, encoding="utf-8")
    error = _raises(lambda: config.load(file))
    assert (path, value, str(file)) == (error.path, error.value, error.source)


def test_evolve_checks_the_new_options_too():
    """A valid model evolved with a bad time zone fails like the constructor."""
    error = _raises(lambda: attrs.evolve(PYTHON, timezone="Nowhere/Land"))
    assert ("timezone", "Nowhere/Land") == (error.path, error.value)
