"""Plots of scores with matplotlib: timelines, distributions, RFM grids, backtests.

Install the extra: ``pip install 'leadscore[plot]'``. matplotlib is imported when
a plot is drawn, never by ``import leadscore``. Like seaborn's axes-level
functions, every function draws on the ``ax=`` it is given (or on a new figure's
axes) and returns that ``Axes``, to be titled, combined or saved by the caller::

    from leadscore import plot
    ax = plot.timeline(model, events, "ann", thresholds=[50])
    ax.figure.savefig("ann.png")

Times are shown in UTC.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ._backtest import Backtest
from ._rfm import RFMSegment
from ._segments import WhatIf
from ._time import timeline as _timeline
from .model._aging import AgingPolicy
from .model._events import Event, to_utc
from .model._rating import RatingScale
from .model._rules import ScoringModel
from .typing import Instant

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["distribution", "lift", "rfm_grid", "roc", "timeline", "what_if"]

#: Aging kinds whose weight drifts between events: their timelines are sampled.
_DRIFTING = frozenset({"half_life", "linear", "inverse"})
#: Samples of a drifting timeline over its span, when no step is given.
_SAMPLES = 200


def _axes(ax: Axes | None) -> Axes:
    """*ax*, or the axes of a new figure (matplotlib imported here)."""
    if ax is not None:
        return ax
    try:
        import matplotlib.pyplot as plt
    except ImportError as e:  # pragma: no cover - depends on the environment
        msg = "leadscore.plot needs matplotlib: pip install 'leadscore[plot]'"
        raise ImportError(msg) from e
    _, new = plt.subplots(figsize=(8, 4.5), layout="constrained")
    return new


def _drifts(model: ScoringModel) -> bool:
    policies: list[AgingPolicy] = [model.aging]
    policies.extend(rule.aging for rule in model.rules if rule.aging is not None)
    return any(policy.kind in _DRIFTING for policy in policies)


def timeline(
    model: ScoringModel,
    events: Iterable[Event],
    contact: str,
    *,
    thresholds: Sequence[float] = (),
    start: Instant | None = None,
    end: Instant | None = None,
    step: dt.timedelta | None = None,
    ax: Axes | None = None,
) -> Axes:
    """A contact's score over time, with thresholds and expiry steps marked.

    The score is drawn as steps (it changes only at events and at expiry
    instants); dots mark the contact's events, triangles the drops no event
    caused (a point expiring, a step of aging); dashed lines the *thresholds*.
    A model whose points decay continuously (half-life, linear, inverse) is
    sampled: by *step* when given, else 200 times up to *end* (which defaults
    to the last change).

    Args:
        model: The model.
        events: The events (of every contact; the contact's are picked out).
        contact: Whose score.
        thresholds: Scores to draw as horizontal lines.
        start: Draw from here (default: the contact's first event).
        end: Draw until here (default: the last change of the score).
        step: Sample every *step* (for continuously decaying models).
        ax: The axes to draw on; a new figure's when None.

    Returns:
        The axes.
    """
    events = list(events)
    end_at = None if end is None else to_utc(end, "end")
    points, end_at, sampled = _points(
        model, events, contact, start=start, end=end_at, step=step
    )
    ax = _axes(ax)
    ax.set_title(f"{contact}: {model.name}")
    ax.set_xlabel("time (UTC)")
    ax.set_ylabel("score")
    if not points:
        ax.text(
            0.5, 0.5, f"no events of {contact!r}", ha="center", transform=ax.transAxes
        )
        return ax
    times = [t for t, _ in points]
    values = [v for _, v in points]
    if end_at is not None and end_at > times[-1]:
        times.append(end_at)
        values.append(values[-1])
    ax.step(times, values, where="post", label="score", color="C0")  # type: ignore[arg-type]
    own = {e.at for e in events if e.contact == contact}
    at_events = [(t, v) for t, v in points if t in own]
    if at_events:
        ax.plot(*zip(*at_events, strict=True), "o", color="C0", label="event")
    if not sampled:
        drops = [
            (t, v)
            for (t, v), (_, before) in zip(points[1:], points, strict=False)
            if t not in own and v < before
        ]
        if drops:
            ax.plot(*zip(*drops, strict=True), "v", color="C3", label="expiry")
    for i, threshold in enumerate(thresholds):
        ax.axhline(
            threshold,
            linestyle="--",
            linewidth=1,
            color=f"C{(i + 1) % 10}",
            label=f"threshold {threshold:g}",
        )
    ax.legend(loc="best")
    ax.tick_params(axis="x", labelrotation=30)
    return ax


def _points(
    model: ScoringModel,
    events: list[Event],
    contact: str,
    *,
    start: Instant | None,
    end: dt.datetime | None,
    step: dt.timedelta | None,
) -> tuple[list[tuple[dt.datetime, float]], dt.datetime | None, bool]:
    """The timeline to draw, the instant it ends, and whether it is sampled."""
    points = _timeline(model, events, contact, start=start, end=end)
    if step is None and _drifts(model) and points:
        last = end or points[-1][0]
        span = last - points[0][0]
        if span > dt.timedelta(0):
            step, end = span / _SAMPLES, last
    if step is None or not points:
        return points, end, False
    end = end or points[-1][0]
    sampled = _timeline(model, events, contact, start=start, end=end, step=step)
    return sampled, end, True


def _values(scores: Mapping[str, float] | Iterable[float]) -> list[float]:
    if isinstance(scores, Mapping):
        return [float(v) for v in scores.values()]
    return [float(v) for v in scores]


def distribution(
    scores: Mapping[str, float] | Iterable[float],
    *,
    scale: RatingScale[Any] | None = None,
    bins: int = 30,
    ax: Axes | None = None,
) -> Axes:
    """A histogram of scores, with the bands of a rating *scale* shaded.

    Args:
        scores: ``{contact: score}`` (what :func:`~leadscore.score` returns) or
            the scores alone.
        scale: A :class:`~leadscore.RatingScale`: each band is shaded and
            labelled (its label, or its number from 1), each cut drawn.
        bins: Bins of the histogram.
        ax: The axes to draw on; a new figure's when None.

    Returns:
        The axes.
    """
    values = _values(scores)
    ax = _axes(ax)
    ax.hist(values, bins=bins, color="C0", edgecolor="white", label="contacts")
    ax.set_xlabel("score")
    ax.set_ylabel("contacts")
    ax.set_title(f"score distribution ({len(values):,} contacts)")
    if scale is not None:
        low, high = ax.get_xlim()
        low, high = min(low, scale.cuts[0] - 1), max(high, scale.cuts[-1] + 1)
        edges = [low, *scale.cuts, high]
        labels = scale.labels or range(1, len(scale.cuts) + 2)
        for i, label in enumerate(labels):
            ax.axvspan(edges[i], edges[i + 1], color=f"C{(i + 1) % 10}", alpha=0.12)
            ax.text(
                (edges[i] + edges[i + 1]) / 2,
                0.97,
                str(label),
                ha="center",
                va="top",
                transform=ax.get_xaxis_transform(),
            )
        for cut in scale.cuts:
            ax.axvline(cut, color="grey", linewidth=1)
        ax.set_xlim(low, high)
    return ax


def rfm_grid(segments: Mapping[str, RFMSegment], *, ax: Axes | None = None) -> Axes:
    """Contacts per recency (R) and frequency (F) score, with the segment names.

    Each cell of the grid shows how many contacts have that R and F score, and
    the segment most of them are in.

    Args:
        segments: What :func:`~leadscore.rfm_segments` returns.
        ax: The axes to draw on; a new figure's when None.

    Returns:
        The axes.
    """
    items = list(segments.values())
    size = max([5, *(s.r for s in items), *(s.f for s in items)])
    grid = [[0] * size for _ in range(size)]
    names: dict[tuple[int, int], Counter[str]] = {}
    for s in items:
        grid[s.f - 1][s.r - 1] += 1
        if s.segment is not None:
            names.setdefault((s.r, s.f), Counter())[s.segment] += 1
    ax = _axes(ax)
    image = ax.imshow(grid, origin="lower", cmap="Blues", aspect="auto")
    ax.figure.colorbar(image, ax=ax, label="contacts")
    ticks = list(range(size))
    ax.set_xticks(ticks, [str(i + 1) for i in ticks])
    ax.set_yticks(ticks, [str(i + 1) for i in ticks])
    ax.set_xlabel("recency score R (5 = most recent)")
    ax.set_ylabel("frequency score F (5 = most frequent)")
    ax.set_title(f"RFM grid ({len(items):,} contacts)")
    peak = max((max(row) for row in grid), default=0) or 1
    for (r, f), counter in names.items():
        count = grid[f - 1][r - 1]
        name = counter.most_common(1)[0][0]
        ax.text(
            r - 1,
            f - 1,
            f"{count}\n{name}",
            ha="center",
            va="center",
            fontsize=7,
            color="white" if count > peak / 2 else "black",
        )
    return ax


def lift(backtest: Backtest, *, ax: Axes | None = None) -> Axes:
    """A backtest's lift by score decile, highest scores first, against 1.

    Args:
        backtest: What :func:`~leadscore.backtest` returns.
        ax: The axes to draw on; a new figure's when None.

    Returns:
        The axes.
    """
    ax = _axes(ax)
    deciles = list(range(1, len(backtest.lift) + 1))
    ax.bar(deciles, backtest.lift, color="C0", label="lift")
    ax.axhline(1, linestyle="--", color="grey", label="no lift (base rate)")
    ax.set_xticks(deciles)
    ax.set_xlabel("score decile (1 = highest scores)")
    ax.set_ylabel("lift (outcome rate / base rate)")
    base = backtest.base_rate
    rate = "n/a" if math.isnan(base) else f"{base:.1%}"
    ax.set_title(f"lift by decile (base rate {rate})")
    ax.legend(loc="best")
    return ax


def roc(backtest: Backtest, *, ax: Axes | None = None) -> Axes:
    """A backtest's ROC curve, with its area (AUC) and the chance diagonal.

    Args:
        backtest: What :func:`~leadscore.backtest` returns.
        ax: The axes to draw on; a new figure's when None.

    Returns:
        The axes.
    """
    ax = _axes(ax)
    ax.plot([0, 1], [0, 1], linestyle="--", color="grey", label="chance")
    if backtest.roc:
        fpr, tpr = zip(*backtest.roc, strict=True)
        ax.plot(fpr, tpr, color="C0", label=f"model (AUC {backtest.auc:.3f})")
    else:
        ax.text(0.5, 0.5, "no positives or no negatives", ha="center")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_aspect("equal")
    ax.set_xlabel("false positive rate")
    ax.set_ylabel("true positive rate")
    ax.set_title("ROC curve")
    ax.legend(loc="lower right")
    return ax


def what_if(diff: WhatIf, *, ax: Axes | None = None) -> Axes:
    """Each contact's score under the current model against the proposed one.

    Points above the diagonal rise, below it fall; the thresholds of the
    comparison are drawn on both axes. Contacts scored by only one of the models
    are left out (and counted in the title).

    Args:
        diff: What :func:`~leadscore.what_if` returns.
        ax: The axes to draw on; a new figure's when None.

    Returns:
        The axes.
    """
    ax = _axes(ax)
    both = [r for r in diff.rows if r.before is not None and r.after is not None]
    groups = (
        ("rises", "C2", [r for r in both if r.delta > 0]),
        ("falls", "C3", [r for r in both if r.delta < 0]),
        ("unchanged", "grey", [r for r in both if r.delta == 0]),
    )
    for label, color, rows in groups:
        if rows:
            ax.scatter(
                [r.before or 0.0 for r in rows],
                [r.after or 0.0 for r in rows],
                s=12,
                color=color,
                label=f"{label} ({len(rows):,})",
            )
    values = [v for r in both for v in (r.before, r.after) if v is not None]
    if values:
        low, high = min(values), max(values)
        ax.plot([low, high], [low, high], linestyle="--", color="grey", linewidth=1)
    for threshold in {*diff.crossed_up, *diff.crossed_down}:
        ax.axhline(threshold, linestyle=":", color="C1", linewidth=1)
        ax.axvline(threshold, linestyle=":", color="C1", linewidth=1)
    ax.set_xlabel("score under the current model")
    ax.set_ylabel("score under the proposed model")
    left_out = len(diff.rows) - len(both)
    note = f", {left_out:,} scored by one model only" if left_out else ""
    ax.set_title(f"what if ({len(both):,} contacts{note})")
    if both:
        ax.legend(loc="best")
    return ax
