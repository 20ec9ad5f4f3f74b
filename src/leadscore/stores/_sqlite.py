"""SQLite through the standard library: WAL, one transaction per append."""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

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

__all__ = ["SQLiteStore"]

T = TypeVar("T")

#: Migrations by target version; each runs once, in its own transaction.
MIGRATIONS: dict[int, tuple[str, ...]] = {
    1: (
        """CREATE TABLE leadscore_events (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            event_id TEXT UNIQUE,
            contact TEXT NOT NULL,
            kind TEXT NOT NULL,
            at_us INTEGER NOT NULL,
            attrs TEXT NOT NULL,
            value REAL NOT NULL,
            merged_from TEXT
        )""",
        "CREATE INDEX leadscore_events_contact ON leadscore_events (contact)",
        "CREATE INDEX leadscore_events_from ON leadscore_events (merged_from)",
    ),
    # A checksum per row (NULL in rows written before), and the side table that
    # quarantine_corrupt() moves unreadable rows to.
    2: (
        "ALTER TABLE leadscore_events ADD COLUMN checksum TEXT",
        QUARANTINE_SQL,
    ),
}
_READ = ", ".join(READ_COLUMNS)
_WRITE = ", ".join(EVENT_COLUMNS)
_CHUNK = 500  # ids per IN (...) lookup, under SQLite's parameter limit
_RETRIES = 8


def _checked_path(path: object) -> str:
    """The path as a str, or a StoreError saying why SQLite must not get it."""
    text = os.fspath(path) if isinstance(path, os.PathLike) else path
    if not isinstance(text, str):
        raise StoreError(
            "SQLiteStore path must be a str or os.PathLike naming a file (or "
            f"':memory:'), got {type(path).__name__} {shorten(path)}"
        )
    if not text:
        raise StoreError(
            "SQLiteStore path is empty: SQLite would make a private temporary "
            "database, deleted at close; give a file path, or ':memory:' for a "
            "store that is not kept"
        )
    if text.startswith("file:"):
        raise StoreError(
            f"SQLiteStore path {shorten(text)} is a URI: SQLite would obey its "
            "parameters (mode=memory keeps nothing at close, mode=ro cannot "
            "write); give a plain file path (prefix './' for a file whose name "
            "starts with 'file:'), or ':memory:'"
        )
    return text


