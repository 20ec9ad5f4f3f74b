"""EventReader.to_arrow: the columnar reading gives the row path's events and errors.

Every test here is differential: the row path (iterating the reader) is the
definition, and the columnar path must give the same events (read back from its
table), name the same bad rows (file, line, field, column, value, message), count
the same rows, or raise the same error. The one allowed difference is
``NotColumnar``, and only when the row path's events do hold an attribute of
mixed types, which a table column cannot.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import pathlib
import subprocess
import sys

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import leadscore as ls
from leadscore import io
from leadscore.io._cells import csv_attr

EXPORTS = pathlib.Path(__file__).parent / "data" / "exports"
UTC = dt.UTC
FIELDS = ("contact", "kind", "at", "value", "id")


def outcome(run):
    """("ok", value) or ("error", type, message, field, value, where)."""
    try:
        return ("ok", run())
    except ls.InvalidEventError as e:
        return ("error", type(e), str(e), e.field, repr(e.value), e.where)


def bad_rows(reader):
    return [
        (b.source, b.row, b.line, b.field, b.column, repr(b.value), b.message)
        for b in reader.errors
    ]


def mixed_attribute(events, name):
    """Whether the events' attribute *name* holds values no one column type holds.

    One type (tuples aside), or ints and floats where every int is exact as a
    float; ints beyond int64 fit no column.
    """
    values = [e.attrs[name] for e in events if name in e.attrs]
    kinds = {type(v) for v in values}
    ints = [v for v in values if type(v) is int]
    if tuple in kinds or any(not -(2**63) <= v < 2**63 for v in ints):
        return True
    if kinds == {int, float}:
        return any(abs(v) >= 2**53 for v in ints)
    return len(kinds) > 1


def assert_same(reader):
    """The columnar reading of *reader* equals its row path (see the module doc)."""
    rows = outcome(lambda: list(reader))
    row_errors, row_counts = bad_rows(reader), (reader.rows, reader.events)
    table = outcome(reader.to_arrow)
    if table[0] == "error" and table[1] is io.NotColumnar:
        assert rows[0] == "ok", rows
        name = table[3][len("attrs['") : -len("']")]
        assert mixed_attribute(rows[1], name), (name, rows[1])
        return None
    if rows[0] == "error":
        assert rows == table
        assert row_counts == (reader.rows, reader.events)
        return None
    assert table[0] == "ok", table
    got = table[1]
    assert ["contact", "kind", "at", "id", "value"] == got.column_names[:5]
    assert pa.timestamp("us", tz="UTC") == got.schema.field("at").type
    assert rows[1] == list(io.read_events(got))
    assert row_errors == bad_rows(reader)
    assert row_counts == (reader.rows, reader.events)
    return got


def write_csv(path, header, rows):
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows(rows)
    return path


# -- examples -----------------------------------------------------------------------


def test_a_plain_csv_file_gives_typed_columns(tmp_path):
    """contact, kind, at (UTC microseconds), id, value, then typed attributes."""
    path = write_csv(
        tmp_path / "e.csv",
        ["contact", "kind", "at", "value", "id", "page", "n", "ratio", "flag"],
        [
            [
                "ann",
                "page.viewed",
                "2024-05-01T09:00:00+02:00",
                "",
                "e1",
                "/p",
                3,
                "",
                "",
            ],
            ["bob", "order.paid", "1714557600", "19.5", "", "", 4, 0.5, "true"],
        ],
    )
    table = assert_same(io.read_events(path))
    assert {
        "contact": "ann",
        "kind": "page.viewed",
        "at": dt.datetime(2024, 5, 1, 7, tzinfo=UTC),
        "id": "e1",
        "value": 0.0,
        "page": "/p",
        "n": 3,
        "ratio": None,
        "flag": None,
    } == table.to_pylist()[0]
    assert [pa.string(), pa.int64(), pa.float64(), pa.bool_()] == table.schema.types[5:]


def test_bad_rows_are_named_as_the_row_path_names_them(tmp_path):
    """Empty contact, naive and impossible times, bad values, special kinds."""
    path = write_csv(
        tmp_path / "e.csv",
        ["contact", "kind", "at", "value", "from"],
        [
            ["ann", "page.viewed", "2024-05-01T09:00:00+02:00", "1.5", ""],
            ["", "page.viewed", "2024-05-01T09:00:00Z", "", ""],
            ["cy", "score.set", "1714557600000", "10", ""],
            ["dan", "email.opened", "2024-05-01T09:00:00", "abc", ""],
            ["eve", "contact.merged", "1714557600", "", ""],
            ["fay", "contact.merged", "1714557600", "", "ann"],
            ["gus", "k", "2024-02-30T10:00:00Z", "", ""],
            ["hal", "k", "0001-01-01T00:00:00+01:00", "nan", ""],
            ["ivy", "k", "2024-05-01T09:00:00Z", "1e999", ""],
        ],
    )
    for tz in (None, "Europe/Paris"):
        for epoch in ("auto", "s", "ms"):
            assert_same(io.read_events(path, on_error="skip", tz=tz, epoch=epoch))
            assert_same(io.read_events(path, tz=tz, epoch=epoch))
    reader = io.read_events(path, on_error="skip")
    reader.to_arrow()
    assert [3, 5, 6, 8, 9, 10] == [b.line for b in reader.errors]


def test_the_line_of_a_bad_row_counts_multiline_cells_and_blank_lines(tmp_path):
    """Lines are the file's, as the row path counts them, not data rows + 1."""
    path = tmp_path / "e.csv"
    path.write_text(
        'contact,kind,at,note\nann,k,2024-05-01T00:00Z,"two\nlines"\n\n'
        "bob,k,yesterday,x\n",
        encoding="utf-8",
    )
    reader = io.read_events(path, on_error="skip")
    assert_same(reader)
    assert [(2, 5)] == [(b.row, b.line) for b in reader.errors]


