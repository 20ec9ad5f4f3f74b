"""SQLiteStore's schema: the statements of each migration, by target version.

A store at version n - 1 runs ``MIGRATIONS[n]`` to reach version n; a new store
runs them all. The DDL that SQLAlchemyStore shares on SQLite (the quarantine, the
engine's tables, the due index) comes from :mod:`._rows`.
"""

from __future__ import annotations

from ._rows import DUE_TABLES_SQL, ENGINE_TABLES_SQL, QUARANTINE_SQL

__all__ = ["MIGRATIONS"]

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
    # The engine's durable state: watermark, cursors, outbox, first-only markers,
    # keyed hashes of forgotten contacts.
    3: (
        *ENGINE_TABLES_SQL,
        """CREATE TABLE leadscore_outbox (
            pos INTEGER PRIMARY KEY AUTOINCREMENT,
            id TEXT NOT NULL UNIQUE,
            contact TEXT NOT NULL,
            payload TEXT NOT NULL
        )""",
        "CREATE INDEX leadscore_outbox_contact ON leadscore_outbox (contact)",
    ),
    # The due index: the engine opens without reading the events, and advance
    # visits only the contacts due. Empty after the migration: the engine
    # fills it at its first advance (or next_due), reading the store once.
    4: DUE_TABLES_SQL,
}
