"""SQLiteStore: the paths it accepts, and what it does with damaged rows."""

from __future__ import annotations

import datetime as dt
import sqlite3
import struct

import pytest

from leadscore import Event, presets
from leadscore.engine import Engine
from leadscore.exceptions import InvalidEventError, LeadScoreWarning, StoreError
from leadscore.stores import RejectedRow, SQLiteStore
from leadscore.stores._sqlite import MIGRATIONS
from leadscore.testing import RAW_ROW

from .test_stores import write_raw_row

T0 = dt.datetime(2024, 5, 1, tzinfo=dt.UTC)


def _tables(path):
    with sqlite3.connect(path) as db:
        return {n for (n,) in db.execute("SELECT name FROM sqlite_master")}


def _seqs(path):
    with sqlite3.connect(path) as db:
        return [s for (s,) in db.execute("SELECT seq FROM leadscore_events")]


# -- paths ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "match"),
    [
        (None, "must be a str or os.PathLike.*got NoneType None"),
        (42, "got int 42"),
        (b"events.db", "got bytes"),
        ("", "path is empty"),
        ("file:events.db?mode=memory", "'file:events.db\\?mode=memory' is a URI"),
        ("file:events.db", "is a URI"),
    ],
)
def test_paths_that_are_not_plain_file_paths_are_refused(
    tmp_path, monkeypatch, path, match
):
    """None, non-strings, '' and URIs raise a StoreError naming the value; no file."""
    monkeypatch.chdir(tmp_path)
    with pytest.raises(StoreError, match=match):
        SQLiteStore(path)
    assert [] == list(tmp_path.iterdir())


def test_a_file_named_like_a_uri_is_reached_with_dot_slash(tmp_path, monkeypatch):
    """'./file:x' is the plain file named 'file:x', kept like any other."""
    monkeypatch.chdir(tmp_path)
    store = SQLiteStore("./file:events.db")
    store.append([Event("ann", "email.opened", T0, id="1")])
    store.close()
    assert (tmp_path / "file:events.db").stat().st_size > 0


def test_memory_stores_are_separate_and_not_kept():
    """':memory:' works; each is its own database, gone at close."""
    one, two = SQLiteStore(":memory:"), SQLiteStore(":memory:")
    one.append([Event("ann", "email.opened", T0)])
    assert [] == two.events()
    one.close()
    assert [] == SQLiteStore(":memory:").events()


def test_a_zero_length_file_becomes_a_new_store(tmp_path):
    """An empty file is an empty SQLite database: it becomes a leadscore store."""
    path = tmp_path / "empty.db"
    path.touch()
    store = SQLiteStore(path)
    assert [] == store.events()
    e = Event("ann", "email.opened", T0, id="1")
    store.append([e])
    store.close()
    assert [e] == SQLiteStore(path).events()


def test_a_file_that_is_not_a_database_is_refused_and_left_alone(tmp_path):
    """A text file raises a StoreError naming it, and is not changed."""
    path = tmp_path / "notes.txt"
    path.write_text("dear diary, " * 100)
    with pytest.raises(StoreError, match=r"notes.txt.*not a SQLite database"):
        SQLiteStore(path)
    assert "dear diary, " * 100 == path.read_text()


def test_another_sqlite_database_is_refused_and_left_alone(tmp_path):
    """A database with other tables and none of ours raises naming it and them."""
    path = tmp_path / "app.db"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT)")
    with pytest.raises(StoreError, match=r"app.db.*not a leadscore store.*customers"):
        SQLiteStore(path)
    assert {"customers"} == _tables(path)


def test_a_directory_is_refused(tmp_path):
    """A directory raises a StoreError naming it."""
    with pytest.raises(StoreError, match=str(tmp_path.name)):
        SQLiteStore(tmp_path)


def test_a_schema_without_the_events_table_is_refused(tmp_path):
    """A half leadscore database is named as such, not silently completed."""
    path = tmp_path / "half.db"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE leadscore_schema (version INTEGER NOT NULL)")
        db.execute("INSERT INTO leadscore_schema VALUES (1)")
    with pytest.raises(StoreError, match="no leadscore_events table"):
        SQLiteStore(path)


