"""Notebook views: readable reprs, HTML tables and DataFrames of results."""

from __future__ import annotations

import datetime as dt
import itertools
import math
from decimal import Decimal
from pathlib import Path

import pytest
from dateutil.relativedelta import relativedelta
from hypothesis import given
from hypothesis import strategies as st

import leadscore
import leadscore as ls
from leadscore._action import ActionScores
from leadscore._notebook import MAX_HTML_ROWS, html_table
from leadscore._rfm import RFMSegments
from leadscore.results import Crossings, Explanation, Scores, Timeline
from leadscore.strategies import fit_models, models

AS_OF = dt.datetime(2024, 7, 1, tzinfo=dt.UTC)
NAMESPACE = {
    **vars(ls),
    "leadscore": leadscore,
    "datetime": dt,
    "relativedelta": relativedelta,
    "inf": math.inf,
}


def events() -> list[ls.Event]:
    return [
        ls.Event("ann", "form.submitted", "2024-05-01T09:00Z", id="e1"),
        ls.Event("ann", "order.paid", "2024-05-02T09:00Z", value=19.99, id="e2"),
        ls.Event("bob", "page.viewed", "2024-05-03T09:00Z", {"path": "/pricing"}),
        ls.Event("bob", "order.paid", "2024-06-03T09:00Z", value=5.0),
        ls.Event("ann", "score.adjusted", "2024-05-04T09:00Z", value=3),
    ]


MODEL = ls.ScoringModel(
    "Sales",
    [
        ls.Rule("form.submitted", 10, name="Form"),
        ls.Rule("page.viewed", 20, when=ls.where("path", eq="/pricing")),
        ls.Rule("order.paid", 50, once_per=()),
    ],
    aging=ls.AgingPolicy.expire_after(days=45),
)


# -- reprs ---------------------------------------------------------------------


@given(models())
def test_a_model_repr_is_the_code_that_builds_it(model):
    """eval(repr(model)) == model: the repr reads like the constructor call."""
    assert model == eval(repr(model), NAMESPACE)  # noqa: S307 - our own repr


@given(models(adversarial=True))
def test_a_hostile_model_repr_still_builds_it(model):
    """Extreme numbers, deep conditions and hostile strings survive the repr."""
    assert model == eval(repr(model), NAMESPACE)  # noqa: S307 - our own repr


@given(fit_models())
def test_a_fit_model_repr_is_the_code_that_builds_it(model):
    """FitModel's repr evaluates back to the model."""
    assert model == eval(repr(model), NAMESPACE)  # noqa: S307 - our own repr


@pytest.mark.parametrize(
    "value",
    [
        ls.Event(
            "ann", "order.paid", "2024-05-01T10:00Z", {"sku": "x"}, value=9.5, id="1"
        ),
        ls.Rule("page.viewed", 20, when=ls.where("path", eq="/pricing"), once_per=()),
        ls.Group("email", limit=10, once_per="message"),
        ls.Frequency(3, "day"),
        ls.AgingPolicy.expire_after(months=6),
        ls.AgingPolicy.steps([(relativedelta(months=1), 0.5)]),
        ls.RatingScale.stars(),
        ls.RatingScale.grades(),
        ls.presets.hot_leads(),
        ls.presets.reengagement_candidates(),
        ls.ActionScoreConfig(max_networks=3),
        ls.ActionScoreConfig(),
        ls.FitRule(ls.where("title", contains="VP"), 10, otherwise=-5),
        ls.presets.email_engagement(),
    ],
    ids=lambda v: type(v).__name__,
)
def test_value_reprs_build_the_value(value):
    """The repr of a model piece is the code that builds it, without defaults."""
    text = repr(value)
    assert value == eval(text, NAMESPACE)  # noqa: S307 - our own repr
    assert "=None" not in text
    assert max(len(line) for line in text.splitlines()) <= 200


def test_a_long_model_repr_is_one_rule_a_line():
    """The engagement preset no longer prints as a 900-character line."""
    text = repr(ls.presets.email_engagement())
    lines = text.splitlines()
    assert "ScoringModel(" == lines[0]
    assert "    'Email engagement'," == lines[1]
    assert (
        "        Rule('contact.subscribed', 0.75, once_per=(), name='Subscribed'),"
        in (lines)
    )
    assert ")" == lines[-1]
    assert 11 == sum(line.startswith("        Rule(") for line in lines)
    assert max(len(line) for line in lines) < 100


def test_a_short_model_repr_stays_on_one_line():
    """A model that fits on a line is shown on one."""
    model = ls.ScoringModel("m", [ls.Rule("a", 1)], initial=2)
    assert "ScoringModel('m', (Rule('a', 1.0),), initial=2.0)" == repr(model)


def test_a_contribution_repr_leads_with_the_rule_and_numbers():
    """An explanation row shows the rule's label and the numbers before the event."""
    rows = ls.explain(MODEL, events(), "ann", AS_OF)
    assert (
        "Contribution('Form', points=10.0, weight=0.0, effective=0.0, "
        "event=Event('ann', 'form.submitted', '2024-05-01T09:00:00+00:00', id='e1'))"
    ) == repr(rows[0])


