"""Any SQL database through SQLAlchemy Core (extra ``leadscore[sql]``).

Tested on SQLite and PostgreSQL (``leadscore[postgres]`` adds psycopg). The tables
are those of :class:`~leadscore.stores.SQLiteStore`, so one schema version table
and the same migrations serve both.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError, OperationalError, SQLAlchemyError

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
    warn_rejected,
)
from ._sqlalchemy_dialects import (
    _among,
    _check_encoding,
    _chunks,
    _copies,
    _insert_rows,
    _select,
)
from ._sqlalchemy_schema import (
    MIGRATIONS,
    _create_quarantine,
    _migrate_to_3,
    _migrate_to_4,
    due_table,
    events_table,
    fired_table,
    forgotten_table,
    metadata,
    outbox_table,
    quarantine_table,
    schema_table,
    state_table,
)

__all__ = ["SQLAlchemyStore"]

_RETRIES = 5

_READ = [events_table.c[c] for c in READ_COLUMNS]
#: Serialises writers on PostgreSQL, so that row ids commit in increasing order
#: (a reader that has seen row n has seen every row before it).
_WRITE_LOCK = 7_147_001


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
            with self._connect() as db, db.begin():
                self._prepare(db)
        except (SQLAlchemyError, StoreError) as e:
            if not isinstance(url_or_engine, sa.Engine) and hasattr(self, "engine"):
                self.engine.dispose()  # ours: close its connections
            if isinstance(e, StoreError):
                raise
            raise StoreError(f"cannot open store: {e}") from e

    def _connect(self) -> sa.Connection:
        """The first connection; a database the driver cannot read is a StoreError.

        SQLAlchemy and psycopg cannot read a SQL_ASCII PostgreSQL database (its
        text comes back as bytes): they fail while connecting, with a TypeError,
        before any check of ours. Only that step's TypeError and UnicodeError
        are taken for it; the same errors from leadscore's own code stay bugs.
        """
        try:
            return self.engine.connect()
        except (TypeError, UnicodeError) as e:
            raise StoreError(
                f"cannot open store: the database could not be read "
                f"({type(e).__name__}: {e}); a PostgreSQL database must have "
                "ENCODING 'UTF8'"
            ) from e

    def _prepare(self, db: sa.Connection) -> None:
        """Check the database, create or migrate the tables, read the salt."""
        _check_encoding(db)
        schema_table.create(db, checkfirst=True)
        current = (
            db.execute(sa.select(sa.func.max(schema_table.c.version))).scalar() or 0
        )
        if current > SCHEMA_VERSION:
            raise StoreError(
                f"schema version {current} is newer than this leadscore "
                f"knows ({SCHEMA_VERSION}): upgrade leadscore"
            )
        if not current:
            events_table.create(db, checkfirst=True)
            _create_quarantine(db)
            _migrate_to_3(db)
            _migrate_to_4(db)
        else:
            for version in range(current + 1, SCHEMA_VERSION + 1):
                MIGRATIONS[version](db)
        if current < SCHEMA_VERSION:
            db.execute(schema_table.insert().values(version=SCHEMA_VERSION))
        known = dict(
            db.execute(sa.select(state_table.c.key, state_table.c.value)).all()
        )
        for key, value in (("salt", secrets.token_hex(16)), ("epoch", "0")):
            if key not in known:
                db.execute(state_table.insert().values(key=key, value=value))
                known[key] = value
        self._salt = str(known["salt"])
        #: Bulk writes go in with COPY (checked when the store opens).
        self._copy = _copies(db)

    def _lock(self, db: sa.Connection) -> None:
        if db.dialect.name == "postgresql":
            db.execute(sa.select(sa.func.pg_advisory_xact_lock(_WRITE_LOCK)))

    def _new(self, db: sa.Connection, batch: list[Event]) -> list[Event]:
        """The batch's new events: the identity rule, then forgotten contacts."""
        ids = [e.id for e in batch if e.id is not None]
        found: list[Any] = []
        for chunk in _chunks(db, ids):
            found += _select(
                db,
                sa.select(*_READ).where(_among(db, events_table.c.event_id, chunk)),
            )
        stored, unusable = read_rows(found, repr(self))
        refuse_rejected_ids(batch, unusable)
        new = check_batch(batch, {e.id: e for e in stored if e.id is not None})
        anyone = db.execute(
            sa.select(sa.exists().select_from(forgotten_table))
        ).scalar()
        if not anyone:  # nobody forgotten: no hash to compute, nothing to look up
            return new
        names = {n: digest(self._salt, n) for n in names_of(new)}
        hashes = sorted(set(names.values()))
        forgotten: dict[str, int] = {}
        f = forgotten_table.c
        for chunk in _chunks(db, hashes):
            rows = db.execute(
                sa.select(f.digest, f.until_us).where(_among(db, f.digest, chunk))
            ).all()
            forgotten.update((str(d), int(u)) for d, u in rows)
        return keep_remembered(new, names, forgotten) if forgotten else new

    def _insert(
        self, db: sa.Connection, new: list[Event], rows: dict[int, tuple[Any, ...]]
    ) -> None:
        new_rows = [rows[id(e)] for e in new]
        _insert_rows(db, events_table, EVENT_COLUMNS, new_rows, copy=self._copy)

    def _read_after(self, db: sa.Connection, mark: int) -> list[Event]:
        rows = _select(
            db,
            sa.select(*_READ)
            .where(events_table.c.seq > mark)
            .order_by(events_table.c.seq),
        )
        events, rejected = read_rows(rows, repr(self))
        # A full read says which rows are skipped; a later one adds its own.
        self.rejected = rejected if not mark else [*self.rejected, *rejected]
        warn_rejected(repr(self), rejected)
        return events

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
        for attempt in range(_RETRIES):
            try:
                with self.engine.begin() as db:
                    self._lock(db)
                    new = self._new(db, batch)
                    others = self._read_after(db, since)
                    state = dict(
                        db.execute(
                            sa.select(state_table.c.key, state_table.c.value)
                        ).all()
                    )
                    high = db.execute(
                        sa.select(sa.func.coalesce(sa.func.max(events_table.c.seq), 0))
                    ).scalar_one()
                    done = effects(Txn(tuple(new), tuple(others), state, int(high)))
                    self._insert(db, new, rows)
                    written = self._write_entries(db, done)
                    self._write_due(db, done)
                    for key, value in done.state.items():
                        updated = db.execute(
                            state_table.update()
                            .where(state_table.c.key == key)
                            .values(value=value)
                        )
                        if not updated.rowcount:
                            db.execute(
                                state_table.insert().values(key=key, value=value)
                            )
                    mark = db.execute(
                        sa.select(sa.func.coalesce(sa.func.max(events_table.c.seq), 0))
                    ).scalar_one()
                    return Committed(
                        tuple(new), tuple(others), tuple(written), max(int(mark), since)
                    )
            except (IntegrityError, OperationalError) as e:
                if attempt == _RETRIES - 1:
                    raise StoreError(f"commit failed: {e}") from e
            except SQLAlchemyError as e:
                raise StoreError(f"commit failed: {e}") from e
        raise AssertionError("unreachable")  # pragma: no cover

    def _write_due(self, db: sa.Connection, done: Effects) -> None:
        if not done.due:
            return
        keys = sorted(done.due)
        for chunk in _chunks(db, keys):
            db.execute(due_table.delete().where(_among(db, due_table.c.key, chunk)))
        rows = [(k, t) for k, t in done.due.items() if t is not None]
        _insert_rows(db, due_table, ("key", "due_us"), rows, copy=self._copy)

    def _write_entries(self, db: sa.Connection, done: Effects) -> list[OutboxRow]:
        entries = list(done.entries)
        if not entries:
            return []
        o = outbox_table.c
        taken: set[str] = set()
        ids = [e.id for e in entries]
        for chunk in _chunks(db, ids):
            taken.update(
                db.execute(sa.select(o.id).where(_among(db, o.id, chunk))).scalars()
            )
        markers = [e.once for e in entries if e.once is not None]
        used: set[str] = set()
        if markers:
            used.update(
                db.execute(
                    sa.select(fired_table.c.marker).where(
                        _among(db, fired_table.c.marker, markers)
                    )
                ).scalars()
            )
        fresh = []
        for entry in entries:
            if entry.id in taken or (entry.once is not None and entry.once in used):
                continue
            if entry.once is not None:
                db.execute(
                    fired_table.insert().values(
                        marker=entry.once, contact=entry.contact
                    )
                )
                used.add(entry.once)
            taken.add(entry.id)
            fresh.append((entry.id, entry.contact, entry.payload))
        if not fresh:
            return []
        last = db.execute(
            sa.select(sa.func.coalesce(sa.func.max(o.pos), 0))
        ).scalar_one()
        names = ("id", "contact", "payload")
        _insert_rows(db, outbox_table, names, fresh, copy=self._copy)
        # Writers are serialised (the advisory lock on PostgreSQL, the database
        # lock on SQLite): the rows after *last* are this transaction's.
        rows = db.execute(
            sa.select(o.pos, o.id, o.contact, o.payload)
            .where(o.pos > last)
            .order_by(o.pos)
        ).all()
        return [OutboxRow(int(p), str(i), str(c), str(x)) for p, i, c, x in rows]

    def since(self, mark: int) -> Appended:
        """The events stored after *mark* (0: all), read in one snapshot."""
        try:
            with self.engine.begin() as db:
                if db.dialect.name == "postgresql":
                    db.exec_driver_sql(
                        "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY"
                    )
                high = db.execute(
                    sa.select(sa.func.coalesce(sa.func.max(events_table.c.seq), 0))
                ).scalar_one()
                events = self._read_after(db, mark) if high > mark else []
                epoch = db.execute(
                    sa.select(state_table.c.value).where(state_table.c.key == "epoch")
                ).scalar_one()
        except SQLAlchemyError as e:
            raise StoreError(f"read failed: {e}") from e
        return Appended(max(int(high), mark), tuple(events), str(epoch))

    def head(self) -> Appended:
        """The high-water mark and epoch, reading no event."""
        try:
            with self.engine.begin() as db:
                high = db.execute(
                    sa.select(sa.func.coalesce(sa.func.max(events_table.c.seq), 0))
                ).scalar_one()
                epoch = db.execute(
                    sa.select(state_table.c.value).where(state_table.c.key == "epoch")
                ).scalar_one()
        except SQLAlchemyError as e:
            raise StoreError(f"read failed: {e}") from e
        return Appended(int(high), (), str(epoch))

    def contacts(self, after: str | None, limit: int) -> list[str]:
        """Up to *limit* stored contacts greater than *after*, ascending."""
        c = events_table.c
        query = sa.select(c.contact).distinct().order_by(c.contact).limit(limit)
        if after is not None:
            query = query.where(c.contact > after)
        try:
            with self.engine.connect() as db:
                return [str(x) for x in db.execute(query).scalars()]
        except SQLAlchemyError as e:
            raise StoreError(f"read failed: {e}") from e

    def earliest(self) -> int | None:
        """The earliest stored instant (one pass over the events), or None."""
        try:
            with self.engine.connect() as db:
                t = db.execute(sa.select(sa.func.min(events_table.c.at_us))).scalar()
        except SQLAlchemyError as e:
            raise StoreError(f"read failed: {e}") from e
        return None if t is None else int(t)

    def due(self, after: tuple[int, str] | None, limit: int) -> list[tuple[int, str]]:
        """Up to *limit* due rows after *after*, by instant then key."""
        d = due_table.c
        query = sa.select(d.due_us, d.key).order_by(d.due_us, d.key).limit(limit)
        if after is not None:
            query = query.where(sa.tuple_(d.due_us, d.key) > sa.tuple_(*after))
        try:
            with self.engine.connect() as db:
                rows = db.execute(query).all()
        except SQLAlchemyError as e:
            raise StoreError(f"read failed: {e}") from e
        return [(int(t), str(k)) for t, k in rows]

    def events_of(
        self, contacts: Iterable[str], *, upto: int | None = None
    ) -> list[Event]:
        """The events of *contacts* and the merges naming them, in stored order.

        With *upto*, only the rows stored at or before that mark.
        """
        wanted = sorted(set(contacts))
        rows: list[Any] = []
        c = events_table.c
        try:
            with self.engine.connect() as db:
                for chunk in _chunks(db, wanted):
                    query = sa.select(*_READ).where(
                        _among(db, c.contact, chunk) | _among(db, c.merged_from, chunk)
                    )
                    if upto is not None:
                        query = query.where(c.seq <= upto)
                    rows += _select(db, query)
        except SQLAlchemyError as e:
            raise StoreError(f"read failed: {e}") from e
        rows.sort(key=lambda r: r[0])
        events, rejected = read_rows(rows, repr(self))
        known = {r.row for r in self.rejected}
        self.rejected += [r for r in rejected if r.row not in known]
        warn_rejected(repr(self), rejected)
        return events

    def state(self) -> dict[str, str]:
        """The key-value state kept beside the events."""
        try:
            with self.engine.connect() as db:
                rows = db.execute(sa.select(state_table.c.key, state_table.c.value))
                return {str(k): str(v) for k, v in rows.all()}
        except SQLAlchemyError as e:
            raise StoreError(f"read failed: {e}") from e

    def outbox(self, after: int, limit: int) -> list[OutboxRow]:
        """Up to *limit* outbox rows after position *after*, in order."""
        o = outbox_table.c
        try:
            with self.engine.connect() as db:
                rows = db.execute(
                    sa.select(o.pos, o.id, o.contact, o.payload)
                    .where(o.pos > after)
                    .order_by(o.pos)
                    .limit(limit)
                ).all()
        except SQLAlchemyError as e:
            raise StoreError(f"read failed: {e}") from e
        return [OutboxRow(int(p), str(i), str(c), str(x)) for p, i, c, x in rows]

    def acknowledge(self, consumer: str, position: int) -> None:
        """Move *consumer*'s cursor up to *position* (never back)."""
        key = f"cursor:{consumer}"
        for attempt in range(_RETRIES):
            try:
                with self.engine.begin() as db:
                    self._lock(db)
                    current = db.execute(
                        sa.select(state_table.c.value).where(state_table.c.key == key)
                    ).scalar()
                    if current is None:
                        db.execute(
                            state_table.insert().values(key=key, value=str(position))
                        )
                    elif int(current) < position:
                        db.execute(
                            state_table.update()
                            .where(state_table.c.key == key)
                            .values(value=str(position))
                        )
                    return
            except (IntegrityError, OperationalError) as e:
                if attempt == _RETRIES - 1:
                    raise StoreError(f"acknowledge failed: {e}") from e
            except SQLAlchemyError as e:
                raise StoreError(f"acknowledge failed: {e}") from e

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
        for attempt in range(_RETRIES):
            try:
                with self.engine.begin() as db:
                    self._lock(db)
                    new = self._new(db, batch)
                    self._insert(db, new, rows)
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
        """Erase the contacts' events, the merges naming them, their outbox rows.

        Quarantined rows whose ``contact`` or ``merged_from`` still reads as one
        of the contacts are erased too, and counted; their first-only markers
        go. Kept: a keyed hash of each contact with the last instant of its
        erased events (its events up to then are left out if sent again). On
        PostgreSQL deleted rows stay in the table files until :meth:`vacuum`
        (the documented maintenance step) rewrites them.
        """
        gone = sorted(set(contacts))
        c, f = events_table.c, forgotten_table.c
        try:
            with self.engine.begin() as db:
                self._lock(db)
                erased = 0
                for name in gone:
                    until = db.execute(
                        sa.select(sa.func.max(c.at_us)).where(
                            (c.contact == name) | (c.merged_from == name)
                        )
                    ).scalar()
                    if until is not None:
                        key = digest(self._salt, name)
                        old = db.execute(
                            sa.select(f.until_us).where(f.digest == key)
                        ).scalar()
                        if old is None:
                            db.execute(
                                forgotten_table.insert().values(
                                    digest=key, until_us=until
                                )
                            )
                        elif old < until:
                            db.execute(
                                forgotten_table.update()
                                .where(f.digest == key)
                                .values(until_us=until)
                            )
                for table in (events_table, quarantine_table):
                    result = db.execute(
                        table.delete().where(
                            table.c.contact.in_(gone) | table.c.merged_from.in_(gone)
                        )
                    )
                    erased += int(result.rowcount)
                for other in (outbox_table, fired_table):
                    db.execute(other.delete().where(other.c.contact.in_(gone)))
                db.execute(due_table.delete().where(due_table.c.key.in_(gone)))
                epoch = db.execute(
                    sa.select(state_table.c.value).where(state_table.c.key == "epoch")
                ).scalar_one()
                db.execute(
                    state_table.update()
                    .where(state_table.c.key == "epoch")
                    .values(value=str(int(epoch) + 1))
                )
                return erased
        except SQLAlchemyError as e:
            raise StoreError(f"forget failed: {e}") from e

    def vacuum(self) -> None:
        """Maintenance after ``forget``: rewrite leadscore's tables.

        PostgreSQL: ``VACUUM FULL`` of each ``leadscore_*`` table (an exclusive
        lock while it runs), so that no erased row stays in the table files.
        SQLite: ``VACUUM`` and a truncating WAL checkpoint.
        """
        try:
            with self.engine.connect() as db:
                auto = db.execution_options(isolation_level="AUTOCOMMIT")
                if db.dialect.name == "postgresql":
                    for table in metadata.sorted_tables:
                        auto.exec_driver_sql(f"VACUUM FULL {table.name}")
                else:
                    auto.exec_driver_sql("VACUUM")
                    if db.dialect.name == "sqlite":
                        auto.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        except SQLAlchemyError as e:
            raise StoreError(f"vacuum failed: {e}") from e

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
