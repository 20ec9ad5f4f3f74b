"""Benchmark: io.read_events on a CSV file against pandas.read_csv of the same file.

A synthetic export of ``--rows`` events (1,000,000 by default) over 50,000
contacts, with the columns an activity export has: contact, kind, at (ISO-8601
with offset), value, id, path, campaign. Timed, best of ``--repeat``:

- ``read_events``: every row read, typed, checked and built into an ``Event``
  (``sum(1 for _ in io.read_events(path))``);
- ``pandas.read_csv``: the file into a DataFrame, columns as pandas infers them
  (timestamps left as text), and again with ``parse_dates=["at"]`` (UTC), the
  fair comparison for typed timestamps;
- the same for a Parquet copy (when pyarrow is installed): ``read_events``
  against ``pyarrow.parquet.read_table``.

The ratio ``read_events / pandas.read_csv`` is printed as it is. The pure path
builds one Python object per row; files of millions of rows are for
``leadscore.frame``, which scores columns without building events.

    python benchmarks/bench_io.py                 # 1M rows
    python benchmarks/bench_io.py --rows 50000    # a smoke run
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import gc
import importlib.util
import json
import random
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from leadscore import io

START = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
KINDS = ["email.opened", "email.clicked", "page.viewed", "form.submitted", "order.paid"]
PATHS = ["/", "/pricing", "/blog/scoring", "/checkout", "/sales/demo"]


def write_csv(path: Path, rows: int, contacts: int, seed: int = 15) -> None:
    rng = random.Random(seed)
    span = 365 * 24 * 3600
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["contact", "kind", "at", "value", "id", "path", "campaign"])
        for i in range(rows):
            kind = rng.choice(KINDS)
            at = START + dt.timedelta(seconds=rng.randrange(span))
            writer.writerow(
                [
                    f"c{rng.randrange(contacts)}@example.com",
                    kind,
                    at.isoformat(),
                    f"{rng.uniform(5, 200):.2f}" if kind == "order.paid" else "",
                    f"e{i}",
                    rng.choice(PATHS) if kind == "page.viewed" else "",
                    f"May {rng.randrange(4)}" if kind.startswith("email") else "",
                ]
            )


CPU: dict[str, float] = {}


def best(fn: Callable[[], Any], repeat: int, name: str = "") -> float:
    """The best wall time of *repeat* runs (its CPU time is kept in CPU[name])."""
    times = []
    for _ in range(repeat):
        gc.collect()
        start, cpu = time.perf_counter(), time.process_time()
        fn()
        times.append((time.perf_counter() - start, time.process_time() - cpu))
    wall, cpu_time = min(times)
    CPU[name] = cpu_time
    return wall


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--contacts", type=int, default=50_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", help="write the figures to this file")
    args = parser.parse_args()

    import pandas as pd

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "events.csv"
        write_csv(path, args.rows, args.contacts)

        def read_all(source: Path) -> int:
            return sum(1 for _ in io.read_events(source))

        assert read_all(path) == args.rows
        figures: dict[str, Any] = {"rows": args.rows, "mb": path.stat().st_size / 1e6}
        figures["read_events_csv_s"] = best(lambda: read_all(path), args.repeat, "ev")
        figures["pandas_read_csv_s"] = best(
            lambda: pd.read_csv(path), args.repeat, "pd"
        )
        figures["pandas_read_csv_dates_s"] = best(
            lambda: pd.read_csv(path, parse_dates=["at"]), args.repeat
        )
        if importlib.util.find_spec("pyarrow") is not None:  # Parquet, if installed
            import pyarrow.parquet as pq

            parquet = Path(folder) / "events.parquet"
            pd.read_csv(path, dtype={"id": "string"}).to_parquet(parquet)
            figures["read_events_parquet_s"] = best(
                lambda: read_all(parquet), args.repeat
            )
            figures["pyarrow_read_table_s"] = best(
                lambda: pq.read_table(parquet), args.repeat
            )
    figures["ratio_vs_read_csv"] = (
        figures["read_events_csv_s"] / figures["pandas_read_csv_s"]
    )
    figures["ratio_vs_read_csv_dates"] = (
        figures["read_events_csv_s"] / figures["pandas_read_csv_dates_s"]
    )
    figures["read_events_rows_per_s"] = args.rows / figures["read_events_csv_s"]
    # CPU seconds: steadier than wall time on a busy machine.
    figures["ratio_vs_read_csv_cpu"] = CPU["ev"] / CPU["pd"]
    for key, value in figures.items():
        shown = f"{value:,.3f}" if isinstance(value, float) else f"{value:,}"
        print(f"{key:28} {shown}")
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
