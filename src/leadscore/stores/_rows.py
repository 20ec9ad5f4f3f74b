"""Events as table rows, for the SQL stores (parameters only, never SQL text).

Writing: :func:`to_row` turns an event into column values and a checksum, and
raises :class:`~leadscore.exceptions.InvalidEventError` for anything that cannot be
encoded, before any transaction starts. Reading: :func:`read_rows` checks every
row (column types, checksum, JSON) and raises
:class:`~leadscore.exceptions.StoreError` naming the store, the row and the column
for one that cannot be decoded; rows that decode but are no longer valid events
are skipped and returned as :class:`RejectedRow`.
"""

from __future__ import annotations

import hashlib
import json
import warnings
from collections.abc import Iterable, Sequence
from typing import Any

from leadscore.exceptions import InvalidEventError, LeadScoreWarning, StoreError
from leadscore.model._events import CONTACT_MERGED, Event, FrozenAttrs, from_micros
from leadscore.model._limits import shorten

from ._protocol import RejectedRow

__all__ = [
    "DUE_TABLES_SQL",
    "ENGINE_TABLES_SQL",
    "EVENT_COLUMNS",
    "QUARANTINE_SQL",
    "READ_COLUMNS",
    "SCHEMA_VERSION",
    "Unreadable",
    "checksum",
    "decode",
    "read_rows",
    "refuse_rejected_ids",
    "to_row",
    "tolerant_text",
    "warn_rejected",
]

#: The schema the SQL stores create and migrate to. 2 added the ``checksum``
#: column and the ``leadscore_quarantine`` table; 3 the engine's tables: the
#: key-value ``leadscore_state``, the ``leadscore_outbox``, the first-only
#: markers ``leadscore_fired`` and the keyed hashes ``leadscore_forgotten``; 4
#: the due index ``leadscore_due`` (what lets the engine open without reading
#: the events: ``advance`` and ``next_due`` read the contacts due from it).
SCHEMA_VERSION = 4

#: The columns written for an event, in :func:`to_row` order.
EVENT_COLUMNS = (
    "event_id",
    "contact",
    "kind",
    "at_us",
    "attrs",
    "value",
    "merged_from",
    "checksum",
)
#: The columns read back, in :func:`decode` order: the row id first.
READ_COLUMNS = ("seq", *EVENT_COLUMNS)

#: The side table of rows that could not be read. On SQLite its columns have no
#: declared type, so the raw values keep their storage class exactly.
QUARANTINE_SQL = """CREATE TABLE IF NOT EXISTS leadscore_quarantine (
    seq INTEGER PRIMARY KEY,
    event_id, contact, kind, at_us, attrs, value, merged_from, checksum,
    error TEXT NOT NULL
)"""

#: The tables of schema version 3 (portable DDL: SQLite and PostgreSQL).
ENGINE_TABLES_SQL = (
    "CREATE TABLE leadscore_state (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    "CREATE TABLE leadscore_fired (marker TEXT PRIMARY KEY, contact TEXT NOT NULL)",
    "CREATE INDEX leadscore_fired_contact ON leadscore_fired (contact)",
    (
        "CREATE TABLE leadscore_forgotten (digest TEXT PRIMARY KEY, "
        "until_us BIGINT NOT NULL)"
    ),
)

#: The table of schema version 4: per contact (or subject), a lower bound of
#: the next instant at which time alone may change its score (Effects.due).
DUE_TABLES_SQL = (
    "CREATE TABLE leadscore_due (key TEXT PRIMARY KEY, due_us BIGINT NOT NULL)",
    "CREATE INDEX leadscore_due_at ON leadscore_due (due_us, key)",
)

_REPAIR = (
    "to open the store anyway, move the unreadable rows aside with "
    "store.quarantine_corrupt() (see 'When stored rows are bad' in the engine "
    "how-to)"
)


# -- writing -------------------------------------------------------------------------


