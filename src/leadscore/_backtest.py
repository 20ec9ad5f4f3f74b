"""Backtests: how well a model's scores predicted an outcome.

For each scoring date, every contact reported then (and without the outcome
already) is one observation: its score at that date, and whether an outcome event
(``deal.won``, ``order.paid``, ...) followed within the horizon. The measures are
the usual ones, computed in pure Python:

- ROC AUC: the probability that a random positive outscores a random negative,
  ties counting one half (Mann-Whitney U with average ranks).
- Lift by decile: observations sorted by score, highest first, cut into ten
  near-equal groups; each group's outcome rate divided by the overall rate.
- Precision at k: the share of positives among the k highest scores.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Sequence
from typing import Any

import attrs

from ._notebook import Table, Tabular, html_table
from .exceptions import InvalidModelError
from .model._events import Event, to_utc
from .model._rules import ScoringModel
from .paths._fold import fold

__all__ = ["Backtest", "backtest", "roc_auc"]


@attrs.frozen
class Backtest(Tabular):
    """The measures of one backtest (see the module documentation).

    Attributes:
        observations: Number of (contact, date) observations.
        positives: How many were followed by the outcome within the horizon.
        base_rate: ``positives / observations``.
        auc: ROC AUC; NaN when there are no positives or no negatives.
        lift: Lift of each score decile, highest scores first.
        precision_at: ``{k: share of positives among the k highest scores}``.
        roc: The ROC curve: ``(false positive rate, true positive rate)`` points
            from ``(0, 0)`` to ``(1, 1)``, one per distinct score, highest first
            (ties move both rates at once); empty without positives or
            negatives. Its area is ``auc``.

    ``to_pandas()`` and the HTML table show the lift by decile.
    """

    observations: int
    positives: int
    base_rate: float
    auc: float
    lift: tuple[float, ...]
    precision_at: dict[int, float]
    roc: tuple[tuple[float, float], ...] = attrs.field(default=(), repr=False)

    _caption = "lift by decile"

    def _table(self) -> Table:
        return ("decile", "lift"), list(enumerate(self.lift, start=1))

    def _repr_html_(self) -> str:
        """The measures, then the lift by decile, for Jupyter."""
        measures = [
            ("observations", self.observations),
            ("positives", self.positives),
            ("base rate", self.base_rate),
            ("ROC AUC", self.auc),
            *((f"precision at {k}", v) for k, v in self.precision_at.items()),
        ]
        return html_table(("measure", "value"), measures, caption="backtest") + (
            html_table(("decile", "lift"), self._table()[1], caption=self._caption)
        )


def roc_auc(scores: Sequence[float], labels: Sequence[bool]) -> float:
    """ROC AUC by Mann-Whitney U with average ranks for ties.

    >>> roc_auc([0.1, 0.4, 0.35, 0.8], [False, False, True, True])
    0.75
    """
    n = len(scores)
    order = sorted(range(n), key=lambda i: scores[i])
    ranks = [0.0] * n
    i = 0
    while i < n:
        j = i
        while j + 1 < n and scores[order[j + 1]] == scores[order[i]]:
            j += 1
        for k in range(i, j + 1):
            ranks[order[k]] = (i + j) / 2 + 1
        i = j + 1
    positives = sum(1 for y in labels if y)
    negatives = n - positives
    if positives == 0 or negatives == 0:
        return math.nan
    rank_sum = sum(r for r, y in zip(ranks, labels, strict=True) if y)
    return (rank_sum - positives * (positives + 1) / 2) / (positives * negatives)


def _check_arguments(
    outcome: str | Sequence[str],
    dates: Iterable[Any],
    horizon: dt.timedelta,
    ks: Sequence[int],
) -> tuple[set[str], list[dt.datetime]]:
    """The outcome kinds and the sorted dates of :func:`backtest`, checked."""
    if not isinstance(horizon, dt.timedelta) or horizon <= dt.timedelta(0):
        raise InvalidModelError(
            f"horizon must be a positive timedelta, got {horizon!r}",
            path="horizon",
            value=horizon,
        )
    kinds = {outcome} if isinstance(outcome, str) else set(outcome)
    if not kinds or not all(isinstance(k, str) and k for k in kinds):
        raise InvalidModelError(
            f"outcome must be an event kind or kinds, got {outcome!r}",
            path="outcome",
            value=outcome,
        )
    when = sorted(to_utc(d, "dates") for d in dates)
    if not when:
        raise InvalidModelError("dates must not be empty", path="dates", value=dates)
    for k in ks:
        if isinstance(k, bool) or not isinstance(k, int) or k < 1:
            raise InvalidModelError(
                f"ks must be whole numbers >= 1, got {k!r}", path="ks", value=k
            )
    return kinds, when


def backtest(
    model: ScoringModel,
    events: Iterable[Event],
    outcome: str | Sequence[str],
    *,
    dates: Iterable[Any],
    horizon: dt.timedelta,
    ks: Sequence[int] = (10, 100),
) -> Backtest:
    """Score every contact at each of *dates* and check the outcome after it.

    Args:
        model: The model to test.
        events: All events, the outcome events included.
        outcome: The outcome's event kind(s).
        dates: The scoring dates (aware).
        horizon: How long after a date an outcome counts (positive).
        ks: The cut-offs of precision at k.

    Contacts whose outcome happened at or before a date are left out of that date
    (there is nothing left to predict).

    Raises:
        InvalidModelError: for an empty horizon, no dates, or a bad k.
    """
    kinds, when = _check_arguments(outcome, dates, horizon, ks)
    events = list(events)
    outcomes: dict[str, list[dt.datetime]] = {}
    for e in events:
        if e.kind in kinds:
            outcomes.setdefault(e.contact, []).append(e.at)
    ledger = fold(model, events)
    observed: list[tuple[float, bool, str, dt.datetime]] = []
    for date in when:
        for contact, value in ledger.scores(date).items():
            times = outcomes.get(contact, [])
            if any(t <= date for t in times):
                continue
            hit = any(date < t <= date + horizon for t in times)
            observed.append((value, hit, contact, date))
    observed.sort(key=lambda o: (-o[0], o[2], o[3]))
    labels = [o[1] for o in observed]
    n, positives = len(observed), sum(labels)
    base = positives / n if n else math.nan
    lift = []
    for d in range(10):
        group = labels[d * n // 10 : (d + 1) * n // 10]
        rate = sum(group) / len(group) if group else math.nan
        lift.append(rate / base if base else math.nan)
    precision = {k: sum(labels[:k]) / min(k, n) if n else math.nan for k in ks}
    auc = roc_auc([o[0] for o in observed], labels)
    curve = _roc_curve([o[0] for o in observed], labels, positives)
    return Backtest(n, positives, base, auc, tuple(lift), precision, curve)


def _roc_curve(
    scores: Sequence[float], labels: Sequence[bool], positives: int
) -> tuple[tuple[float, float], ...]:
    """ROC points of *scores* sorted highest first; ties are one step."""
    negatives = len(labels) - positives
    if not positives or not negatives:
        return ()
    points = [(0.0, 0.0)]
    tp = fp = 0
    for i, (value, hit) in enumerate(zip(scores, labels, strict=True)):
        tp += hit
        fp += not hit
        if i + 1 == len(scores) or scores[i + 1] != value:
            points.append((fp / negatives, tp / positives))
    return tuple(points)
