"""Benchmark: score() and crossings() over 1,000,000 events, and a hand loop.

Run with ``nox -s bench`` (or ``python benchmarks/bench_fold.py``). The stream has
1,000,000 pre-built events over 50,000 contacts; the model has 5 rules with a
6-month expiry. The hand loop computes the same totals over the same Event objects
(it is checked to agree), using a pre-computed cut-off that is exact for this
``as_of`` (mid-month, so no month-end clipping is involved).
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import json
import platform
import random
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

from dateutil.relativedelta import relativedelta

import leadscore as ls

KINDS = {
    "email.opened": 1.0,
    "email.clicked": 5.0,
    "email.replied": 10.0,
    "page.viewed": 20.0,
    "order.paid": 100.0,
}
OTHER = ("email.delivered", "tag.added", "profile.updated")
START = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
AS_OF = dt.datetime(2025, 1, 15, 12, tzinfo=dt.UTC)


def make_events(n: int, contacts: int, seed: int = 1) -> list[ls.Event]:
    rng = random.Random(seed)
    kinds = [*KINDS, *OTHER]
    span = int((AS_OF - START).total_seconds())
    return [
        ls.Event(
            f"c{rng.randrange(contacts)}",
            rng.choice(kinds),
            START + dt.timedelta(seconds=rng.randrange(span)),
        )
        for _ in range(n)
    ]


def model() -> ls.ScoringModel:
    return ls.ScoringModel(
        "bench",
        [ls.Rule(kind, points) for kind, points in KINDS.items()],
        aging=ls.AgingPolicy.expire_after(months=6),
    )


def hand_loop(events: list[ls.Event], as_of: dt.datetime) -> dict[str, float]:
    points = KINDS
    cutoff = as_of - relativedelta(months=6)
    totals: dict[str, float] = {}
    for e in events:
        c = e.contact
        if c not in totals:
            totals[c] = 0.0
        p = points.get(e.kind)
        if p is not None and cutoff < e.at <= as_of:
            totals[c] += p
    return totals


def best_of(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    times, result = [], None
    for _ in range(repeat):
        gc.collect()
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return min(times), result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--contacts", type=int, default=50_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", help="write the figures to this file")
    args = parser.parse_args()

    t0 = time.perf_counter()
    events = make_events(args.events, args.contacts)
    build = time.perf_counter() - t0
    m = model()

    hand_s, hand = best_of(lambda: hand_loop(events, AS_OF), args.repeat)
    score_s, scores = best_of(lambda: ls.score(m, events, AS_OF), args.repeat)
    fold_s, ledger = best_of(lambda: ls.fold(m, events), args.repeat)
    read_s, _ = best_of(lambda: ledger.scores(AS_OF), args.repeat)
    assert hand == scores, "the hand loop and score() disagree"
    first_s, first = best_of(lambda: ls.crossings(m, events, 50), args.repeat)
    every_s, every = best_of(
        lambda: ls.crossings(m, events, 50, first_only=False), args.repeat
    )

    del ledger
    gc.collect()
    tracemalloc.start()
    ledger = ls.fold(m, events)
    current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    batches = [events[i : i + 1000] for i in range(0, 20_000, 1000)]
    t0 = time.perf_counter()
    for batch in batches:
        ledger = ls.fold(m, batch, ledger)
    small_fold = (time.perf_counter() - t0) / len(batches)

    figures = {
        "python": sys.version.split()[0],
        "machine": platform.machine(),
        "events": args.events,
        "contacts": args.contacts,
        "build_events_s": round(build, 2),
        "hand_loop_s": round(hand_s, 3),
        "score_s": round(score_s, 3),
        "score_over_hand": round(score_s / hand_s, 2),
        "score_events_per_s": round(args.events / score_s),
        "crossings_first_only_s": round(first_s, 3),
        "crossings_first_only_over_score": round(first_s / score_s, 2),
        "crossings_first_only_found": len(first),
        "crossings_all_s": round(every_s, 3),
        "crossings_all_over_score": round(every_s / score_s, 2),
        "crossings_all_found": len(every),
        "fold_s": round(fold_s, 3),
        "ledger_scores_s": round(read_s, 3),
        "ledger_peak_mib": round(peak / 2**20, 1),
        "ledger_retained_mib": round(current / 2**20, 1),
        "fold_1000_into_1M_ms": round(small_fold * 1000, 2),
        "hand_events_per_s": round(args.events / hand_s),
    }
    for key, value in figures.items():
        print(f"{key:28} {value}")
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
