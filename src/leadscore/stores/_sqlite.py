"""SQLite through the standard library: WAL, one transaction per append."""

from __future__ import annotations

import secrets
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

from ._protocol import (
    Appended,
    Committed,
    Effects,
    OutboxRow,
    QuarantinedRow,
    RejectedRow,
    Txn,
    check_batch,
    digest,
    keep_remembered,
    names_of,
)
from ._rows import (
    EVENT_COLUMNS,
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
from ._sqlite_path import _checked_path
from ._sqlite_schema import MIGRATIONS

__all__ = ["SQLiteStore"]

T = TypeVar("T")

_READ = ", ".join(READ_COLUMNS)
_WRITE = ", ".join(EVENT_COLUMNS)
_CHUNK = 500  # ids per IN (...) lookup, under SQLite's parameter limit
_RETRIES = 8


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
        self._salt = ""  # read by _migrate
        #: The rows the last read skipped as no longer valid events.
        self.rejected: list[RejectedRow] = []
        try:
            self._db = sqlite3.connect(self.path, timeout=timeout, isolation_level=None)
        except (sqlite3.Error, ValueError, UnicodeError) as e:
            raise StoreError(f"cannot open SQLite store {self.path!r}: {e}") from e
        try:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            # Erased rows are overwritten with zeros, not just unlinked (forget).
            self._db.execute("PRAGMA secure_delete=ON")
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
        def run(cursor: sqlite3.Cursor) -> str:
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
            cursor.execute(
                "INSERT OR IGNORE INTO leadscore_state "
                "VALUES ('salt', ?), ('epoch', '0')",
                (secrets.token_hex(16),),
            )
            (salt,) = cursor.execute(
                "SELECT value FROM leadscore_state WHERE key = 'salt'"
            ).fetchone()
            return str(salt)

        self._salt = self._write(run)

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

        def run(cursor: sqlite3.Cursor) -> list[Event]:
            new = self._new(cursor, batch)
            self._insert(cursor, new, rows)
            return new

        return self._write(run)

    def _new(self, cursor: sqlite3.Cursor, batch: list[Event]) -> list[Event]:
        """The batch's new events: the identity rule, then forgotten contacts."""
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
        stored, unusable = read_rows(found, repr(self))
        refuse_rejected_ids(batch, unusable)
        new = check_batch(batch, {e.id: e for e in stored if e.id is not None})
        (anyone,) = cursor.execute(
            "SELECT EXISTS (SELECT 1 FROM leadscore_forgotten)"
        ).fetchone()
        if not anyone:  # nobody forgotten: no hash to compute, nothing to look up
            return new
        names = {n: digest(self._salt, n) for n in names_of(new)}
        hashes = list(set(names.values()))
        forgotten: dict[str, int] = {}
        for i in range(0, len(hashes), _CHUNK):
            chunk = hashes[i : i + _CHUNK]
            forgotten.update(
                cursor.execute(
                    "SELECT digest, until_us FROM leadscore_forgotten "  # noqa: S608
                    f"WHERE digest IN ({','.join('?' * len(chunk))})",
                    chunk,
                ).fetchall()
            )
        return keep_remembered(new, names, forgotten) if forgotten else new

    def _insert(
        self,
        cursor: sqlite3.Cursor,
        new: list[Event],
        rows: dict[int, tuple[Any, ...]],
    ) -> None:
        cursor.executemany(
            f"INSERT INTO leadscore_events ({_WRITE}) "  # noqa: S608 - constant
            f"VALUES ({', '.join('?' * len(EVENT_COLUMNS))})",
            [rows[id(e)] for e in new],
        )

    def commit(
        self,
        events: Sequence[Event],
        effects: Callable[[Txn], Effects],
        *,
        since: int,
    ) -> Committed:
        """Store the batch, its outbox entries and state in one transaction.

        See :meth:`Store.commit <leadscore.stores.Store.commit>`.
        """
        batch = checked_list(events)
        rows = {id(e): to_row(e, pos) for pos, e in enumerate(batch)}

        def run(cursor: sqlite3.Cursor) -> Committed:
            new = self._new(cursor, batch)
            others = self._read_after(cursor, since)
            state = dict(cursor.execute("SELECT key, value FROM leadscore_state"))
            (high,) = cursor.execute(
                "SELECT coalesce(max(seq), 0) FROM leadscore_events"
            ).fetchone()
            done = effects(Txn(tuple(new), tuple(others), state, high))
            self._insert(cursor, new, rows)
            written = self._write_entries(cursor, done)
            cursor.executemany(
                "INSERT INTO leadscore_state VALUES (?, ?) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                list(done.state.items()),
            )
            self._write_due(cursor, done)
            (mark,) = cursor.execute(
                "SELECT coalesce(max(seq), 0) FROM leadscore_events"
            ).fetchone()
            return Committed(
                tuple(new), tuple(others), tuple(written), max(mark, since)
            )

        return self._write(run)

    def _write_due(self, cursor: sqlite3.Cursor, done: Effects) -> None:
        gone = [(k,) for k, t in done.due.items() if t is None]
        if gone:
            cursor.executemany("DELETE FROM leadscore_due WHERE key = ?", gone)
        rows = [(k, t) for k, t in done.due.items() if t is not None]
        if rows:
            cursor.executemany(
                "INSERT INTO leadscore_due VALUES (?, ?) "
                "ON CONFLICT (key) DO UPDATE SET due_us = excluded.due_us",
                rows,
            )

    def _write_entries(self, cursor: sqlite3.Cursor, done: Effects) -> list[OutboxRow]:
        """Write the outbox entries (one executemany); return the rows written."""
        entries = []
        for entry in done.entries:
            if entry.once is not None:
                cursor.execute(
                    "INSERT OR IGNORE INTO leadscore_fired VALUES (?, ?)",
                    (entry.once, entry.contact),
                )
                if cursor.rowcount != 1:
                    continue  # fired before: never again
            entries.append((entry.id, entry.contact, entry.payload))
        if not entries:
            return []
        (last,) = cursor.execute(
            "SELECT coalesce(max(pos), 0) FROM leadscore_outbox"
        ).fetchone()
        cursor.executemany(
            "INSERT OR IGNORE INTO leadscore_outbox (id, contact, payload) "
            "VALUES (?, ?, ?)",
            entries,
        )
        # The transaction holds the write lock: the new rows are those after.
        rows = cursor.execute(
            "SELECT pos, id, contact, payload FROM leadscore_outbox WHERE pos > ? "
            "ORDER BY pos",
            (last,),
        ).fetchall()
        return [OutboxRow(*r) for r in rows]

    def _read_after(self, cursor: sqlite3.Cursor, mark: int) -> list[Event]:
        rows = self._select(
            cursor,
            f"SELECT {_READ} FROM leadscore_events WHERE seq > ? ORDER BY seq",  # noqa: S608
            (mark,),
        )
        events, rejected = read_rows(rows, repr(self))
        # A full read says which rows are skipped; a later one adds its own.
        self.rejected = rejected if not mark else [*self.rejected, *rejected]
        warn_rejected(repr(self), rejected)
        return events

    def since(self, mark: int) -> Appended:
        """The events stored after *mark* (0: all), read in one snapshot."""
        try:
            cursor = self._db.cursor()
            cursor.execute("BEGIN")
            try:
                (high,) = cursor.execute(
                    "SELECT coalesce(max(seq), 0) FROM leadscore_events"
                ).fetchone()
                events = self._read_after(cursor, mark) if high > mark else []
                (epoch,) = cursor.execute(
                    "SELECT value FROM leadscore_state WHERE key = 'epoch'"
                ).fetchone()
            finally:
                cursor.execute("COMMIT")
        except sqlite3.Error as e:
            raise StoreError(f"SQLite store {self.path!r}: {e}") from e
        return Appended(max(high, mark), tuple(events), str(epoch))

    def head(self) -> Appended:
        """The high-water mark and epoch, reading no event."""
        try:
            cursor = self._db.cursor()
            cursor.execute("BEGIN")
            try:
                (high,) = cursor.execute(
                    "SELECT coalesce(max(seq), 0) FROM leadscore_events"
                ).fetchone()
                (epoch,) = cursor.execute(
                    "SELECT value FROM leadscore_state WHERE key = 'epoch'"
                ).fetchone()
            finally:
                cursor.execute("COMMIT")
        except sqlite3.Error as e:
            raise StoreError(f"SQLite store {self.path!r}: {e}") from e
        return Appended(int(high), (), str(epoch))

    def contacts(self, after: str | None, limit: int) -> list[str]:
        """Up to *limit* stored contacts greater than *after*, ascending."""
        try:
            rows = self._select(
                self._db.cursor(),
                "SELECT DISTINCT contact FROM leadscore_events WHERE contact > ? "
                "ORDER BY contact LIMIT ?",
                ("" if after is None else after, limit),
            )
        except sqlite3.Error as e:
            raise StoreError(f"SQLite store {self.path!r}: {e}") from e
        return [str(c) for (c,) in rows]

    def earliest(self) -> int | None:
        """The earliest stored instant (one pass over the events), or None."""
        try:
            (t,) = self._db.execute(
                "SELECT min(at_us) FROM leadscore_events"
            ).fetchone()
        except sqlite3.Error as e:
            raise StoreError(f"SQLite store {self.path!r}: {e}") from e
        return None if t is None else int(t)

    def due(self, after: tuple[int, str] | None, limit: int) -> list[tuple[int, str]]:
        """Up to *limit* due rows after *after*, by instant then key."""
        try:
            if after is None:
                rows = self._db.execute(
                    "SELECT due_us, key FROM leadscore_due "
                    "ORDER BY due_us, key LIMIT ?",
                    (limit,),
                ).fetchall()
            else:
                rows = self._db.execute(
                    "SELECT due_us, key FROM leadscore_due "
                    "WHERE (due_us, key) > (?, ?) ORDER BY due_us, key LIMIT ?",
                    (*after, limit),
                ).fetchall()
        except sqlite3.Error as e:
            raise StoreError(f"SQLite store {self.path!r}: {e}") from e
        return [(int(t), str(k)) for t, k in rows]

    def events_of(
        self, contacts: Iterable[str], *, upto: int | None = None
    ) -> list[Event]:
        """The events of *contacts* and the merges naming them, in stored order.

        With *upto*, only the rows stored at or before that mark.
        """
        wanted = sorted(set(contacts))
        top = (1 << 63) - 1 if upto is None else upto
        rows: list[Any] = []
        try:
            for i in range(0, len(wanted), _CHUNK):
                chunk = wanted[i : i + _CHUNK]
                marks = ",".join("?" * len(chunk))
                rows += self._select(
                    self._db.cursor(),
                    f"SELECT {_READ} FROM leadscore_events "  # noqa: S608
                    f"WHERE (contact IN ({marks}) OR merged_from IN ({marks})) "
                    "AND seq <= ?",
                    [*chunk, *chunk, top],
                )
        except sqlite3.Error as e:
            raise StoreError(f"SQLite store {self.path!r}: {e}") from e
        rows.sort(key=lambda r: r[0])
        events, rejected = read_rows(rows, repr(self))
        known = {r.row for r in self.rejected}
        self.rejected += [r for r in rejected if r.row not in known]
        warn_rejected(repr(self), rejected)
        return events

    def state(self) -> dict[str, str]:
        """The key-value state kept beside the events."""
        try:
            return dict(self._db.execute("SELECT key, value FROM leadscore_state"))
        except sqlite3.Error as e:
            raise StoreError(f"SQLite store {self.path!r}: {e}") from e

    def outbox(self, after: int, limit: int) -> list[OutboxRow]:
        """Up to *limit* outbox rows after position *after*, in order."""
        try:
            rows = self._db.execute(
                "SELECT pos, id, contact, payload FROM leadscore_outbox "
                "WHERE pos > ? ORDER BY pos LIMIT ?",
                (after, limit),
            ).fetchall()
        except sqlite3.Error as e:
            raise StoreError(f"SQLite store {self.path!r}: {e}") from e
        return [OutboxRow(*r) for r in rows]

    def acknowledge(self, consumer: str, position: int) -> None:
        """Move *consumer*'s cursor up to *position* (never back)."""

        def run(cursor: sqlite3.Cursor) -> None:
            cursor.execute(
                "INSERT INTO leadscore_state VALUES (?, ?) ON CONFLICT (key) DO "
                "UPDATE SET value = CAST(max(CAST(value AS INTEGER), "
                "CAST(excluded.value AS INTEGER)) AS TEXT)",
                (f"cursor:{consumer}", str(position)),
            )

        self._write(run)

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
        """Erase the contacts' events, the merges naming them, their outbox rows.

        Quarantined rows whose ``contact`` or ``merged_from`` still reads as one
        of the contacts are erased too, and counted. Their first-only markers go.
        The erased rows are overwritten with zeros (``secure_delete``) and the
        write-ahead log is checkpointed and truncated, so no byte of the contact
        stays in the file or its WAL (unless another connection holds a read
        open: then the WAL is truncated by the next checkpoint, see
        :meth:`compact`). Kept: a keyed hash of each contact, with the last
        instant of its erased events; its events up to that instant are left out
        if they come again.
        """
        gone = sorted(set(contacts))

        def run(cursor: sqlite3.Cursor) -> int:
            erased = 0
            for c in gone:  # every instant first: a merge may name two of them
                (until,) = cursor.execute(
                    "SELECT max(at_us) FROM leadscore_events "
                    "WHERE contact = ? OR merged_from = ?",
                    (c, c),
                ).fetchone()
                if until is not None:
                    cursor.execute(
                        "INSERT INTO leadscore_forgotten VALUES (?, ?) ON CONFLICT "
                        "(digest) DO UPDATE SET until_us = "
                        "max(until_us, excluded.until_us)",
                        (digest(self._salt, c), until),
                    )
            for c in gone:
                for table in ("leadscore_events", "leadscore_quarantine"):
                    cursor.execute(
                        f"DELETE FROM {table} "  # noqa: S608 - constant names
                        "WHERE contact = ? OR merged_from = ?",
                        (c, c),
                    )
                    erased += cursor.rowcount
                for table in ("leadscore_outbox", "leadscore_fired"):
                    cursor.execute(
                        f"DELETE FROM {table} WHERE contact = ?",  # noqa: S608
                        (c,),
                    )
                cursor.execute("DELETE FROM leadscore_due WHERE key = ?", (c,))
            cursor.execute(
                "UPDATE leadscore_state SET value = CAST(CAST(value AS INTEGER) + 1 "
                "AS TEXT) WHERE key = 'epoch'"
            )
            return erased

        erased = self._write(run)
        self._checkpoint()
        return erased

    def _checkpoint(self) -> None:
        try:
            self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
        except sqlite3.Error as e:
            raise StoreError(f"SQLite store {self.path!r}: {e}") from e

    def compact(self) -> None:
        """Maintenance: rebuild the file (``VACUUM``) and truncate the WAL.

        Not needed for erasure (``forget`` zeroes what it erases); it gives the
        space back to the file system and, run when no other connection is
        reading, also truncates a WAL that ``forget`` could not.
        """
        try:
            self._db.execute("VACUUM")
        except sqlite3.Error as e:
            raise StoreError(f"SQLite store {self.path!r}: {e}") from e
        self._checkpoint()

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
