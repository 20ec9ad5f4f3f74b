"""Benchmark: merge chains (issue 10, defect 6): score, timeline and crossings.

Run with ``python benchmarks/bench_merges.py --length 1000``. A chain of contacts
``c0 <- c1 <- ... <- cN`` (each merged into the next, two minutes apart), one form
each, a 3-day expiry; once with ``keep-master`` (every member's own form is before
its merge, so none reaches the head) and once with ``union`` (every form counts for
the head). ``score`` resolves the merges once (union-find); a timeline re-scores
the head's group at each of its instants.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import time
from collections.abc import Callable
from pathlib import Path

import leadscore as ls

T0 = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)


def chain(length: int) -> list[ls.Event]:
    events = []
    for i in range(length):
        at = T0 + dt.timedelta(minutes=2 * i)
        events.append(ls.Event(f"c{i}", "form.submitted", at, id=f"e{i}"))
        if i:
            merged = ls.Event(
                f"c{i}",
                "contact.merged",
                at + dt.timedelta(minutes=1),
                {"from": f"c{i - 1}"},
                id=f"m{i}",
            )
            events.append(merged)
    return events


def seconds(work: Callable[[], object]) -> float:
    start = time.perf_counter()
    work()
    return round(time.perf_counter() - start, 3)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--length", type=int, default=1000)
    parser.add_argument("--skip-crossings", action="store_true")
    parser.add_argument("--json", help="also write the rows to this file")
    args = parser.parse_args()
    rows = []
    events = chain(args.length)
    head = f"c{args.length - 1}"
    for merge in ("keep-master", "union"):
        model = ls.ScoringModel(
            "m",
            [ls.Rule("form.submitted", 1)],
            aging=ls.AgingPolicy.expire_after(days=3),
            merge=merge,
        )
        row = {
            "merge": merge,
            "length": args.length,
            "score_s": seconds(
                lambda m=model: ls.score(m, events, T0 + dt.timedelta(days=30))
            ),
            "timeline_s": seconds(lambda m=model: ls.timeline(m, events, head)),
        }
        if not args.skip_crossings:
            row["crossings_all_s"] = seconds(
                lambda m=model: ls.crossings(m, events, 3.0, first_only=False)
            )
        print(json.dumps(row))
        rows.append(row)
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
