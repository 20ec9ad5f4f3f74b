"""Where SQLAlchemyStore's SQL differs from one database to another.

Lookups by many values: chunks of an ``IN`` list, or on PostgreSQL one ``= ANY``
of a single array parameter. Bulk inserts: one ``COPY`` stream through psycopg
when no row-level security or ``INSERT`` rule is in its way, else one
``executemany``. Reads: on SQLite, text that is not UTF-8 comes back as bytes for
the row checks to name. Each function takes the connection and asks its dialect.
This module imports SQLAlchemy (the extra ``leadscore[sql]``): only
:mod:`leadscore.stores.sqlalchemy` imports it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.exc import OperationalError

from leadscore.exceptions import StoreError

from ._rows import tolerant_text
from ._sqlalchemy_schema import due_table, events_table, outbox_table

_CHUNK = 500


def _chunks(db: sa.Connection, values: Sequence[Any]) -> Iterable[Sequence[Any]]:
    """*values* in pieces an ``IN`` can take (PostgreSQL: all, as one array)."""
    if db.dialect.name == "postgresql":
        if values:
            yield values
        return
    for i in range(0, len(values), _CHUNK):
        yield values[i : i + _CHUNK]


def _among(db: sa.Connection, column: Any, values: Sequence[Any]) -> Any:
    """``column IN values``; on PostgreSQL ``= ANY`` of one array parameter.

    One parameter instead of one per value: SQLAlchemy compiles and psycopg
    sends a thousand-value ``IN`` many times slower.
    """
    if db.dialect.name == "postgresql":
        array = sa.bindparam(None, list(values), type_=postgresql.ARRAY(column.type))
        return column == sa.any_(array)
    return column.in_(values)


def _insert_rows(
    db: sa.Connection,
    table: sa.Table,
    names: Sequence[str],
    rows: Sequence[tuple[Any, ...]],
    *,
    copy: bool,
) -> None:
    """Insert *rows*, tuples of the columns *names*, in the caller's transaction.

    With *copy* (PostgreSQL through psycopg), one ``COPY`` stream instead of a
    statement per row; its errors are raised as SQLAlchemy's (``IntegrityError``,
    ``OperationalError``...), like the statements', so that the store retries
    and reports them the same way. Else one ``executemany``.
    """
    if not rows:
        return
    if not copy:
        db.execute(table.insert(), [dict(zip(names, r, strict=True)) for r in rows])
        return
    statement = f"COPY {table.name} ({', '.join(names)}) FROM STDIN"
    raw: Any = db.connection.driver_connection
    dbapi_error = db.dialect.loaded_dbapi.Error
    try:
        with raw.cursor() as cursor, cursor.copy(statement) as stream:
            for row in rows:
                stream.write_row(row)
    except dbapi_error as e:
        raise sa.exc.DBAPIError.instance(
            statement, None, e, dbapi_error, dialect=db.dialect
        ) from e


def _check_encoding(db: sa.Connection) -> None:
    """Refuse a PostgreSQL connection that cannot carry every Unicode text.

    Contact ids, kinds and attributes may be any Unicode text; only a UTF8
    database (and client encoding) holds them all. Checked when the store opens,
    before it creates anything, so that a LATIN1 database fails there, naming
    its encoding, and not on the first event with a character it lacks.

    Raises:
        StoreError: naming the encoding and how to create a database that works.
    """
    if db.dialect.name != "postgresql":
        return
    for setting in ("server_encoding", "client_encoding"):
        encoding = db.execute(sa.text(f"SHOW {setting}")).scalar()
        if str(encoding).upper() not in {"UTF8", "UTF-8", "UNICODE"}:
            where = "database" if setting == "server_encoding" else "connection"
            fix = (
                "create the database with CREATE DATABASE ... ENCODING 'UTF8' "
                "TEMPLATE template0"
                if where == "database"
                else "unset PGCLIENTENCODING or set client_encoding to UTF8"
            )
            raise StoreError(
                f"the {where}'s encoding ({setting}) is {encoding!s}, which cannot "
                "hold every contact id, kind and attribute leadscore stores (any "
                f"Unicode text): {fix}"
            )


def _copies(db: sa.Connection) -> bool:
    """Whether rows may go in with ``COPY``: psycopg, and nothing COPY bypasses.

    PostgreSQL refuses ``COPY FROM`` into a table with row-level security, and
    ``COPY`` skips ``INSERT`` rules; with either on a table leadscore writes in
    bulk, the store inserts statement by statement instead.
    """
    if db.dialect.name != "postgresql" or db.dialect.driver != "psycopg":
        return False
    # Constant names, resolved on the search path as the store's own queries are.
    regclasses = ", ".join(
        f"to_regclass('{t.name}')" for t in (events_table, outbox_table, due_table)
    )
    bypassed = db.execute(
        sa.text(
            "SELECT count(*) FROM pg_class c "  # noqa: S608 - constant names only
            f"WHERE c.oid IN ({regclasses}) AND (c.relrowsecurity "
            "OR c.relforcerowsecurity OR EXISTS (SELECT 1 FROM pg_rewrite r "
            "WHERE r.ev_class = c.oid AND r.ev_type = '3'))"
        )
    ).scalar()
    return not bypassed


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