def test_a_mixed_attribute_is_not_columnar_and_says_so(tmp_path):
    """A zip code column with "02134" (text) and 12345 (a number): NotColumnar."""
    path = write_csv(
        tmp_path / "e.csv",
        ["contact", "kind", "at", "zip"],
        [["ann", "k", "1714557600", "02134"], ["bob", "k", "1714557600", "12345"]],
    )
    with pytest.raises(io.NotColumnar, match=r"attribute 'zip' holds str '02134'"):
        io.read_events(path).to_arrow()
    assert 2 == len(list(io.read_events(path)))


def test_a_bad_row_is_raised_before_a_mixed_attribute(tmp_path):
    """on_error="raise": the first bad row, as iterating raises it."""
    path = write_csv(
        tmp_path / "e.csv",
        ["contact", "kind", "at", "zip"],
        [["", "k", "1714557600", "02134"], ["bob", "k", "1714557600", "12345"]],
    )
    with pytest.raises(ls.InvalidEventError, match=r"e\.csv:2: contact is empty"):
        io.read_events(path).to_arrow()


def test_rows_of_the_wrong_width_fall_back_to_the_row_path(tmp_path):
    """A row Arrow's reader refuses is read by the row path: same table, same errors."""
    path = tmp_path / "e.csv"
    path.write_text(
        "contact,kind,at\nann,k,2024-05-01T00:00Z\nbob,k\ncy,k,2024-05-02T00:00Z\n",
        encoding="utf-8",
    )
    reader = io.read_events(path, on_error="skip")
    assert 2 == assert_same(reader).num_rows
    assert ["row"] == [b.field for b in reader.errors]


def test_gzip_semicolons_tabs_and_a_byte_order_mark(tmp_path):
    """The delimiter is sniffed as the row path sniffs it; BOM and gzip are read."""
    import gzip

    text = "\ufeffcontact;kind;at;n\nann;k;2024-05-01T00:00Z;1\nbob;k;1714557600;2\n"
    (tmp_path / "a.csv").write_text(text, encoding="utf-8")
    (tmp_path / "a.tsv").write_text(text.replace(";", "\t"), encoding="utf-8")
    (tmp_path / "b.csv.gz").write_bytes(gzip.compress(text.encode()))
    for name in ("a.csv", "a.tsv", "b.csv.gz"):
        assert 2 == assert_same(io.read_events(tmp_path / name)).num_rows


