"""SQLAlchemyStore's tables, and the migrations from one schema version to the next.

The tables are those :class:`~leadscore.stores.SQLiteStore` creates (on SQLite the
quarantine table is made by the same DDL), so one ``leadscore_schema`` version
serves both stores. ``MIGRATIONS[n]`` takes a store at version n - 1 to version n.
This module imports SQLAlchemy (the extra ``leadscore[sql]``): only
:mod:`leadscore.stores.sqlalchemy` imports it.
"""

from __future__ import annotations

import sqlalchemy as sa

from ._rows import QUARANTINE_SQL

__all__ = [
    "MIGRATIONS",
    "due_table",
    "events_table",
    "fired_table",
    "forgotten_table",
    "metadata",
    "outbox_table",
    "quarantine_table",
    "schema_table",
    "state_table",
]

_SEQ = sa.BigInteger().with_variant(sa.Integer, "sqlite")
metadata = sa.MetaData()
schema_table = sa.Table(
    "leadscore_schema", metadata, sa.Column("version", sa.Integer, nullable=False)
)
events_table = sa.Table(
    "leadscore_events",
    metadata,
    sa.Column("seq", _SEQ, primary_key=True, autoincrement=True),
    sa.Column("event_id", sa.Text, unique=True),
    sa.Column("contact", sa.Text, nullable=False, index=True),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("at_us", sa.BigInteger, nullable=False),
    sa.Column("attrs", sa.Text, nullable=False),
    sa.Column("value", sa.Float, nullable=False),
    sa.Column("merged_from", sa.Text, index=True),
    sa.Column("checksum", sa.Text),
)
#: Rows quarantine_corrupt() moved aside, as they were, with the reason. (On
#: SQLite the table is created by the same untyped DDL as SQLiteStore's.)
quarantine_table = sa.Table(
    "leadscore_quarantine",
    metadata,
    sa.Column("seq", _SEQ, primary_key=True, autoincrement=False),
    sa.Column("event_id", sa.Text),
    sa.Column("contact", sa.Text),
    sa.Column("kind", sa.Text),
    sa.Column("at_us", sa.BigInteger),
    sa.Column("attrs", sa.Text),
    sa.Column("value", sa.Float),
    sa.Column("merged_from", sa.Text),
    sa.Column("checksum", sa.Text),
    sa.Column("error", sa.Text, nullable=False),
)
state_table = sa.Table(
    "leadscore_state",
    metadata,
    sa.Column("key", sa.Text, primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)
outbox_table = sa.Table(
    "leadscore_outbox",
    metadata,
    sa.Column("pos", _SEQ, primary_key=True, autoincrement=True),
    sa.Column("id", sa.Text, nullable=False, unique=True),
    sa.Column("contact", sa.Text, nullable=False, index=True),
    sa.Column("payload", sa.Text, nullable=False),
    sqlite_autoincrement=True,
)
fired_table = sa.Table(
    "leadscore_fired",
    metadata,
    sa.Column("marker", sa.Text, primary_key=True),
    sa.Column("contact", sa.Text, nullable=False, index=True),
)
forgotten_table = sa.Table(
    "leadscore_forgotten",
    metadata,
    sa.Column("digest", sa.Text, primary_key=True),
    sa.Column("until_us", sa.BigInteger, nullable=False),
)
due_table = sa.Table(
    "leadscore_due",
    metadata,
    sa.Column("key", sa.Text, primary_key=True),
    sa.Column("due_us", sa.BigInteger, nullable=False),
    sa.Index("leadscore_due_at", "due_us", "key"),
)
_ENGINE_TABLES = (state_table, outbox_table, fired_table, forgotten_table)


def _create_quarantine(db: sa.Connection) -> None:
    if db.dialect.name == "sqlite":
        db.exec_driver_sql(QUARANTINE_SQL)
    else:
        quarantine_table.create(db, checkfirst=True)


def _migrate_to_2(db: sa.Connection) -> None:
    db.execute(sa.text("ALTER TABLE leadscore_events ADD COLUMN checksum TEXT"))
    _create_quarantine(db)


def _migrate_to_3(db: sa.Connection) -> None:
    for table in _ENGINE_TABLES:
        table.create(db, checkfirst=True)


def _migrate_to_4(db: sa.Connection) -> None:
    due_table.create(db, checkfirst=True)


#: Migrations by target version, from a store at the version before.
MIGRATIONS = {2: _migrate_to_2, 3: _migrate_to_3, 4: _migrate_to_4}
