"""Real processes: two engines over one store, and kill -9 of a writer or a consumer.

Every process here is a real ``python`` child; SIGKILL gives it no chance to
clean up. The checks: nothing acknowledged is lost, every reported change is in
the outbox with its cause, and a consumer gets every record at least once, in
order per contact, with duplicates only of records it had not acknowledged.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

import leadscore as ls
from leadscore.engine import Engine, Outbox
from leadscore.stores import SQLiteStore

T0 = dt.datetime(2024, 5, 1, tzinfo=dt.UTC)
MODEL = ls.presets.highlevel()
NAME = MODEL.name
POSTGRES = os.environ.get("LEADSCORE_TEST_POSTGRES_URL")

# -- two engines, one store ----------------------------------------------------------

TWO_ENGINES = textwrap.dedent("""
    import json, sys, time, datetime as dt
    import leadscore as ls
    from leadscore.engine import Engine
    kind, where, me, other, rounds = sys.argv[1:6]
    if kind == "sqlite":
        from leadscore.stores import SQLiteStore
        store = SQLiteStore(where)
    else:
        from leadscore.stores.sqlalchemy import SQLAlchemyStore
        store = SQLAlchemyStore(where)
    model = ls.presets.highlevel()
    t = dt.datetime(2024, 5, 1, tzinfo=dt.UTC)
    engine = Engine([model], store)   # opened before the other one writes
    print("open", flush=True)
    sys.stdin.readline()              # both are open: go
    for b in range(int(rounds)):
        engine.ingest([ls.Event(f"{me}{b}", "form.submitted", t, id=f"{me}-{b}-{i}")
                       for i in range(3)])
    deadline = time.monotonic() + 60
    while True:                       # until every event of the other is read
        scores = engine.scores(model.name, t)
        if sum(c.startswith(other) for c in scores) == int(rounds):
            break
        assert time.monotonic() < deadline, scores
        time.sleep(0.01)
    print(json.dumps(scores), flush=True)
""")


def _two_engines(kind, where, rounds=25):
    children = [
        subprocess.Popen(
            [sys.executable, "-c", TWO_ENGINES, kind, where, me, other, str(rounds)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for me, other in (("a", "b"), ("b", "a"))
    ]
    for child in children:
        assert "open" == child.stdout.readline().strip()
    for child in children:
        child.stdin.write("go\n")
        child.stdin.flush()
    outputs = [child.communicate(timeout=120)[0] for child in children]
    assert [0, 0] == [child.returncode for child in children]
    expected = {f"{who}{b}": 30.0 for who in "ab" for b in range(rounds)}
    for out in outputs:
        assert expected == json.loads(out)


def test_two_processes_over_one_sqlite_file_read_each_others_events(tmp_path):
    path = str(tmp_path / "shared.db")
    SQLiteStore(path).close()
    _two_engines("sqlite", path)


def test_two_processes_over_one_postgres_database_read_each_others_events():
    if not POSTGRES:
        pytest.skip("no PostgreSQL: set LEADSCORE_TEST_POSTGRES_URL (.ci/postgres)")
    from leadscore.stores.sqlalchemy import SQLAlchemyStore

    fresh = SQLAlchemyStore(POSTGRES)
    fresh.drop()
    fresh.close()
    SQLAlchemyStore(POSTGRES).close()
    _two_engines("postgres", POSTGRES)


# -- kill -9 of a writer -------------------------------------------------------------

WRITER = textwrap.dedent("""
    import sys, datetime as dt
    import leadscore as ls
    from leadscore.engine import Engine
    from leadscore.stores import SQLiteStore
    path, start = sys.argv[1], int(sys.argv[2])
    model = ls.presets.highlevel()
    engine = Engine([model], SQLiteStore(path), thresholds={model.name: [25]})
    t = dt.datetime(2024, 5, 1, tzinfo=dt.UTC)
    print("ready", flush=True)
    for b in range(start, start + 10_000):
        contact = f"c{b % 7}"
        engine.ingest([ls.Event(contact, "form.submitted", t + dt.timedelta(hours=b),
                                id=f"e{b}")])
        if b % 5 == 4:
            engine.advance(t + dt.timedelta(hours=b))
        print(b, flush=True)
