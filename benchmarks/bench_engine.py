"""Benchmark: the engine against the performance targets of issue 14.

Sections (``--only`` picks some):

ingest   100k events with ids in batches of 1,000, every preset, over 100k and
         over 5k contacts: MemoryStore, SQLiteStore and (with
         LEADSCORE_TEST_POSTGRES_URL) PostgreSQL, each SQL store against its
         storage floor: a raw ``executemany`` of the same rows into a table with
         the same indexes and pragmas, one transaction per batch; and against
         the "contract floor": raw writes of every row the engine writes for
         those batches (events, outbox rows, due rows), executemany's on
         SQLite, COPY streams on PostgreSQL.
single   one durable event per transaction (SQLite): the median latency.
open     opening an engine over N stored events (SQLite file, N/20 contacts):
         seconds and peak memory, in a fresh process; then one contact's score
         and one batch of 1,000 events (the reads a cold engine does first).
advance  ``advance`` over one day of expiries with N contacts (MemoryStore).

Every figure is measured here, once per run (``--repeat`` takes the best of N).
``--collector paused`` runs every batch (the engine's, the hand-written loop's and
the floors') with the cyclic garbage collector paused, as the engine how-to's
"Throughput" recipe does. An upper bound of what the recipe gains: the events are
made before the clock starts, so between batches next to nothing is allocated and
the collector hardly runs at all (an application making each batch's events
between batches gains less: see the how-to). The default leaves it on, as Python
starts.
"""

from __future__ import annotations

import argparse
import bisect
import contextlib
import datetime as dt
import gc
import hashlib
import json
import os
import random
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
import typing
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import leadscore as ls
from leadscore.engine import Engine
from leadscore.stores import MemoryStore, SQLiteStore
from leadscore.stores._rows import EVENT_COLUMNS, to_row
from leadscore.stores._sqlite import MIGRATIONS

T0 = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
_T0_US = int(T0.timestamp()) * 1_000_000
PRESETS: dict[str, Callable[[], ls.ScoringModel]] = {
    "highlevel": ls.presets.highlevel,
    "activecampaign": ls.presets.activecampaign,
    "email_engagement": ls.presets.email_engagement,
}
KINDS = (
    "email.opened",
    "email.clicked",
    "email.replied",
    "email.delivered",
    "page.viewed",
    "form.submitted",
    "order.paid",
)


#: Whether each batch runs with the garbage collector paused (``--collector``).
PAUSED = False


@contextlib.contextmanager
def batch() -> Iterator[None]:
    """One batch's work, with the collector paused if ``--collector paused``."""
    if not PAUSED or not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def make(n: int, contacts: int, seed: int = 3, prefix: str = "e") -> list[ls.Event]:
    rng = random.Random(seed)
    return [
        ls.Event(
            f"c{rng.randrange(contacts)}",
            rng.choice(KINDS),
            T0 + dt.timedelta(minutes=rng.randrange(525_600)),
            {"path": rng.choice(("/pricing", "/checkout", "/blog")), "message": "m1"},
            id=f"{prefix}{i}",
        )
        for i in range(n)
    ]


def engine_rate(
    model: ls.ScoringModel,
    new_store: Callable[[], Any],
    events: list[ls.Event],
    reports: list[Any] | None = None,
) -> tuple[float, float]:
    """Events per second through Engine.ingest, and the median batch in ms.

    With *reports*, each batch's changes and crossings are appended to it as
    ``(changes, crossings)`` of plain tuples (compared with :class:`HandHighLevel`).
    """
    engine = Engine([model], new_store(), thresholds={model.name: [25.0]})
    latencies = []
    t0 = time.perf_counter()
    for i in range(0, len(events), 1000):
        chunk = events[i : i + 1000]
        s = time.perf_counter()
        with batch():
            got = engine.ingest(chunk)
        latencies.append(time.perf_counter() - s)
        if reports is not None:
            reports.append(
                (
                    sorted((c.contact, c.at, c.before, c.after) for c in got),
                    sorted(
                        (x.contact, x.at, x.before, x.after, x.direction)
                        for _, x in got.crossings
                    ),
                )
            )
    rate = len(events) / (time.perf_counter() - t0)
    engine.close()
    return rate, statistics.median(latencies) * 1000


