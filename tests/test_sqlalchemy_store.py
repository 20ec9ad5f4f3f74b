"""SQLAlchemyStore passes the conformance suite on SQLite and on a real PostgreSQL.

PostgreSQL comes from LEADSCORE_TEST_POSTGRES_URL (``.ci/postgres`` installs and
starts one and prints the URL). In CI a missing server is a failure; elsewhere
these tests skip and say how to start one.
"""

from __future__ import annotations

import datetime as dt
import os

import pytest
import sqlalchemy as sa
from hypothesis import settings

import leadscore as ls
from leadscore.engine import Engine
from leadscore.exceptions import StoreError
from leadscore.stores.sqlalchemy import SQLAlchemyStore, events_table
from leadscore.testing import DurableStoreContract, store_machine
from tests import test_engine_stateful as stateful

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


class RawRows:
    """The contract's hooks that write rows directly, through SQLAlchemy."""

    def write_raw_row(self, store, row):
        with store.engine.begin() as db:
            result = db.execute(events_table.insert().values(**row))
            return result.inserted_primary_key[0]

    def corrupt_a_row(self, store):
        with store.engine.begin() as db:
            seq = db.execute(
                sa.select(events_table.c.seq)
                .order_by(events_table.c.seq)
                .limit(1)
                .offset(1)
            ).scalar_one()
            db.execute(
                events_table.update()
                .where(events_table.c.seq == seq)
                .values(attrs='{"message": "m1')
            )
        return seq


class TestSQLAlchemyOnSQLite(RawRows, DurableStoreContract):
    def make_store(self, tmp_path):
        return SQLAlchemyStore(f"sqlite:///{tmp_path / 'events.db'}")

    def reopen(self, store):
        url = store.engine.url
        store.close()
        return SQLAlchemyStore(url.render_as_string(hide_password=False))


class TestSQLAlchemyOnPostgres(RawRows, DurableStoreContract):
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


def test_what_is_not_a_url_or_engine_is_refused():
    """None and other objects raise a StoreError naming the value."""
    with pytest.raises(StoreError, match="got NoneType None"):
        SQLAlchemyStore(None)


def _sqlite_url(tmp_path):
    return f"sqlite:///{tmp_path / 'events.db'}"


@pytest.fixture(params=["sqlite", "postgres"])
def url(request, tmp_path):
    """A database URL holding no leadscore tables."""
    if request.param == "sqlite":
        return _sqlite_url(tmp_path)
    store = _fresh_postgres()
    store.drop()
    store.close()
    return _postgres_url()


def test_a_version_1_database_migrates_and_its_rows_stay_readable(url):
    """Rows written before checksums read back; new ones are checked."""
    store = SQLAlchemyStore(url)
    old = ls.Event("ann", "email.opened", "2024-05-01T00:00:00Z", {"m": 1}, id="1")
    store.append([old])
    with store.engine.begin() as db:  # back to what version 1 created
        db.execute(sa.text("ALTER TABLE leadscore_events DROP COLUMN checksum"))
        db.execute(sa.text("DROP TABLE leadscore_quarantine"))
        db.execute(sa.text("DELETE FROM leadscore_schema"))
        db.execute(sa.text("INSERT INTO leadscore_schema VALUES (1)"))
    store.close()
    store = SQLAlchemyStore(url)
    try:
        assert [old] == store.events()
        new = ls.Event("bob", "email.opened", "2024-05-01T00:00:00Z", id="2")
        store.append([new])
        with store.engine.begin() as db:
            sums = db.execute(
                sa.select(events_table.c.checksum).order_by(events_table.c.seq)
            ).all()
            versions = db.execute(sa.text("SELECT version FROM leadscore_schema"))
            assert [1, 4] == sorted(v for (v,) in versions)  # reached at once
        assert None is sums[0][0]
        assert 16 == len(sums[1][0])
        assert [] == store.quarantine_corrupt()
    finally:
        store.drop()
        store.close()


def test_a_changed_row_is_caught_by_the_checksum(url):
    """A row changed behind the store's back is a StoreError naming row and column."""
    store = SQLAlchemyStore(url)
    try:
        store.append([ls.Event("ann", "email.opened", "2024-05-01T00:00:00Z")])
        with store.engine.begin() as db:
            db.execute(events_table.update().values(at_us=events_table.c.at_us + 1))
        with pytest.raises(StoreError, match=r"row \d+ .*'checksum'.*changed after"):
            store.events()
        [moved] = store.quarantine_corrupt()
        assert [] == store.events()
        assert [moved] == store.quarantined()
        assert "ann" == moved.raw["contact"]
    finally:
        store.drop()
        store.close()