def test_segment_and_band_change_reprs_show_only_what_is_set():
    """Segments omit unset conditions; band changes show ISO instants."""
    assert "Segment('Hot leads', above=75.0)" == repr(ls.presets.hot_leads())
    change = ls.BandChange("ann", AS_OF, "warm", "hot", 80.0)
    assert (
        "BandChange('ann', '2024-07-01T00:00:00+00:00', 'warm' -> 'hot', score=80.0)"
        == (repr(change))
    )


def test_what_if_repr_is_a_summary():
    """A what-if comparison prints counts, not every row."""
    proposed = ls.ScoringModel("Sales", [ls.Rule("order.paid", 5)])
    diff = ls.what_if(MODEL, proposed, events(), AS_OF, thresholds=[40])
    assert (
        "WhatIf(as_of='2024-07-01T00:00:00+00:00', contacts=2, moved_up=1, "
        "moved_down=1, crossed_up={40.0: 0}, crossed_down={40.0: 1})"
    ) == repr(diff)


# -- collections stay the dicts and lists they were ----------------------------------


def test_collections_equal_plain_dicts_and_lists():
    """Scores, segments and explanations compare (and print) as dicts and lists."""
    scores = Scores({"ann": 1.0})
    assert {"ann": 1.0} == scores
    assert "{'ann': 1.0}" == repr(scores)
    assert isinstance(scores, dict)
    segments = ls.rfm_segments(events(), AS_OF)
    assert isinstance(segments, RFMSegments)
    assert dict(segments) == segments
    actions = ls.action_scores(events(), AS_OF)
    assert isinstance(actions, ActionScores)
    assert isinstance(Explanation(), list)
    assert [] == Explanation()


# -- HTML ------------------------------------------------------------------------


def test_html_tables_escape_and_cut_long_results():
    """Cells are escaped; past MAX_HTML_ROWS a last line counts the rest."""
    rows = [(f"<c{i}>", float(i)) for i in range(MAX_HTML_ROWS + 5)]
    text = html_table(("contact", "score"), rows)
    assert "&lt;c0&gt;" in text
    assert "<c0>" not in text
    assert "… 5 more rows" in text
    assert MAX_HTML_ROWS == text.count("<tr><td>")


def test_results_show_as_html_tables():
    """Scores, RFM segments, action scores, explanations, backtests: HTML tables."""
    scores = Scores(ls.score(MODEL, events(), AS_OF))
    html = scores._repr_html_()
    assert "<caption>scores (2 rows)</caption>" in html
    assert "<th>contact</th><th>score</th>" in html
    assert "<td>bob</td><td>50</td>" in html
    segments_html = ls.rfm_segments(events(), AS_OF)._repr_html_()
    assert "<th>segment</th>" in segments_html
    assert "<td>19.99</td>" in segments_html
    explanation = Explanation(ls.explain(MODEL, events(), "ann", AS_OF))
    assert "<td>score.adjusted</td>" in explanation._repr_html_()
    result = ls.backtest(
        MODEL,
        [*events(), ls.Event("ann", "deal.won", "2024-05-20T00:00Z")],
        "deal.won",
        dates=["2024-05-10T00:00Z"],
        horizon=dt.timedelta(days=30),
    )
    backtest_html = result._repr_html_()
    assert "<td>ROC AUC</td><td>1</td>" in backtest_html
    assert "<caption>lift by decile</caption>" in backtest_html
    model_html = MODEL._repr_html_()
    assert "<td>Form</td><td>form.submitted</td><td>10</td>" in model_html
    assert "aging=AgingPolicy.expire_after(days=45)" in model_html


# -- DataFrames --------------------------------------------------------------------


def test_scores_to_pandas_and_polars():
    """One row per contact, columns contact and score, in either library."""
    pd = pytest.importorskip("pandas")
    pl = pytest.importorskip("polars")
    scores = Scores(ls.score(MODEL, events(), AS_OF))
    frame = scores.to_pandas()
    assert ["contact", "score"] == list(frame.columns)
    assert dict(scores) == dict(zip(frame["contact"], frame["score"], strict=True))
    assert pd.api.types.is_float_dtype(frame["score"])
    polars = scores.to_polars()
    assert isinstance(polars, pl.DataFrame)
    assert dict(scores) == dict(polars.iter_rows())


@given(
    st.dictionaries(
        st.text(min_size=1, max_size=8),
        st.floats(allow_nan=False, allow_infinity=False),
        max_size=20,
    )
)
def test_scores_survive_the_trip_through_a_dataframe(data):
    """to_pandas() and to_polars() hold exactly the dict's items, in its order."""
    pytest.importorskip("pandas")
    pytest.importorskip("polars")
    scores = Scores(data)
    frame = scores.to_pandas()
    assert list(data.items()) == list(
        zip(frame["contact"], frame["score"], strict=True)
    )
    assert list(data.items()) == list(scores.to_polars().iter_rows())
    html = scores._repr_html_()
    assert min(len(data), MAX_HTML_ROWS) == html.count("<tr><td>")


