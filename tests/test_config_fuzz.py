"""A config fuzzer: mutated valid documents either load and score, or are rejected.

Valid documents come from ``leadscore.strategies`` (through ``config.to_dict``) and
from ``examples/models/*.toml``. Each example replaces, deletes, adds or deepens
the value at a random key path with what an attacker would send (huge, negative,
NaN and infinite numbers, ints of 5,000 digits, wrong types, deep nesting, long
strings, lone surrogates, unknown keys). Then:

- loading raises nothing but ``InvalidModelError``, whose ``path`` is a str naming
  a key at, inside, above or beside the mutated one;
- the same document as JSON text loads alike;
- every document that loads round-trips, and scores a small fixed event stream
  with ``score``, ``explain`` and ``timeline`` (scales rate, fit models and
  segments evaluate) without raising.

``LEADSCORE_FUZZ_EXAMPLES=20000`` runs more examples than the profile; ``COUNTS``
then tells how many documents were generated, loaded and rejected.
"""

from __future__ import annotations

import collections
import copy
import datetime as dt
import json
import math
import os
import re
import tomllib
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import leadscore as ls
from leadscore import config
from leadscore.strategies import fit_models, models, rating_scales

EXAMPLES = Path(__file__).parent.parent / "examples" / "models"
TOML_SEEDS = tuple(
    (ls.ScoringModel, tomllib.loads(p.read_text(encoding="utf-8")))
    for p in sorted(EXAMPLES.glob("*.toml"))
)
SEGMENT_SEEDS = (
    {"type": "segment", "name": "Hot", "above": 75, "at_most": 1000},
    {
        "type": "segment",
        "name": "Cooling",
        "change": "decreased",
        "by": 5,
        "within": {"days": 30},
    },
)

#: Outcomes of the examples run so far: generated, loaded, rejected.
COUNTS: collections.Counter[str] = collections.Counter()

UTC = dt.UTC
T0 = dt.datetime(2024, 3, 1, tzinfo=UTC)
AS_OF = T0 + dt.timedelta(days=40)
_ATTRS = {
    "message": "m1",
    "campaign": "May newsletter",
    "path": "/pricing",
    "x": True,
    "n": 1,
    "tags": ("vip", 1),
}
EVENTS = (
    *(
        ls.Event("ann", kind, T0 + dt.timedelta(days=i), _ATTRS, id=f"a{i}")
        for i, kind in enumerate(
            (
                "email.opened",
                "email.clicked",
                "page.viewed",
                "form.submitted",
                "email.replied",
                "appointment.booked",
                "email.unsubscribed",
            )
        )
    ),
    ls.Event("ann", "order.paid", T0 + dt.timedelta(days=8), value=120.0, id="a8"),
    ls.Event("ann", "score.adjusted", T0 + dt.timedelta(days=9), value=5.0, id="a9"),
    ls.Event("bob", "email.opened", T0, {"message": "m2"}, id="b0"),
    # The edges of time: scored and explained (timelines are tested elsewhere).
    ls.Event("old", "email.opened", dt.datetime.min.replace(tzinfo=UTC), id="o0"),
    ls.Event("old", "page.viewed", dt.datetime.max.replace(tzinfo=UTC), id="o1"),
)
PROFILE = (
    ls.Event("ann", "profile.updated", T0, {"x": 1, "job_title": "VP"}, id="p0"),
)

# -- hostile values ------------------------------------------------------------------

_NUMBERS = (
    0,
    -1,
    1,
    -(2**63),
    2**64,
    -(10**400),
    0.0,
    -0.0,
    0.5,
    1e-320,
    1e15,
    1e16,
    1e308,
    -1e308,
    math.inf,
    -math.inf,
    math.nan,
    366_001,
    12_001,
)
_STRINGS = (
    "",
    "never",
    "expire_after",
    "by_count",
    "sum",
    "ratio",
    "union",
    "email.opened",
    "score.set",
    "contact.merged",
    "2024-01-01T00:00:00Z",
    "2024-01-01",
    "day",
    "Europe/Paris",
    "company",
    "0001-01-01T00:00:00+01:00",
    "9999-12-31T23:59:59.999999Z",
    "\ud800",
    "a\x00b",
    "👩\u200d💻",
    "x" * 100_000,
)