class HandHighLevel:
    """The HighLevel preset's ingest written by hand, for one model only.

    What a user would write for exactly these rules (points, 90-day expiry, one
    threshold of 25 both ways) with nothing else: ids deduplicated, events kept,
    a sorted list of ``(instant, points)`` per contact, the changes and crossings
    at the batch's instants, each with an outbox id and a JSON payload, and the
    contact's due row (its first expiry: the benchmark never advances). The
    stream has no negative kinds, so every crossing compared goes up. No
    merges, manual scores, caps, other models, cache, explanations or
    transaction. The benchmark checks it reports the engine's
    numbers before its rate counts.
    """

    LIFE = 90 * 86_400_000_000
    POINTS: typing.ClassVar[dict[str, float]] = {
        "form.submitted": 10.0,
        "email.opened": 5.0,
        "appointment.booked": 15.0,
        "email.unsubscribed": -5.0,
        "appointment.missed": -10.0,
    }

    def __init__(self) -> None:
        self.ids: dict[str | None, ls.Event] = {}
        self.events: list[ls.Event] = []
        self.logs: dict[str, list[tuple[int, float]]] = {}
        self.outbox: list[tuple[str, str, str]] = []
        self.due: dict[str, int] = {}
        self.batches = 0

    def ingest(self, batch: list[ls.Event]) -> tuple[list[Any], list[Any]]:
        self.batches += 1
        new, grouped = self._new(batch), dict[str, list[tuple[int, float]]]()
        self.events.extend(new)
        for e in new:
            points = self.POINTS.get(e.kind)
            if points is None and e.kind == "page.viewed":
                points = 20.0 if e.attrs.get("path") == "/pricing" else None
            if points is not None:
                t = (e.at - _EPOCH) // _US
                grouped.setdefault(e.contact, []).append((t, points))
        changes: list[Any] = []
        crossings: list[Any] = []
        for contact, added in grouped.items():
            log = self.logs.setdefault(contact, [])
            for item in added:
                bisect.insort(log, item)
            for t in sorted({t for t, _ in added}):
                # Alive at t: t - LIFE < s <= t; just before t: t - LIFE <= s < t.
                after = sum(
                    p for _, p in log[_right(log, t - self.LIFE) : _right(log, t)]
                )
                before = sum(
                    p for _, p in log[_left(log, t - self.LIFE) : _left(log, t)]
                )
                if before != after:
                    self._report(changes, crossings, (contact, t, before, after))
            # The due row: the first expiry after the watermark, which (no
            # advance runs here) is the earliest entry's.
            self.due[contact] = log[0][0] + self.LIFE
        return changes, crossings

    def _new(self, batch: list[ls.Event]) -> list[ls.Event]:
        ids, new = self.ids, []
        for e in batch:
            if e.id is None:
                new.append(e)  # id-less events are new every time
            elif e.id not in ids:
                ids[e.id] = e
                new.append(e)
        return new

    def _report(
        self, changes: list[Any], crossings: list[Any], moment: tuple[Any, ...]
    ) -> None:
        contact, t, before, after = moment
        at = _EPOCH + dt.timedelta(microseconds=t)
        changes.append((contact, at, before, after))
        payload = {"contact": contact, "at_us": t, "before": before, "after": after}
        key = f"change:{self.batches}:{contact}:{t}:{before}:{after}"
        self.outbox.append((_hash(key), contact, json.dumps(payload)))
        if before < 25 <= after or after < 25 <= before:
            way = "up" if after >= 25 else "down"
            crossings.append((contact, at, before, after, way))
            payload["direction"] = way
            self.outbox.append((_hash(f"{key}:{way}"), contact, json.dumps(payload)))