""")

TRIALS = 20


def test_kill_9_of_a_writer_loses_no_acknowledged_event_and_no_change(tmp_path):
    """20 kills at random points: acknowledged batches stay, each with its changes."""
    path = str(tmp_path / "killed.db")
    rng = random.Random(14)
    acked, start = set(), 0
    for _ in range(TRIALS):
        writer = subprocess.Popen(
            [sys.executable, "-c", WRITER, path, str(start)],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert "ready" == writer.stdout.readline().strip()
        for _ in range(rng.randrange(1, 6)):
            acked.add(int(writer.stdout.readline()))
        time.sleep(rng.random() / 50)  # kill somewhere inside a later batch
        os.kill(writer.pid, signal.SIGKILL)
        writer.wait(30)
        # The batches it was told were stored, and maybe one more.
        rest = writer.stdout.read().split()
        acked.update(int(b) for b in rest)
        writer.stdout.close()
        start = max(acked) + 1  # re-sends a batch stored but not told: a no-op
    store = SQLiteStore(path)
    try:
        stored = {e.id for e in store.events()}
        assert {f"e{b}" for b in acked} <= stored
        engine = Engine([MODEL], store)
        records = Outbox(store).read(limit=100_000)
        ids = [r.id for r in records]
        assert len(ids) == len(set(ids))  # no duplicate in the outbox
        changes = {(r.contact, r.at) for r in records if r.type == "change"}
        for e in store.events():  # every stored event's change is in the outbox
            assert (e.contact, e.at) in changes
        events = store.events()
        assert ls.score(MODEL, events, T0 + dt.timedelta(days=2000)) == engine.scores(
            NAME, T0 + dt.timedelta(days=2000)
        )
    finally:
        store.close()


# -- kill -9 of a consumer -----------------------------------------------------------

CONSUMER = textwrap.dedent("""
    import sys, time
    from leadscore.engine import Outbox
    from leadscore.stores import SQLiteStore
    path, log = sys.argv[1], sys.argv[2]
    outbox = Outbox(SQLiteStore(path), "webhook")
    with open(log, "a") as delivered:
        print("ready", flush=True)
        while records := outbox.read(limit=5):
            for r in records:             # "deliver": append the id to the log
                delivered.write(f"{r.position} {r.id} {r.contact}\\n")
                delivered.flush()
                time.sleep(0.002)         # as long as a quick webhook call
            outbox.acknowledge(records[-1])
    print("done", flush=True)
""")


def test_kill_9_of_an_outbox_consumer_loses_nothing_and_keeps_order(tmp_path):
    """20 kills: every record delivered at least once, in order per contact."""
    path, log = str(tmp_path / "box.db"), str(tmp_path / "delivered.log")
    with Engine([MODEL], SQLiteStore(path), thresholds={NAME: [25]}) as engine:
        for b in range(300):
            at = T0 + dt.timedelta(hours=b)
            engine.ingest([ls.Event(f"c{b % 9}", "form.submitted", at, id=f"e{b}")])
        engine.advance(T0 + dt.timedelta(days=200))
        everything = engine.outbox().read(limit=100_000)
    rng = random.Random(41)
    kills = 0
    while True:
        consumer = subprocess.Popen(
            [sys.executable, "-c", CONSUMER, path, log],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert "ready" == consumer.stdout.readline().strip()
        if kills < TRIALS:
            time.sleep(rng.random() / 25)
            os.kill(consumer.pid, signal.SIGKILL)
            kills += 1
        consumer.wait(60)
        out = consumer.stdout.read()
        consumer.stdout.close()
        if "done" in out:
            break
    with Path(log).open() as f:
        lines = [line.split() for line in f]
    delivered = [(int(p), i, c) for p, i, c in lines]
    firsts: dict[str, int] = {}
    for position, record_id, _ in delivered:
        firsts.setdefault(record_id, position)
    assert {r.id for r in everything} == set(firsts)  # at least once
    # Duplicates only of records after the last acknowledgement before a kill:
    # at most one read (5 records) per kill.
    assert len(delivered) - len(firsts) <= 5 * kills
    # In order per contact, counting first deliveries.
    for contact in {r.contact for r in everything}:
        seen = [p for p, i, c in delivered if c == contact and firsts[i] == p]
        order = list(dict.fromkeys(seen))
        assert order == sorted(order)
