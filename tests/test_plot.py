"""Every plot renders headless (Agg) to a PNG, with the axes and labels it promises."""

from __future__ import annotations

import datetime as dt
import math

import pytest

import leadscore as ls

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402

from leadscore import plot  # noqa: E402

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
AS_OF = dt.datetime(2024, 7, 1, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def events() -> list[ls.Event]:
    """Three contacts over two months: forms, opens, purchases and a deal."""
    out = []
    for i, contact in enumerate(("ann", "bob", "cem", "dee", "eve", "fay")):
        for day in range(0, 40, 4 + i):
            at = dt.datetime(2024, 5, 1, tzinfo=dt.UTC) + dt.timedelta(days=day)
            out.append(ls.Event(contact, "email.opened", at, {"message": f"m{day}"}))
            if day % 3 == 0:
                out.append(ls.Event(contact, "order.paid", at, value=10.0 * (i + 1)))
        if i % 2 == 0:
            out.append(ls.Event(contact, "form.submitted", "2024-05-20T00:00Z"))
            out.append(ls.Event(contact, "deal.won", "2024-06-20T00:00Z"))
    return out


MODEL = ls.ScoringModel(
    "Sales",
    [
        ls.Rule("email.opened", 5),
        ls.Rule("form.submitted", 20),
        ls.Rule("order.paid", 10, aging=ls.AgingPolicy.never()),
    ],
    aging=ls.AgingPolicy.expire_after(days=14),
)


def save(ax, tmp_path) -> bytes:
    """Render the axes' figure to a PNG file and return its bytes."""
    path = tmp_path / "plot.png"
    ax.figure.savefig(path, format="png")
    data = path.read_bytes()
    assert PNG_MAGIC == data[:8]
    assert len(data) > 1000
    return data


def test_timeline_marks_events_expiry_and_thresholds(tmp_path):
    """The score steps, event dots, expiry triangles and threshold lines are drawn."""
    ax = plot.timeline(MODEL, events(), "ann", thresholds=[30, 60])
    save(ax, tmp_path)
    assert "ann: Sales" == ax.get_title()
    assert ("time (UTC)", "score") == (ax.get_xlabel(), ax.get_ylabel())
    labels = [text.get_text() for text in ax.get_legend().get_texts()]
    assert ["score", "event", "expiry", "threshold 30", "threshold 60"] == labels
    steps = ax.get_lines()[0]
    expected = ls.timeline(MODEL, events(), "ann")
    assert [v for _, v in expected] == list(steps.get_ydata())


def test_timeline_samples_a_decaying_model(tmp_path):
    """A half-life model is sampled (many points), not drawn as steps between events."""
    model = ls.ScoringModel(
        "Decay", [ls.Rule("email.opened", 5)], aging=ls.AgingPolicy.half_life(days=7)
    )
    ax = plot.timeline(model, events(), "bob", end="2024-07-01T00:00Z")
    save(ax, tmp_path)
    assert len(ax.get_lines()[0].get_xdata()) > 100


def test_timeline_of_an_unknown_contact_says_so(tmp_path):
    """A contact without events gives empty axes with a note, not an error."""
    ax = plot.timeline(MODEL, events(), "zed")
    save(ax, tmp_path)
    assert ["no events of 'zed'"] == [t.get_text() for t in ax.texts]


def test_distribution_shades_the_rating_bands(tmp_path):
    """The histogram counts every contact; each band is labelled."""
    scores = ls.score(MODEL, events(), AS_OF)
    scale = ls.RatingScale((20, 50), ("cold", "warm", "hot"))
    ax = plot.distribution(scores, scale=scale, bins=10)
    save(ax, tmp_path)
    assert ("score", "contacts") == (ax.get_xlabel(), ax.get_ylabel())
    assert f"score distribution ({len(scores)} contacts)" == ax.get_title()
    assert len(scores) == sum(bar.get_height() for bar in ax.containers[0])
    assert ["cold", "warm", "hot"] == [t.get_text() for t in ax.texts]


def test_rfm_grid_counts_contacts_per_cell(tmp_path):
    """The grid holds each contact once, in the cell of its R and F scores."""
    segments = ls.rfm_segments(events(), AS_OF)
    ax = plot.rfm_grid(segments)
    save(ax, tmp_path)
    grid = ax.images[0].get_array()
    assert len(segments) == grid.sum()
    for s in segments.values():
        assert grid[s.f - 1][s.r - 1] >= 1
    assert ax.get_xlabel().startswith("recency score R")
    assert ax.get_ylabel().startswith("frequency score F")
    names = {s.segment for s in segments.values()}
    shown = {t.get_text().split("\n")[1] for t in ax.texts}
    assert shown <= names


def test_lift_draws_ten_deciles_and_the_base_line(tmp_path):
    """Ten bars (the backtest's lift) and a dashed line at 1."""
    result = ls.backtest(
        MODEL,
        events(),
        "deal.won",
        dates=["2024-06-01T00:00Z"],
        horizon=dt.timedelta(days=30),
    )
    ax = plot.lift(result)
    save(ax, tmp_path)
    heights = [p.get_height() for p in ax.patches]
    assert 10 == len(heights)
    assert all(
        a == b or (math.isnan(a) and math.isnan(b))
        for a, b in zip(result.lift, heights, strict=True)
    )
    assert "score decile (1 = highest scores)" == ax.get_xlabel()


def test_roc_draws_the_curve_and_its_area(tmp_path):
    """The ROC curve goes from (0, 0) to (1, 1); the legend gives the AUC."""
    result = ls.backtest(
        MODEL,
        events(),
        "deal.won",
        dates=["2024-06-01T00:00Z"],
        horizon=dt.timedelta(days=30),
    )
    ax = plot.roc(result)
    save(ax, tmp_path)
    curve = ax.get_lines()[1]
    assert (0.0, 0.0) == (curve.get_xdata()[0], curve.get_ydata()[0])
    assert (1.0, 1.0) == (curve.get_xdata()[-1], curve.get_ydata()[-1])
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert ["chance", f"model (AUC {result.auc:.3f})"] == labels
    assert ("false positive rate", "true positive rate") == (
        ax.get_xlabel(),
        ax.get_ylabel(),
    )


def test_what_if_plots_each_contact_once(tmp_path):
    """One point per contact, colored by the direction of its change."""
    proposed = ls.ScoringModel(
        "Sales", [ls.Rule("email.opened", 8), ls.Rule("form.submitted", 5)]
    )
    diff = ls.what_if(MODEL, proposed, events(), AS_OF, thresholds=[40])
    ax = plot.what_if(diff)
    save(ax, tmp_path)
    points = sum(len(c.get_offsets()) for c in ax.collections)
    assert len(diff.rows) == points
    assert "score under the current model" == ax.get_xlabel()
    assert "score under the proposed model" == ax.get_ylabel()


def test_plots_draw_on_the_axes_given():
    """ax= is drawn on and returned (to compose figures)."""
    fig, axes = plt.subplots(1, 2)
    result = ls.backtest(
        MODEL,
        events(),
        "deal.won",
        dates=["2024-06-01T00:00Z"],
        horizon=dt.timedelta(days=30),
    )
    assert axes[0] is plot.lift(result, ax=axes[0])
    assert axes[1] is plot.roc(result, ax=axes[1])
    assert 1 == len(plt.get_fignums())
    assert fig is axes[0].figure