_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_US = dt.timedelta(microseconds=1)


def _hash(text: str) -> str:
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


def _right(log: list[tuple[int, float]], t: int) -> int:
    return bisect.bisect_right(log, (t, float("inf")))


def _left(log: list[tuple[int, float]], t: int) -> int:
    return bisect.bisect_left(log, (t, float("-inf")))


def hand_rate(events: list[ls.Event], reports: list[Any]) -> float:
    """Events per second through :class:`HandHighLevel`, batches of 1,000."""
    hand = HandHighLevel()
    t0 = time.perf_counter()
    for i in range(0, len(events), 1000):
        chunk = events[i : i + 1000]
        with batch():
            reports.append(hand.ingest(chunk))
    rate = len(events) / (time.perf_counter() - t0)
    for changes, crossings in reports:
        changes.sort()
        crossings.sort()
    return rate


FLOOR_DDL = (
    """CREATE TABLE floor (seq INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id TEXT UNIQUE, contact TEXT NOT NULL, kind TEXT NOT NULL,
    at_us INTEGER NOT NULL, attrs TEXT NOT NULL, value REAL NOT NULL,
    merged_from TEXT, checksum TEXT)""",
    "CREATE INDEX floor_contact ON floor (contact)",
    "CREATE INDEX floor_from ON floor (merged_from)",
)


class Capturing(MemoryStore):
    """A MemoryStore that keeps, per batch, the rows a SQL store would write.

    ``writes`` gets ``(events, outbox rows, due rows)`` per commit: the new
    events, the ``(id, contact, payload)`` of each outbox row and the
    ``(key, due_us or None)`` of each due row, for :func:`sqlite_contract_floor`.
    """

    def __init__(self) -> None:
        super().__init__()
        self.writes: list[tuple[list[ls.Event], list[tuple[Any, ...]], list[Any]]] = []

    def commit(self, events: Any, effects: Any, *, since: int) -> Any:
        due: dict[str, int | None] = {}

        def spy(txn: Any) -> Any:
            done = effects(txn)
            due.update(done.due)
            return done

        got = super().commit(events, spy, since=since)
        outbox = [(r.id, r.contact, r.payload) for r in got.rows]
        self.writes.append((list(got.new), outbox, list(due.items())))
        return got


def sqlite_contract_floor(
    path: Path, model: ls.ScoringModel, events: list[Any]
) -> float:
    """Events per second of raw executemany's of every row the engine writes.

    The engine's rows for the same batches (captured from a MemoryStore run):
    the events, the outbox rows and the due rows, into tables with the store's
    indexes and pragmas, one transaction per batch (the state row and the
    first-only markers left out). What the SQLite floor would be if it counted
    what issue 14's outbox and due index add to each batch.
    """
    batches = engine_writes(model, events)
    # secure_delete: SQLiteStore's, for its deletes (the due rows').
    db, insert = floor_db(path, (*FLOOR_DDL, *CONTRACT_DDL), secure_delete=True)
    t0 = time.perf_counter()
    for rows, outbox, due in batches:
        with batch():
            db.execute("BEGIN IMMEDIATE")
            db.executemany(insert, rows)
            db.executemany(
                "INSERT INTO outbox (id, contact, payload) VALUES (?, ?, ?)", outbox
            )
            db.executemany(
                "DELETE FROM due WHERE key = ?", [(k,) for k, t in due if t is None]
            )
            db.executemany(
                "INSERT INTO due VALUES (?, ?) "
                "ON CONFLICT (key) DO UPDATE SET due_us = excluded.due_us",
                [(k, t) for k, t in due if t is not None],
            )
            db.execute("COMMIT")
    rate = len(events) / (time.perf_counter() - t0)
    db.close()
    return rate


