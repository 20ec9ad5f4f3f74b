"""leadscore.io: files and DataFrames in, Events out, bad rows named."""

from __future__ import annotations

import datetime as dt
import gzip
import json
import math
import pathlib
import zoneinfo

import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import leadscore as ls
from leadscore import io
from leadscore.io._cells import csv_attr

EXPORTS = pathlib.Path(__file__).parent / "data" / "exports"
UTC = dt.UTC


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=UTC)


def write(path: pathlib.Path, text: str) -> pathlib.Path:
    path.write_text(text, encoding="utf-8")
    return path


# -- CSV ------------------------------------------------------------------------------


def test_a_csv_file_gives_events_with_its_other_columns_as_attributes(tmp_path):
    """Fields from their columns, the rest typed attributes, empty cells absent."""
    path = write(
        tmp_path / "e.csv",
        "contact,kind,at,value,id,page,n,ratio,flag,zip\n"
        "ann,form.submitted,2024-05-01T09:00:00+02:00,,e1,/pricing,3,0.5,true,02134\n"
        "bob,order.paid,2024-05-02T00:00:00Z,19.99,,,,,,\n",
    )
    assert [
        ls.Event(
            "ann",
            "form.submitted",
            "2024-05-01T07:00:00Z",
            {"page": "/pricing", "n": 3, "ratio": 0.5, "flag": True, "zip": "02134"},
            id="e1",
        ),
        ls.Event("bob", "order.paid", "2024-05-02T00:00:00Z", value=19.99),
    ] == list(io.read_events(path))


def test_columns_maps_fields_to_other_columns(tmp_path):
    """columns={"contact": "email", ...}: mapped columns are not attributes."""
    path = write(
        tmp_path / "e.csv",
        "email,activity,when,amount,campaign\n"
        "ann@example.com,email.opened,1714557600,2.5,May\n",
    )
    columns = {"contact": "email", "kind": "activity", "at": "when", "value": "amount"}
    [event] = io.read_events(path, columns=columns)
    assert (
        ls.Event(
            "ann@example.com",
            "email.opened",
            "2024-05-01T10:00:00Z",
            {"campaign": "May"},
            value=2.5,
        )
        == event
    )


def test_semicolon_and_tab_separated_files_and_gzip_are_read(tmp_path):
    """The delimiter comes from the header; .tsv is tab-separated; .gz is unpacked."""
    text = "contact;kind;at\nann;k;2024-05-01T00:00Z\n"
    expected = [ls.Event("ann", "k", "2024-05-01T00:00Z")]
    assert expected == list(io.read_events(write(tmp_path / "a.csv", text)))
    tsv = write(tmp_path / "a.tsv", text.replace(";", "\t"))
    assert expected == list(io.read_events(tsv))
    packed = tmp_path / "a.csv.gz"
    packed.write_bytes(gzip.compress(text.encode()))
    assert expected == list(io.read_events(packed))


def test_an_excel_byte_order_mark_is_not_part_of_the_first_column(tmp_path):
    """Exports saved by Excel start with a BOM; the header is still 'contact'."""
    path = tmp_path / "bom.csv"
    path.write_bytes("\ufeffcontact,kind,at\nann,k,2024-05-01T00:00Z\n".encode())
    assert [ls.Event("ann", "k", "2024-05-01T00:00Z")] == list(io.read_events(path))


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("42", 42),
        ("-3", -3),
        ("4.5", 4.5),
        ("1e+20", 1e20),
        ("true", True),
        ("FALSE", False),
        ("007", "007"),
        ("+33612345678", "+33612345678"),
        ("1.", "1."),
        ("4,5", "4,5"),
        ("nan", "nan"),
        ("1e999", "1e999"),
        (" 42", " 42"),
        ("yes", "yes"),
        ("", None),
    ],
)
def test_csv_attribute_cells_are_typed_only_when_they_print_as_that_type(
    cell, expected
):
    """Canonical numbers and booleans are typed; zip codes and phones stay text."""
    actual = csv_attr(cell)
    assert expected == actual
    assert type(expected) is type(actual)


