"""The shipped stores pass the conformance suite in leadscore.testing."""

from __future__ import annotations

import sqlite3

from leadscore.stores import MemoryStore, SQLiteStore
from leadscore.testing import DurableStoreContract, StoreContract, store_machine


def write_raw_row(path, row):
    """Insert *row* into the SQLite file at *path* with sqlite3, unchecked."""
    with sqlite3.connect(path) as db:
        cursor = db.execute(
            f"INSERT INTO leadscore_events ({', '.join(row)}) "  # noqa: S608
            f"VALUES ({', '.join('?' * len(row))})",
            list(row.values()),
        )
        return cursor.lastrowid


def corrupt_a_row(path):
    """Write invalid JSON into the attrs of the second row; return its seq."""
    with sqlite3.connect(path) as db:
        (seq,) = db.execute(
            "SELECT seq FROM leadscore_events ORDER BY seq LIMIT 1 OFFSET 1"
        ).fetchone()
        db.execute(
            'UPDATE leadscore_events SET attrs = \'{"message": "m1\' WHERE seq = ?',
            (seq,),
        )
    return seq


class TestMemoryStore(StoreContract):
    def make_store(self, tmp_path):
        return MemoryStore()


class TestSQLiteStore(DurableStoreContract):
    def make_store(self, tmp_path):
        return SQLiteStore(tmp_path / "events.db")

    def reopen(self, store):
        store.close()
        return SQLiteStore(store.path)

    def corrupt_a_row(self, store):
        return corrupt_a_row(store.path)

    def write_raw_row(self, store, row):
        return write_raw_row(store.path, row)


TestMemoryStoreMachine = store_machine(MemoryStore).TestCase
TestSQLiteStoreMachine = store_machine(lambda: SQLiteStore(":memory:")).TestCase