def engine_writes(model: ls.ScoringModel, events: list[Any]) -> list[Any]:
    """Per batch of 1,000, the rows the engine writes: events, outbox, due."""
    store = Capturing()
    engine = Engine([model], store, thresholds={model.name: [25.0]})
    for i in range(0, len(events), 1000):
        engine.ingest(events[i : i + 1000])
    return [
        ([to_row(e) for e in new], outbox, due) for new, outbox, due in store.writes
    ]


def postgres_contract_floor(
    url: str, model: ls.ScoringModel, events: list[Any]
) -> float:
    """Events per second of COPY streams of every row the engine writes.

    The PostgreSQL twin of :func:`sqlite_contract_floor`, written the fastest
    raw way (the store's own): per batch, in one transaction, one COPY of the
    events, a DELETE of the batch's due keys and one COPY of their new rows, and
    one COPY of the outbox rows; no reads, no locks, no state row.
    """
    import psycopg

    batches = engine_writes(model, events)
    import sqlalchemy as sa

    plain = sa.make_url(url).set(drivername="postgresql")
    plain = plain.render_as_string(hide_password=False)
    with psycopg.connect(plain, autocommit=True) as db:
        db.execute("DROP TABLE IF EXISTS floor, outbox, due")
        for statement in (*FLOOR_DDL, *CONTRACT_DDL):
            db.execute(
                statement.replace(
                    "INTEGER PRIMARY KEY AUTOINCREMENT", "BIGSERIAL PRIMARY KEY"
                )
                .replace("at_us INTEGER", "at_us BIGINT")
                .replace("value REAL", "value DOUBLE PRECISION")
            )
        copy_events = f"COPY floor ({', '.join(EVENT_COLUMNS)}) FROM STDIN"
        t0 = time.perf_counter()
        for rows, outbox, due in batches:
            with batch(), db.transaction(), db.cursor() as cursor:
                with cursor.copy(copy_events) as stream:
                    for row in rows:
                        stream.write_row(row)
                cursor.execute(
                    "DELETE FROM due WHERE key = ANY(%s)", ([k for k, _ in due],)
                )
                with cursor.copy("COPY due (key, due_us) FROM STDIN") as stream:
                    for key, t in due:
                        if t is not None:
                            stream.write_row((key, t))
                with cursor.copy(
                    "COPY outbox (id, contact, payload) FROM STDIN"
                ) as stream:
                    for row in outbox:
                        stream.write_row(row)
        rate = len(events) / (time.perf_counter() - t0)
        db.execute("DROP TABLE floor, outbox, due")
    return rate


CONTRACT_DDL = (
    """CREATE TABLE outbox (pos INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE, contact TEXT NOT NULL, payload TEXT NOT NULL)""",
    "CREATE INDEX outbox_contact ON outbox (contact)",
    "CREATE TABLE due (key TEXT PRIMARY KEY, due_us BIGINT NOT NULL)",
    "CREATE INDEX due_at ON due (due_us, key)",
)


def floor_db(
    path: Path, ddl: tuple[str, ...], *, secure_delete: bool = False
) -> tuple[sqlite3.Connection, str]:
    """A floor's SQLite file (the store's journal pragmas, *ddl* run) and the
    INSERT of an event row into its ``floor`` table."""
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    if secure_delete:
        db.execute("PRAGMA secure_delete=ON")
    for statement in ddl:
        db.execute(statement)
    marks = ", ".join("?" * len(EVENT_COLUMNS))
    insert = f"INSERT INTO floor ({', '.join(EVENT_COLUMNS)}) VALUES ({marks})"  # noqa: S608
    return db, insert