def test_a_missing_column_is_an_error_naming_it_and_the_columns(tmp_path):
    """No 'at' column: the error names it, the columns there are, and the fix."""
    path = write(tmp_path / "e.csv", "contact,kind,when\nann,k,2024-05-01T00:00Z\n")
    with pytest.raises(ls.InvalidEventError, match="no column 'at'") as info:
        list(io.read_events(path, on_error="skip"))
    assert "'when'" in str(info.value)
    assert "columns" == info.value.field


# -- timestamps -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cell", "kwargs", "expected"),
    [
        ("2024-05-01T12:00:00+02:00", {}, "2024-05-01T10:00:00"),
        ("2024-05-01 10:00:00Z", {}, "2024-05-01T10:00:00"),
        ("2024-05-01 10:00:00 UTC", {}, "2024-05-01T10:00:00"),
        ("Wed, 01 May 2024 12:00:00 +0200", {}, "2024-05-01T10:00:00"),
        ("1714557600", {}, "2024-05-01T10:00:00"),
        ("1714557600.25", {}, "2024-05-01T10:00:00.250000"),
        ("1714557600000", {}, "2024-05-01T10:00:00"),
        ("1714557600000000", {}, "2024-05-01T10:00:00"),
        ("1714557600000000000", {}, "2024-05-01T10:00:00"),
        ("86400000", {"epoch": "ms"}, "1970-01-02T00:00:00"),
        ("2024-05-01 12:00", {"tz": "Europe/Paris"}, "2024-05-01T10:00:00"),
        ("2024-01-15T12:00:00", {"tz": "Europe/Paris"}, "2024-01-15T11:00:00"),
        ("2024-05-01T12:00:00+00:00", {"tz": "Europe/Paris"}, "2024-05-01T12:00:00"),
        ("1714557600", {"tz": "Asia/Tokyo"}, "2024-05-01T10:00:00"),
    ],
)
def test_timestamps_in_the_common_export_formats(tmp_path, cell, kwargs, expected):
    """ISO with offset, UTC suffixes, RFC 2822, epoch s/ms/us/ns, naive with tz."""
    path = write(tmp_path / "e.csv", f'contact,kind,at\nann,k,"{cell}"\n')
    [event] = io.read_events(path, **kwargs)
    assert at(expected) == event.at


def test_a_naive_timestamp_without_tz_is_an_error_naming_file_line_and_value(
    tmp_path,
):
    """A time without a zone is a guess: the error says where and how to fix it."""
    path = write(
        tmp_path / "e.csv",
        "contact,kind,at\nann,k,2024-05-01T00:00Z\nbob,k,2024-05-01 10:00\n",
    )
    with pytest.raises(ls.InvalidEventError) as info:
        list(io.read_events(path))
    error = info.value
    assert (f"{path}:3", "at", "2024-05-01 10:00") == (
        error.where,
        error.field,
        error.value,
    )
    assert "no UTC offset" in str(error)
    assert "tz=" in str(error)


def test_a_bad_tz_is_refused_up_front():
    """A tz must name a zone."""
    with pytest.raises(ls.InvalidEventError, match="Mars/Olympus"):
        io.read_events([], tz="Mars/Olympus")


# -- bad rows -------------------------------------------------------------------------

BAD_CSV = (
    "contact,kind,at,value\n"
    "ann,k,2024-05-01T00:00Z,1\n"
    "bob,k,yesterday,1\n"
    ",k,2024-05-01T00:00Z,1\n"
    "cy,k,2024-05-01T00:00Z,lots\n"
    "dee,k\n"
    'eve,k,2024-05-01T00:00Z,"2"\n'
)


def test_on_error_raise_stops_at_the_first_bad_row(tmp_path):
    """The first bad row raises InvalidEventError with file:line, field and value."""
    path = write(tmp_path / "bad.csv", BAD_CSV)
    with pytest.raises(ls.InvalidEventError) as info:
        list(io.read_events(path))
    assert (f"{path}:3", "at", "yesterday") == (
        info.value.where,
        info.value.field,
        info.value.value,
    )
    assert str(info.value).startswith(f"{path}:3: at is not a timestamp: 'yesterday'")