def test_hubspot_and_mautic_exports_read_the_same_as_columns(tmp_path):
    """The product mappings (kinds, renames, drops, epoch ms) hold on both paths."""
    hubspot = EXPORTS / "hubspot_email_events.jsonl"
    for on_error in ("raise", "skip"):
        # Its browser.version is a list: NotColumnar, which assert_same checks
        # is what the row path's events hold.
        assert_same(io.read_events(hubspot, columns="hubspot", on_error=on_error))
        table = assert_same(
            io.read_events(
                EXPORTS / "mautic_activity.json", columns="mautic", on_error=on_error
            )
        )
        if on_error == "skip":  # its record 6 has no contact
            assert {"label", "type", "url"} <= set(table.column_names)
    path = write_csv(
        tmp_path / "hubspot.csv",
        ["id", "created", "type", "recipient", "emailCampaignId", "portalId", "url"],
        [
            ["a1", 1714557600000, "OPEN", "ann@example.com", 200001, 62515, ""],
            ["a2", 1714561260000, "CLICK", "ann@example.com", 200001, 62515, "/p"],
            ["a3", 1714561260000, "CLICK", "", 200001, 62515, "/p"],
        ],
    )
    table = assert_same(io.read_events(path, columns="hubspot", on_error="skip"))
    assert ["email.opened", "email.clicked"] == table.column("kind").to_pylist()
    assert [200001, 200001] == table.column("message").to_pylist()
    assert "portalId" not in table.column_names


def test_a_renamed_column_fills_only_what_is_not_set(tmp_path):
    """Two sources of one attribute: the first non-empty, as the row path has it."""
    export = io.ExportFormat(
        name="mine",
        columns={"contact": "who"},
        rename={"label_a": "label", "label_b": "label"},
        drop=("secret",),
    )
    path = write_csv(
        tmp_path / "e.csv",
        ["who", "kind", "at", "label_a", "label_b", "secret"],
        [
            ["ann", "k", "1714557600", "", "b", "s"],
            ["bob", "k", "1714557600", "a", "b", "s"],
        ],
    )
    table = assert_same(io.read_events(path, columns=export))
    assert ["b", "a"] == table.column("label").to_pylist()
    assert "secret" not in table.column_names


def test_frames_and_parquet_files_give_the_same_columns(tmp_path):
    """pandas, Polars, Arrow and Parquet sources: typed columns, the same events."""
    import pandas as pd
    import polars as pl

    frame = pd.DataFrame(
        {
            "contact": ["ann", "bob", ""],
            "kind": ["order.paid", "score.set", "k"],
            "at": pd.to_datetime(
                ["2024-05-01T10:00Z", "2024-05-02T10:00Z", "2024-05-03T10:00Z"]
            ),
            "value": [19.5, float("nan"), 3.0],
            "id": ["a", None, ""],
            "n": pd.array([1, None, 3], dtype="Int64"),
            "day": [dt.date(2024, 5, 1), None, dt.date(2024, 5, 3)],
            "flag": [True, False, True],
        }
    )
    path = tmp_path / "e.parquet"
    frame.to_parquet(path)
    for source in (frame, pl.from_pandas(frame), pa.Table.from_pandas(frame), path):
        assert_same(io.read_events(source, on_error="skip"))
        assert_same(io.read_events(source))


def test_the_table_is_an_arrow_stream_and_a_dataframe(tmp_path):
    """pa.table(reader), to_pandas() and to_polars() hold the same columns."""
    path = write_csv(
        tmp_path / "e.csv", ["contact", "kind", "at"], [["ann", "k", "1714557600"]]
    )
    reader = io.read_events(path)
    table = reader.to_arrow()
    assert table.equals(pa.table(reader))
    assert table.to_pylist() == pa.Table.from_pandas(reader.to_pandas()).to_pylist()
    assert table.to_pylist() == reader.to_polars().to_dicts()


# -- frame.score on the columns -------------------------------------------------------


def test_frame_scores_the_columns_as_ls_score_scores_the_events(tmp_path):
    """frame.score(model, reader.to_arrow()) == ls.score(model, reader)."""
    from leadscore import frame

    model = ls.ScoringModel(
        "m",
        [
            ls.Rule("page.viewed", 5),
            ls.Rule("order.paid", 20, when=ls.where(ls.VALUE, ge=5)),
        ],
    )
    path = write_csv(
        tmp_path / "e.csv",
        ["contact", "kind", "at", "value"],
        [
            ["ann", "page.viewed", "2024-05-01T09:00:00+02:00", ""],
            ["ann", "order.paid", "1714557600", "9"],
            ["bob", "page.viewed", "oops", ""],
            ["cy", "page.viewed", "1714557600000", ""],
        ],
    )
    as_of = dt.datetime(2024, 6, 1, tzinfo=UTC)
    reader = io.read_events(path, on_error="skip")
    expected = ls.score(model, reader, as_of)
    got = frame.score(model, reader.to_arrow(), as_of)
    assert expected == dict(
        zip(got["contact"].to_pylist(), got["score"].to_pylist(), strict=True)
    )
    direct = frame.score(model, io.read_events(path, on_error="skip"), as_of)
    assert expected == dict(
        zip(direct["contact"].to_pylist(), direct["score"].to_pylist(), strict=True)
    )


