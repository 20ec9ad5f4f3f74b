"""frame.rfm_segments and frame.action_scores equal the pure ones exactly.

The bins, codes, segments and percentile ranks computed in the query, on DuckDB
(Arrow and pandas input) and from Polars input.
"""

from __future__ import annotations

import datetime as dt
import uuid

import pandas as pd
import polars as pl
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import leadscore as ls
from leadscore import frame
from leadscore.frame._rfm import _totals

from .frame_support import to_arrow, to_pandas
from .test_frame_engines import postgres, spark  # noqa: F401 - fixtures

# As in test_frame_engines: PySpark's and the drivers' own noise, not ours.
pytestmark = [
    pytest.mark.filterwarnings("ignore::ResourceWarning"),
    pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning"),
    pytest.mark.filterwarnings("ignore::pandas.errors.Pandas4Warning"),
]

START = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
AS_OF = dt.datetime(2024, 3, 1, tzinfo=dt.UTC)

#: Amounts whose decimal sums differ from their float sums (0.1 + 0.2 is 0.3),
#: tiny ones, and one no decimal of 9 places holds with 0.1 (the Python sums).
MONEY = (0.1, 0.2, 0.3, 1e-7, 9.99, 10.0, 0.0, 25.5)
KINDS = ("order.paid", "order.refunded", "page.viewed", "social.connected")


@st.composite
def logs(draw: st.DrawFn, money: tuple[float, ...] = MONEY) -> list[ls.Event]:
    """Few contacts, few instants (ties), refunds that can outweigh the purchases."""
    n = draw(st.integers(1, 25))
    contacts = draw(st.lists(st.sampled_from("abcdefgh"), min_size=n, max_size=n))
    events = []
    for c in contacts:
        kind = draw(st.sampled_from(KINDS))
        at = START + dt.timedelta(days=draw(st.integers(0, 70)))
        attrs = (
            {"network": draw(st.sampled_from(("x", "y", None)))}
            if kind == "social.connected"
            else {}
        )
        attrs = {k: v for k, v in attrs.items() if v is not None}
        events.append(ls.Event(c, kind, at, attrs, value=draw(st.sampled_from(money))))
    return events


segment_tables = st.none() | st.lists(
    st.builds(
        ls.SegmentRule,
        st.sampled_from(("A", "B", "C")),
        *[st.tuples(st.integers(1, 6), st.integers(1, 10)) for _ in range(3)],
    ),
    max_size=4,
)


def kinds(events):
    """The same log as Arrow (DuckDB), pandas and Polars, with a network column."""
    network = pa.array([e.attrs.get("network") for e in events], pa.string())
    arrow = to_arrow(events).append_column("network", network)
    df = to_pandas(events).assign(network=pd.array(network.to_pylist(), "string"))
    return {"arrow": arrow, "pandas": df, "polars": pl.from_arrow(arrow)}


def rfm_rows(table):
    d = table.to_pandas() if hasattr(table, "to_pandas") else table
    return {
        # pandas shows a missing segment as NaN, Arrow and Polars as None.
        r.contact: (int(r.r), int(r.f), int(r.m), r.code, _none(r.segment))
        for r in d.itertuples()
    }


def _none(x):
    return None if x is None or x is pd.NA or x != x else x  # noqa: PLR0124 - NaN


def action_rows(table):
    d = table.to_pandas() if hasattr(table, "to_pandas") else table
    return {
        r.contact: (r.recency, r.frequency, r.value, r.social, int(r.total))
        for r in d.itertuples()
    }


def pure_rfm(events, bins, segments):
    out = ls.rfm_segments(events, AS_OF, bins, segments)
    return {c: (s.r, s.f, s.m, s.code, s.segment) for c, s in out.items()}


def pure_actions(events, config=None):
    out = ls.action_scores(events, AS_OF, config)
    return {
        c: (s.recency, s.frequency, s.value, s.social, s.total) for c, s in out.items()
    }


@settings(max_examples=25, deadline=None)
@given(logs(), st.integers(2, 10), segment_tables)
def test_rfm_bins_codes_and_segments_equal_the_pure_ones(events, bins, segments):
    """Every bin count, the classic table or any other, ties and refunds alike."""
    expected = pure_rfm(events, bins, segments)
    for name, table in kinds(events).items():
        got = rfm_rows(frame.rfm_segments(table, AS_OF, bins, segments))
        assert expected == got, name


#: Integer customer ids whose text order is not their numeric order.
NUMBERS = {"a": -3, "b": 9, "c": 10, "d": 100, "e": 2**40, "f": 0, "g": 7, "h": 12}


@settings(max_examples=15, deadline=None)
@given(logs(), st.integers(2, 10))
def test_integer_contacts_are_grouped_as_integers_and_named_as_text(events, bins):
    """Integer ids: the pure answer of their text, rows in the order of that text."""
    numbered = [
        ls.Event(str(NUMBERS[e.contact]), e.kind, e.at, e.attrs, value=e.value)
        for e in events
    ]
    expected = pure_rfm(numbered, bins, None)
    arrow = kinds(events)["arrow"]
    ids = pa.array([NUMBERS[e.contact] for e in events], pa.int64())
    arrow = arrow.set_column(arrow.column_names.index("contact"), "contact", ids)
    for table in (arrow, pl.from_arrow(arrow)):
        out = frame.rfm_segments(table, AS_OF, bins)
        assert expected == rfm_rows(out)
        assert sorted(expected) == list(rfm_rows(out))


@settings(max_examples=25, deadline=None)
@given(logs(), st.sampled_from((None, dt.timedelta(days=30))))
def test_action_fractions_and_totals_equal_the_pure_ones(events, window):
    """Recency, frequency, value and social fractions, and the totals, exactly."""
    config = ls.ActionScoreConfig(frequency_window=window)
    expected = pure_actions(events, config)
    for name, table in kinds(events).items():
        assert expected == action_rows(frame.action_scores(table, AS_OF, config)), name


