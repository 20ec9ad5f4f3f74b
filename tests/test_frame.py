"""leadscore.frame: the same scores from a table as from Events, on DuckDB and Polars."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import polars as pl
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import leadscore as ls
from leadscore import frame, strategies

from .frame_support import as_dict, close, event_tables, scale_of, to_arrow, to_pandas
from .test_features import models_using_everything


def agree(model, events, as_of, table):
    expected = ls.score(model, events, as_of)
    close(expected, as_dict(frame.score(model, table, as_of)), scale_of(model, events))


@settings(max_examples=60, deadline=None)
@given(strategies.models(), event_tables(), strategies.instants(days=480))
def test_frame_score_equals_score_on_duckdb(model, events, as_of):
    agree(model, events, as_of, to_pandas(events))


@settings(max_examples=50, deadline=None)
@given(models_using_everything(), event_tables(), strategies.instants(days=480))
def test_every_feature_together_equals_score_on_duckdb(model, events, as_of):
    agree(model, events, as_of, to_arrow(events))


def once_per_models():
    """Models whose only stage is a rule's own once_per: compiled to GROUP BYs.

    No rank, bucket, end or group once_per: the latest event per key is the one
    with the greatest instant, and equal ones count the same.
    """
    policy = strategies.aging_policies().filter(lambda p: p.kind != "by_count")
    rule = st.builds(
        ls.Rule,
        st.sampled_from(strategies.KINDS),
        st.sampled_from((-3.0, 1.0, 5.0, 2.5)),
        when=st.none() | strategies.conditions(),
        aging=st.none() | policy,
        once_per=st.sampled_from((None, (), ("message",), ("message", "path"))),
        limit=st.sampled_from((None, 12.0)),
    )
    return st.builds(
        ls.ScoringModel,
        st.just("sales"),
        st.lists(rule, min_size=1, max_size=4).map(tuple),
        aging=policy,
        combine=st.sampled_from(("sum", "ratio")),
        initial=st.sampled_from((0.0, 2.0)),
        bounds=st.sampled_from((None, (0.0, 100.0))),
    )


@settings(max_examples=40, deadline=None)
@given(once_per_models(), event_tables(), strategies.instants(days=480))
def test_a_rules_own_once_per_by_aggregation_equals_score(model, events, as_of):
    agree(model, events, as_of, to_arrow(events))


#: The aging kinds a windowless sum weighs (by_count ranks need a window).
_SINGLE_CASE_AGING = (
    "never",
    "expire_after",
    "steps",
    "half_life",
    "linear",
    "inverse",
)


@st.composite
def single_case_models(draw):
    """Plain sums of rules of distinct kinds, no window: one CASE per event.

    Their aging's steps become the CASE's own arms (expiry, steps) or a weight
    multiplied in (decay); an event no arm takes adds nothing.
    """
    kinds = draw(st.permutations(strategies.KINDS))
    n = draw(st.integers(1, min(4, len(kinds))))
    # Ages of 0-60 days (aged_events) reach every step of these.
    halves = ls.AgingPolicy.steps(
        [(dt.timedelta(days=3), 0.5), (dt.timedelta(days=9), 0.2)]
    )
    policy = st.sampled_from(
        (
            halves,
            halves,
            halves,
            ls.AgingPolicy.steps([(dt.timedelta(days=20), 0.0)]),
            ls.AgingPolicy.expire_after(months=1),
            ls.AgingPolicy.expire_after(days=10),
            ls.AgingPolicy.half_life(days=5),
            ls.AgingPolicy.never(),
        )
    )
    rules = tuple(
        ls.Rule(
            kinds[i],
            draw(st.sampled_from((-3.0, 1.0, 5.0, 2.5, -0.0))),
            when=draw(
                st.sampled_from((None, None, None, ls.where("message", eq="m1")))
            ),
            aging=draw(
                st.none() | policy | strategies.aging_policies(kinds=_SINGLE_CASE_AGING)
            ),
        )
        for i in range(n)
    )
    return ls.ScoringModel(
        "sales",
        rules,
        aging=draw(policy),
        initial=draw(st.sampled_from((0.0, 2.0))),
        bounds=draw(st.sampled_from((None, (0.0, 100.0)))),
    )


@st.composite
def aged_events(draw):
    """Events of every kind, aged from 0 to 60 days at ``AGED_AS_OF``."""
    out = []
    for e in draw(st.lists(strategies.events(), max_size=25)):
        age = draw(st.integers(0, 60 * 24)) * dt.timedelta(hours=1)
        kind = draw(st.sampled_from(strategies.KINDS))
        out.append(ls.Event(e.contact, kind, AGED_AS_OF - age, e.attrs, value=e.value))
    return out


AGED_AS_OF = dt.datetime(2024, 6, 1, tzinfo=dt.UTC)


@settings(max_examples=50, deadline=None)
@given(single_case_models(), aged_events())
def test_a_windowless_sum_of_distinct_kinds_equals_score(model, events):
    agree(model, events, AGED_AS_OF, to_arrow(events))


@st.composite
def engagement_streams(draw):
    """Email events, some acted on twice at one instant (ties the order decides)."""
    events = draw(st.lists(strategies.email_events(), max_size=30))
    for e in draw(st.lists(st.sampled_from(events), max_size=4)) if events else []:
        other = draw(strategies.email_events())
        events.append(ls.Event(e.contact, other.kind, e.at, e.attrs))
    return events


def engagement_table(events):
    return pa.Table.from_pylist(
        [
            {
                "contact": e.contact,
                "kind": e.kind,
                "at": e.at,
                "message": e.attrs.get("message"),
                "list": e.attrs.get("list"),
            }
            for e in events
        ],
        schema=pa.schema(
            [
                ("contact", pa.string()),
                ("kind", pa.string()),
                ("at", pa.timestamp("us", tz="UTC")),
                ("message", pa.string()),
                ("list", pa.string()),
            ]
        ),
    )


@settings(max_examples=40, deadline=None)
@given(engagement_streams(), strategies.instants(days=480), st.sampled_from((0.5, 1.0)))
def test_the_email_engagement_preset_equals_score(events, as_of, factor):
    """Its once_per stages (a group and four rules) share one window."""
    model = ls.presets.email_engagement(factor=factor)
    agree(model, events, as_of, engagement_table(events))


@st.composite
def kind_tied_streams(draw):
    """Events, some repeated at their instant and message, of any kind and attrs.

    Twins of one kind count alike unless a ``when`` tells them apart; ids
    (sometimes) order them before their kinds do.
    """
    ids = draw(st.booleans())
    events = draw(st.lists(strategies.events(ids=ids), min_size=1, max_size=10))
    for e in draw(st.lists(st.sampled_from(events), min_size=1, max_size=4)):
        other = draw(strategies.events(ids=ids))
        kind = draw(st.sampled_from((e.kind, other.kind)))
        attrs = {**other.attrs, "message": e.attrs.get("message", "m1")}
        events.append(ls.Event(e.contact, kind, e.at, attrs, id=other.id))
    # One id per event (drawn ids may collide).
    return [
        ls.Event(e.contact, e.kind, e.at, e.attrs, id=None if e.id is None else str(i))
        for i, e in enumerate(events)
    ]


@st.composite
def tie_models(draw):
    """A group once_per with ranks; rules sharing kinds in and out of the group."""
    kinds = list(strategies.KINDS)
    when = st.none() | strategies.conditions() if draw(st.booleans()) else st.none()
    n = draw(st.integers(1, len(kinds)))
    inside = [
        ls.Rule(k, float(p), when=draw(when), group="email")
        for p, k in enumerate(draw(st.permutations(kinds))[:n], start=1)
    ]
    outside = [
        ls.Rule(k, -2.0, when=draw(when), once_per=draw(st.sampled_from((None, ()))))
        for k in draw(st.lists(st.sampled_from(kinds), max_size=2))
    ]
    return ls.ScoringModel(
        "ties",
        [*inside, *outside],
        groups=[ls.Group("email", once_per=draw(st.sampled_from(((), ("message",)))))],
        aging=ls.AgingPolicy.by_count(draw(st.sampled_from((0.5, 1.0)))),
    )


@settings(max_examples=40, deadline=None)
@given(tie_models(), kind_tied_streams(), strategies.instants(days=480))
def test_ties_ordered_by_the_kind_count_as_the_canonical_order(model, events, as_of):
    """Events tied up to the kind keep a twin that counts as the canonical one."""
    agree(model, events, as_of, to_arrow(events))


def test_minus_zero_is_before_zero_when_it_decides_the_latest():
    """SQL finds -0.0 and 0.0 equal; the canonical order puts -0.0 first."""
    model = ls.ScoringModel(
        "m",
        [
            ls.Rule("k", 1.0, when=ls.where("y", eq="a"), group="g"),
            ls.Rule("k", 10.0, when=ls.where("y", eq="b"), group="g"),
        ],
        groups=[ls.Group("g", once_per=())],
    )
    at = "2024-05-01T10:00:00Z"
    # Tied but for x: the event with x = 0.0 is the later one, whatever y says.
    events = [
        ls.Event("ann", "k", at, {"x": 0.0, "y": "a"}),
        ls.Event("ann", "k", at, {"x": -0.0, "y": "b"}),
    ]
    table = pa.table(
        {
            "contact": ["ann", "ann"],
            "kind": ["k", "k"],
            "at": pa.array([e.at for e in events], pa.timestamp("us", tz="UTC")),
            "x": [0.0, -0.0],
            "y": ["a", "b"],
        }
    )
    as_of = "2024-06-01T00:00:00Z"
    assert {"ann": 1.0} == ls.score(model, events, as_of)
    for rows in (table, table.take([1, 0])):
        assert {"ann": 1.0} == as_dict(frame.score(model, rows, as_of))


def test_the_email_engagement_preset_compiles_to_two_windows():
    """One for the once_per stages, one for the ranks: what a hand query needs."""
    from leadscore.frame._compile import compile_score
    from leadscore.frame._sources import load
    from leadscore.model._events import to_utc

    events = [ls.Event("ann", "email.opened", "2024-05-01T10:00:00Z", {"message": "m"})]
    source = load(engagement_table(events))
    as_of = to_utc("2024-06-01T00:00:00Z", "as_of")
    cols = frame.facts(source, ls.presets.email_engagement(), 0)
    expr = compile_score(ls.presets.email_engagement(), source.table, as_of, cols)
    assert str(source.backend.compile(expr)).count(" OVER ") == 2


@pytest.fixture(scope="module")
def polars_backend():
    import ibis

    return ibis.polars.connect()


def agree_on_polars(backend, model, events, as_of):
    """frame.score of an Ibis Polars table equals score(); the result's backend."""
    import ibis

    table = backend.create_table("events", to_arrow(events), overwrite=True)
    result = frame.score(model, table, as_of)
    ran_on = ibis.get_backend(result)
    got = as_dict(ran_on.to_pyarrow(result))
    close(ls.score(model, events, as_of), got, scale_of(model, events))
    return ran_on