def test_leadscore_io_imports_no_extra():
    """Importing leadscore.io (the row path) imports neither pyarrow nor pandas."""
    code = (
        "import sys, leadscore.io\n"
        "print(sorted({'pyarrow', 'pandas', 'duckdb', 'polars'} & set(sys.modules)))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert "[]" == out.stdout.strip()


# -- properties -----------------------------------------------------------------------

TEXT = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
    min_size=1,
    max_size=8,
)
KEYS = st.text("abcxyz._", min_size=1, max_size=4).filter(
    lambda k: k not in FIELDS and not k.startswith(".") and not k.endswith(".")
)
INSTANTS = st.datetimes(
    min_value=dt.datetime(1, 1, 2),
    max_value=dt.datetime(9999, 12, 30),
    timezones=st.just(UTC),
)
FLOATS = st.floats(allow_nan=False, allow_infinity=False)
INTS = st.integers(-(2**63), 2**63 - 1)
ZONES = st.sampled_from([None, "UTC", "Europe/Paris", "America/New_York"])
EPOCHS = st.sampled_from(["auto", "s", "ms", "us", "ns"])

# Timestamp cells of every kind the row path reads (and some it refuses).
AT_CELLS = st.one_of(
    INSTANTS.map(lambda d: d.isoformat()),
    INSTANTS.map(lambda d: d.isoformat(sep=" ").replace("+00:00", "Z")),
    st.builds(
        lambda d, h: d.astimezone(dt.timezone(dt.timedelta(hours=h))).isoformat(),
        st.datetimes(
            min_value=dt.datetime(1970, 1, 1),
            max_value=dt.datetime(2100, 1, 1),
            timezones=st.just(UTC),
        ),
        st.integers(-12, 14),
    ),
    INSTANTS.map(lambda d: d.replace(tzinfo=None).isoformat()),  # naive
    st.integers(-(2**62), 2**62).map(str),
    st.integers(0, 2 * 10**18).map(str),
    st.floats(0, 2e9).map(repr),
    st.sampled_from(
        [
            "",
            "yesterday",
            "2024-02-30T10:00:00Z",
            "2024-05-01T10:00:00.1234567Z",
            "0000-01-01T00:00:00Z",
            "0001-01-01T00:00:00+01:00",
            "9999-12-31T23:00:00-02:00",
            "2024-05-01 10Z",
            "Tue, 30 Apr 2024 10:00:00 +0000",
            "2024-05-01 10:00:00 UTC",
            " 2024-05-01T10:00:00Z",
            "2024-03-31T02:30:00",
            "2024-10-27T02:30:00",
            "1714557600.5",
            "-9223372036854775808",
        ]
    ),
)
VALUE_CELLS = st.one_of(
    st.just(""),
    FLOATS.map(repr),
    st.integers(-(10**20), 10**20).map(str),
    st.sampled_from(["nan", "inf", "-inf", "1e999", "abc", " 5", "+5.", "-.5", "1_0"]),
)
KIND_CELLS = st.sampled_from(
    ["page.viewed", "email.opened", "", "score.set", "score.adjusted", "contact.merged"]
)
CONTACT_CELLS = st.sampled_from(["ann", "bob", "", "42", "çé"])


def attr_cells(kind):
    """Cells of one attribute column whose CSV reading is of one type."""
    return {
        "s": TEXT.filter(lambda s: csv_attr(s) == s),
        "i": INTS.map(str),
        "f": FLOATS.filter(lambda x: x != int(x)).map(repr),
        "b": st.sampled_from(["true", "false", "TRUE", "False"]),
        "any": TEXT,
    }[kind]