def test_sqlite_files_are_shared_with_sqlitestore(tmp_path):
    """Either store reads (and checks) what the other wrote, in one file."""
    from leadscore.stores import SQLiteStore

    a = ls.Event("ann", "email.opened", "2024-05-01T00:00:00Z", {"m": "ü"}, id="1")
    b = ls.Event("bob", "contact.merged", "2024-05-01T00:00:00Z", {"from": "bo"})
    first = SQLiteStore(tmp_path / "events.db")
    first.append([a])
    first.close()
    second = SQLAlchemyStore(_sqlite_url(tmp_path))
    assert [a] == second.events()
    second.append([b])
    second.close()
    third = SQLiteStore(tmp_path / "events.db")
    assert [a, b] == third.events()
    third.close()


def test_text_that_is_not_utf8_is_named_and_quarantined_raw(tmp_path):
    """On SQLite, bad UTF-8 is a StoreError naming the column; quarantine keeps bytes."""
    store = SQLAlchemyStore(_sqlite_url(tmp_path))
    store.append([ls.Event("ann", "email.opened", "2024-05-01T00:00:00Z")])
    with store.engine.begin() as db:
        db.execute(
            sa.text("UPDATE leadscore_events SET contact = CAST(x'616eff' AS TEXT)")
        )
    with pytest.raises(StoreError, match=r"row 1 .*'contact'.*not UTF-8"):
        store.events()
    [moved] = store.quarantine_corrupt()
    assert b"an\xff" == moved.raw["contact"]
    assert [moved] == store.quarantined()
    assert [] == store.events()
    store.close()


#: Text that COPY's text format escapes (tab, newline, carriage return,
#: backslash, the end-of-data marker ``\.`` and the null marker ``\N``), quotes,
#: and text beyond ASCII.
_AWKWARD = ("a\tb", "c\nd", "x\ry", "e\\f", "\\N", "\\.", "q'\"", "ü€😀")


def test_awkward_text_round_trips_through_the_bulk_writes(url):
    # PostgreSQL with psycopg writes events, outbox entries and due rows through
    # COPY; every other database through executemany. The same rows come back.
    store = SQLAlchemyStore(url)
    at = ls.Event("x", "page.viewed", "2024-01-01T00:00Z").at
    events = [
        ls.Event(
            f"k{text}",
            "page.viewed",
            at,
            {"path": text, "n": 1.0000000000000002, "big": 2**62},
            value=0.1 + 0.2,
            id=f"id{text}",
        )
        for text in _AWKWARD
    ]
    model = ls.ScoringModel(
        "m",
        [ls.Rule("page.viewed", 5, aging=ls.AgingPolicy.expire_after(days=1))],
    )
    with Engine([model], store, thresholds={"m": [4.0]}) as engine:
        reported = engine.ingest(events)
        again = SQLAlchemyStore(url)
        stored = again.since(0).events
        assert list(stored) == events
        assert [dict(e.attrs) for e in stored] == [dict(e.attrs) for e in events]
        assert [e.value for e in stored] == [0.1 + 0.2] * len(events)
        entries = engine.outbox().read()
        assert {e.contact for e in entries} == {e.contact for e in events}
        assert len(entries) == len(reported) + len(reported.crossings)
        assert engine.next_due() == at + dt.timedelta(days=1)
        again.close()


def test_a_failed_bulk_write_is_a_store_error_and_stores_nothing(url):
    # A constraint of the database's own (here a CHECK on the kind) refuses one
    # row of a batch: on PostgreSQL the COPY stream fails. The store raises its
    # own error, after its retries, and keeps nothing of the batch.
    store = SQLAlchemyStore(url)
    at = ls.Event("x", "page.viewed", "2024-01-01T00:00Z").at
    store.append([ls.Event("ann", "page.viewed", at, id="e1")])
    with store.engine.begin() as db:
        db.exec_driver_sql(
            "ALTER TABLE leadscore_events ADD CONSTRAINT no_bad "
            "CHECK (kind <> 'bad.kind')"
            if db.dialect.name == "postgresql"
            else "CREATE TRIGGER no_bad BEFORE INSERT ON leadscore_events "
            "WHEN new.kind = 'bad.kind' BEGIN SELECT RAISE(ABORT, 'no_bad'); END"
        )
    batch = [
        ls.Event("bob", "page.viewed", at, id="e2"),
        ls.Event("bob", "bad.kind", at, id="e3"),
    ]
    with pytest.raises(StoreError, match="no_bad"):
        store.append(batch)
    model = ls.ScoringModel("m", [ls.Rule("page.viewed", 5)])
    with Engine([model], store) as engine:
        with pytest.raises(StoreError, match="no_bad"):
            engine.ingest(batch)
        assert [e.id for e in store.since(0).events] == ["e1"]
        assert engine.outbox().read() == []
        assert engine.scores("m", at) == {"ann": 5.0}