def _deep(depth: int, kind: str) -> Any:
    value: Any = {"where": "x", "eq": 1}
    for _ in range(depth):
        value = (
            {"not": value}
            if kind == "not"
            else [value]
            if kind == "list"
            else {"all": [value]}
        )
    return value


def json_values() -> st.SearchStrategy[Any]:
    """Any JSON value an attacker might put at a key, hostile ones first."""
    scalar = st.one_of(
        st.sampled_from(_NUMBERS),
        # 4,400 to 5,000 digits: more than Python prints or json reads.
        st.integers(4_400, 5_000).map(lambda digits: -(10**digits) - 7),
        st.sampled_from(_STRINGS),
        st.none(),
        st.booleans(),
        st.integers(),
        st.floats(),
        st.text(max_size=8),
    )
    deep = st.builds(
        _deep, st.integers(1, 3000), st.sampled_from(("not", "list", "all"))
    )
    nested = st.recursive(
        scalar,
        lambda inner: st.one_of(
            st.lists(inner, max_size=3),
            st.dictionaries(
                st.sampled_from(_KEYS) | st.text(max_size=4), inner, max_size=3
            ),
        ),
        max_leaves=6,
    )
    return st.one_of(scalar, scalar, nested, deep)


#: Values a careless (not hostile) editor might write: many of them load.
_PLAUSIBLE = st.one_of(
    st.integers(-3, 400),
    st.floats(-1e3, 1e3),
    st.sampled_from(_STRINGS[1:17]),
    st.sampled_from(
        (
            [],
            [0, 100],
            [None, 5],
            {"policy": "by_count", "factor": 0.5},
            {"policy": "linear", "days": 3},
            {"policy": "expire_after", "months": 12_000},
            {"where": "x", "eq": True},
            {"where": "n", "in": [1, 2.0]},
            {"where": {"event": "value"}, "gt": "a"},
            {"not": {"where": "message", "exists": True}},
        )
    ).map(copy.deepcopy),  # later mutations must not change the constants
)

#: Keys of the document format (and look-alikes), for additions and nested tables.
_KEYS = (
    "name",
    "rules",
    "kind",
    "points",
    "when",
    "aging",
    "policy",
    "months",
    "days",
    "weeks",
    "factor",
    "where",
    "eq",
    "in",
    "in_",
    "gt",
    "all",
    "any",
    "not",
    "limit",
    "bounds",
    "initial",
    "type",
    "cuts",
    "labels",
    "within",
    "group",
    "groups",
    "at_most",
    "count",
    "per",
    "ended_by",
    "subject",
    "timezone",
    "Points",
    "x" * 1000,
)

# -- mutation ------------------------------------------------------------------------

Path_ = tuple[Any, ...]


def _paths(doc: Any) -> list[Path_]:
    # Iterative: a mutated document may nest thousands deep.
    out: list[Path_] = []
    todo: list[tuple[Path_, Any]] = [((), doc)]
    while todo:
        prefix, value = todo.pop()
        out.append(prefix)
        if isinstance(value, dict):
            todo.extend(((*prefix, k), v) for k, v in value.items())
        elif isinstance(value, list):
            todo.extend(((*prefix, i), v) for i, v in enumerate(value))
    return out


def _text(path: Path_) -> str:
    out = ""
    for key in path:
        if isinstance(key, int):
            out += f"[{key}]"
        else:
            out = f"{out}.{key}" if out else str(key)
    return out


def _mutate(doc: Any, data: st.DataObject) -> tuple[Any, Path_]:
    path = data.draw(st.sampled_from(_paths(doc)), label="path")
    op = data.draw(
        st.sampled_from(("replace", "replace", "plausible", "delete", "add", "wrap")),
        label="op",
    )
    if not path:
        return data.draw(json_values(), label="document"), ()
    parent: Any = doc
    for key in path[:-1]:
        parent = parent[key]
    last = path[-1]
    if op == "replace":
        parent[last] = data.draw(json_values(), label="value")
    elif op == "plausible":
        parent[last] = data.draw(_PLAUSIBLE, label="value")
    elif op == "delete":
        del parent[last]
    elif op == "add":
        target = parent[last]
        if isinstance(target, dict):
            key = data.draw(st.sampled_from(_KEYS) | st.text(max_size=4), label="key")
            target[key] = data.draw(json_values(), label="value")
        elif isinstance(target, list):
            target.append(data.draw(json_values(), label="value"))
        else:
            parent[last] = [target]
    else:
        depth = data.draw(st.integers(1, 200), label="depth")
        value = parent[last]
        for _ in range(depth):
            value = {"not": value} if depth % 2 else [value]
        parent[last] = value
    return doc, path