@settings(max_examples=10, deadline=None)
@given(logs(money=(0.1, 0.2, 2.5e15)), st.integers(2, 10))
def test_amounts_no_decimal_holds_are_summed_in_python_alike(events, bins):
    """2.5e15 and 0.1 together fit no decimal of the engine: the Python sums."""
    table = kinds(events)["arrow"]
    assert pure_rfm(events, bins, None) == rfm_rows(
        frame.rfm_segments(table, AS_OF, bins)
    )
    assert pure_actions(events) == action_rows(frame.action_scores(table, AS_OF))


def paid(contact, day, value):
    return ls.Event(contact, "order.paid", START + dt.timedelta(days=day), value=value)


def test_one_customer_is_in_the_lowest_bins():
    """Nobody has a smaller value: 1 + bins * 0 // 1 is 1 everywhere."""
    out = rfm_rows(frame.rfm_segments(to_arrow([paid("ann", 3, 9.99)]), AS_OF))
    assert {"ann": (1, 1, 1, "111", "Lost")} == out


def test_equal_values_share_a_bin_and_a_tie_never_splits():
    """Four customers alike: all in bin 1, whatever the bin count."""
    events = [paid(c, 10, 5.0) for c in "abcd"]
    for bins in (2, 5, 10):
        out = rfm_rows(frame.rfm_segments(to_arrow(events), AS_OF, bins))
        assert {(1, 1, 1)} == {v[:3] for v in out.values()}


def test_point_one_plus_point_two_is_the_same_spend_as_point_three():
    """Decimal sums: ann's 0.1 + 0.2 ties with bob's 0.3, above cy's 0.29."""
    events = [paid("ann", 1, 0.1), paid("ann", 1, 0.2), paid("bob", 1, 0.3)]
    events += [paid("bob", 1, 0.0), paid("cy", 1, 0.29), paid("cy", 1, 0.0)]
    out = rfm_rows(frame.rfm_segments(to_arrow(events), AS_OF, 3))
    assert out["ann"][2] == out["bob"][2] > out["cy"][2]


def test_a_refund_alone_makes_no_customer_and_net_spend_may_be_negative():
    """A refund-only contact is left out; a refund above the purchases ranks low."""
    events = [
        paid("ann", 1, 10.0),
        ls.Event("ann", "order.refunded", START, value=30.0),
        paid("bob", 1, 1.0),
        ls.Event("cy", "order.refunded", START, value=5.0),
    ]
    out = rfm_rows(frame.rfm_segments(to_arrow(events), AS_OF, 2))
    assert ["ann", "bob"] == sorted(out)
    assert (1, 2) == (out["ann"][2], out["bob"][2])


@pytest.mark.parametrize(
    "weights", [(25, 25, 25, 25), (10, 20, 30, 40), (33.3, 33.3, 33.4, 0)]
)
@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            *[
                st.sampled_from((0.01, 0.6, 0.77, 1.0, 0.25, 0.1, 1 / 3))
                | st.floats(0.01, 1.0)
                for _ in range(4)
            ]
        ),
        min_size=1,
        max_size=20,
    )
)
def test_totals_over_columns_equal_action_score_total(weights, rows):
    """The float sum with exact decimals near whole numbers is the exact total."""
    import numpy as np

    columns = [np.array(c, np.float64) for c in zip(*rows, strict=True)]
    expected = [
        ls.ActionScore(recency=r, frequency=f, value=v, social=s, weights=weights).total
        for r, f, v, s in rows
    ]
    assert expected == _totals(weights, columns).tolist()


# -- PostgreSQL and Spark (fixtures and skips as in test_frame_engines) --------------


def engine_rows(table):
    """A result on an engine (an Ibis table on PostgreSQL, a PySpark DataFrame)."""
    if type(table).__module__.startswith("pyspark"):
        return pd.DataFrame([r.asDict() for r in table.collect()])
    return table.to_pandas()


@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(logs(), st.integers(2, 10), segment_tables)
def test_rfm_and_action_scores_on_postgres(postgres, events, bins, segments):  # noqa: F811
    """The same bins, segments and fractions from a PostgreSQL table."""
    name = f"events_{uuid.uuid4().hex}"
    table = postgres.create_table(name, kinds(events)["arrow"], temp=True)
    try:
        rfm = engine_rows(frame.rfm_segments(table, AS_OF, bins, segments))
        actions = engine_rows(frame.action_scores(table, AS_OF))
    finally:
        postgres.drop_table(name)
    assert pure_rfm(events, bins, segments) == rfm_rows(rfm)
    assert pure_actions(events) == action_rows(actions)


@settings(max_examples=2, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(logs(), st.integers(2, 10))
def test_rfm_and_action_scores_on_spark(spark, events, bins):  # noqa: F811
    """The same bins, segments and fractions from a PySpark DataFrame."""
    from pyspark.sql import types as T  # noqa: N812 - PySpark's own spelling

    arrow = kinds(events)["arrow"]
    fields = {"at": T.TimestampType(), "value": T.DoubleType()}
    schema = T.StructType(
        [T.StructField(c, fields.get(c, T.StringType())) for c in arrow.column_names]
    )
    df = spark.createDataFrame(arrow.to_pylist(), schema=schema)
    rfm = engine_rows(frame.rfm_segments(df, AS_OF, bins))
    actions = engine_rows(frame.action_scores(df, AS_OF))
    assert pure_rfm(events, bins, None) == rfm_rows(rfm)
    assert pure_actions(events) == action_rows(actions)
