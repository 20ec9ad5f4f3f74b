"""Benchmark: action_scores() and rfm_segments() against a hand loop, and lifetimes.

Two logs: a synthetic one of 1,000,000 purchases (with refunds, page views and
social connections mixed in) over 100,000 customers, and the full CDNOW log
(``CDNOW_master.txt``, 69,659 rows, read from the installed ``lifetimes``
package). For each: a minimal hand-written pure-Python loop over the same Event
objects computing the raw features (last activity, count, net spend, networks),
then ``action_scores`` and ``rfm_segments``; for the record,
``lifetimes.utils.summary_data_from_transaction_data`` and a pandas groupby of the
same data (both only when installed: ``nox -s bench`` installs them).
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import importlib.util
import json
import random
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import leadscore as ls
from leadscore.datasets import load_cdnow

START = dt.datetime(2023, 1, 1, tzinfo=dt.UTC)
AS_OF = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)


def synthetic(n: int, customers: int, seed: int = 2) -> list[ls.Event]:
    rng = random.Random(seed)
    span = int((AS_OF - START).total_seconds())
    kinds = ["order.paid"] * 7 + ["page.viewed", "order.refunded", "social.connected"]
    events = []
    for _ in range(n):
        kind = rng.choice(kinds)
        attrs = (
            {"network": rng.choice(("x", "linkedin", "facebook"))}
            if kind == "social.connected"
            else {}
        )
        events.append(
            ls.Event(
                f"c{rng.randrange(customers)}",
                kind,
                START + dt.timedelta(seconds=rng.randrange(span)),
                attrs,
                value=round(rng.uniform(5, 200), 2)
                if kind.startswith("order")
                else 0.0,
            )
        )
    return events


def hand_loop(events: list[ls.Event], as_of: dt.datetime) -> dict[str, Any]:
    """The raw features, as plainly as possible: what both functions start from."""
    last: dict[str, dt.datetime] = {}
    count: dict[str, int] = {}
    spend: dict[str, float] = {}
    networks: dict[str, set[Any]] = {}
    activity = {"contact.opted_in", "page.viewed", "order.paid"}
    for e in events:
        if e.at > as_of:
            continue
        c, kind = e.contact, e.kind
        if kind in activity:
            if c not in last or e.at > last[c]:
                last[c] = e.at
            count[c] = count.get(c, 0) + 1
        if kind == "order.paid":
            spend[c] = spend.get(c, 0.0) + e.value
        elif kind == "order.refunded":
            spend[c] = spend.get(c, 0.0) - e.value
        elif kind == "social.connected":
            networks.setdefault(c, set()).add(e.attrs.get("network"))
    return {"last": last, "count": count, "spend": spend, "networks": networks}


def best_of(fn: Callable[[], Any], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        gc.collect()
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def for_the_record(events: list[ls.Event], repeat: int) -> dict[str, Any]:
    """lifetimes' summary and a pandas groupby of the same purchases, if installed."""
    try:
        import pandas as pd
        from lifetimes.utils import summary_data_from_transaction_data
    except ImportError as e:  # pragma: no cover - depends on the bench session
        return {"unavailable": str(e)}
    purchases = [e for e in events if e.kind == "order.paid"]
    frame = pd.DataFrame(
        {
            "id": [e.contact for e in purchases],
            "date": pd.to_datetime([e.at.replace(tzinfo=None) for e in purchases]),
            "value": [e.value for e in purchases],
        }
    )
    out: dict[str, Any] = {"pandas_version": pd.__version__}
    out["pandas_groupby_s"] = round(
        best_of(
            lambda: frame.groupby("id").agg(
                last=("date", "max"), count=("date", "size"), spend=("value", "sum")
            ),
            repeat,
        ),
        3,
    )
    try:
        out["lifetimes_summary_s"] = round(
            best_of(
                lambda: summary_data_from_transaction_data(
                    frame, "id", "date", monetary_value_col="value"
                ),
                repeat,
            ),
            3,
        )
    except Exception as e:  # noqa: BLE001 - lifetimes breaks on new pandas; record it
        out["lifetimes_summary_error"] = f"{type(e).__name__}: {e}"[:200]
    return out


def measure(
    name: str, events: list[ls.Event], as_of: dt.datetime, repeat: int
) -> dict[str, Any]:
    hand = best_of(lambda: hand_loop(events, as_of), repeat)
    action = best_of(lambda: ls.action_scores(events, as_of), repeat)
    rfm = best_of(lambda: ls.rfm_segments(events, as_of), repeat)
    return {
        "log": name,
        "events": len(events),
        "customers": len({e.contact for e in events}),
        "hand_loop_s": round(hand, 3),
        "action_scores_s": round(action, 3),
        "action_scores_over_hand": round(action / hand, 2),
        "rfm_segments_s": round(rfm, 3),
        "rfm_segments_over_hand": round(rfm / hand, 2),
        **for_the_record(events, repeat),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--contacts", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", help="write the figures to this file")
    args = parser.parse_args()
    runs = [
        measure("synthetic", synthetic(args.events, args.contacts), AS_OF, args.repeat)
    ]
    spec = importlib.util.find_spec("lifetimes")
    if spec is not None and spec.submodule_search_locations:
        master = (
            Path(next(iter(spec.submodule_search_locations)))
            / "datasets"
            / "CDNOW_master.txt"
        )
        cdnow = load_cdnow(master)
        runs.append(
            measure(
                "CDNOW_master",
                cdnow,
                dt.datetime(1998, 7, 1, tzinfo=dt.UTC),
                args.repeat,
            )
        )
    for run in runs:
        print()
        for key, value in run.items():
            print(f"{key:28} {value}")
    if args.json:
        Path(args.json).write_text(json.dumps(runs, indent=2))


if __name__ == "__main__":
    main()
