"""Benchmark: Engine ingest throughput per store, and read latency.

Ingest: events with ids over many contacts, through ``Engine.ingest`` (store append
plus ledger fold plus score changes), into MemoryStore, SQLiteStore (batches of
1,000 and of 1: the latter is one durable transaction per event) and PostgreSQL
through SQLAlchemyStore (batches of 1,000; only when LEADSCORE_TEST_POSTGRES_URL
is set). Reads: one contact's score and all scores, with 100,000 contacts.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import leadscore as ls
from leadscore.engine import Engine
from leadscore.stores import MemoryStore, SQLiteStore

T0 = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
AS_OF = dt.datetime(2024, 12, 31, tzinfo=dt.UTC)
MODELS = {
    # once_per on "Become a Customer": every read takes the general path
    "activecampaign": ls.presets.activecampaign(),
    # plain rules: reads take the fast path
    "highlevel": ls.presets.highlevel(),
}
MODEL = MODELS["activecampaign"]
KINDS = ("email.opened", "email.clicked", "email.replied", "page.viewed", "order.paid")


def make(n: int, contacts: int, seed: int = 3, prefix: str = "e") -> list[ls.Event]:
    rng = random.Random(seed)
    return [
        ls.Event(
            f"c{rng.randrange(contacts)}",
            rng.choice(KINDS),
            T0 + dt.timedelta(minutes=rng.randrange(525_600)),
            {"path": rng.choice(("/sales/a", "/checkout", "/blog"))},
            id=f"{prefix}{i}",
        )
        for i in range(n)
    ]


def ingest_rate(
    new_store: Callable[[], Any], events: list[ls.Event], batch: int, repeat: int
) -> dict[str, Any]:
    """The best of *repeat* passes, each into a fresh store."""
    best: dict[str, Any] = {}
    for _ in range(repeat):
        engine = Engine([MODEL], new_store())
        latencies = []
        t0 = time.perf_counter()
        for i in range(0, len(events), batch):
            s = time.perf_counter()
            engine.ingest(events[i : i + batch])
            latencies.append(time.perf_counter() - s)
        rate = round(len(events) / (time.perf_counter() - t0))
        engine.close()
        if rate > best.get("events_per_s", 0):
            best = {
                "events": len(events),
                "batch": batch,
                "events_per_s": rate,
                "median_batch_ms": round(statistics.median(latencies) * 1000, 3),
            }
    return best


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--contacts", type=int, default=100_000)
    parser.add_argument(
        "--single", type=int, default=2_000, help="events ingested one by one"
    )
    parser.add_argument("--read-events", type=int, default=500_000)
    parser.add_argument("--repeat", type=int, default=1, help="best of N passes")
    parser.add_argument("--model", choices=sorted(MODELS), default="activecampaign")
    parser.add_argument("--json", help="write the figures to this file")
    args = parser.parse_args()
    global MODEL  # noqa: PLW0603 - the one knob of this script
    MODEL = MODELS[args.model]
    events = make(args.events, args.contacts)
    figures: dict[str, Any] = {"model": args.model}
    repeat = args.repeat
    figures["memory_1000"] = ingest_rate(MemoryStore, events, 1000, repeat)
    with tempfile.TemporaryDirectory() as tmp:
        files = iter(range(1_000_000))

        def sqlite() -> SQLiteStore:
            return SQLiteStore(Path(tmp) / f"{next(files)}.db")

        figures["sqlite_1000"] = ingest_rate(sqlite, events, 1000, repeat)
        figures["sqlite_1"] = ingest_rate(sqlite, events[: args.single], 1, repeat)
    url = os.environ.get("LEADSCORE_TEST_POSTGRES_URL")
    if url:
        from leadscore.stores.sqlalchemy import SQLAlchemyStore

        def postgres() -> SQLAlchemyStore:
            old = SQLAlchemyStore(url)
            old.drop()
            old.close()
            return SQLAlchemyStore(url)

        figures["postgres_1000"] = ingest_rate(postgres, events, 1000, repeat)
    # Reads: a store holding enough events for ~100,000 contacts, opened by an
    # engine (which folds them once), then one score and all scores.
    store = MemoryStore()
    store.append(make(args.read_events, args.contacts, seed=4, prefix="r"))
    engine = Engine([MODEL], store)
    contacts = sorted({e.contact for e in store.events()})
    t0 = time.perf_counter()
    for c in contacts[:1000]:
        engine.score(MODEL.name, c, AS_OF)
    one = (time.perf_counter() - t0) / 1000
    t0 = time.perf_counter()
    everyone = engine.scores(MODEL.name, AS_OF)
    figures["read"] = {
        "contacts": len(everyone),
        "one_score_ms": round(one * 1000, 3),
        "all_scores_s": round(time.perf_counter() - t0, 3),
    }
    for name, value in figures.items():
        print(f"{name:14} {value}")
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