@st.composite
def csv_files(draw):
    """A header and rows of good and bad cells, attributes of a type per column."""
    columns = {
        f"x{i}": draw(st.sampled_from(["s", "i", "f", "b", "any"]))
        for i in range(draw(st.integers(0, 3)))
    }
    extra = draw(st.sampled_from([[], ["value"], ["id"], ["value", "id", "from"]]))
    header = ["contact", "kind", "at", *extra, *columns]
    rows = []
    for _ in range(draw(st.integers(0, 8))):
        row = [draw(CONTACT_CELLS), draw(KIND_CELLS), draw(AT_CELLS)]
        for name in extra:
            if name == "value":
                row.append(draw(VALUE_CELLS))
            elif name == "id":
                row.append(draw(st.sampled_from(["", "e1", "e2", "7"])))
            else:
                row.append(draw(st.sampled_from(["", "ann", "bob"])))
        row.extend(draw(st.just("") | attr_cells(kind)) for kind in columns.values())
        rows.append(row)
    return header, rows


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return tmp_path_factory.mktemp("columnar")


@settings(max_examples=max(settings().max_examples, 100))
@given(
    file=csv_files(),
    tz=ZONES,
    epoch=EPOCHS,
    on_error=st.sampled_from(["raise", "skip"]),
)
def test_csv_columns_equal_the_row_path(folder, file, tz, epoch, on_error):
    """Any CSV of good and bad rows: same events, same bad rows, same counts."""
    path = write_csv(folder / "e.csv", *file)
    assert_same(io.read_events(path, tz=tz, epoch=epoch, on_error=on_error))


@given(file=csv_files(), tz=ZONES, on_error=st.sampled_from(["raise", "skip"]))
def test_json_lines_columns_equal_the_row_path(folder, file, tz, on_error):
    """The same rows as JSON Lines objects (numbers typed as JSON types them)."""
    header, rows = file
    path = folder / "e.jsonl"
    with path.open("w", encoding="utf-8") as f:
        for row in rows:
            record = {}
            for name, cell in zip(header, row, strict=True):
                if cell == "":
                    continue
                typed = (
                    csv_attr(cell) if name not in {"contact", "kind", "id"} else cell
                )
                record[name] = typed
            f.write(json.dumps(record) + "\n")
    assert_same(io.read_events(path, tz=tz, on_error=on_error))


@st.composite
def typed_events(draw):
    """Events whose attributes have one type per key, as table columns do."""
    kinds = {"s": TEXT, "i": INTS, "f": FLOATS, "b": st.booleans()}
    schema = draw(st.dictionaries(KEYS, st.sampled_from(sorted(kinds)), max_size=3))
    out = []
    for _ in range(draw(st.integers(0, 5))):
        keys = draw(st.sets(st.sampled_from(sorted(schema)))) if schema else set()
        out.append(
            ls.Event(
                draw(TEXT),
                draw(TEXT),
                draw(INSTANTS),
                {k: draw(kinds[schema[k]]) for k in keys},
                draw(FLOATS),
                draw(st.none() | TEXT),
            )
        )
    return out


@settings(max_examples=min(settings().max_examples, 100))
@given(events=typed_events(), suffix=st.sampled_from([".csv", ".jsonl", ".parquet"]))
def test_written_events_come_back_equal_through_columns(folder, events, suffix):
    """write_events, then to_arrow: the events written (round trip, every format)."""
    path = folder / f"w{suffix}"
    if suffix == ".csv":
        events = [
            e
            for e in events
            if all(not isinstance(v, str) or csv_attr(v) == v for v in e.attrs.values())
        ]
    io.write_events(events, path)
    table = assert_same(io.read_events(path))
    if table is not None:
        assert events == list(io.read_events(table))


@settings(max_examples=min(settings().max_examples, 60))
@given(file=csv_files(), tz=ZONES, on_error=st.sampled_from(["raise", "skip"]))
def test_parquet_of_text_columns_equals_the_row_path(folder, file, tz, on_error):
    """The rows as a Parquet file of text columns (no CSV typing of attributes)."""
    header, rows = file
    columns = {name: [row[i] or None for row in rows] for i, name in enumerate(header)}
    path = folder / "t.parquet"
    pq.write_table(
        pa.table(columns, schema=pa.schema([(n, pa.string()) for n in header])), path
    )
    assert_same(io.read_events(path, tz=tz, on_error=on_error))


@settings(max_examples=min(settings().max_examples, 60))
@given(
    epochs=st.lists(
        st.integers(-(2**63), 2**63 - 1) | st.integers(-(10**12), 10**12), max_size=6
    ),
    epoch=EPOCHS,
    on_error=st.sampled_from(["raise", "skip"]),
)
def test_integer_timestamps_equal_the_row_path(folder, epochs, epoch, on_error):
    """An int64 column of epoch numbers: every unit, the magnitudes, the limits."""
    table = pa.table(
        {
            "contact": ["ann"] * len(epochs),
            "kind": ["k"] * len(epochs),
            "at": pa.array(epochs, pa.int64()),
        }
    )
    assert_same(io.read_events(table, epoch=epoch, on_error=on_error))