def checksum(columns: Sequence[Any]) -> str:
    """A 64-bit BLAKE2b digest (16 hex digits) of a row's canonical content.

    *columns* are ``event_id, contact, kind, at_us, attrs, value, merged_from``.

    The content is the numbers, the lengths of the texts, then the texts, so no
    two rows share it. Cheap on purpose: it runs for every row read and written.
    It detects accidental change (a flipped bit, a torn or overwritten page), not
    deliberate tampering: anyone who can write the row can recompute it.

    >>> checksum((None, "ann", "email.opened", 0, "{}", 0.0, None))
    '3791b532bad1d5c4'
    """
    event_id, contact, kind, at_us, attrs, value, merged_from = columns
    content = (
        f"{at_us}|{float(value)!r}|{len(contact)}|{len(kind)}|{len(attrs)}|"
        f"{-1 if event_id is None else len(event_id)}|"
        f"{-1 if merged_from is None else len(merged_from)}|"
        f"{contact}{kind}{attrs}{event_id or ''}{merged_from or ''}"
    )
    return hashlib.blake2b(
        content.encode("utf-8", "surrogatepass"), digest_size=8
    ).hexdigest()


def _unstorable(text: str) -> str | None:
    """Why *text* cannot be stored as text in every database, or None."""
    if "\x00" in text:
        return "it contains a NUL character"
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            return "it contains a lone surrogate, which cannot be encoded"
    return None


def _reject(field: str, value: Any, reason: str, pos: int | None) -> InvalidEventError:
    return InvalidEventError(
        f"{field} cannot be stored: {reason}: {shorten(value)}",
        field=field,
        value=value,
        where=None if pos is None else f"events[{pos}]",
    )


#: One encoder for every row: ``json.dumps`` with options builds one per call.
_ENCODE = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def _attrs_json(e: Event, pos: int | None) -> str:
    try:
        attrs = e.attrs
        # A FrozenAttrs' own dict: dict(attrs) would copy it through Python calls.
        data = attrs._data if type(attrs) is FrozenAttrs else dict(attrs)  # noqa: SLF001
        text = _ENCODE(data) if data else "{}"
    except (ValueError, TypeError, OverflowError, RecursionError):
        text = None
    if text is not None and _unstorable(text) is None:
        return text
    # Find the attribute at fault (the rare path).
    for key, value in e.attrs.items():
        reason = _unstorable(json.dumps(key, ensure_ascii=False))
        if reason is not None:
            raise _reject("attrs", key, f"the key {reason}", pos)
        try:
            part = json.dumps(value, ensure_ascii=False)
        except (ValueError, TypeError, OverflowError, RecursionError) as error:
            raise _reject(f"attrs[{key!r}]", value, str(error), pos) from None
        reason = _unstorable(part)
        if reason is not None:
            raise _reject(f"attrs[{key!r}]", value, reason, pos)
    raise _reject("attrs", dict(e.attrs), "it cannot be written as JSON", pos)


def to_row(e: Event, pos: int | None = None) -> tuple[Any, ...]:
    """The column values of *e*, in :data:`EVENT_COLUMNS` order.

    Args:
        e: The event.
        pos: Its position in the batch, for the error message.

    Raises:
        InvalidEventError: naming the field and the value, for anything no
            database can keep (a lone surrogate, a NUL, an int too long for JSON).
    """
    texts = (("contact", e.contact), ("kind", e.kind), ("id", e.id))
    joined = "".join(text for _, text in texts if text is not None)
    if not joined.isascii() or "\x00" in joined:  # else nothing to look at
        for field, text in texts:
            if text is not None:
                reason = _unstorable(text)
                if reason is not None:
                    raise _reject(field, text, reason, pos)
    merged_from = e.attrs.get("from") if e.kind == CONTACT_MERGED else None
    if not isinstance(merged_from, str):
        merged_from = None
    attrs = _attrs_json(e, pos)
    us = e._us  # noqa: SLF001
    return (
        e.id,
        e.contact,
        e.kind,
        us,
        attrs,
        e.value,
        merged_from,
        checksum((e.id, e.contact, e.kind, us, attrs, e.value, merged_from)),
    )


# -- reading -------------------------------------------------------------------------


class Unreadable(Exception):  # noqa: N818 - private; becomes a StoreError
    """A row that cannot be decoded (the stores turn it into a StoreError)."""

    def __init__(self, row: Any, column: str, problem: str) -> None:
        """Name the row, the column and what is wrong with it."""
        super().__init__(f"row {row} (seq), column {column!r}: {problem}")
        self.row = row
        self.column = column
        self.problem = problem

    def error(self, store: str) -> StoreError:
        """The StoreError to raise, naming *store* and how to repair it."""
        return StoreError(f"{store}: stored {self}; {_REPAIR}")