def test_on_error_skip_leaves_out_and_reports_every_bad_row(tmp_path):
    """Skip: good rows are events, each bad one a BadRow naming line, field, value."""
    path = write(tmp_path / "bad.csv", BAD_CSV)
    reader = io.read_events(path, on_error="skip")
    assert ["ann", "eve"] == [e.contact for e in reader]
    assert [
        (3, "at", "at", "yesterday"),
        (4, "contact", "contact", None),
        (5, "value", "value", "lots"),
        (6, "row", None, "dee,k"),
    ] == [(b.line, b.field, b.column, b.value) for b in reader.errors]
    assert (6, 2) == (reader.rows, reader.events)
    assert f"{path}:5: value is not a number: 'lots'" == str(reader.errors[2])
    assert "row has 2 cells where the header has 4" in str(reader.errors[3])


def test_a_reader_reads_again_and_reports_its_latest_pass(tmp_path):
    """Iterating twice rereads the file; errors are those of the latest pass."""
    reader = io.read_events(write(tmp_path / "bad.csv", BAD_CSV), on_error="skip")
    first, second = list(reader), list(reader)
    assert first == second
    assert 4 == len(reader.errors)


def test_a_reader_of_a_generator_reads_the_same_events_twice():
    """Records from a generator are kept as read: a second pass sees them all."""
    records = (
        {"contact": c, "kind": "form.submitted", "at": "2024-05-01T00:00Z"}
        for c in ("ann", "bob")
    )
    reader = io.read_events(records)
    assert ["ann", "bob"] == [e.contact for e in reader]
    assert ["ann", "bob"] == [e.contact for e in reader]


def test_a_multiline_quoted_cell_counts_its_lines(tmp_path):
    """Line numbers are physical lines: a quoted newline moves the next row down."""
    path = write(
        tmp_path / "e.csv",
        'contact,kind,at,note\nann,k,2024-05-01T00:00Z,"two\nlines"\nbob,k,nope,x\n',
    )
    reader = io.read_events(path, on_error="skip")
    assert ["two\nlines"] == [e.attrs["note"] for e in reader]
    assert [4] == [b.line for b in reader.errors]


def test_errors_name_the_mapped_column(tmp_path):
    """With columns=, the message names the source column beside the field."""
    path = write(tmp_path / "e.csv", "email,type,created\nann,k,soon\n")
    columns = {"contact": "email", "kind": "type", "at": "created"}
    reader = io.read_events(path, columns=columns, on_error="skip")
    assert [] == list(reader)
    [bad] = reader.errors
    assert ("at", "created") == (bad.field, bad.column)
    assert "at (column 'created') is not a timestamp: 'soon'" in str(bad)


def test_an_event_the_constructor_refuses_is_a_bad_row(tmp_path):
    """Errors from Event itself (a merge without 'from') are reported the same way."""
    path = write(
        tmp_path / "e.csv",
        "contact,kind,at,from\nann,contact.merged,2024-05-01T00:00Z,\n",
    )
    reader = io.read_events(path, on_error="skip")
    assert [] == list(reader)
    assert ["attrs['from']"] == [b.field for b in reader.errors]
    assert reader.errors[0].where == f"{path}:2"


def test_bad_arguments_are_refused_up_front():
    """Unknown columns keys, on_error values and export names raise at once."""
    with pytest.raises(ls.InvalidEventError, match="Event fields"):
        io.read_events([], columns={"who": "email"})
    with pytest.raises(ls.InvalidEventError, match="on_error"):
        io.read_events([], on_error="ignore")  # type: ignore[arg-type]
    with pytest.raises(ls.InvalidEventError, match="salesforce"):
        io.read_events([], columns="salesforce")
    with pytest.raises(ls.InvalidEventError, match="format"):
        io.read_events("events.xlsx")


# -- JSON Lines and JSON ------------------------------------------------------------


