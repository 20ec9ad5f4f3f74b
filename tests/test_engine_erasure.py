"""Erasure that sticks: after forget, no byte of the contact stays behind."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest

import leadscore as ls
from leadscore import Event, Threshold
from leadscore.engine import Engine
from leadscore.stores import MemoryStore, SQLiteStore

T0 = dt.datetime(2024, 5, 1, tzinfo=dt.UTC)
DAY = dt.timedelta(days=1)
MODEL = ls.presets.highlevel()
NAME = MODEL.name
#: Strings that exist only in the contact's events, as stored text.
SECRETS = (
    "zelda.fitzgerald@example.org",
    "zelda-old-account-77",
    "attr-secret-value-31415",
    "evt-zelda-unique-0001",
    "k" * 5000 + "zelda-long",
)


def zelda_events():
    who, old = SECRETS[0], SECRETS[1]
    return [
        Event(who, "form.submitted", T0, {"note": SECRETS[2]}, id=SECRETS[3]),
        Event(old, "appointment.booked", T0, {"long": SECRETS[4]}, id="o1"),
        Event(who, "contact.merged", T0 + DAY, {"from": old}, id="m1"),
        *(
            Event(who, "page.viewed", T0 + DAY + h * DAY / 24, {"path": "/pricing"})
            for h in range(3)
        ),
    ]


def others():
    return [Event(f"other{i}", "form.submitted", T0, id=f"x{i}") for i in range(200)]


def scan(path: Path) -> dict[str, list[str]]:
    """Which secrets each of the store's files still holds, byte for byte."""
    found = {}
    for name in (path, Path(f"{path}-wal"), Path(f"{path}-journal")):
        if name.exists():
            data = name.read_bytes()
            found[name.name] = [s for s in SECRETS if s.encode() in data]
    return found


def test_forget_leaves_no_byte_of_the_contact_in_the_sqlite_file_or_wal(tmp_path):
    path = tmp_path / "s.db"
    engine = Engine(
        [MODEL], SQLiteStore(path), thresholds={NAME: [Threshold(20, first_only=True)]}
    )
    engine.ingest(others())
    engine.ingest(zelda_events())
    engine.advance(T0 + 200 * DAY)
    assert any(scan(path).values())  # the scan sees them while stored
    assert 6 == engine.forget(SECRETS[0])
    assert {name: [] for name in scan(path)} == scan(path)
    # More writes and a restart bring nothing back.
    engine.ingest([Event("other0", "form.submitted", T0 + 5 * DAY, id="y")])
    engine.close()
    reopened = Engine([MODEL], SQLiteStore(path))
    assert {name: [] for name in scan(path)} == scan(path)
    assert SECRETS[0] not in reopened.scores(NAME, T0 + 2 * DAY)
    assert all(SECRETS[0] != r.contact for r in reopened.outbox().read(limit=10_000))
    reopened.close()


@pytest.mark.parametrize("make", [MemoryStore, lambda: SQLiteStore(":memory:")])
def test_old_events_of_a_forgotten_contact_are_ignored_new_ones_are_not(make):
    """Documented: a replay of erased events is left out; later activity counts."""
    engine = Engine([MODEL], make())
    engine.ingest(zelda_events())
    engine.forget(SECRETS[0])
    assert [] == engine.ingest(zelda_events())  # a replay: nothing comes back
    assert [] == engine.store.events()
    back = Event(SECRETS[0], "form.submitted", T0 + 30 * DAY, id="new")
    assert 1 == len(engine.ingest([back]))
    assert {SECRETS[0]: 10.0} == engine.scores(NAME, T0 + 30 * DAY)


def test_the_store_keeps_only_a_keyed_hash_of_a_forgotten_contact(tmp_path):
    path = tmp_path / "s.db"
    first, second = SQLiteStore(path), SQLiteStore(tmp_path / "t.db")
    for store in (first, second):
        store.append(zelda_events())
        store.forget([SECRETS[0], SECRETS[1]])
    assert first.state()["salt"] != second.state()["salt"]
    import sqlite3

    with sqlite3.connect(path) as db:
        kept = db.execute("SELECT digest FROM leadscore_forgotten").fetchall()
    assert 2 == len(kept)
    assert not any(s in d for (d,) in kept for s in SECRETS)
    first.close()
    second.close()


def test_forget_frees_the_wal_even_after_many_writes(tmp_path):
    path = tmp_path / "s.db"
    with Engine([MODEL], SQLiteStore(path)) as engine:
        engine.ingest(zelda_events())
        for b in range(20):
            engine.ingest([Event(f"p{b}", "form.submitted", T0, id=f"p{b}")])
        engine.forget(SECRETS[0])
        wal = Path(f"{path}-wal")
        assert not wal.exists() or 0 == wal.stat().st_size


POSTGRES = os.environ.get("LEADSCORE_TEST_POSTGRES_URL")


def _postgres_files(db) -> list[Path]:
    """The files of every relation of the current database, if readable here."""
    import sqlalchemy as sa

    try:
        root = Path(db.exec_driver_sql("SHOW data_directory").scalar())
        oid = db.execute(
            sa.text("SELECT oid FROM pg_database WHERE datname = current_database()")
        ).scalar()
        db.exec_driver_sql("CHECKPOINT")  # pages on disk; dropped files unlinked
    except sa.exc.SQLAlchemyError as e:
        pytest.skip(f"cannot read PostgreSQL's files from here: {e}")
    base = root / "base" / str(oid)
    if not os.access(base, os.R_OK):
        pytest.skip(f"{base} is not readable by this process")
    return [p for p in base.iterdir() if p.is_file()]


def test_forget_then_vacuum_leaves_no_byte_in_the_postgres_tables():
    """The documented maintenance step: store.vacuum() after forget."""
    if not POSTGRES:
        pytest.skip("no PostgreSQL: set LEADSCORE_TEST_POSTGRES_URL (.ci/postgres)")
    from leadscore.stores.sqlalchemy import SQLAlchemyStore

    fresh = SQLAlchemyStore(POSTGRES)
    fresh.drop()
    fresh.close()
    store = SQLAlchemyStore(POSTGRES)
    engine = Engine([MODEL], store, thresholds={NAME: [Threshold(20, first_only=True)]})
    engine.ingest(others())
    engine.ingest(zelda_events())
    engine.advance(T0 + 200 * DAY)

    def found() -> set[str]:
        with store.engine.connect() as db:
            auto = db.execution_options(isolation_level="AUTOCOMMIT")
            files = _postgres_files(auto)
        return {s for s in SECRETS[:4] for f in files if s.encode() in f.read_bytes()}

    assert found()  # the scan sees them while stored
    engine.forget(SECRETS[0])
    store.vacuum()
    assert set() == found()
    engine.close()
