"""leadscore.frame: the same scores from a table as from Events, on DuckDB and Polars."""

from __future__ import annotations

import pandas as pd
import polars as pl
import pyarrow as pa
import pytest
from hypothesis import given, settings

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


@pytest.fixture(scope="module")
def polars_backend():
    import ibis

    return ibis.polars.connect()


@settings(max_examples=30, deadline=None)
@given(models_using_everything(), event_tables(), strategies.instants(days=480))
def test_every_feature_together_equals_score_on_polars(
    polars_backend, model, events, as_of
):
    table = polars_backend.create_table("events", to_arrow(events), overwrite=True)
    result = frame.score(model, table, as_of)
    expected = ls.score(model, events, as_of)
    got = as_dict(polars_backend.to_pyarrow(result))
    close(expected, got, scale_of(model, events))


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
    """Ibis's Polars backend has no window functions: once_per falls back."""
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
    once = ls.ScoringModel("m", [ls.Rule("email.opened", 5, once_per="message")])
    result = frame.score(once, table, as_of)
    assert ibis.get_backend(result) is not polars_backend
    assert {"ann": 5.0} == as_dict(result.to_pyarrow())