@pytest.fixture
def database():
    """Make a PostgreSQL database of a given encoding; dropped at the end."""
    base = sa.make_url(_postgres_url())
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    made = []

    def make(encoding: str) -> sa.URL:
        name = f"leadscore_{encoding.lower()}"
        with admin.connect() as db:
            db.exec_driver_sql(f"DROP DATABASE IF EXISTS {name}")
            db.exec_driver_sql(
                f"CREATE DATABASE {name} ENCODING '{encoding}' "
                "LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0"
            )
        made.append(name)
        return base.set(database=name)

    yield make
    with admin.connect() as db:
        for name in made:
            db.exec_driver_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    admin.dispose()


def test_a_database_that_cannot_hold_unicode_is_refused_when_the_store_opens(
    database,
):
    # A LATIN1 database stores "José" but not "名前": refused at open, naming
    # the encoding and the fix, before any table is created; not with a bare
    # UnicodeEncodeError from the driver at the first such contact.
    url = database("LATIN1")
    with pytest.raises(
        StoreError, match=r"server_encoding\) is LATIN1.*ENCODING 'UTF8'"
    ):
        SQLAlchemyStore(url)
    probe = sa.create_engine(url)
    assert sa.inspect(probe).get_table_names() == []
    probe.dispose()


def test_a_sql_ascii_database_is_a_store_error_naming_the_encoding_to_use(database):
    # SQLAlchemy cannot even read such a database's version string (bytes).
    with pytest.raises(StoreError, match=r"TypeError.*ENCODING 'UTF8'"):
        SQLAlchemyStore(database("SQL_ASCII"))


def test_a_connection_whose_client_encoding_is_not_utf8_is_refused():
    url = sa.make_url(_postgres_url()).update_query_dict({"client_encoding": "LATIN1"})
    with pytest.raises(StoreError, match=r"client_encoding\) is LATIN1"):
        SQLAlchemyStore(url)


def test_insert_rules_are_honoured_where_copy_would_skip_them():
    # COPY bypasses INSERT rules (and PostgreSQL refuses it under row-level
    # security): a store opened over such tables writes statement by statement.
    url = _postgres_url()
    before = _fresh_postgres()
    with before.engine.begin() as db:
        db.exec_driver_sql("DROP TABLE IF EXISTS due_audit")
        db.exec_driver_sql("CREATE TABLE due_audit (key TEXT)")
        db.exec_driver_sql(
            "CREATE RULE audit AS ON INSERT TO leadscore_due "
            "DO ALSO INSERT INTO due_audit VALUES (new.key)"
        )
    before.close()
    store = SQLAlchemyStore(url)
    model = ls.ScoringModel(
        "m", [ls.Rule("page.viewed", 5, aging=ls.AgingPolicy.expire_after(days=1))]
    )
    with Engine([model], store) as engine:
        engine.ingest([ls.Event("ann", "page.viewed", "2024-01-01T00:00Z", id="e1")])
        with store.engine.begin() as db:
            audited = [k for (k,) in db.exec_driver_sql("SELECT key FROM due_audit")]
            db.exec_driver_sql("DROP RULE audit ON leadscore_due")
            db.exec_driver_sql("DROP TABLE due_audit")
    assert audited == ["ann"]


class PostgresEngineMachine(stateful.EngineMachine):
    """The engine's stateful test over PostgreSQL (COPY writes, ANY lookups)."""

    def open(self) -> Engine:
        if not hasattr(self, "url"):
            self.url = _postgres_url()
            _fresh_postgres().close()
        thresholds = {"m": [stateful.FIRST, stateful.EVERY, stateful.DOWN]}
        return Engine(
            [self.model], SQLAlchemyStore(self.url), thresholds=thresholds, cache=2
        )


TestPostgresEngineMachine = PostgresEngineMachine.TestCase
TestPostgresEngineMachine.settings = settings(
    max_examples=15, stateful_step_count=15, deadline=None
)