def test_json_lines_flatten_nested_objects_and_keep_types(tmp_path):
    """Nested objects become dotted attributes; lists tuples; null no attribute."""
    record = {
        "contact": "ann",
        "kind": "k",
        "at": 1714557600000,
        "id": 7,
        "value": None,
        "browser": {"family": "Chrome", "version": ["124", "0"]},
        "n": 3,
        "x": 1.0,
        "gone": None,
    }
    path = write(tmp_path / "e.jsonl", json.dumps(record) + "\n\n")
    [event] = io.read_events(path)
    expected = ls.Event(
        "ann",
        "k",
        "2024-05-01T10:00:00Z",
        {"browser.family": "Chrome", "browser.version": ("124", "0"), "n": 3, "x": 1.0},
        id="7",
    )
    assert expected == event
    assert float is type(event.attrs["x"])


def test_json_lines_that_are_not_objects_are_bad_rows(tmp_path):
    """A line of bad JSON or an array is a bad row at its line; blank lines skip."""
    good = '{"contact": "ann", "kind": "k", "at": "2024-05-01T00:00Z"}'
    path = write(tmp_path / "e.jsonl", f"{good}\n{{oops\n\n[1, 2]\n{good}\n")
    reader = io.read_events(path, on_error="skip")
    assert 2 == len(list(reader))
    assert [(2, "row"), (4, "row")] == [(b.line, b.field) for b in reader.errors]
    assert "row is not JSON" in str(reader.errors[0])


def test_a_json_document_holds_an_array_or_a_response_with_one(tmp_path):
    """An array of events, or an API response with its list of events."""
    event = {"contact": "ann", "kind": "k", "at": "2024-05-01T00:00Z"}
    as_list = write(tmp_path / "a.json", json.dumps([event, event]))
    as_response = write(tmp_path / "b.json", json.dumps({"results": [event], "n": 1}))
    assert 2 == len(list(io.read_events(as_list)))
    assert 1 == len(list(io.read_events(as_response)))
    bad = write(tmp_path / "c.json", json.dumps({"a": [], "b": []}))
    with pytest.raises(ls.InvalidEventError, match="array of objects"):
        list(io.read_events(bad))


# -- DataFrames, Arrow, numpy ----------------------------------------------------------


@pytest.fixture(scope="module")
def frame():
    return pd.DataFrame(
        {
            "contact": ["ann", "bob", "cy"],
            "kind": ["order.paid", "order.paid", "page.viewed"],
            "at": pd.to_datetime(
                ["2024-05-01T10:00Z", "2024-05-02T10:00Z", "2024-05-03T10:00Z"]
            ),
            "value": [19.5, np.nan, 3.0],
            "id": ["a", None, "c"],
            "n": pd.array([1, None, 3], dtype="Int64"),
            "ratio": [0.5, 1.5, np.nan],
            "path": ["/x", None, "/y"],
            "flag": [True, False, True],
        }
    )


FRAME_EVENTS = [
    ls.Event(
        "ann",
        "order.paid",
        "2024-05-01T10:00Z",
        {"n": 1, "ratio": 0.5, "path": "/x", "flag": True},
        19.5,
        "a",
    ),
    ls.Event("bob", "order.paid", "2024-05-02T10:00Z", {"ratio": 1.5, "flag": False}),
    ls.Event(
        "cy",
        "page.viewed",
        "2024-05-03T10:00Z",
        {"n": 3, "path": "/y", "flag": True},
        3.0,
        "c",
    ),
]


def test_a_pandas_frame_gives_plain_python_values(frame):
    """NaN/NA are absent (value 0.0, no id), numpy scalars plain int/float/bool."""
    events = list(io.read_events(frame))
    assert FRAME_EVENTS == events
    assert int is type(events[0].attrs["n"])
    assert bool is type(events[0].attrs["flag"])


def test_polars_and_arrow_give_the_same_events(frame):
    """A Polars DataFrame, an Arrow Table and a RecordBatch read like pandas."""
    table = pa.Table.from_pandas(frame, preserve_index=False)
    assert FRAME_EVENTS == list(io.read_events(pl.from_pandas(frame)))
    assert FRAME_EVENTS == list(io.read_events(table))
    assert FRAME_EVENTS == list(io.read_events(table.to_batches()[0]))


