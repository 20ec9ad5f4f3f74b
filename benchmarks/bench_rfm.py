"""Benchmark: action_scores() and rfm_segments() against a hand loop, and lifetimes.

Two logs: a synthetic one of 1,000,000 purchases (with refunds, page views and
social connections mixed in) over 100,000 customers, and the full CDNOW log
(``CDNOW_master.txt``, 69,659 rows, read from the installed ``lifetimes``
package). For each: a minimal hand-written pure-Python loop over the same Event
objects computing the raw features (last activity, count, net spend, networks),
then ``action_scores`` and ``rfm_segments``; for the record,
``lifetimes.utils.summary_data_from_transaction_data`` and a pandas groupby of the
same data (both only when installed: ``nox -s bench`` installs them).

``--frame-rows N`` (default 10,000,000; 0 skips it) times ``leadscore.frame`` on
the CDNOW master layout (customer, date, quantity, amount; plus kind) scaled to N
rows: the CDNOW log (the master file from ``lifetimes`` when installed, else the
sample in ``tests/data``) replicated with new customer ids and dates jittered by up
to 15 days, written as Parquet into a temporary directory and held as a pandas
DataFrame. ``frame.rfm_segments`` and ``frame.action_scores``, from the DataFrame
and from the Parquet file, against a pandas groupby of the raw features they bin
(last purchase, count, net spend) and lifetimes' summary (at ``--lifetimes-rows``,
1,000,000 by default: it is slow). Before any timing, the frame results at
``--check-rows`` (1,000,000) are checked equal to the pure functions'. Rounds are
interleaved (each candidate once per round), best of ``--repeat``.
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

ROOT = Path(__file__).resolve().parent.parent

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


# --- leadscore.frame on the CDNOW master layout, scaled -----------------------------

CDNOW_AS_OF = dt.datetime(1998, 7, 1, tzinfo=dt.UTC)
CDNOW_COLUMNS = {"contact": "customer", "at": "date", "value": "amount"}


def cdnow_path() -> Path:
    """The CDNOW master file of lifetimes if installed, else the test sample."""
    spec = importlib.util.find_spec("lifetimes")
    if spec is not None and spec.submodule_search_locations:
        folder = Path(next(iter(spec.submodule_search_locations)))
        return folder / "datasets" / "CDNOW_master.txt"
    return ROOT / "tests" / "data" / "CDNOW_sample.txt"


def cdnow_scaled(rows: int, seed: int = 7) -> Any:
    """*rows* purchases in the CDNOW master layout (an Arrow table).

    The log repeated with new customer ids (copy k adds k * 10**digits) and each
    date moved by up to 15 days either way, kept within the log's span.
    """
    import numpy as np
    import pyarrow as pa

    events = load_cdnow(cdnow_path())
    epoch = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
    customer = np.array([int(e.contact) for e in events], np.int64)
    day = np.array([(e.at - epoch).days for e in events], np.int64)
    quantity = np.array([e.attrs["cds"] for e in events], np.int64)
    amount = np.array([e.value for e in events], np.float64)
    rng = np.random.default_rng(seed)
    copies = -(-rows // len(events))
    row = np.tile(np.arange(len(events)), copies)[:rows]
    copy = np.repeat(np.arange(copies), len(events))[:rows]
    shift = 10 ** len(str(customer.max()))
    days = np.clip(day[row] + rng.integers(-15, 16, rows), day.min(), day.max())
    return pa.table(
        {
            "customer": customer[row] + copy * shift,
            "kind": pa.array(["order.paid"]).take(pa.array(np.zeros(rows, np.int64))),
            "date": pa.array(days * 86_400_000_000, pa.timestamp("us", tz="UTC")),
            "quantity": quantity[row],
            "amount": amount[row],
        }
    )


def as_events(table: Any) -> list[ls.Event]:
    d = table.to_pydict()
    return [
        ls.Event(str(c), k, at, {"cds": q}, value=v)
        for c, k, at, q, v in zip(
            d["customer"], d["kind"], d["date"], d["quantity"], d["amount"], strict=True
        )
    ]


def check_frame(table: Any) -> dict[str, Any]:
    """frame's answers from pandas equal the pure functions' (raises if not)."""
    from leadscore import frame

    events = as_events(table)
    df = table.to_pandas()
    pure = ls.rfm_segments(events, CDNOW_AS_OF)
    got = frame.rfm_segments(df, CDNOW_AS_OF, columns=CDNOW_COLUMNS)
    expected = {c: (s.r, s.f, s.m, s.code, s.segment) for c, s in pure.items()}
    rfm = {r.contact: (r.r, r.f, r.m, r.code, r.segment) for r in got.itertuples()}
    if expected != rfm:
        raise SystemExit("frame.rfm_segments differs from rfm_segments")
    pure_a = ls.action_scores(events, CDNOW_AS_OF)
    got_a = frame.action_scores(df, CDNOW_AS_OF, columns=CDNOW_COLUMNS)
    action = {
        r.contact: (r.recency, r.frequency, r.value, r.social, r.total)
        for r in got_a.itertuples()
    }
    if action != {
        c: (s.recency, s.frequency, s.value, s.social, s.total)
        for c, s in pure_a.items()
    }:
        raise SystemExit("frame.action_scores differs from action_scores")
    return {"checked_rows": table.num_rows, "checked_customers": len(expected)}


def interleaved(fns: dict[str, Callable[[], Any]], repeat: int) -> dict[str, float]:
    """Best of *repeat* rounds, each candidate once per round (same load for all)."""
    for fn in fns.values():
        fn()  # untimed: imports, caches, a failure before any timing
    times: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(repeat):
        for name, fn in fns.items():
            gc.collect()
            t0 = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - t0)
    return {name: min(t) for name, t in times.items()}


def measure_frame(args: argparse.Namespace) -> dict[str, Any]:
    import tempfile

    import pyarrow.parquet as pq

    from leadscore import frame

    out: dict[str, Any] = {"log": f"CDNOW master layout x{args.frame_rows:,}"}
    out |= check_frame(cdnow_scaled(args.check_rows))
    with tempfile.TemporaryDirectory() as tmp:
        table = cdnow_scaled(args.frame_rows)
        path = Path(tmp) / "cdnow.parquet"
        pq.write_table(table, path)
        df = table.to_pandas()
        del table
        out["rows"] = len(df)
        out["customers"] = int(df["customer"].nunique())

        def groupby() -> Any:
            return df.groupby("customer").agg(
                last=("date", "max"), count=("date", "size"), spend=("amount", "sum")
            )

        fns: dict[str, Callable[[], Any]] = {
            "pandas groupby": groupby,
            "frame.rfm_segments (pandas)": lambda: frame.rfm_segments(
                df, CDNOW_AS_OF, columns=CDNOW_COLUMNS
            ),
            "frame.rfm_segments (Parquet)": lambda: frame.rfm_segments(
                path, CDNOW_AS_OF, columns=CDNOW_COLUMNS
            ),
            "frame.action_scores (pandas)": lambda: frame.action_scores(
                df, CDNOW_AS_OF, columns=CDNOW_COLUMNS
            ),
            "frame.action_scores (Parquet)": lambda: frame.action_scores(
                path, CDNOW_AS_OF, columns=CDNOW_COLUMNS
            ),
        }
        lifetimes = lifetimes_summary(df, args.lifetimes_rows)
        if lifetimes is not None:
            fns[f"lifetimes summary ({args.lifetimes_rows:,} rows)"] = lifetimes
            small = df.iloc[: args.lifetimes_rows]
            fns[f"pandas groupby ({args.lifetimes_rows:,} rows)"] = lambda: (
                small.groupby("customer").agg(
                    last=("date", "max"),
                    count=("date", "size"),
                    spend=("amount", "sum"),
                )
            )
        best = interleaved(fns, args.repeat)
    base = best["pandas groupby"]
    out["seconds"] = {name: round(s, 3) for name, s in best.items()}
    out["over_pandas_groupby"] = {name: round(s / base, 2) for name, s in best.items()}
    return out


def lifetimes_summary(df: Any, rows: int) -> Callable[[], Any] | None:
    try:
        from lifetimes.utils import summary_data_from_transaction_data
    except ImportError:
        return None
    naive = df.iloc[:rows].assign(date=df["date"].iloc[:rows].dt.tz_localize(None))
    return lambda: summary_data_from_transaction_data(
        naive, "customer", "date", monetary_value_col="amount"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--contacts", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", help="write the figures to this file")
    parser.add_argument("--frame-rows", type=int, default=10_000_000)
    parser.add_argument("--check-rows", type=int, default=1_000_000)
    parser.add_argument("--lifetimes-rows", type=int, default=1_000_000)
    parser.add_argument("--no-pure", action="store_true", help="only the frame section")
    args = parser.parse_args()
    runs = []
    if not args.no_pure:
        events = synthetic(args.events, args.contacts)
        runs.append(measure("synthetic", events, AS_OF, args.repeat))
        del events
    spec = importlib.util.find_spec("lifetimes")
    if not args.no_pure and spec is not None and spec.submodule_search_locations:
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
    if args.frame_rows:
        runs.append(measure_frame(args))
    for run in runs:
        print()
        for key, value in run.items():
            print(f"{key:28} {value}")
    if args.json:
        Path(args.json).write_text(json.dumps(runs, indent=2))


if __name__ == "__main__":
    main()