# -- migration -----------------------------------------------------------------------


def _version_1_store(path, rows):
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE leadscore_schema (version INTEGER NOT NULL)")
        for statement in MIGRATIONS[1]:
            db.execute(statement)
        db.execute("INSERT INTO leadscore_schema VALUES (1)")
        for row in rows:
            db.execute(
                "INSERT INTO leadscore_events "
                "(event_id, contact, kind, at_us, attrs, value, merged_from) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                row,
            )


def test_a_version_1_store_migrates_and_its_rows_stay_readable(tmp_path):
    """Rows written before checksums read back; new rows get a checksum."""
    path = tmp_path / "v1.db"
    at = RAW_ROW["at_us"]
    _version_1_store(path, [("1", "ann", "email.opened", at, '{"m":1}', 0.0, None)])
    store = SQLiteStore(path)
    assert [Event("ann", "email.opened", T0, {"m": 1}, id="1")] == store.events()
    store.append([Event("bob", "email.opened", T0, id="2")])
    store.close()
    with sqlite3.connect(path) as db:
        versions = db.execute("SELECT version FROM leadscore_schema").fetchall()
        sums = db.execute(
            "SELECT checksum FROM leadscore_events ORDER BY seq"
        ).fetchall()
    assert [(1,), (2,), (3,), (4,)] == sorted(versions)
    assert None is sums[0][0]
    assert 16 == len(sums[1][0])


def test_a_version_3_store_migrates_and_its_first_advance_builds_the_due_index(
    tmp_path,
):
    """A v3 file opens (v4 adds leadscore_due); advance reports what it would have."""
    model = presets.highlevel()  # 90-day expiry
    path = tmp_path / "events.db"
    with Engine([model], SQLiteStore(path)) as engine:
        engine.ingest([Event("ann", "form.submitted", T0, id="1")])
    with sqlite3.connect(path) as db:  # back to what version 3 wrote
        db.execute("DROP TABLE leadscore_due")
        db.execute("DELETE FROM leadscore_state WHERE key = 'due'")
        db.execute("DELETE FROM leadscore_schema WHERE version = 4")
    with Engine([model], SQLiteStore(path)) as engine:
        assert "leadscore_due" in _tables(path)
        assert T0 + dt.timedelta(days=90) == engine.next_due()
        drop = engine.advance(T0 + dt.timedelta(days=100))
        assert [("ann", 10.0, 0.0)] == [(c.contact, c.before, c.after) for c in drop]
        assert engine.next_due() is None


def test_an_invalid_row_of_a_version_1_store_is_rejected_not_fatal(tmp_path):
    """A merge without 'from' stored by an old version: skipped, listed, kept."""
    path = tmp_path / "v1.db"
    at = RAW_ROW["at_us"]
    _version_1_store(
        path,
        [
            ("1", "ann", "email.opened", at, "{}", 0.0, None),
            ("2", "ann", "contact.merged", at, "{}", 0.0, None),
        ],
    )
    store = SQLiteStore(path)
    with pytest.warns(LeadScoreWarning, match="1 stored row.*row 2"):
        assert [Event("ann", "email.opened", T0, id="1")] == store.events()
    [rejected] = store.rejected
    assert isinstance(rejected, RejectedRow)
    assert (2, "contact.merged", "2") == (
        rejected.row,
        rejected.data["kind"],
        rejected.data["id"],
    )
    assert "from" in rejected.error
    assert [1, 2] == _seqs(path)


# -- damaged rows ----------------------------------------------------------------------


@pytest.fixture
def path(tmp_path):
    """A store file holding two good events (rows 1 and 2)."""
    path = tmp_path / "events.db"
    store = SQLiteStore(path)
    store.append(
        [
            Event("ann", "email.opened", T0, {"note": "the quick brown fox"}, id="1"),
            Event("bob", "order.paid", T0, value=1234.5678, id="2"),
        ]
    )
    store.close()
    return path