def test_numpy_and_pandas_scalars_are_accepted_wherever_a_number_is():
    """np.int64 timestamps, np.float32 values, np.bool_ and arrays in records."""
    records = [
        {
            "contact": np.str_("ann"),
            "kind": "k",
            "at": np.int64(1714557600),
            "value": np.float32(1.5),
            "id": np.int64(9),
            "n": np.int64(3),
            "b": np.bool_(1),
            "arr": np.array([1, 2]),
            "when": pd.Timestamp("2024-05-01T10:00:00.123456789Z"),
            "missing": pd.NA,
            "nat": pd.NaT,
        },
        {"contact": "bob", "kind": "k", "at": pd.Timestamp("2024-05-01", tz="UTC")},
        {"contact": "cy", "kind": "k", "at": np.datetime64("2024-05-01T10:00")},
    ]
    ann, bob, cy = io.read_events(records, tz="UTC")
    assert (
        ls.Event(
            "ann",
            "k",
            "2024-05-01T10:00:00Z",
            {
                "n": 3,
                "b": True,
                "arr": (1, 2),
                "when": "2024-05-01T10:00:00.123456+00:00",
            },
            1.5,
            "9",
        )
        == ann
    )
    assert [int, bool] == [type(ann.attrs["n"]), type(ann.attrs["b"])]
    assert at("2024-05-01T00:00:00") == bob.at
    assert at("2024-05-01T10:00:00") == cy.at
    assert dt.datetime is type(bob.at)


def test_struct_columns_become_dotted_attributes():
    """An Arrow struct column, or a pandas column of dicts, is flattened."""
    data = {
        "contact": ["ann"],
        "kind": ["k"],
        "at": ["2024-05-01T00:00Z"],
        "browser": [{"family": "Chrome", "major": 124}],
    }
    expected = [
        ls.Event(
            "ann",
            "k",
            "2024-05-01T00:00Z",
            {"browser.family": "Chrome", "browser.major": 124},
        )
    ]
    assert expected == list(io.read_events(pa.table(data)))
    assert expected == list(io.read_events(pd.DataFrame(data)))


def test_a_naive_pandas_column_needs_tz():
    """A tz-naive datetime64 column is local time: tz= says which."""
    frame = pd.DataFrame(
        {"contact": ["ann"], "kind": ["k"], "at": pd.to_datetime(["2024-05-01 12:00"])}
    )
    with pytest.raises(ls.InvalidEventError, match="no UTC offset"):
        list(io.read_events(frame))
    [event] = io.read_events(frame, tz=zoneinfo.ZoneInfo("Europe/Paris"))
    assert at("2024-05-01T10:00:00") == event.at


def test_a_frame_error_names_the_row():
    """DataFrame rows are counted from 1 in messages."""
    frame = pd.DataFrame(
        {"contact": ["ann", "bob"], "kind": ["k", "k"], "at": [1, "x"]}
    )
    reader = io.read_events(frame, on_error="skip")
    assert 1 == len(list(reader))
    assert "DataFrame row 2: at is not a timestamp: 'x'" in str(reader.errors[0])


# -- Parquet --------------------------------------------------------------------------


def test_parquet_files_are_read_with_their_types(tmp_path, frame):
    """Parquet keeps column types; a missing column is named."""
    path = tmp_path / "e.parquet"
    frame.to_parquet(path)
    assert FRAME_EVENTS == list(io.read_events(path))
    frame.drop(columns=["kind"]).to_parquet(path)
    with pytest.raises(ls.InvalidEventError, match="no column 'kind'"):
        list(io.read_events(path))


def test_a_parquet_error_names_file_and_row(tmp_path):
    """A bad cell in a Parquet file: the file and the row from 1."""
    path = tmp_path / "e.parquet"
    pd.DataFrame(
        {"contact": ["ann", ""], "kind": ["k", "k"], "at": ["2024-05-01T00:00Z"] * 2}
    ).to_parquet(path)
    with pytest.raises(ls.InvalidEventError) as info:
        list(io.read_events(path))
    assert (f"{path} row 2", "contact") == (info.value.where, info.value.field)


# -- product exports ------------------------------------------------------------------


