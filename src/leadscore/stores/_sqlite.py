"""SQLite through the standard library: WAL, one transaction per append."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

from leadscore._events import Event
from leadscore._stream import checked_list
from leadscore.exceptions import StoreError

from ._protocol import check_batch
from ._rows import SCHEMA_VERSION, from_row, to_row

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
}
_COLUMNS = "event_id, contact, kind, at_us, attrs, value"
_CHUNK = 500  # ids per IN (...) lookup, under SQLite's parameter limit
_RETRIES = 8


class SQLiteStore:
    """Events in a SQLite file (or ``":memory:"``), safe for several processes.

    The database runs in WAL mode with ``synchronous=NORMAL``: an acknowledged
    ``append`` survives the process being killed. Writers take the lock with
    ``BEGIN IMMEDIATE``, wait up to *timeout* seconds for each other, and retry a
    few times if the database stays locked. User data only ever travels as SQL
    parameters.

    Raises:
        StoreError: when SQLite fails (the ``sqlite3`` error is the cause).
    """

    def __init__(self, path: str | Path, *, timeout: float = 10.0) -> None:
        """Open (and create or migrate) the store at *path*."""
        self.path = str(path)
        try:
            self._db = sqlite3.connect(self.path, timeout=timeout, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
        except sqlite3.Error as e:
            raise StoreError(f"cannot open SQLite store {self.path!r}: {e}") from e
        self._migrate()

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

    def _migrate(self) -> None:
        def run(cursor: sqlite3.Cursor) -> None:
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
            for version in range(current + 1, SCHEMA_VERSION + 1):
                for statement in MIGRATIONS[version]:
                    cursor.execute(statement)
                cursor.execute("INSERT INTO leadscore_schema VALUES (?)", (version,))

        self._write(run)

    # -- the protocol ------------------------------------------------------------

    def append(self, events: Sequence[Event]) -> list[Event]:
        """Store the batch in one transaction; nothing is written if it fails."""
        batch = checked_list(events)

        def run(cursor: sqlite3.Cursor) -> list[Event]:
            ids = [e.id for e in batch if e.id is not None]
            stored: dict[str, Event] = {}
            for i in range(0, len(ids), _CHUNK):
                chunk = ids[i : i + _CHUNK]
                marks = ",".join("?" * len(chunk))
                for row in cursor.execute(
                    f"SELECT {_COLUMNS} FROM leadscore_events "  # noqa: S608 - only '?' marks
                    f"WHERE event_id IN ({marks})",
                    chunk,
                ):
                    stored[row[0]] = from_row(row)
            new = check_batch(batch, stored)
            cursor.executemany(
                "INSERT INTO leadscore_events "
                "(event_id, contact, kind, at_us, attrs, value, merged_from) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                [to_row(e) for e in new],
            )
            return new

        return self._write(run)

    def events(self) -> list[Event]:
        """Every stored event, in the order stored."""
        try:
            rows = self._db.execute(
                f"SELECT {_COLUMNS} FROM leadscore_events ORDER BY seq"  # noqa: S608
            ).fetchall()
        except sqlite3.Error as e:
            raise StoreError(f"SQLite store {self.path!r}: {e}") from e
        return [from_row(r) for r in rows]

    def forget(self, contacts: Iterable[str]) -> int:
        """Erase the contacts' events and the merges naming them."""
        gone = list(set(contacts))

        def run(cursor: sqlite3.Cursor) -> int:
            erased = 0
            for c in gone:
                cursor.execute(
                    "DELETE FROM leadscore_events WHERE contact = ? OR merged_from = ?",
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

    def __repr__(self) -> str:
        """Show the path."""
        return f"SQLiteStore({self.path!r})"