class SQLiteStore:
    """Events in a SQLite file (or ``":memory:"``), safe for several processes.

    The database runs in WAL mode with ``synchronous=NORMAL``: an acknowledged
    ``append`` survives the process being killed. Writers take the lock with
    ``BEGIN IMMEDIATE``, wait up to *timeout* seconds for each other, and retry a
    few times if the database stays locked. User data only ever travels as SQL
    parameters.

    Args:
        path: A file path (``str`` or ``os.PathLike``). A missing or zero-length
            file becomes a new store. ``":memory:"`` is a store that is not kept:
            everything is gone at :meth:`close`. URIs (``file:...``) and the empty
            path are refused.
        timeout: Seconds to wait for another writer's lock.

    Every row carries a checksum, verified when it is read (see
    :meth:`quarantine_corrupt`). Rows that decode but are no longer valid
    events are skipped by :meth:`events` and listed in :attr:`rejected`.

    Raises:
        StoreError: when SQLite fails (the ``sqlite3`` error is the cause), for a
            path that is not a plain file path, and for a file that is not a
            leadscore store (not a SQLite database, or one with other tables).
    """

    def __init__(self, path: str | Path, *, timeout: float = 10.0) -> None:
        """Open (and create or migrate) the store at *path*."""
        self.path = _checked_path(path)
        #: The rows the last read skipped as no longer valid events.
        self.rejected: list[RejectedRow] = []
        try:
            self._db = sqlite3.connect(self.path, timeout=timeout, isolation_level=None)
        except (sqlite3.Error, ValueError, UnicodeError) as e:
            raise StoreError(f"cannot open SQLite store {self.path!r}: {e}") from e
        try:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
        except sqlite3.DatabaseError as e:
            self._db.close()
            what = "it is not a SQLite database" if "not a database" in str(e) else e
            raise StoreError(f"cannot open SQLite store {self.path!r}: {what}") from e
        try:
            self._migrate()
        except BaseException:
            self._db.close()
            raise

    # -- plumbing ----------------------------------------------------------------

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Cursor]:
        cursor = self._db.cursor()
        cursor.execute("BEGIN IMMEDIATE")
        try:
            yield cursor
        except BaseException:
            self._db.rollback()
            raise
        else:
            cursor.execute("COMMIT")

    def _write(self, work: Callable[[sqlite3.Cursor], T]) -> T:
        delay = 0.01
        for attempt in range(_RETRIES):
            try:
                with self._transaction() as cursor:
                    return work(cursor)
            except sqlite3.OperationalError as e:
                locked = "locked" in str(e) or "busy" in str(e)
                if not locked or attempt == _RETRIES - 1:
                    raise StoreError(f"SQLite store {self.path!r}: {e}") from e
                time.sleep(delay)
                delay *= 2
            except sqlite3.Error as e:
                raise StoreError(f"SQLite store {self.path!r}: {e}") from e
        raise AssertionError("unreachable")  # pragma: no cover

    def _select(
        self, cursor: sqlite3.Cursor, sql: str, params: Sequence[Any] = ()
    ) -> list[Any]:
        """Rows of *sql*; text that is not UTF-8 comes back as bytes, not an error."""
        try:
            return cursor.execute(sql, params).fetchall()
        except sqlite3.OperationalError as e:
            if "decode" not in str(e):
                raise
        # A damaged row: read again, keeping bad text as bytes for decode() to name.
        factory = self._db.text_factory
        self._db.text_factory = tolerant_text
        try:
            return cursor.execute(sql, params).fetchall()
        finally:
            self._db.text_factory = factory

    def _migrate(self) -> None:
        def run(cursor: sqlite3.Cursor) -> None:
            tables = {
                name
                for (name,) in cursor.execute(
                    "SELECT name FROM sqlite_master WHERE type = 'table'"
                )
            }
            others = sorted(t for t in tables if not t.startswith("sqlite_"))
            if "leadscore_schema" not in tables and others:
                raise StoreError(
                    f"{self.path!r} is a SQLite database but not a leadscore store "
                    f"(it has the tables {shorten(others)} and no leadscore_schema); "
                    "refusing to add leadscore's tables to it: give the path of a "
                    "new or existing leadscore store"
                )
            cursor.execute(
                "CREATE TABLE IF NOT EXISTS leadscore_schema (version INTEGER NOT NULL)"
            )
            row = cursor.execute("SELECT max(version) FROM leadscore_schema").fetchone()
            current = row[0] or 0
            if current > SCHEMA_VERSION:
                raise StoreError(
                    f"{self.path!r} has schema version {current}; this leadscore "
                    f"knows up to {SCHEMA_VERSION}: upgrade leadscore"
                )
            if current and "leadscore_events" not in tables:
                raise StoreError(
                    f"{self.path!r} has leadscore_schema version {current} but no "
                    "leadscore_events table: it is not a complete leadscore store"
                )
            for version in range(current + 1, SCHEMA_VERSION + 1):
                for statement in MIGRATIONS[version]:
                    cursor.execute(statement)
                cursor.execute("INSERT INTO leadscore_schema VALUES (?)", (version,))

        self._write(run)

    # -- the protocol ------------------------------------------------------------

    def append(self, events: Sequence[Event]) -> list[Event]:
        """Store the batch in one transaction; nothing is written if it fails.

        Raises:
            InvalidEventError: for an id used by a different event, or an event
                no database can keep (checked before the transaction starts).
            StoreError: when SQLite fails, or a stored row with one of the
                batch's ids cannot be read.
        """
        batch = checked_list(events)
        # Encode everything first: a failure here has touched nothing.
        rows = {id(e): to_row(e, pos) for pos, e in enumerate(batch)}
        name = repr(self)

        def run(cursor: sqlite3.Cursor) -> list[Event]:
            ids = [e.id for e in batch if e.id is not None]
            found = []
            for i in range(0, len(ids), _CHUNK):
                chunk = ids[i : i + _CHUNK]
                marks = ",".join("?" * len(chunk))
                found += self._select(
                    cursor,
                    f"SELECT {_READ} FROM leadscore_events "  # noqa: S608 - only '?' marks
                    f"WHERE event_id IN ({marks})",
                    chunk,
                )
            stored, unusable = read_rows(found, name)
            refuse_rejected_ids(batch, unusable)
            new = check_batch(batch, {e.id: e for e in stored if e.id is not None})
            cursor.executemany(
                f"INSERT INTO leadscore_events ({_WRITE}) "  # noqa: S608 - constant
                f"VALUES ({', '.join('?' * len(EVENT_COLUMNS))})",
                [rows[id(e)] for e in new],
            )
            return new

        return self._write(run)

    def events(self) -> list[Event]:
        """Every stored event, in the order stored.

        Rows that decode but are no longer valid events are skipped, listed in
        :attr:`rejected` and named in one ``LeadScoreWarning``.

        Raises:
            StoreError: naming the row and the column, for a row that cannot be
                decoded (see :meth:`quarantine_corrupt`).
        """
        try:
            rows = self._select(
                self._db.cursor(),
                f"SELECT {_READ} FROM leadscore_events ORDER BY seq",  # noqa: S608
            )
        except sqlite3.Error as e:
            raise StoreError(f"SQLite store {self.path!r}: {e}") from e
        events, self.rejected = read_rows(rows, repr(self))
        warn_rejected(repr(self), self.rejected)
        return events

    def forget(self, contacts: Iterable[str]) -> int:
        """Erase the contacts' events and the merges naming them.

        Quarantined rows whose ``contact`` or ``merged_from`` still reads as one
        of the contacts are erased too, and counted.
        """
        gone = list(set(contacts))

        def run(cursor: sqlite3.Cursor) -> int:
            erased = 0
            for table in ("leadscore_events", "leadscore_quarantine"):
                for c in gone:
                    cursor.execute(
                        f"DELETE FROM {table} "  # noqa: S608 - constant names
                        "WHERE contact = ? OR merged_from = ?",
                        (c, c),
                    )
                    erased += cursor.rowcount
            return erased

        return self._write(run)

    def close(self) -> None:
        """Close the connection."""
        try:
            self._db.close()
        except sqlite3.Error as e:  # pragma: no cover - closing rarely fails
            raise StoreError(f"SQLite store {self.path!r}: {e}") from e

    # -- repair --------------------------------------------------------------------

    def quarantine_corrupt(self) -> list[QuarantinedRow]:
        """Move every row that cannot be decoded to ``leadscore_quarantine``.

        One transaction: each unreadable row (wrong column types, text that is
        not UTF-8, a checksum mismatch, attrs that are not a JSON object) is
        copied exactly as stored, with the reason, into the side table and then
        removed from the events, so the store opens again. Nothing is deleted;
        :meth:`quarantined` exports the rows. Rows that decode but are no longer
        valid events stay where they are (see :attr:`rejected`).

        Returns:
            The rows moved (none if every row reads).
        """

        def run(cursor: sqlite3.Cursor) -> list[QuarantinedRow]:
            rows = self._select(
                cursor,
                f"SELECT {_READ} FROM leadscore_events ORDER BY seq",  # noqa: S608
            )
            moved = []
            for row in rows:
                try:
                    decode(row)
                except Unreadable as e:
                    cursor.execute(
                        f"INSERT INTO leadscore_quarantine ({_READ}, error) "  # noqa: S608
                        f"SELECT {_READ}, ? FROM leadscore_events WHERE seq = ?",
                        (str(e), row[0]),
                    )
                    cursor.execute(
                        "DELETE FROM leadscore_events WHERE seq = ?", (row[0],)
                    )
                    moved.append(
                        QuarantinedRow(
                            row[0], dict(zip(READ_COLUMNS, row, strict=True)), str(e)
                        )
                    )
            return moved

        return self._write(run)

    def quarantined(self) -> list[QuarantinedRow]:
        """Every row moved aside by :meth:`quarantine_corrupt`, raw, by row id.

        Text that is not valid UTF-8 is returned as ``bytes``.
        """
        try:
            rows = self._select(
                self._db.cursor(),
                f"SELECT {_READ}, error FROM leadscore_quarantine ORDER BY seq",  # noqa: S608
            )
        except sqlite3.Error as e:
            raise StoreError(f"SQLite store {self.path!r}: {e}") from e
        return [
            QuarantinedRow(
                r[0], dict(zip(READ_COLUMNS, r[:-1], strict=True)), str(r[-1])
            )
            for r in rows
        ]

    def __repr__(self) -> str:
        """Show the path."""
        return f"SQLiteStore({self.path!r})"