BAD = {
    "text that is not UTF-8": (
        "contact",
        "CAST(x'616eff' AS TEXT)",
        "'contact'.*bytes that are not UTF-8",
    ),
    "a blob for text": ("kind", "x'00ff'", "'kind'.*must be str"),
    "text for the instant": ("at_us", "'soon'", "'at_us'.*must be int.*'soon'"),
    "text for the value": ("value", "'lots'", "'value'.*must be float or int"),
    "NULL for the attrs": ("attrs", "NULL", "'attrs'.*got NULL"),
    "JSON that is not an object": ("attrs", "'[1, 2]'", "'attrs'.*not a JSON object"),
    "broken JSON": ("attrs", "'{\"a\": '", "'attrs'.*not valid JSON"),
    "an instant past 9999": ("at_us", str(2**62), "'at_us'.*outside the range"),
    "a blob for the checksum": ("checksum", "x'07'", "'checksum'.*must be str"),
}


def _damage(path, column, sql, *, keep_checksum=False):
    with sqlite3.connect(path) as db:
        if column != "attrs":  # the NULL case needs a table without NOT NULL
            db.execute(f"UPDATE leadscore_events SET {column} = {sql} WHERE seq = 2")  # noqa: S608
        else:
            _rebuild_without_not_null(db)
            db.execute(f"UPDATE leadscore_events SET attrs = {sql} WHERE seq = 2")  # noqa: S608
        if not keep_checksum and column != "checksum":
            db.execute("UPDATE leadscore_events SET checksum = NULL WHERE seq = 2")


def _rebuild_without_not_null(db):
    # As a damaged schema might be: the same columns, no constraints.
    db.execute("ALTER TABLE leadscore_events RENAME TO old_events")
    db.execute(
        "CREATE TABLE leadscore_events (seq INTEGER PRIMARY KEY AUTOINCREMENT, "
        "event_id TEXT UNIQUE, contact TEXT, kind TEXT, at_us INTEGER, attrs TEXT, "
        "value REAL, merged_from TEXT, checksum TEXT)"
    )
    db.execute("INSERT INTO leadscore_events SELECT * FROM old_events")
    db.execute("DROP TABLE old_events")


@pytest.mark.parametrize("case", list(BAD), ids=str)
def test_an_undecodable_row_is_a_store_error_naming_row_and_column(path, case):
    """Every kind of damage raises StoreError with the store, the row and the column."""
    column, sql, match = BAD[case]
    _damage(path, column, sql)
    store = SQLiteStore(path)
    with pytest.raises(StoreError, match=f"events.db.*row 2 .*{match}") as info:
        store.events()
    assert "quarantine_corrupt()" in str(info.value)
    # The lookup of stored ids in append reads rows the same way.
    with pytest.raises(StoreError, match="row 2 "):
        store.append([Event("bob", "order.paid", T0, value=1, id="2")])
    assert [1, 2] == _seqs(path)


@pytest.mark.parametrize("case", list(BAD), ids=str)
def test_quarantine_moves_exactly_the_damaged_row_as_it_was(path, case):
    """The raw row goes aside unchanged, with the reason; the store opens again."""
    column, sql, _ = BAD[case]
    _damage(path, column, sql)
    with sqlite3.connect(path) as db:
        db.text_factory = bytes
        raw = db.execute("SELECT * FROM leadscore_events WHERE seq = 2").fetchone()
    store = SQLiteStore(path)
    [moved] = store.quarantine_corrupt()
    assert (2, column) == (moved.row, moved.error.split("'")[1])
    assert [
        Event("ann", "email.opened", T0, {"note": "the quick brown fox"}, id="1")
    ] == (store.events())
    assert [moved] == store.quarantined()
    with sqlite3.connect(path) as db:
        db.text_factory = bytes
        kept = db.execute(
            "SELECT seq, event_id, contact, kind, at_us, attrs, value, merged_from, "
            "checksum FROM leadscore_quarantine"
        ).fetchone()
    assert raw == kept
    # The id of a quarantined row is free again.
    assert 1 == len(store.append([Event("bob", "order.paid", T0, id="2")]))