def test_hubspot_email_events_become_engagement_events():
    """The HubSpot sample: recipients, kinds of presets.email_engagement, ms."""
    reader = io.read_events(
        EXPORTS / "hubspot_email_events.jsonl", columns="hubspot", on_error="skip"
    )
    events = list(reader)
    assert [] == reader.errors
    assert [
        ("ann@example.com", "email.delivered", "2024-05-01T10:00:00+00:00"),
        ("ann@example.com", "email.opened", "2024-05-01T11:00:00+00:00"),
        ("ann@example.com", "email.clicked", "2024-05-01T11:01:00+00:00"),
        ("bob@example.com", "email.delivered", "2024-05-01T10:00:00+00:00"),
        ("bob@example.com", "email.subscription_changed", "2024-05-02T10:00:00+00:00"),
        ("cy@example.org", "email.bounced", "2024-05-01T10:00:00+00:00"),
        ("dee@example.net", "email.complained", "2024-05-03T10:00:00+00:00"),
        ("ann@example.com", "email.forwarded", "2024-05-03T11:00:00+00:00"),
    ] == [(e.contact, e.kind, e.at.isoformat()) for e in events]
    click = events[2]
    assert ("4b4b2a1e-0003", 200001, "https://example.com/pricing", "France") == (
        click.id,
        click.attrs["message"],
        click.attrs["url"],
        click.attrs["location.country"],
    )
    assert "portalId" not in click.attrs
    assert "UNSUBSCRIBED" == events[4].attrs["portalSubscriptionStatus"]


def test_hubspot_events_rate_contacts_with_the_email_engagement_preset():
    """End to end: the export scored by the seed-002 model (ann engaged, cy not)."""
    events = list(
        io.read_events(EXPORTS / "hubspot_email_events.jsonl", columns="hubspot")
    )
    scores = ls.score(ls.presets.email_engagement(), events, "2024-06-01T00:00Z")
    assert (
        scores["ann@example.com"] > scores["bob@example.com"] > scores["cy@example.org"]
    )


def test_mautic_activity_becomes_events_and_a_record_without_contact_is_reported():
    """The Mautic sample (an API response): kinds, ids, picked attributes."""
    path = EXPORTS / "mautic_activity.json"
    reader = io.read_events(path, columns="mautic", on_error="skip")
    events = list(reader)
    assert [
        ("16380", "page.viewed", "2024-05-02T09:15:00+00:00", None),
        ("16380", "email.opened", "2024-05-03T21:30:56+00:00", "email.read769"),
        ("16417", "form.submitted", "2024-05-04T10:00:00+00:00", "form.submitted503"),
        ("16380", "points.gained", "2024-05-02T09:15:01+00:00", None),
        ("16417", "lead.ipadded", "2024-05-04T09:59:00+00:00", "lead.ipadded3263"),
    ] == [(e.contact, e.kind, e.at.isoformat(), e.id) for e in events]
    assert {
        "label": "Pricing",
        "type": "Page hit",
        "url": "https://example.com/pricing",
    } == dict(events[0].attrs)
    assert {"label": "May newsletter", "type": "Email read", "message": "78"} == dict(
        events[1].attrs
    )
    assert "contact_us" == events[2].attrs["form"]
    assert [f"{path} row 6: contact (column 'contactId') is missing"] == [
        str(b) for b in reader.errors
    ]


def test_an_export_format_of_ones_own():
    """ExportFormat maps columns, renames kinds, renames and drops attributes."""
    export = io.ExportFormat(
        name="crm",
        columns={"contact": "who", "kind": "what", "at": "when"},
        kinds={"visit": "page.viewed"},
        rename={"page.path": "path"},
        drop=("page",),
        epoch="s",
    )
    records = [
        {"who": "ann", "what": "visit", "when": 60, "page": {"path": "/a", "t": 1}}
    ]
    assert [
        ls.Event("ann", "page.viewed", "1970-01-01T00:01Z", {"path": "/a"})
    ] == list(io.read_events(records, columns=export))


# -- round trips ----------------------------------------------------------------------