def sqlite_floor(path: Path, events: list[ls.Event]) -> float:
    """Rows per second of a raw executemany, one transaction per 1,000."""
    rows = [to_row(e) for e in events]
    db, sql = floor_db(path, FLOOR_DDL)
    t0 = time.perf_counter()
    for i in range(0, len(rows), 1000):
        chunk = rows[i : i + 1000]
        with batch():
            db.execute("BEGIN IMMEDIATE")
            db.executemany(sql, chunk)
            db.execute("COMMIT")
    rate = len(rows) / (time.perf_counter() - t0)
    db.close()
    return rate


def postgres_floor(url: str, events: list[ls.Event]) -> float:
    import sqlalchemy as sa

    rows = [dict(zip(EVENT_COLUMNS, to_row(e), strict=True)) for e in events]
    engine = sa.create_engine(url)
    with engine.begin() as db:
        db.exec_driver_sql("DROP TABLE IF EXISTS floor")
        db.exec_driver_sql(
            "CREATE TABLE floor (seq BIGSERIAL PRIMARY KEY, event_id TEXT UNIQUE, "
            "contact TEXT NOT NULL, kind TEXT NOT NULL, at_us BIGINT NOT NULL, "
            "attrs TEXT NOT NULL, value DOUBLE PRECISION NOT NULL, merged_from TEXT, "
            "checksum TEXT)"
        )
        db.exec_driver_sql("CREATE INDEX floor_contact ON floor (contact)")
        db.exec_driver_sql("CREATE INDEX floor_from ON floor (merged_from)")
    table = sa.Table("floor", sa.MetaData(), autoload_with=engine)
    t0 = time.perf_counter()
    for i in range(0, len(rows), 1000):
        chunk = rows[i : i + 1000]
        with batch(), engine.begin() as db:
            db.execute(table.insert(), chunk)
    rate = len(rows) / (time.perf_counter() - t0)
    with engine.begin() as db:
        db.exec_driver_sql("DROP TABLE floor")
    engine.dispose()
    return rate


def section_ingest(args: argparse.Namespace) -> dict[str, Any]:
    out: dict[str, Any] = {}
    url = os.environ.get("LEADSCORE_TEST_POSTGRES_URL")
    for contacts in args.contacts:
        events = make(args.events, contacts)
        for name, preset in PRESETS.items():
            model = preset()
            row: dict[str, Any] = {}
            row["memory_per_s"] = round(
                max(
                    engine_rate(model, MemoryStore, events)[0]
                    for _ in range(args.repeat)
                )
            )
            if name == "highlevel":
                row.update(against_hand(model, events, args.repeat))
                row["memory_x_hand"] = round(row["hand_per_s"] / row["memory_per_s"], 2)
            with tempfile.TemporaryDirectory() as tmp:
                files = iter(range(1000))

                def sqlite(tmp: str = tmp, files: Any = files) -> SQLiteStore:
                    return SQLiteStore(Path(tmp) / f"{next(files)}.db")

                rate = max(
                    engine_rate(model, sqlite, events)[0] for _ in range(args.repeat)
                )
                floor = max(
                    sqlite_floor(Path(tmp) / f"floor{r}.db", events)
                    for r in range(args.repeat)
                )
                contract = max(
                    sqlite_contract_floor(Path(tmp) / f"all{r}.db", model, events)
                    for r in range(args.repeat)
                )
            row["sqlite_per_s"] = round(rate)
            row["sqlite_floor_per_s"] = round(floor)
            row["sqlite_x_floor"] = round(floor / rate, 2)
            row["sqlite_contract_floor_per_s"] = round(contract)
            row["sqlite_x_contract_floor"] = round(contract / rate, 2)
            if url:
                from leadscore.stores.sqlalchemy import SQLAlchemyStore

                def postgres() -> SQLAlchemyStore:
                    old = SQLAlchemyStore(url)
                    old.drop()
                    old.close()
                    return SQLAlchemyStore(url)

                rate = engine_rate(model, postgres, events)[0]
                floor = postgres_floor(url, events)
                contract = postgres_contract_floor(url, model, events)
                row["postgres_per_s"] = round(rate)
                row["postgres_floor_per_s"] = round(floor)
                row["postgres_x_floor"] = round(floor / rate, 2)
                row["postgres_contract_floor_per_s"] = round(contract)
                row["postgres_x_contract_floor"] = round(contract / rate, 2)
            out[f"{name}/{contacts}"] = row
            print(f"ingest {name:16} {contacts:>7} contacts  {row}", flush=True)
    return out