@pytest.mark.parametrize("suffix", [".csv", ".jsonl", ".parquet", ".csv.gz"])
def test_a_well_formed_file_is_read_by_arrow_not_row_by_row(
    tmp_path, monkeypatch, suffix
):
    """ISO times, epochs, bad rows: no fallback to the row path (the fast path)."""
    from leadscore.io import _columnar

    def refuse(reader):
        raise AssertionError(f"{reader!r} was read row by row")

    events = [
        ls.Event(
            "ann", "page.viewed", "2024-05-01T09:00:00+02:00", {"d": "2024-05-01"}
        ),
        ls.Event("bob", "score.set", "2024-05-02T00:00:00Z", {"n": 3}, 10.0, "e2"),
    ]
    path = tmp_path / f"e{suffix}"
    io.write_events(events, path)
    monkeypatch.setattr(_columnar, "_from_events", refuse)
    assert events == list(io.read_events(io.read_events(path).to_arrow()))


def test_nul_characters_are_bad_rows_on_both_paths(tmp_path):
    """NUL in a cell (CSV, gzip, Parquet, JSON escapes): the same bad rows."""
    import gzip

    text = "contact,kind,at,note\nann,k,1714557600,x\nb\x00b,k,1714557600,y\ncy,k,1714557600,\x00\n"
    (tmp_path / "n.csv").write_text(text, encoding="utf-8")
    (tmp_path / "n.csv.gz").write_bytes(gzip.compress(text.encode()))
    lines = [
        {"contact": "ann", "kind": "k", "at": 1714557600, "note": "a\u0000"},
        {"contact": "bob", "kind": "k", "at": 1714557600},
    ]
    (tmp_path / "n.jsonl").write_text("\n".join(map(json.dumps, lines)) + "\n")
    table = pa.table(
        {
            "contact": ["ann", "b\x00b", "cy"],
            "kind": ["k"] * 3,
            "at": [1714557600] * 3,
            "note": ["x", None, "\x00"],
        }
    )
    pq.write_table(table, tmp_path / "n.parquet")
    for name in ("n.csv", "n.csv.gz", "n.jsonl", "n.parquet"):
        reader = io.read_events(tmp_path / name, on_error="skip")
        assert_same(reader)
        assert reader.errors
        assert_same(io.read_events(tmp_path / name))


NAIVE = st.one_of(
    st.datetimes(min_value=dt.datetime(1, 1, 1), max_value=dt.datetime(9999, 12, 31)),
    st.datetimes(min_value=dt.datetime(1890, 1, 1), max_value=dt.datetime(2050, 1, 1)),
    # around the 2024 transitions of Paris and New York: gaps and repeated hours
    st.sampled_from(
        [
            dt.datetime(2024, 3, 31, 2),
            dt.datetime(2024, 10, 27, 2),
            dt.datetime(2024, 3, 10, 2),
            dt.datetime(2024, 11, 3, 1),
            dt.datetime(2036, 10, 26, 2),
            dt.datetime(2037, 3, 29, 2),
        ]
    ).flatmap(
        lambda d: st.integers(0, 7199).map(lambda s: d + dt.timedelta(seconds=s))
    ),
)


@settings(max_examples=min(settings().max_examples, 100))
@given(
    times=st.lists(NAIVE, min_size=1, max_size=8),
    tz=st.sampled_from(
        [
            "Europe/Paris",
            "America/New_York",
            "UTC",
            "Australia/Lord_Howe",
            dt.timezone(dt.timedelta(hours=5, minutes=30)),
            dt.timezone(-dt.timedelta(hours=3)),
        ]
    ),
    sep=st.sampled_from(["T", " "]),
    on_error=st.sampled_from(["raise", "skip"]),
)
def test_naive_times_in_a_zone_equal_the_row_path(folder, times, tz, sep, on_error):
    """A column of times without offset, read in tz: gaps and folds as Python has them."""
    rows = [["ann", "k", d.isoformat(sep=sep)] for d in times]
    path = write_csv(folder / "naive.csv", ["contact", "kind", "at"], rows)
    assert_same(io.read_events(path, tz=tz, on_error=on_error))
