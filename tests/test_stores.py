"""The shipped stores pass the conformance suite in leadscore.testing."""

from __future__ import annotations

from leadscore.stores import MemoryStore, SQLiteStore
from leadscore.testing import DurableStoreContract, StoreContract, store_machine


class TestMemoryStore(StoreContract):
    def make_store(self, tmp_path):
        return MemoryStore()


class TestSQLiteStore(DurableStoreContract):
    def make_store(self, tmp_path):
        return SQLiteStore(tmp_path / "events.db")

    def reopen(self, store):
        store.close()
        return SQLiteStore(store.path)


TestMemoryStoreMachine = store_machine(MemoryStore).TestCase
TestSQLiteStoreMachine = store_machine(lambda: SQLiteStore(":memory:")).TestCase