def against_hand(
    model: ls.ScoringModel, events: list[ls.Event], repeat: int
) -> dict[str, Any]:
    """The hand-written HighLevel loop's rate, once its numbers are the engine's."""
    mine: list[Any] = []
    engine_rate(model, MemoryStore, events, mine)
    best = 0.0
    for _ in range(repeat):
        theirs: list[Any] = []
        best = max(best, hand_rate(events, theirs))
        if theirs != mine:
            msg = "the hand-written loop does not report the engine's numbers"
            raise SystemExit(msg)
    return {"hand_per_s": round(best)}


def section_single(args: argparse.Namespace) -> dict[str, Any]:
    model = ls.presets.highlevel()
    events = make(args.single, 1000, seed=5, prefix="s")
    with tempfile.TemporaryDirectory() as tmp:
        engine = Engine([model], SQLiteStore(Path(tmp) / "one.db"))
        latencies = []
        for e in events:
            s = time.perf_counter()
            engine.ingest([e])
            latencies.append(time.perf_counter() - s)
        engine.close()
    out = {
        "events": len(events),
        "median_ms": round(statistics.median(latencies) * 1000, 3),
    }
    print(f"single {out}", flush=True)
    return out


OPEN = textwrap.dedent("""
    import datetime as dt, resource, sys, time
    import leadscore as ls
    from leadscore.engine import Engine
    from leadscore.stores import SQLiteStore

    def peak_kib():
        # This process's own peak: ru_maxrss after fork and exec also counts
        # the parent's resident memory at the fork (the benchmark's, here).
        try:
            with open("/proc/self/status") as status:
                for line in status:
                    if line.startswith("VmHWM:"):
                        return int(line.split()[1])
        except OSError:
            pass
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux

    model = ls.presets.highlevel()
    t0 = time.perf_counter()
    engine = Engine([model], SQLiteStore(sys.argv[1]))
    seconds = time.perf_counter() - t0
    opened = peak_kib()
    # Then what a process does first: one contact's score, one batch.
    t0 = time.perf_counter()
    engine.score(model.name, "c1", "2025-01-01T00:00Z")
    score = time.perf_counter() - t0
    at = dt.datetime(2024, 6, 1, tzinfo=dt.UTC)
    batch = [
        ls.Event(f"c{i * 7}", "form.submitted", at, id=f"new{i}") for i in range(1000)
    ]
    t0 = time.perf_counter()
    engine.ingest(batch)
    ingest = time.perf_counter() - t0
    peak = peak_kib()
    print(seconds, opened, score, ingest, peak)
""")