def test_rfm_and_action_scores_to_pandas():
    """Every field of RFMSegment and ActionScore is a column."""
    pytest.importorskip("pandas")
    segments = ls.rfm_segments(events(), AS_OF)
    frame = segments.to_pandas().set_index("contact")
    for contact, s in segments.items():
        assert (s.r, s.f, s.m, s.code, s.segment) == tuple(
            frame.loc[contact, ["r", "f", "m", "code", "segment"]]
        )
        assert s.spend == frame.loc[contact, "spend"]
    assert Decimal("19.99") == frame.loc["ann", "spend"]
    actions = ls.action_scores(events(), AS_OF)
    totals = actions.to_pandas().set_index("contact")["total"].to_dict()
    assert {c: a.total for c, a in actions.items()} == totals


def test_explanation_timeline_crossings_to_pandas():
    """Rows with aware UTC timestamps; an explanation adds up like the list."""
    pd = pytest.importorskip("pandas")
    explanation = Explanation(ls.explain(MODEL, events(), "ann", AS_OF))
    frame = explanation.to_pandas()
    assert [
        "at",
        "contact",
        "kind",
        "id",
        "rule",
        "points",
        "weight",
        "effective",
    ] == list(frame.columns)
    assert str(frame["at"].dt.tz) == "UTC"
    assert explanation.total == frame["effective"].sum()
    timeline = Timeline(ls.timeline(MODEL, events(), "ann"))
    assert list(timeline) == [
        (at.to_pydatetime(), score)
        for at, score in timeline.to_pandas().itertuples(index=False)
    ]
    crossings = Crossings(ls.crossings(MODEL, events(), 40, first_only=False))
    frame = crossings.to_pandas()
    assert ["contact", "at", "before", "after", "direction"] == list(frame.columns)
    assert len(crossings) == len(frame)
    assert isinstance(frame, pd.DataFrame)


def test_backtest_and_what_if_to_pandas():
    """A backtest's lift by decile; a what-if's rows with their deltas."""
    pytest.importorskip("pandas")
    result = ls.backtest(
        MODEL,
        events(),
        "order.paid",
        dates=["2024-05-10T00:00Z"],
        horizon=dt.timedelta(days=60),
    )
    frame = result.to_pandas()
    assert list(range(1, 11)) == list(frame["decile"])
    assert 10 == len(frame["lift"])
    proposed = ls.ScoringModel("Sales", [ls.Rule("order.paid", 5)])
    diff = ls.what_if(MODEL, proposed, events(), AS_OF)
    rows = diff.to_pandas()
    assert [r.delta for r in diff.rows] == list(rows["delta"])


def test_backtest_roc_curve_has_the_auc_as_its_area():
    """The ROC points run from (0, 0) to (1, 1) and enclose the AUC."""
    evs = [
        ls.Event(f"c{i}", "page.viewed", "2024-05-01T00:00Z", {"path": "/pricing"})
        for i in range(6)
    ] + [
        ls.Event(f"c{i}", "form.submitted", "2024-05-01T00:00Z") for i in range(0, 6, 2)
    ]
    evs += [ls.Event(c, "deal.won", "2024-05-20T00:00Z") for c in ("c0", "c1", "c2")]
    result = ls.backtest(
        MODEL, evs, "deal.won", dates=["2024-05-10T00:00Z"], horizon=dt.timedelta(30)
    )
    curve = result.roc
    assert (0.0, 0.0) == curve[0]
    assert (1.0, 1.0) == curve[-1]
    area = sum(
        (x1 - x0) * (y0 + y1) / 2 for (x0, y0), (x1, y1) in itertools.pairwise(curve)
    )
    assert math.isclose(result.auc, area)


# -- the example notebook ------------------------------------------------------------


NOTEBOOK = Path(__file__).parent.parent / "examples" / "notebook.ipynb"


def test_the_example_notebook_runs_top_to_bottom():
    """Every cell of examples/notebook.ipynb runs; tables and figures come out."""
    for module in ("nbclient", "nbformat", "ipykernel", "matplotlib", "polars"):
        pytest.importorskip(module)
    import nbclient
    import nbformat

    notebook = nbformat.read(NOTEBOOK, as_version=4)
    nbclient.NotebookClient(
        notebook,
        timeout=300,
        kernel_name="python3",
        resources={"metadata": {"path": str(NOTEBOOK.parent)}},
    ).execute()
    outputs = [
        o for cell in notebook.cells if cell.cell_type == "code" for o in cell.outputs
    ]
    assert not [o for o in outputs if o.output_type == "error"]
    kinds = [kind for o in outputs for kind in o.get("data", {})]
    assert (
        kinds.count("image/png") >= 5
    )  # distribution, timeline, grid, lift+roc, what-if
    assert (
        kinds.count("text/html") >= 6
    )  # model, scores, explanation, RFM, backtest ...
    html = [o["data"]["text/html"] for o in outputs if "text/html" in o.get("data", {})]
    assert any('<table class="leadscore"><caption>explanation' in h for h in html)
