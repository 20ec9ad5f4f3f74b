"""SQLAlchemyStore passes the conformance suite on SQLite and on a real PostgreSQL.

PostgreSQL comes from LEADSCORE_TEST_POSTGRES_URL (``.ci/postgres`` installs and
starts one and prints the URL). In CI a missing server is a failure; elsewhere
these tests skip and say how to start one.
"""

from __future__ import annotations

import os

import pytest
import sqlalchemy as sa

import leadscore as ls
from leadscore.exceptions import StoreError
from leadscore.stores.sqlalchemy import SQLAlchemyStore
from leadscore.testing import DurableStoreContract, store_machine

POSTGRES = os.environ.get("LEADSCORE_TEST_POSTGRES_URL")
HOW = (
    "no PostgreSQL: run `export LEADSCORE_TEST_POSTGRES_URL=$(sudo bash .ci/postgres)` "
    "(installs postgresql from Debian packages and starts it on 127.0.0.1)"
)


def _postgres_url() -> str:
    if POSTGRES:
        return POSTGRES
    if os.environ.get("CI"):
        pytest.fail(f"CI must test PostgreSQL for real; {HOW}")
    pytest.skip(HOW)


def _fresh_postgres() -> SQLAlchemyStore:
    url = _postgres_url()
    old = SQLAlchemyStore(url)
    old.drop()
    old.close()
    return SQLAlchemyStore(url)


class TestSQLAlchemyOnSQLite(DurableStoreContract):
    def make_store(self, tmp_path):
        return SQLAlchemyStore(f"sqlite:///{tmp_path / 'events.db'}")

    def reopen(self, store):
        url = store.engine.url
        store.close()
        return SQLAlchemyStore(url.render_as_string(hide_password=False))


class TestSQLAlchemyOnPostgres(DurableStoreContract):
    def make_store(self, tmp_path):
        return _fresh_postgres()

    def reopen(self, store):
        store.close()
        return SQLAlchemyStore(_postgres_url())


TestSQLAlchemySQLiteMachine = store_machine(
    lambda: SQLAlchemyStore(sa.create_engine("sqlite://")), max_examples=10
).TestCase


def test_postgres_state_machine():
    """Random batches and forgets on PostgreSQL match the in-memory reference."""
    _postgres_url()
    machine = store_machine(_fresh_postgres, max_examples=8)
    machine.TestCase().runTest()


def test_driver_errors_surface_as_store_errors():
    """SQLAlchemy's errors never leak: StoreError with the cause chained."""
    with pytest.raises(StoreError, match="cannot open store") as info:
        SQLAlchemyStore("sqlite:////no/such/dir/events.db")
    assert isinstance(info.value.__cause__, sa.exc.SQLAlchemyError)


def test_the_engine_reads_postgres_scores_like_the_pure_fold():
    """An engine over PostgreSQL equals score() (the contract runs more of this)."""
    store = _fresh_postgres()
    model = ls.presets.highlevel()
    events = [
        ls.Event("ann", "form.submitted", "2024-05-01T00:00:00Z", id="1"),
        ls.Event(
            "ann 🎉 '; --", "page.viewed", "2024-05-01T00:00:00Z", {"path": "/pricing"}
        ),
    ]
    from leadscore.engine import Engine

    engine = Engine([model], store)
    engine.ingest(events)
    assert ls.score(model, events, "2024-05-02T00:00:00Z") == engine.scores(
        model.name, "2024-05-02T00:00:00Z"
    )
    store.close()