def _related(error: str, mutated: Path_) -> bool:
    """Whether *error* names a key in the table that holds the mutated value.

    That table is where a constructor may blame a sibling (cuts and labels,
    policy and months); anything outside it is unrelated.
    """
    table = list(mutated)
    while table and isinstance(table[-1], int):
        table.pop()  # an item of a list: the table holds the whole list
    around = _text(tuple(table[:-1]))
    if mutated[:1] == ("groups",) and _GROUP_NAMED.fullmatch(error):
        return True  # a group's name is named by rules and unique among groups
    return (
        not around or error == around or error.startswith((f"{around}.", f"{around}["))
    )


#: The keys that a group's name is checked against: another group's name (two
#: groups of one name) and a rule's group (a rule naming a group that is gone).
_GROUP_NAMED = re.compile(r"groups\[\d+\]\.name|rules\[\d+\]\.group")


def documents() -> st.SearchStrategy[tuple[type, Any]]:
    """Valid documents of every kind, with the type to load them as."""
    return st.one_of(
        models().map(lambda m: (ls.ScoringModel, config.to_dict(m))),
        models().map(lambda m: (ls.ScoringModel, config.to_dict(m))),
        st.sampled_from(TOML_SEEDS),
        rating_scales().map(lambda s: (ls.RatingScale, config.to_dict(s))),
        fit_models().map(lambda f: (ls.FitModel, config.to_dict(f))),
        st.sampled_from(SEGMENT_SEEDS).map(lambda d: (ls.Segment, d)),
    )


# -- what a loaded document must do -------------------------------------------------


def _use(document: Any) -> None:
    assert document == config.from_dict(config.to_dict(document), type(document))
    if isinstance(document, ls.ScoringModel):
        config.to_json(document)  # the engine's model version hashes this
        for as_of in (AS_OF, dt.datetime.max.replace(tzinfo=UTC)):
            scores = ls.score(document, EVENTS, as_of)
            assert all(math.isfinite(v) for v in scores.values())
            for contact in ("ann", "old"):
                ls.explain(document, EVENTS, contact, as_of)
        normal = [e for e in EVENTS if e.contact != "old"]
        for contact in ("ann", "bob"):
            for _, value in ls.timeline(document, normal, contact):
                assert math.isfinite(value)
    elif isinstance(document, ls.RatingScale):
        for score in (-1e15, -1.0, 0.0, 2.5, 1e15):
            document.rate(score)
    elif isinstance(document, ls.FitModel):
        assert all(
            math.isfinite(v) for v in ls.fit_scores(document, PROFILE, AS_OF).values()
        )
    else:
        model = ls.ScoringModel("m", [ls.Rule("email.opened", 5)])
        ls.segment(model, EVENTS[:-2], document, AS_OF)


def _settings() -> settings:
    extra = os.environ.get("LEADSCORE_FUZZ_EXAMPLES")
    if extra is None:
        return settings(
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
        )
    return settings(
        max_examples=int(extra),
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )


@_settings()
@given(documents(), st.integers(1, 3), st.data())
def test_mutated_documents_load_and_score_or_raise_invalid_model_error(
    seed, mutations, data
):
    """Loading raises only InvalidModelError naming a key; what loads, scores."""
    kind, original = seed
    doc: Any = copy.deepcopy(original)
    paths = []
    for _ in range(mutations):
        doc, path = _mutate(doc, data)
        paths.append(path)
    COUNTS["generated"] += 1
    try:
        document = config.from_dict(doc, kind)
    except ls.InvalidModelError as e:
        error: ls.InvalidModelError | None = e
        document = None
    else:
        error = None
    if error is not None:
        COUNTS["rejected"] += 1
        assert isinstance(error.path, str)
        assert len(str(error)) < 2000
        if mutations == 1:
            assert _related(error.path, paths[0]), (error.path, _text(paths[0]))
    else:
        COUNTS["loaded"] += 1
        _use(document)
    try:
        text = json.dumps(doc)
    except (ValueError, RecursionError):  # ints of 4,300+ digits, deep nesting
        return
    try:
        again = config.from_json(text, kind)
    except ls.InvalidModelError:
        assert document is None
    else:
        assert again == document
