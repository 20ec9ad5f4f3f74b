"""Any SQL database through SQLAlchemy Core (extra ``leadscore[sql]``).

Tested on SQLite and PostgreSQL (``leadscore[postgres]`` adds psycopg). The tables
are those of :class:`~leadscore.stores.SQLiteStore`, so one schema version table
and the same migrations serve both.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError, OperationalError, SQLAlchemyError

from leadscore._events import Event
from leadscore._stream import checked_list
from leadscore.exceptions import StoreError

from ._protocol import check_batch
from ._rows import SCHEMA_VERSION, from_row, to_row

__all__ = ["SQLAlchemyStore"]

_CHUNK = 500
_RETRIES = 5

metadata = sa.MetaData()
schema_table = sa.Table(
    "leadscore_schema", metadata, sa.Column("version", sa.Integer, nullable=False)
)
events_table = sa.Table(
    "leadscore_events",
    metadata,
    sa.Column(
        "seq",
        sa.BigInteger().with_variant(sa.Integer, "sqlite"),
        primary_key=True,
        autoincrement=True,
    ),
    sa.Column("event_id", sa.Text, unique=True),
    sa.Column("contact", sa.Text, nullable=False, index=True),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("at_us", sa.BigInteger, nullable=False),
    sa.Column("attrs", sa.Text, nullable=False),
    sa.Column("value", sa.Float, nullable=False),
    sa.Column("merged_from", sa.Text, index=True),
)
_COLUMNS = ("event_id", "contact", "kind", "at_us", "attrs", "value", "merged_from")


class SQLAlchemyStore:
    """Events in any database SQLAlchemy reaches: give a URL or an Engine.

    One transaction per :meth:`append`; conflicting concurrent writers are retried.
    Driver errors surface as :class:`~leadscore.exceptions.StoreError` with the
    cause chained.
    """

    def __init__(self, url_or_engine: str | sa.Engine) -> None:
        """Connect, and create or migrate the tables."""
        try:
            self.engine = (
                url_or_engine
                if isinstance(url_or_engine, sa.Engine)
                else sa.create_engine(url_or_engine)
            )
            with self.engine.begin() as db:
                schema_table.create(db, checkfirst=True)
                current = db.execute(
                    sa.select(sa.func.max(schema_table.c.version))
                ).scalar()
                if (current or 0) > SCHEMA_VERSION:
                    raise StoreError(
                        f"schema version {current} is newer than this leadscore "
                        f"knows ({SCHEMA_VERSION}): upgrade leadscore"
                    )
                if not current:
                    events_table.create(db, checkfirst=True)
                    db.execute(schema_table.insert().values(version=SCHEMA_VERSION))
        except SQLAlchemyError as e:
            raise StoreError(f"cannot open store: {e}") from e

    def append(self, events: Sequence[Event]) -> list[Event]:
        """Store the batch in one transaction; nothing is written if it fails."""
        batch = checked_list(events)
        for attempt in range(_RETRIES):
            try:
                with self.engine.begin() as db:
                    ids = [e.id for e in batch if e.id is not None]
                    stored: dict[str, Event] = {}
                    for i in range(0, len(ids), _CHUNK):
                        rows = db.execute(
                            sa.select(*(events_table.c[c] for c in _COLUMNS[:6])).where(
                                events_table.c.event_id.in_(ids[i : i + _CHUNK])
                            )
                        )
                        stored.update((row[0], from_row(row)) for row in rows)
                    new = check_batch(batch, stored)
                    if new:
                        db.execute(
                            events_table.insert(),
                            [dict(zip(_COLUMNS, to_row(e), strict=True)) for e in new],
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
        """Every stored event, in the order stored."""
        try:
            with self.engine.connect() as db:
                rows = db.execute(
                    sa.select(*(events_table.c[c] for c in _COLUMNS[:6])).order_by(
                        events_table.c.seq
                    )
                ).all()
        except SQLAlchemyError as e:
            raise StoreError(f"read failed: {e}") from e
        return [from_row(r) for r in rows]

    def forget(self, contacts: Iterable[str]) -> int:
        """Erase the contacts' events and the merges naming them."""
        gone = sorted(set(contacts))
        try:
            with self.engine.begin() as db:
                result = db.execute(
                    events_table.delete().where(
                        events_table.c.contact.in_(gone)
                        | events_table.c.merged_from.in_(gone)
                    )
                )
                return int(result.rowcount)
        except SQLAlchemyError as e:
            raise StoreError(f"forget failed: {e}") from e

    def close(self) -> None:
        """Dispose of the connection pool."""
        self.engine.dispose()

    def drop(self) -> None:
        """Drop leadscore's tables (for tests against a shared database)."""
        metadata.drop_all(self.engine)

    def __repr__(self) -> str:
        """Show the database URL without its password."""
        return (
            f"SQLAlchemyStore({self.engine.url.render_as_string(hide_password=True)!r})"
        )