@settings(max_examples=30, deadline=None)
@given(models_using_everything(), event_tables(), strategies.instants(days=480))
def test_every_feature_together_equals_score_on_polars(
    polars_backend, model, events, as_of
):
    agree_on_polars(polars_backend, model, events, as_of)


@settings(max_examples=25, deadline=None)
@given(once_per_models(), event_tables(), strategies.instants(days=480))
def test_a_rules_own_once_per_runs_on_polars_itself(
    polars_backend, model, events, as_of
):
    ran_on = agree_on_polars(polars_backend, model, events, as_of)
    # The latest restart per contact needs a window: that runs on DuckDB.
    restarts = {e.kind for e in events} & {"score.set", "score.reset"}
    assert (ran_on is polars_backend) == (not restarts)


def test_the_result_is_the_kind_given():
    model = ls.ScoringModel("m", [ls.Rule("email.opened", 5)])
    events = [ls.Event("ann", "email.opened", "2024-05-01T10:00:00Z")]
    as_of = "2024-06-01T00:00:00Z"
    assert isinstance(frame.score(model, to_pandas(events), as_of), pd.DataFrame)
    assert isinstance(frame.score(model, to_arrow(events), as_of), pa.Table)
    out = frame.score(model, pl.from_arrow(to_arrow(events)), as_of)
    assert isinstance(out, pl.DataFrame)
    assert {"ann": 5.0} == as_dict(out)


