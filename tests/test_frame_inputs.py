"""leadscore.frame inputs: kinds, files, column mapping, and bad tables refused whole."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import leadscore as ls
from leadscore import frame, strategies
from leadscore.datasets import load_cdnow

from .frame_support import as_dict, to_arrow, to_pandas

CDNOW = load_cdnow(Path(__file__).parent / "data" / "CDNOW_sample.txt")
CDNOW_AS_OF = "1998-07-01T00:00:00Z"
MODEL = ls.ScoringModel(
    "Sales readiness",
    [
        ls.Rule("form.submitted", 10),
        ls.Rule("email.opened", 5, when=ls.where("campaign", contains="newsletter")),
        ls.Rule("page.viewed", 20, when=ls.where("path", eq="/pricing")),
    ],
    aging=ls.AgingPolicy.expire_after(days=90),
)
AS_OF = "2024-06-01T00:00:00Z"


def table(**columns):
    return pd.DataFrame(columns)


def good(**over):
    base = {
        "contact": ["ann", "bob"],
        "kind": ["form.submitted", "page.viewed"],
        "at": pd.to_datetime(
            ["2024-05-02T09:15:00Z", "2024-05-03T08:02:00Z"], utc=True
        ),
        "path": ["/x", "/pricing"],
    }
    base.update(over)
    return table(**base)


def refused(events, **kwargs):
    with pytest.raises(ls.InvalidEventError) as info:
        frame.score(MODEL, events, AS_OF, **kwargs)
    return info.value


# -- kinds and mapping ---------------------------------------------------------------


def test_a_tutorial_example_from_pandas():
    assert {"ann": 10.0, "bob": 20.0} == as_dict(frame.score(MODEL, good(), AS_OF))


def test_columns_map_other_names():
    df = good().rename(columns={"contact": "email", "at": "timestamp"})
    out = frame.score(MODEL, df, AS_OF, columns={"contact": "email", "at": "timestamp"})
    assert {"ann": 10.0, "bob": 20.0} == as_dict(out)


def test_integer_contact_ids_are_read_as_text():
    df = good(contact=[7, 8])
    assert {"7": 10.0, "8": 20.0} == as_dict(frame.score(MODEL, df, AS_OF))


def test_a_null_cell_is_a_missing_attribute():
    """DESIGN: a null cell (None, NaN, NA) means the event has no such attribute."""
    model = ls.ScoringModel("m", [ls.Rule("k", 1, when=ls.where("n", exists=False))])
    df = table(
        contact=["a", "b", "c"],
        kind=["k", "k", "k"],
        at=pd.to_datetime(["2024-05-01T00:00:00Z"] * 3, utc=True),
        n=[1.5, float("nan"), None],
        value=[None, float("nan"), 2.0],
    )
    assert {"a": 0.0, "b": 1.0, "c": 1.0} == as_dict(frame.score(model, df, AS_OF))


def test_naive_timestamps_are_refused_unless_they_are_said_to_be_utc():
    df = good(at=pd.to_datetime(["2024-05-02T09:15:00", "2024-05-03T08:02:00"]))
    error = refused(df)
    assert "at" == error.field
    assert "naive" in str(error)
    assert {"ann": 10.0, "bob": 20.0} == as_dict(
        frame.score(MODEL, df, AS_OF, tz="UTC")
    )


def test_parquet_files_a_directory_and_a_glob(tmp_path):
    events = [
        ls.Event("ann", "form.submitted", "2024-05-02T09:15:00Z"),
        ls.Event("bob", "page.viewed", "2024-05-03T08:02:00Z", {"path": "/pricing"}),
        ls.Event("cy", "page.viewed", "2024-01-03T08:02:00Z", {"path": "/pricing"}),
    ]
    pq.write_table(to_arrow(events[:2]), tmp_path / "a.parquet")
    pq.write_table(to_arrow(events[2:]), tmp_path / "b.parquet")
    expected = ls.score(MODEL, events, AS_OF)
    for path in (tmp_path, str(tmp_path / "*.parquet")):
        out = frame.score(MODEL, path, AS_OF)
        assert isinstance(out, pd.DataFrame)
        assert expected == as_dict(out)


@settings(max_examples=40, deadline=None)
@given(strategies.event_lists(max_size=20), st.integers(1, 8), st.booleans())
def test_parquet_statistics_prove_only_what_a_scan_finds(
    tmp_path_factory, events, rows, dictionary
):
    """Row-group statistics replace the checking scan when they prove it clean.

    When they do, they say what the scan says (ids present, special kinds, the
    earliest instant as a lower bound); when a row group may hold a special
    kind, its kind dictionary (or, written without one, its kinds) tells.
    """
    from leadscore.frame import _checks, _sources

    path = tmp_path_factory.mktemp("stats") / "events.parquet"
    pq.write_table(
        to_arrow(events), path, row_group_size=rows, use_dictionary=dictionary
    )
    names = {"contact": "contact", "kind": "kind", "at": "at", "id": "id"}
    names["value"] = "value"
    proved = _checks._from_statistics([str(path)], names)
    scanned = _sources.load(to_arrow(events)).profile
    if proved is not None and proved["specials"] is not None:
        assert scanned["specials"] == frozenset()
    read = _sources.load(path).profile
    assert read["specials"] == scanned["specials"]
    assert read["has_ids"] == scanned["has_ids"]
    if events:
        assert read["first_us"] == scanned["first_us"]
    assert ls.score(MODEL, events, AS_OF) == as_dict(frame.score(MODEL, path, AS_OF))


def test_a_bad_row_in_parquet_is_found_when_statistics_cannot_clear_it(tmp_path):
    """An empty contact, an infinite value, a special kind: each seen, none skipped."""
    table = to_arrow([ls.Event("ann", "form.submitted", "2024-05-02T09:15:00Z")] * 3)
    path = tmp_path / "events.parquet"
    bad = table.set_column(0, "contact", pa.array(["ann", "", "bob"]))
    pq.write_table(bad, path, row_group_size=2)
    error = refused(path)
    assert ("contact", "") == (error.field, error.value)
    assert f"{path}, row 1" == error.where
    bad = table.set_column(4, "value", pa.array([1.0, 2.0, float("inf")]))
    pq.write_table(bad, path, row_group_size=2)
    assert refused(path).field == "value"
    events = [
        ls.Event("ann", "form.submitted", "2024-05-01T09:00:00Z"),
        ls.Event("ann", "score.set", "2024-05-02T09:00:00Z", value=3.0),
        ls.Event("ann", "form.submitted", "2024-05-03T09:00:00Z"),
    ]
    pq.write_table(to_arrow(events), path)
    assert {"ann": 13.0} == ls.score(MODEL, events, AS_OF)
    assert {"ann": 13.0} == as_dict(frame.score(MODEL, path, AS_OF))


def test_parquet_statistics_that_prove_nothing_leave_the_checks_to_the_scan(tmp_path):
    """A float16 value (its statistics are bytes) and an instant before year 1."""
    import numpy as np

    at = pa.array([1_704_070_800_000_000] * 2, pa.timestamp("us", tz="UTC"))
    table = pa.table(
        {
            "contact": ["c", "c"],
            "kind": ["form.submitted", "score.adjusted"],
            "at": at,
            "value": pa.array(np.array([1.0, np.inf], dtype=np.float16)),
        }
    )
    path = tmp_path / "f16.parquet"
    pq.write_table(table, path)
    error = refused(path)
    assert ("value", f"{path}, row 1") == (error.field, error.where)
    year_minus_249 = pa.array(
        [-70_000_000_000_000_000, 1_704_070_800_000_000], pa.timestamp("us", tz="UTC")
    )
    early = table.drop_columns(["value"]).set_column(2, "at", year_minus_249)
    pq.write_table(early, path)  # the same answer as from the table (no statistics)
    assert as_dict(frame.score(MODEL, early, AS_OF)) == as_dict(
        frame.score(MODEL, path, AS_OF)
    )


def test_a_pandas_subclass_is_read_as_pandas():
    class Events(pd.DataFrame):
        @property
        def _constructor(self):
            return Events

    events = [
        ls.Event("ann", "form.submitted", "2024-05-02T09:15:00Z"),
        ls.Event("bob", "page.viewed", "2024-05-03T08:02:00Z", {"path": "/pricing"}),
    ]
    df = to_pandas(events)
    df.index = [7, 3]
    out = frame.score(MODEL, Events(df), AS_OF)
    assert isinstance(out, pd.DataFrame)
    assert ls.score(MODEL, events, AS_OF) == as_dict(out)


def test_equal_events_end_none_of_each_other():
    """ended_by: an event ends the earlier ones; its twin is not earlier."""
    model = ls.ScoringModel("m", [ls.Rule(("a", "b"), 1, ended_by="b")])
    events = [ls.Event("c", "b", "2024-05-01T00:00:00Z")] * 2
    assert {"c": 2.0} == ls.score(model, events, AS_OF)
    assert {"c": 2.0} == as_dict(frame.score(model, to_arrow(events), AS_OF))


def test_a_csv_file_with_iso_instants(tmp_path):
    path = tmp_path / "events.csv"
    path.write_text(
        "contact,kind,at,path\n"
        "ann,form.submitted,2024-05-02T09:15:00+02:00,\n"
        "bob,page.viewed,2024-05-03T08:02:00Z,/pricing\n"
    )
    assert {"ann": 10.0, "bob": 20.0} == as_dict(frame.score(MODEL, path, AS_OF))


def test_a_bad_instant_in_a_csv_file_names_the_file_the_line_and_the_value(tmp_path):
    path = tmp_path / "events.csv"
    path.write_text(
        "contact,kind,at\n"
        "ann,form.submitted,2024-05-02T09:15:00Z\n"
        "bob,form.submitted,2024-05-02 09:15\n"
        "cy,form.submitted,yesterday\n"
    )
    error = refused(path)
    assert ("at", "2024-05-02 09:15") == (error.field, error.value)
    assert f"{path}, line 3" == error.where
    error = refused(path, tz="UTC")  # naive is then fine; the next bad row is not
    assert ("yesterday", f"{path}, line 4") == (error.value, error.where)


# -- bad tables ----------------------------------------------------------------------


def test_a_missing_required_column_is_named():
    error = refused(good().drop(columns=["kind"]))
    assert ("kind", None) == (error.field, error.value)
    assert "columns=" in str(error)


def test_an_unknown_mapped_column_is_named():
    error = refused(good(), columns={"contact": "email"})
    assert ("columns['contact']", "email") == (error.field, error.value)


def test_an_unknown_field_in_the_mapping_is_named():
    error = refused(good(), columns={"who": "contact"})
    assert ("columns", "who") == (error.field, error.value)


@pytest.mark.parametrize(
    ("column", "cells", "field"),
    [
        ("at", [1714641300, 1714723320], "at"),
        ("value", ["ten", "twenty"], "value"),
        ("kind", [1.5, 2.5], "kind"),
        ("at", ["2024-05-02", "2024-05-03"], "at"),
    ],
)
def test_a_column_of_the_wrong_type_is_named(column, cells, field):
    error = refused(good(**{column: cells}))
    assert field == error.field


def test_an_empty_contact_names_the_row():
    error = refused(good(contact=["ann", ""]))
    assert ("contact", "", "row 1") == (error.field, error.value, error.where)


def test_a_value_that_is_not_finite_names_the_row():
    error = refused(good(value=[1.0, float("inf")]))
    assert ("value", float("inf"), "row 1") == (error.field, error.value, error.where)


def test_two_different_events_with_one_id_are_refused():
    error = refused(good(id=["e1", "e1"]))
    assert ("id", "e1") == (error.field, error.value)
    assert "row 0" in str(error)
    assert "row 1" == error.where


def test_the_same_event_twice_with_one_id_counts_once():
    df = pd.concat([good(id=["e1", "e2"])] * 2, ignore_index=True)
    assert {"ann": 10.0, "bob": 20.0} == as_dict(frame.score(MODEL, df, AS_OF))


def test_a_score_set_outside_the_bounds_is_refused():
    model = ls.ScoringModel("m", [ls.Rule("k", 1)], bounds=(0.0, 100.0))
    df = table(
        contact=["a"],
        kind=["score.set"],
        at=pd.to_datetime(["2024-05-01T00:00:00Z"], utc=True),
        value=[150.0],
    )
    with pytest.raises(ls.InvalidEventError) as info:
        frame.score(model, df, AS_OF)
    assert ("value", 150.0, "row 0") == (
        info.value.field,
        info.value.value,
        info.value.where,
    )


def test_a_subject_that_is_not_a_string_is_refused():
    model = ls.ScoringModel("companies", [ls.Rule("k", 1)], subject="company")
    df = table(
        contact=["a"],
        kind=["k"],
        at=pd.to_datetime(["2024-05-01T00:00:00Z"], utc=True),
        company=[7],
    )
    with pytest.raises(ls.InvalidEventError) as info:
        frame.score(model, df, AS_OF)
    assert ("attrs['company']", 7) == (info.value.field, info.value.value)


# -- RFM and action scores -------------------------------------------------------------


@pytest.fixture(scope="module")
def cdnow_parquet(tmp_path_factory):
    path = tmp_path_factory.mktemp("cdnow") / "cdnow.parquet"
    pq.write_table(to_arrow(CDNOW), path)
    return path


def segments_of(result):
    df = result if isinstance(result, pd.DataFrame) else result.to_pandas()
    return {
        r.contact: (int(r.r), int(r.f), int(r.m), r.code, r.segment)
        for r in df.itertuples()
    }


def test_cdnow_segments_through_pandas_polars_and_parquet_equal_the_pure_ones(
    cdnow_parquet,
):
    pure = ls.rfm_segments(CDNOW, CDNOW_AS_OF)
    expected = {c: (s.r, s.f, s.m, s.code, s.segment) for c, s in pure.items()}
    for events in (to_pandas(CDNOW), pl.from_arrow(to_arrow(CDNOW)), cdnow_parquet):
        assert expected == segments_of(frame.rfm_segments(events, CDNOW_AS_OF))


def test_cdnow_action_scores_equal_the_pure_ones(cdnow_parquet):
    pure = ls.action_scores(CDNOW, CDNOW_AS_OF)
    out = frame.action_scores(cdnow_parquet, CDNOW_AS_OF)
    got = {
        r.contact: (r.recency, r.frequency, r.value, r.social, r.total)
        for r in out.itertuples()
    }
    assert {
        c: (
            float(s.recency),
            float(s.frequency),
            float(s.value),
            float(s.social),
            s.total,
        )
        for c, s in pure.items()
    } == got


money = st.sampled_from((0.1, 0.2, 0.3, 9.99, 10.0, 1e-7, 123456.789, 2.5e15))
purchases = st.lists(
    st.builds(
        lambda c, k, t, v: ls.Event(c, k, t, value=v),
        st.sampled_from(("ann", "bob", "cy", "dee")),
        st.sampled_from(
            ("order.paid", "order.refunded", "page.viewed", "social.connected")
        ),
        strategies.instants(days=400),
        money,
    ),
    max_size=25,
)


@settings(max_examples=25, deadline=None)
@given(purchases, strategies.instants(days=480), st.sampled_from((3, 5)))
def test_rfm_and_action_scores_equal_the_pure_ones(events, as_of, bins):
    table = to_arrow(events)
    pure = ls.rfm_segments(events, as_of, bins)
    out = frame.rfm_segments(table, as_of, bins).to_pandas()
    assert {c: (s.r, s.f, s.m, s.code, s.segment) for c, s in pure.items()} == (
        segments_of(out)
    )
    actions = frame.action_scores(table, as_of).to_pandas()
    assert {c: s.total for c, s in ls.action_scores(events, as_of).items()} == dict(
        zip(actions["contact"], actions["total"], strict=True)
    )


def test_an_empty_table_scores_no_one():
    empty = to_arrow([])
    assert {} == as_dict(frame.score(MODEL, empty, AS_OF))
    assert 0 == frame.rfm_segments(empty, AS_OF).num_rows
    assert isinstance(frame.action_scores(empty, AS_OF), pa.Table)


def test_scores_do_not_depend_on_the_session_zone(monkeypatch):
    """The same scores with the machine in another zone (DST months included)."""
    import time

    events = [
        ls.Event(
            "ann", "form.submitted", dt.datetime(2024, 3, 10, 6, 30, tzinfo=dt.UTC)
        ),
        ls.Event(
            "ann", "form.submitted", dt.datetime(2024, 11, 3, 5, 30, tzinfo=dt.UTC)
        ),
    ]
    model = ls.ScoringModel(
        "m",
        [ls.Rule("form.submitted", 1, at_most=ls.Frequency(1, "hour"))],
        aging=ls.AgingPolicy.expire_after(months=1),
        timezone="America/New_York",
    )
    as_of = "2024-12-02T05:30:00Z"
    monkeypatch.setenv("TZ", "Pacific/Chatham")
    time.tzset()
    try:
        assert ls.score(model, events, as_of) == as_dict(
            frame.score(model, to_pandas(events), as_of)
        )
    finally:
        monkeypatch.undo()
        time.tzset()
