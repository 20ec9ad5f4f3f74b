"""Any SQL database through SQLAlchemy Core (extra ``leadscore[sql]``).

Tested on SQLite and PostgreSQL (``leadscore[postgres]`` adds psycopg). The tables
are those of :class:`~leadscore.stores.SQLiteStore`, so one schema version table
and the same migrations serve both.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError, OperationalError, SQLAlchemyError

from leadscore.exceptions import StoreError
from leadscore.model._events import Event
from leadscore.model._limits import shorten
from leadscore.paths._stream import checked_list

from ._protocol import QuarantinedRow, RejectedRow, check_batch
from ._rows import (
    EVENT_COLUMNS,
    QUARANTINE_SQL,
    READ_COLUMNS,
    SCHEMA_VERSION,
    Unreadable,
    decode,
    read_rows,
    refuse_rejected_ids,
    to_row,
    tolerant_text,
    warn_rejected,
)

__all__ = ["SQLAlchemyStore"]

_CHUNK = 500
_RETRIES = 5

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
_READ = [events_table.c[c] for c in READ_COLUMNS]


def _create_quarantine(db: sa.Connection) -> None:
    if db.dialect.name == "sqlite":
        db.exec_driver_sql(QUARANTINE_SQL)
    else:
        quarantine_table.create(db, checkfirst=True)


def _migrate_to_2(db: sa.Connection) -> None:
    db.execute(sa.text("ALTER TABLE leadscore_events ADD COLUMN checksum TEXT"))
    _create_quarantine(db)


#: Migrations by target version, from a store at the version before.
MIGRATIONS = {2: _migrate_to_2}


def _select(db: sa.Connection, query: sa.Select[Any]) -> list[Any]:
    """Rows of *query*; on SQLite, text that is not UTF-8 comes back as bytes."""
    try:
        return list(db.execute(query).all())
    except OperationalError as e:
        if db.dialect.name != "sqlite" or "decode" not in str(e.orig):
            raise
    # A damaged row: read again, keeping bad text as bytes for decode() to name.
    raw: Any = db.connection.driver_connection
    factory = raw.text_factory
    raw.text_factory = tolerant_text
    try:
        return list(db.execute(query).all())
    finally:
        raw.text_factory = factory


class SQLAlchemyStore:
    """Events in any database SQLAlchemy reaches: give a URL or an Engine.

    One transaction per :meth:`append`; conflicting concurrent writers are retried.
    Driver errors surface as :class:`~leadscore.exceptions.StoreError` with the
    cause chained. Rows carry checksums and are checked when read, as in
    :class:`~leadscore.stores.SQLiteStore`; :meth:`quarantine_corrupt`,
    :meth:`quarantined` and :attr:`rejected` work the same way. The database may
    hold other tables: leadscore's are those named ``leadscore_*``.
    """

    def __init__(self, url_or_engine: str | sa.URL | sa.Engine) -> None:
        """Connect, and create or migrate the tables."""
        if not isinstance(url_or_engine, str | sa.URL | sa.Engine):
            raise StoreError(
                "SQLAlchemyStore needs a database URL (str or sqlalchemy.URL) or a "
                f"sqlalchemy.Engine, got {type(url_or_engine).__name__} "
                f"{shorten(url_or_engine)}"
            )
        #: The rows the last read skipped as no longer valid events.
        self.rejected: list[RejectedRow] = []
        try:
            self.engine = (
                url_or_engine
                if isinstance(url_or_engine, sa.Engine)
                else sa.create_engine(url_or_engine)
            )
            with self.engine.begin() as db:
                schema_table.create(db, checkfirst=True)
                current = (
                    db.execute(sa.select(sa.func.max(schema_table.c.version))).scalar()
                    or 0
                )
                if current > SCHEMA_VERSION:
                    raise StoreError(
                        f"schema version {current} is newer than this leadscore "
                        f"knows ({SCHEMA_VERSION}): upgrade leadscore"
                    )
                if not current:
                    events_table.create(db, checkfirst=True)
                    _create_quarantine(db)
                else:
                    for version in range(current + 1, SCHEMA_VERSION + 1):
                        MIGRATIONS[version](db)
                if current < SCHEMA_VERSION:
                    db.execute(schema_table.insert().values(version=SCHEMA_VERSION))
        except SQLAlchemyError as e:
            raise StoreError(f"cannot open store: {e}") from e

    def append(self, events: Sequence[Event]) -> list[Event]:
        """Store the batch in one transaction; nothing is written if it fails.

        Raises:
            InvalidEventError: for an id used by a different event, or an event
                no database can keep (checked before the transaction starts).
            StoreError: when the database fails, or a stored row with one of the
                batch's ids cannot be read.
        """
        batch = checked_list(events)
        # Encode everything first: a failure here has touched nothing.
        rows = {id(e): to_row(e, pos) for pos, e in enumerate(batch)}
        name = repr(self)
        for attempt in range(_RETRIES):
            try:
                with self.engine.begin() as db:
                    ids = [e.id for e in batch if e.id is not None]
                    found: list[Any] = []
                    for i in range(0, len(ids), _CHUNK):
                        found += _select(
                            db,
                            sa.select(*_READ).where(
                                events_table.c.event_id.in_(ids[i : i + _CHUNK])
                            ),
                        )
                    stored, unusable = read_rows(found, name)
                    refuse_rejected_ids(batch, unusable)
                    new = check_batch(
                        batch, {e.id: e for e in stored if e.id is not None}
                    )
                    if new:
                        db.execute(
                            events_table.insert(),
                            [
                                dict(zip(EVENT_COLUMNS, rows[id(e)], strict=True))
                                for e in new
                            ],
                        )
                    return new
            except (IntegrityError, OperationalError) as e:
                # A concurrent writer stored one of these ids first (or held a
                # lock): run the batch again against what is stored now.
                if attempt == _RETRIES - 1:
                    raise StoreError(f"append failed: {e}") from e
            except SQLAlchemyError as e:
                raise StoreError(f"append failed: {e}") from e
        raise AssertionError("unreachable")  # pragma: no cover

    def events(self) -> list[Event]:
        """Every stored event, in the order stored.

        Rows that decode but are no longer valid events are skipped, listed in
        :attr:`rejected` and named in one ``LeadScoreWarning``.

        Raises:
            StoreError: naming the row and the column, for a row that cannot be
                decoded (see :meth:`quarantine_corrupt`).
        """
        try:
            with self.engine.connect() as db:
                rows = _select(db, sa.select(*_READ).order_by(events_table.c.seq))
        except SQLAlchemyError as e:
            raise StoreError(f"read failed: {e}") from e
        events, self.rejected = read_rows(rows, repr(self))
        warn_rejected(repr(self), self.rejected)
        return events

    def forget(self, contacts: Iterable[str]) -> int:
        """Erase the contacts' events and the merges naming them.

        Quarantined rows whose ``contact`` or ``merged_from`` still reads as one
        of the contacts are erased too, and counted.
        """
        gone = sorted(set(contacts))
        try:
            with self.engine.begin() as db:
                erased = 0
                for table in (events_table, quarantine_table):
                    result = db.execute(
                        table.delete().where(
                            table.c.contact.in_(gone) | table.c.merged_from.in_(gone)
                        )
                    )
                    erased += int(result.rowcount)
                return erased
        except SQLAlchemyError as e:
            raise StoreError(f"forget failed: {e}") from e

    def close(self) -> None:
        """Dispose of the connection pool."""
        self.engine.dispose()

    def quarantine_corrupt(self) -> list[QuarantinedRow]:
        """Move every row that cannot be decoded to ``leadscore_quarantine``.

        As :meth:`SQLiteStore.quarantine_corrupt
        <leadscore.stores.SQLiteStore.quarantine_corrupt>`: one transaction, rows
        copied as stored with the reason, nothing deleted.

        Returns:
            The rows moved (none if every row reads).
        """
        columns = [quarantine_table.c[c] for c in READ_COLUMNS]
        try:
            with self.engine.begin() as db:
                rows = _select(db, sa.select(*_READ).order_by(events_table.c.seq))
                moved = []
                for row in rows:
                    try:
                        decode(row)
                    except Unreadable as e:
                        seq = events_table.c.seq == row[0]
                        db.execute(
                            quarantine_table.insert().from_select(
                                [*columns, quarantine_table.c.error],
                                sa.select(*_READ, sa.literal(str(e), sa.Text)).where(
                                    seq
                                ),
                            )
                        )
                        db.execute(events_table.delete().where(seq))
                        moved.append(
                            QuarantinedRow(
                                row[0],
                                dict(zip(READ_COLUMNS, row, strict=True)),
                                str(e),
                            )
                        )
                return moved
        except SQLAlchemyError as e:
            raise StoreError(f"quarantine failed: {e}") from e

    def quarantined(self) -> list[QuarantinedRow]:
        """Every row moved aside by :meth:`quarantine_corrupt`, raw, by row id."""
        q = quarantine_table.c
        try:
            with self.engine.connect() as db:
                rows = _select(
                    db,
                    sa.select(*(q[c] for c in READ_COLUMNS), q.error).order_by(q.seq),
                )
        except SQLAlchemyError as e:
            raise StoreError(f"read failed: {e}") from e
        return [
            QuarantinedRow(
                r[0], dict(zip(READ_COLUMNS, r[:-1], strict=True)), str(r[-1])
            )
            for r in rows
        ]

    def drop(self) -> None:
        """Drop leadscore's tables (for tests against a shared database)."""
        metadata.drop_all(self.engine)

    def __repr__(self) -> str:
        """Show the database URL without its password."""
        return (
            f"SQLAlchemyStore({self.engine.url.render_as_string(hide_password=True)!r})"
        )