TEXT = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
    min_size=1,
    max_size=12,
)
KEYS = TEXT.filter(lambda k: k not in {"contact", "kind", "at", "value", "id"})
INSTANTS = st.datetimes(
    min_value=dt.datetime(1, 1, 2),
    max_value=dt.datetime(9999, 12, 30),
    timezones=st.just(UTC),
)
FLOATS = st.floats(allow_nan=False, allow_infinity=False)
INTS = st.integers(-(2**63), 2**63 - 1)


def events_with(attr_values):
    return st.builds(
        ls.Event,
        contact=TEXT,
        kind=TEXT,
        at=INSTANTS,
        attrs=st.dictionaries(KEYS, attr_values, max_size=3),
        value=FLOATS,
        id=st.none() | TEXT,
    )


# CSV is text: attribute texts that would read back as numbers, booleans or
# nothing are outside what it can hold (see write_events).
CSV_VALUES = TEXT.filter(lambda s: csv_attr(s) == s) | INTS | FLOATS | st.booleans()
JSON_VALUES = st.recursive(
    TEXT | st.integers(-(2**1023), 2**1023) | FLOATS | st.booleans(),
    lambda inner: st.lists(inner, max_size=3).map(tuple),
    max_leaves=5,
)


@st.composite
def parquet_events(draw):
    """Events whose attributes have one type per key, as Parquet columns do."""
    kinds = {"s": TEXT, "i": INTS, "f": FLOATS, "b": st.booleans()}
    kinds["t"] = st.lists(INTS, max_size=3).map(tuple)
    schema = draw(st.dictionaries(KEYS, st.sampled_from(sorted(kinds)), max_size=3))
    out = []
    for _ in range(draw(st.integers(0, 4))):
        keys = draw(st.sets(st.sampled_from(sorted(schema)))) if schema else set()
        attrs = {k: draw(kinds[schema[k]]) for k in keys}
        out.append(draw(events_with(st.nothing()).map(lambda e, a=attrs: _with(e, a))))
    return out


def _with(event, attrs):
    return ls.Event(event.contact, event.kind, event.at, attrs, event.value, event.id)


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return tmp_path_factory.mktemp("round_trips")


@given(events=st.lists(events_with(CSV_VALUES), max_size=4))
def test_events_written_as_csv_read_back_equal(folder, events):
    """CSV round trip: every field and attribute comes back equal."""
    path = folder / "e.csv"
    io.write_events(events, path)
    assert events == list(io.read_events(path))


@given(events=st.lists(events_with(JSON_VALUES), max_size=4))
def test_events_written_as_json_lines_read_back_equal(folder, events):
    """JSON Lines round trip, tuples and big integers included."""
    path = folder / "e.jsonl"
    io.write_events(events, path)
    back = list(io.read_events(path))
    assert events == back
    for e, b in zip(events, back, strict=True):
        assert [type(v) for v in e.attrs.values()] == [
            type(v) for v in b.attrs.values()
        ]


# Each example writes a Parquet file (tens of milliseconds): fewer of them.
@settings(max_examples=min(settings().max_examples, 100))
@given(events=parquet_events())
def test_events_written_as_parquet_read_back_equal(folder, events):
    """Parquet round trip with typed columns."""
    path = folder / "e.parquet"
    io.write_events(events, path)
    assert events == list(io.read_events(path))


def test_csv_cannot_hold_tuples_and_says_so(tmp_path):
    """write_events refuses what the format cannot hold, naming the attribute."""
    event = ls.Event("ann", "k", "2024-05-01T00:00Z", {"tags": ("a", "b")})
    with pytest.raises(ls.InvalidEventError, match=r"attrs\['tags'\]"):
        io.write_events([event], tmp_path / "e.csv")


def test_float_values_survive_every_format_exactly(tmp_path):
    """0.1 + 0.2 is written and read as the same float (repr round trip)."""
    event = ls.Event("ann", "order.paid", "2024-05-01T00:00Z", value=0.1 + 0.2)
    for name in ("e.csv", "e.jsonl", "e.parquet"):
        io.write_events([event], tmp_path / name)
        [back] = io.read_events(tmp_path / name)
        assert math.isclose(event.value, back.value, rel_tol=0, abs_tol=0)