def test_the_polars_backend_runs_what_it_can_and_duckdb_the_rest(polars_backend):
    """Ibis's Polars backend has no window functions: by_count falls back."""
    import ibis

    events = [
        ls.Event("ann", "email.opened", "2024-05-01T10:00:00Z", {"message": "m1"}),
        ls.Event("ann", "email.opened", "2024-05-02T10:00:00Z", {"message": "m1"}),
    ]
    table = polars_backend.create_table("events", to_arrow(events), overwrite=True)
    as_of = "2024-06-01T00:00:00Z"
    plain = ls.ScoringModel("m", [ls.Rule("email.opened", 5)])
    result = frame.score(plain, table, as_of)
    assert ibis.get_backend(result) is polars_backend
    assert {"ann": 10.0} == as_dict(polars_backend.to_pyarrow(result))
    # A rule's own once_per is a GROUP BY (the latest instant per key): no window.
    once = ls.ScoringModel("m", [ls.Rule("email.opened", 5, once_per="message")])
    result = frame.score(once, table, as_of)
    assert ibis.get_backend(result) is polars_backend
    assert {"ann": 5.0} == as_dict(polars_backend.to_pyarrow(result))
    # Ranks need a window: by_count runs on DuckDB.
    ranked = ls.ScoringModel(
        "m", [ls.Rule("email.opened", 4)], aging=ls.AgingPolicy.by_count(0.5)
    )
    result = frame.score(ranked, table, as_of)
    assert ibis.get_backend(result) is not polars_backend
    assert {"ann": 6.0} == as_dict(result.to_pyarrow())