def tolerant_text(raw: bytes) -> str | bytes:
    """A sqlite3 ``text_factory`` that leaves text that is not UTF-8 as bytes."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw


def _kind_of(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bytes):
        return f"bytes that are not UTF-8 text: {shorten(value)}"
    return f"{type(value).__name__} {shorten(value)}"


def _check_types(row: Sequence[Any]) -> None:
    expected = (
        ("seq", (int,), False),
        ("event_id", (str,), True),
        ("contact", (str,), False),
        ("kind", (str,), False),
        ("at_us", (int,), False),
        ("attrs", (str,), False),
        ("value", (float, int), False),
        ("merged_from", (str,), True),
        ("checksum", (str,), True),
    )
    for (column, types, nullable), value in zip(expected, row, strict=True):
        if value is None and nullable:
            continue
        if type(value) not in types:
            want = " or ".join(t.__name__ for t in types)
            want += " or NULL" if nullable else ""
            raise Unreadable(row[0], column, f"must be {want}, got {_kind_of(value)}")


def decode(row: Sequence[Any]) -> dict[str, Any]:
    """The Event arguments of a row read in :data:`READ_COLUMNS` order.

    Raises:
        Unreadable: for a column of the wrong type, text that is not UTF-8, a
            checksum that does not match, attrs that are not a JSON object, or an
            instant outside the datetime range.
    """
    if len(row) != len(READ_COLUMNS):
        raise Unreadable(row[0] if row else None, "*", f"has {len(row)} columns")
    seq, event_id, contact, kind, at_us, attrs, value, merged_from, digest = row
    # One test for the common case; the detailed one only when it fails.
    if not (
        type(contact) is str
        and type(kind) is str
        and type(at_us) is int
        and type(attrs) is str
        and type(value) is float
        and (event_id is None or type(event_id) is str)
        and (merged_from is None or type(merged_from) is str)
        and (digest is None or type(digest) is str)
        and type(seq) is int
    ):
        _check_types(row)
    if digest is not None:
        actual = checksum(row[1:8])
        if actual != digest:
            raise Unreadable(
                seq,
                "checksum",
                f"is {digest!r} but the row's content hashes to {actual!r}: the "
                "row changed after it was written",
            )
    try:
        data = json.loads(attrs)
    except (ValueError, RecursionError) as e:
        raise Unreadable(
            seq, "attrs", f"is not valid JSON ({shorten(str(e))}): {shorten(attrs)}"
        ) from None
    if type(data) is not dict:
        raise Unreadable(seq, "attrs", f"is not a JSON object: {shorten(attrs)}")
    try:
        at = from_micros(at_us)
    except (OverflowError, ValueError):
        raise Unreadable(
            seq, "at_us", f"is {at_us}, outside the range of datetime"
        ) from None
    return {
        "contact": contact,
        "kind": kind,
        "at": at,
        "attrs": data,
        "value": float(value),
        "id": event_id,
    }


def read_rows(
    rows: Iterable[Sequence[Any]], store: str
) -> tuple[list[Event], list[RejectedRow]]:
    """The events of *rows*, and the rows that decode but are no longer events.

    Raises:
        StoreError: naming *store*, the row and the column, for a row that cannot
            be decoded.
    """
    events: list[Event] = []
    rejected: list[RejectedRow] = []
    append = events.append
    for row in rows:
        try:
            data = decode(row)
        except Unreadable as e:
            raise e.error(store) from None
        try:
            append(Event(**data))
        except (ValueError, TypeError, OverflowError, RecursionError) as e:
            rejected.append(RejectedRow(row[0], data, str(e)))
    return events, rejected


def refuse_rejected_ids(batch: list[Event], unusable: list[RejectedRow]) -> None:
    """Refuse a batch reusing the id of a stored row that is no longer valid."""
    taken = {r.data["id"]: r for r in unusable}
    for pos, e in enumerate(batch):
        row = taken.get(e.id)
        if row is not None:
            raise InvalidEventError(
                f"id {e.id!r} is already used by stored row {row.row}, which is "
                f"no longer a valid event ({shorten(row.error)}); erase or fix "
                "that row first",
                field="id",
                value=e.id,
                where=f"events[{pos}]",
            )


def warn_rejected(store: str, rejected: Sequence[RejectedRow]) -> None:
    """Warn once that *rejected* rows were skipped (nothing if there are none)."""
    if not rejected:
        return
    first = rejected[0]
    warnings.warn(
        f"{store}: skipped {len(rejected)} stored row(s) that are no longer valid "
        f"events; they stay stored and store.rejected lists them. First: row "
        f"{first.row}: {shorten(first.error)}",
        LeadScoreWarning,
        stacklevel=3,
    )