def test_a_changed_value_is_caught_by_the_checksum(path):
    """A row changed after it was written (a bit flip) is named, not read back."""
    with sqlite3.connect(path) as db:
        db.execute("UPDATE leadscore_events SET at_us = at_us + 1 WHERE seq = 2")
    with pytest.raises(StoreError, match=r"row 2 .*'checksum'.*changed after"):
        SQLiteStore(path).events()


def _flip(data: bytes, offset: int, bit: int) -> bytes:
    return data[:offset] + bytes([data[offset] ^ (1 << bit)]) + data[offset + 1 :]


@pytest.mark.parametrize(
    "needle", [b"quick brown", struct.pack(">d", 1234.5678)], ids=["text", "float"]
)
def test_bit_flips_in_the_file_never_read_back_silently_changed(path, needle, tmp_path):
    """Each single bit flip in a row's content is either harmless or a StoreError."""
    data = path.read_bytes()
    at = data.find(needle)
    assert at > 0
    expected = SQLiteStore(path).events()
    caught = 0
    for offset in range(at, at + len(needle)):
        for bit in range(8):
            copy = tmp_path / f"flip-{offset}-{bit}.db"
            copy.write_bytes(_flip(data, offset, bit))
            store = SQLiteStore(copy)
            try:
                assert expected == store.events()
            except StoreError:
                caught += 1
            finally:
                store.close()
                copy.unlink()
    assert caught == 8 * len(needle)


def test_forget_also_erases_quarantined_rows_of_the_contact(path):
    """Privacy reaches the side table: forget erases the contact there too."""
    with sqlite3.connect(path) as db:
        db.execute("UPDATE leadscore_events SET attrs = '[' WHERE seq = 2")
    store = SQLiteStore(path)
    store.quarantine_corrupt()
    assert 1 == store.forget(["bob"])
    assert [] == store.quarantined()


def test_an_id_held_by_a_rejected_row_is_refused(path):
    """A new event cannot take the id of a stored row that is no longer valid."""
    write_raw_row(path, {**RAW_ROW, "event_id": "m", "kind": "contact.merged"})
    store = SQLiteStore(path)
    with pytest.raises(
        InvalidEventError, match="id 'm' is already used by stored row 3"
    ):
        store.append([Event("ann", "contact.merged", T0, {"from": "x"}, id="m")])
    with pytest.warns(LeadScoreWarning):
        assert 2 == len(store.events())


# -- what cannot be encoded ----------------------------------------------------------


def _forged(**fields):
    e = Event("ann", "email.opened", T0, {"k": 1}, id="forged")
    for name, value in fields.items():
        object.__setattr__(e, name, value)
    return e


@pytest.mark.parametrize(
    ("fields", "field", "value"),
    [
        ({"contact": "a\udc80"}, "contact", "a\udc80"),
        ({"id": "i\x00d"}, "id", "i\x00d"),
        ({"attrs": {"k": 10**5000}}, "attrs['k']", 10**5000),
        ({"attrs": {"k": ("ok", "\ud800")}}, "attrs['k']", ("ok", "\ud800")),
        ({"attrs": {"\ud800": 1}}, "attrs", "\ud800"),
    ],
    ids=["surrogate contact", "NUL id", "long int", "surrogate in tuple", "bad key"],
)
def test_an_event_no_database_can_keep_is_refused_before_writing(
    path, fields, field, value
):
    """Encoding failures are InvalidEventError naming field and value; nothing written."""
    store = SQLiteStore(path)
    with pytest.raises(InvalidEventError) as info:
        store.append([Event("cy", "email.opened", T0, id="3"), _forged(**fields)])
    assert (field, value, "events[1]") == (
        info.value.field,
        info.value.value,
        info.value.where,
    )
    assert len(str(info.value)) < 500
    assert [1, 2] == _seqs(path)