def section_open(args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "big.db"
        SQLiteStore(path).close()
        db = sqlite3.connect(path, isolation_level=None)
        # Rows written by SQL itself (10 million Event objects would take longer
        # than the measurement): N events over N/20 contacts, seven kinds, one
        # year of instants, attributes as make() writes them. The checksum is
        # NULL, as in rows written before schema version 2 (read unchecked).
        kinds = ", ".join(f"('{k}')" for k in KINDS)
        # A fixture, built fast: no journal, and the two secondary indexes made
        # after the rows (by sorting) with the DDL of the store's migration 1.
        db.execute("PRAGMA journal_mode=OFF")
        db.execute("PRAGMA synchronous=OFF")
        db.execute("DROP INDEX leadscore_events_contact")
        db.execute("DROP INDEX leadscore_events_from")
        db.execute("BEGIN")
        db.execute(
            f"""
            WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n
                                    WHERE i + 1 < ?),
                 k(kind, pos) AS (SELECT column1, row_number() OVER () - 1
                                  FROM (VALUES {kinds}))
            INSERT INTO leadscore_events
                (event_id, contact, kind, at_us, attrs, value, merged_from)
            SELECT 'o' || i, 'c' || ((i * 7919) % ?),
                   (SELECT kind FROM k WHERE pos = i % 7),
                   ? + ((i * 104729) % 525600) * 60000000,
                   '{{"message":"m1","path":"/pricing"}}', 0.0, NULL
            FROM n
            """,  # noqa: S608 - constants only
            (args.open_events, max(1, args.open_events // 20), _T0_US),
        )
        db.execute("COMMIT")
        db.execute(MIGRATIONS[1][1])
        db.execute(MIGRATIONS[1][2])
        db.execute("PRAGMA journal_mode=WAL")
        db.close()
        result = subprocess.run(  # noqa: S603 - this interpreter, our script
            [sys.executable, "-c", OPEN, str(path)],
            capture_output=True,
            text=True,
            check=False,
        )
    if result.returncode:
        sys.exit(result.stderr)
    seconds, opened, score, ingest, peak = result.stdout.split()
    out = {
        "events": args.open_events,
        "open_s": round(float(seconds), 3),
        "open_peak_mib": round(int(opened) / 1024),
        "then_one_score_s": round(float(score), 3),
        "then_one_batch_of_1000_s": round(float(ingest), 3),
        "peak_mib": round(int(peak) / 1024),
    }
    print(f"open {out}", flush=True)
    return out


def section_advance(args: argparse.Namespace) -> dict[str, Any]:
    model = ls.presets.highlevel()  # 90-day expiry
    n = args.advance_contacts
    rng = random.Random(9)
    store = MemoryStore()
    for i in range(0, n, 100_000):
        store.append(
            [
                ls.Event(
                    f"c{j}",
                    "form.submitted",
                    T0 + dt.timedelta(minutes=rng.randrange(90 * 24 * 60)),
                    id=f"a{j}",
                )
                for j in range(i, min(n, i + 100_000))
            ]
        )
    t0 = time.perf_counter()
    engine = Engine([model], store, thresholds={model.name: [5.0]})
    opened = time.perf_counter() - t0
    day = dt.timedelta(days=1)
    t0 = time.perf_counter()
    first = engine.advance(T0 + 90 * day)  # the first: builds the index of expiries
    warm = time.perf_counter() - t0
    t0 = time.perf_counter()
    one_day = engine.advance(T0 + 91 * day)
    seconds = time.perf_counter() - t0
    out = {
        "contacts": n,
        "open_s": round(opened, 2),
        "first_advance_s": round(warm, 2),
        "first_advance_changes": len(first),
        "one_day_s": round(seconds, 3),
        "one_day_changes": len(one_day),
    }
    print(f"advance {out}", flush=True)
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument(
        "--only", nargs="*", default=["ingest", "single", "open", "advance"]
    )
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--contacts", type=int, nargs="*", default=[100_000, 5_000])
    parser.add_argument("--single", type=int, default=2_000)
    parser.add_argument("--open-events", type=int, default=10_000_000)
    parser.add_argument("--advance-contacts", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=1, help="best of N passes")
    parser.add_argument("--json", help="write the figures to this file")
    parser.add_argument(
        "--collector",
        choices=["on", "paused"],
        default="on",
        help="pause the garbage collector during each batch (the how-to's recipe)",
    )
    args = parser.parse_args()
    global PAUSED  # noqa: PLW0603 - one switch for the whole run
    PAUSED = args.collector == "paused"
    sections = {
        "ingest": section_ingest,
        "single": section_single,
        "open": section_open,
        "advance": section_advance,
    }
    figures: dict[str, Any] = {"collector": args.collector}
    figures |= {name: sections[name](args) for name in args.only}
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
