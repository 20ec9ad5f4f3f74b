"""The command line, run as a real subprocess: the library's numbers, exit statuses."""

from __future__ import annotations

import csv
import datetime as dt
import io as stdio
import json
import os
import pathlib
import random
import subprocess
import sys

import pytest

import leadscore as ls
from leadscore import config, io
from leadscore.datasets import load_cdnow

ROOT = pathlib.Path(__file__).parent.parent
CDNOW = ROOT / "tests" / "data" / "CDNOW_sample.txt"
ACTIVECAMPAIGN = ROOT / "examples" / "models" / "activecampaign.toml"
HIGHLEVEL = ROOT / "examples" / "models" / "highlevel.toml"
EXPORTS = ROOT / "tests" / "data" / "exports"
CDNOW_END = "1998-07-01T00:00:00Z"
FORMATS = ("csv", "jsonl", "parquet")
# Answers must not depend on the machine's zone: every run is in New York's.
ENV = {**os.environ, "TZ": "America/New_York", "COLUMNS": "120"}


def run(
    *args: object, check_status: int | None = 0
) -> subprocess.CompletedProcess[str]:
    """``python -m leadscore ARGS``; assert the exit status when given."""
    done = subprocess.run(
        [sys.executable, "-m", "leadscore", *map(str, args)],
        capture_output=True,
        text=True,
        env=ENV,
        check=False,
    )
    if check_status is not None:
        assert check_status == done.returncode, done.stderr
    return done


def rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(stdio.StringIO(text)))


# -- CDNOW, in each format ------------------------------------------------------------


@pytest.fixture(scope="module")
def cdnow(tmp_path_factory):
    """The CDNOW sample's events, and the same events written in each format."""
    folder = tmp_path_factory.mktemp("cdnow")
    events = load_cdnow(CDNOW)
    files = {fmt: folder / f"cdnow.{fmt}" for fmt in FORMATS}
    for path in files.values():
        io.write_events(events, path)
    return events, files


@pytest.mark.parametrize("fmt", FORMATS)
def test_score_on_cdnow_gives_the_librarys_scores(cdnow, fmt):
    """`leadscore score`: every contact, the exact float score() gives."""
    events, files = cdnow
    model = config.load(ACTIVECAMPAIGN)
    expected = ls.score(model, events, CDNOW_END)
    out = run("score", ACTIVECAMPAIGN, files[fmt], "--as-of", CDNOW_END)
    assert expected == {r["contact"]: float(r["score"]) for r in rows(out.stdout)}
    assert ["contact", "score"] == out.stdout.splitlines()[0].split(",")


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_rfm_on_cdnow_gives_the_librarys_segments_and_action_scores(cdnow, fmt):
    """`leadscore rfm`: contact,r,f,m,code,segment,action_score as the library."""
    events, files = cdnow
    segments = ls.rfm_segments(events, CDNOW_END)
    actions = ls.action_scores(events, CDNOW_END)
    expected = [
        {
            "contact": c,
            "r": str(s.r),
            "f": str(s.f),
            "m": str(s.m),
            "code": s.code,
            "segment": s.segment or "",
            "action_score": str(actions[c].total),
        }
        for c, s in sorted(segments.items())
    ]
    assert expected == rows(run("rfm", files[fmt], "--as-of", CDNOW_END).stdout)


def test_rfm_as_json(cdnow):
    """--format json: an array of objects with typed numbers."""
    events, files = cdnow
    out = json.loads(
        run("rfm", files["jsonl"], "--as-of", CDNOW_END, "--format", "json").stdout
    )
    segments = ls.rfm_segments(events, CDNOW_END)
    assert len(segments) == len(out)
    first = out[0]
    assert (segments[first["contact"]].r, segments[first["contact"]].code) == (
        first["r"],
        first["code"],
    )


# -- generated files ------------------------------------------------------------------


def generated_events(n: int = 400, seed: int = 15) -> list[ls.Event]:
    rng = random.Random(seed)
    kinds = ["form.submitted", "email.opened", "page.viewed", "appointment.missed"]
    paths = ["/pricing", "/blog", "/"]
    start = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
    events = []
    for i in range(n):
        kind = rng.choice(kinds)
        attrs = {"path": rng.choice(paths)} if kind == "page.viewed" else {}
        if kind == "email.opened" and rng.random() < 0.5:
            attrs["campaign"] = "May newsletter"
        at = start + dt.timedelta(minutes=rng.randrange(60 * 24 * 200))
        events.append(ls.Event(f"c{rng.randrange(40)}", kind, at, attrs, id=f"e{i}"))
    return events


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    folder = tmp_path_factory.mktemp("generated")
    events = generated_events()
    files = {fmt: folder / f"events.{fmt}" for fmt in FORMATS}
    for path in files.values():
        io.write_events(events, path)
    return events, files


@pytest.mark.parametrize("fmt", FORMATS)
def test_score_on_generated_files_as_json_gives_the_librarys_scores(generated, fmt):
    """A conditional model with expiry, JSON output: the library's numbers."""
    events, files = generated
    model = config.load(HIGHLEVEL)
    as_of = "2024-06-01T00:00:00Z"
    out = run("score", HIGHLEVEL, files[fmt], "--as-of", as_of, "--format", "json")
    assert ls.score(model, events, as_of) == {
        r["contact"]: r["score"] for r in json.loads(out.stdout)
    }


def test_explain_gives_the_librarys_rows(generated):
    """`leadscore explain`: one row per contribution, the score on stderr."""
    events, files = generated
    model = config.load(HIGHLEVEL)
    as_of = "2024-06-01T00:00:00Z"
    out = run("explain", HIGHLEVEL, files["csv"], "c1", "--as-of", as_of)
    expected = ls.explain(model, events, "c1", as_of)
    got = rows(out.stdout)
    assert [
        (c.event.id, c.rule.label if c.rule else "(manual)", c.effective)
        for c in expected
    ] == [(r["id"], r["rule"], float(r["effective"])) for r in got]
    assert f"{ls.score(model, events, as_of)['c1']}" in out.stderr


def test_timeline_gives_the_librarys_points(generated):
    """`leadscore timeline`: at,score at every change."""
    events, files = generated
    model = config.load(HIGHLEVEL)
    out = run("timeline", HIGHLEVEL, files["parquet"], "c2", "--format", "json")
    expected = ls.timeline(model, events, "c2")
    assert [(at.isoformat(), v) for at, v in expected] == [
        (r["at"], r["score"]) for r in json.loads(out.stdout)
    ]


def test_segment_gives_the_librarys_members(generated):
    """`leadscore segment --above`: the contacts segment() finds, with scores."""
    events, files = generated
    model = config.load(HIGHLEVEL)
    as_of = "2024-06-01T00:00:00Z"
    out = run("segment", HIGHLEVEL, files["csv"], "--as-of", as_of, "--above", "20")
    expected = ls.segment(model, events, ls.Segment.greater_than("s", 20), as_of)
    assert expected == [r["contact"] for r in rows(out.stdout)]
    assert expected  # the check is not vacuous


def test_backtest_gives_the_librarys_measures(generated):
    """`leadscore backtest`: observations, AUC, lift and precision as the library."""
    events, files = generated
    model = config.load(HIGHLEVEL)
    dates = ["2024-03-01T00:00:00Z", "2024-04-01T00:00:00Z"]
    out = run(
        "backtest",
        HIGHLEVEL,
        files["jsonl"],
        "--outcome",
        "appointment.missed",
        "--date",
        dates[0],
        "--date",
        dates[1],
        "--horizon",
        "30d",
        "--format",
        "json",
    )
    result = ls.backtest(
        model,
        events,
        "appointment.missed",
        dates=[ls.Event("x", "k", d).at for d in dates],
        horizon=dt.timedelta(days=30),
    )
    got = {r["measure"]: r["value"] for r in json.loads(out.stdout)}
    assert (result.observations, result.positives, result.auc) == (
        got["observations"],
        got["positives"],
        got["auc"],
    )
    assert result.precision_at[10] == got["precision_at_10"]


def test_json_output_writes_undefined_measures_as_null(tmp_path):
    """No outcome at all: the AUC is NaN in the library, null in the JSON (valid)."""
    path = tmp_path / "e.csv"
    path.write_text("contact,kind,at\nann,form.submitted,2024-05-01T00:00:00Z\n")
    out = run(
        "backtest", HIGHLEVEL, path, "--outcome", "deal.won",
        "--date", "2024-05-02T00:00:00Z", "--horizon", "7d", "--format", "json",
    )  # fmt: skip
    got = {r["measure"]: r["value"] for r in json.loads(out.stdout)}
    assert (1, 0, None) == (got["observations"], got["positives"], got["auc"])


def test_table_output_is_readable(generated):
    """--format table: a table with the header and every contact."""
    events, files = generated
    out = run(
        "score",
        HIGHLEVEL,
        files["csv"],
        "--as-of",
        "2024-06-01T00:00:00Z",
        "--format",
        "table",
    )
    assert "contact" in out.stdout
    assert all(c in out.stdout for c in {e.contact for e in events})


def test_out_writes_a_file(generated, tmp_path):
    """--out FILE: the output goes to the file, nothing to stdout."""
    _, files = generated
    target = tmp_path / "scores.csv"
    out = run(
        "score",
        HIGHLEVEL,
        files["csv"],
        "--as-of",
        "2024-06-01T00:00:00Z",
        "--out",
        target,
    )
    assert "" == out.stdout
    assert "contact,score" == target.read_text().splitlines()[0]


# -- bad input ------------------------------------------------------------------------

MALFORMED = (
    "contact,kind,at,path\n"
    "ann,form.submitted,2024-05-01T09:00:00Z,\n"
    "bob,form.submitted,not a date,\n"
    "cy,page.viewed,2024-05-02T09:00:00Z,/pricing\n"
    ",form.submitted,2024-05-02T09:00:00Z,\n"
    "dee,form.submitted,2024-05-03 09:00,\n"
    "eve,page.viewed\n"
)


@pytest.fixture(scope="module")
def malformed(tmp_path_factory):
    path = tmp_path_factory.mktemp("bad") / "events.csv"
    path.write_text(MALFORMED, encoding="utf-8")
    return path


def test_malformed_rows_exit_2_naming_each_bad_line(malformed):
    """Every bad row is listed with file:line, field and value; nothing on stdout."""
    out = run(
        "score", HIGHLEVEL, malformed, "--as-of", "2024-06-01T00:00:00Z", check_status=2
    )
    assert "" == out.stdout
    for line, words in [
        (3, ["at is not a timestamp", "'not a date'"]),
        (5, ["contact is empty"]),
        (6, ["at has no UTC offset", "'2024-05-03 09:00'"]),
        (7, ["row has 2 cells"]),
    ]:
        [message] = [m for m in out.stderr.splitlines() if f"{malformed}:{line}:" in m]
        assert all(w in message for w in words), message
    assert "4 bad row(s)" in out.stderr


def test_on_error_skip_scores_the_good_rows_and_reports_the_bad(malformed):
    """--on-error skip: exit 0, the good rows' scores, the bad rows on stderr."""
    out = run(
        "score",
        HIGHLEVEL,
        malformed,
        "--as-of",
        "2024-06-01T00:00:00Z",
        "--on-error",
        "skip",
    )
    good = [
        ls.Event("ann", "form.submitted", "2024-05-01T09:00:00Z"),
        ls.Event("cy", "page.viewed", "2024-05-02T09:00:00Z", {"path": "/pricing"}),
    ]
    expected = ls.score(config.load(HIGHLEVEL), good, "2024-06-01T00:00:00Z")
    assert expected == {r["contact"]: float(r["score"]) for r in rows(out.stdout)}
    assert 4 == sum(f"{malformed}:" in line for line in out.stderr.splitlines())
    assert "4 of 6 row(s)" in out.stderr


def test_tz_reads_naive_timestamps_as_local_time(tmp_path):
    """--tz Europe/Paris: 09:00 local is 07:00 UTC, whatever the machine's zone."""
    path = tmp_path / "e.csv"
    path.write_text("contact,kind,at\nann,form.submitted,2024-05-01 09:00\n")
    out = run(
        "timeline", HIGHLEVEL, path, "ann", "--tz", "Europe/Paris", "--format", "json"
    )
    assert "2024-05-01T07:00:00+00:00" == json.loads(out.stdout)[0]["at"]


def test_a_bad_model_exits_2_naming_the_key(tmp_path, generated):
    """An invalid model file: exit 2, the file and the key path in the message."""
    _, files = generated
    model = tmp_path / "bad.toml"
    model.write_text('name = "m"\n[[rules]]\nkind = "k"\npoints = "ten"\n')
    out = run(
        "score", model, files["csv"], "--as-of", "2024-06-01T00:00:00Z", check_status=2
    )
    assert str(model) in out.stderr
    assert "rules[0].points" in out.stderr


def test_bad_options_exit_2(generated):
    """A naive --as-of, a bad --map, a missing file: exit 2 with the reason."""
    _, files = generated
    out = run("score", HIGHLEVEL, files["csv"], "--as-of", "2024-06-01", check_status=2)
    assert "--as-of has no UTC offset" in out.stderr
    out = run(
        "score",
        HIGHLEVEL,
        files["csv"],
        "--as-of",
        "now",
        "--map",
        "who",
        check_status=2,
    )
    assert "FIELD=COLUMN" in out.stderr
    run("score", HIGHLEVEL, "missing.csv", "--as-of", "now", check_status=2)


def test_a_missing_column_exits_2_naming_it(tmp_path):
    """No 'kind' column: exit 2, the column named with the way to map it."""
    path = tmp_path / "e.csv"
    path.write_text("contact,type,at\nann,k,2024-05-01T00:00Z\n")
    out = run("score", HIGHLEVEL, path, "--as-of", "now", check_status=2)
    assert "no column 'kind'" in out.stderr
    out = run(
        "score",
        HIGHLEVEL,
        path,
        "--as-of",
        "2024-06-01T00:00:00Z",
        "--map",
        "kind=type",
    )
    assert "ann,0.0" == out.stdout.splitlines()[1]


# -- exports, validate, engine, help ------------------------------------------------------


def test_preset_reads_a_hubspot_export(tmp_path):
    """--preset hubspot: the sample export scored as the library scores it."""
    path = EXPORTS / "hubspot_email_events.jsonl"
    model = ls.presets.email_engagement()
    model_file = tmp_path / "engagement.json"
    model_file.write_text(config.to_json(model))
    out = run(
        "score",
        model_file,
        path,
        "--as-of",
        "2024-06-01T00:00:00Z",
        "--preset",
        "hubspot",
        "--format",
        "json",
    )
    events = io.read_events(path, columns="hubspot")
    assert ls.score(model, events, "2024-06-01T00:00:00Z") == {
        r["contact"]: r["score"] for r in json.loads(out.stdout)
    }


def test_validate_prints_the_model_normalised(tmp_path):
    """validate: exit 0 and a document that loads back to the same model."""
    out = run("validate", ACTIVECAMPAIGN, "--to", "json")
    assert config.load(ACTIVECAMPAIGN) == config.from_json(out.stdout)
    copy = tmp_path / "copy.toml"
    run("validate", ACTIVECAMPAIGN, "--out", copy)
    assert config.load(ACTIVECAMPAIGN) == config.load(copy)
    bad = tmp_path / "bad.json"
    bad.write_text('{"name": "m", "rules": [{"kind": "k", "points": 1, "aging": 3}]}')
    out = run("validate", bad, check_status=2)
    assert f"{bad}: rules[0].aging" in out.stderr


def test_validate_reads_every_kind_of_document(tmp_path):
    """A rating scale is validated as a scale (its type key says so)."""
    scale = tmp_path / "stars.json"
    scale.write_text(
        config.to_json(ls.RatingScale([1, 2, 3, 4], labels=[1, 2, 3, 4, 5]))
    )
    out = run("validate", scale)
    assert "valid RatingScale" in out.stderr
    assert {"type": "scale"}.items() <= json.loads(out.stdout).items()


def test_ingest_and_advance_over_a_sqlite_store(tmp_path, generated):
    """`ingest` reports the engine's changes; a second ingest of the file none."""
    from leadscore.engine import Engine
    from leadscore.stores import MemoryStore

    events, files = generated
    store = tmp_path / "leads.sqlite"
    out = run("ingest", store, files["csv"], "--model", HIGHLEVEL, "--format", "json")
    expected = Engine([config.load(HIGHLEVEL)], MemoryStore()).ingest(events)
    assert [
        (c.model, c.contact, c.at.isoformat(), c.before, c.after) for c in expected
    ] == [
        (r["model"], r["contact"], r["at"], r["before"], r["after"])
        for r in json.loads(out.stdout)
    ]
    again = run("ingest", store, files["csv"], "--model", HIGHLEVEL)
    assert ["model,contact,at,before,after"] == again.stdout.splitlines()
    if not hasattr(Engine, "advance"):
        return
    later = run(
        "advance",
        store,
        "--model",
        HIGHLEVEL,
        "--until",
        "2024-12-31T00:00:00Z",
        "--format",
        "json",
    )
    engine = Engine([config.load(HIGHLEVEL)], MemoryStore())
    engine.ingest(events)
    assert [(c.contact, c.after) for c in engine.advance("2024-12-31T00:00:00Z")] == [
        (r["contact"], r["after"]) for r in json.loads(later.stdout)
    ]


COMMANDS = [
    "score",
    "rfm",
    "explain",
    "validate",
    "timeline",
    "segment",
    "backtest",
    "ingest",
    "advance",
]


def test_every_command_has_an_example_in_its_help():
    """--help of each command shows an example line starting with 'leadscore'."""
    from click.testing import CliRunner

    from leadscore.cli import main

    runner = CliRunner()
    for command in COMMANDS:
        out = runner.invoke(main, [command, "--help"], prog_name="leadscore")
        assert 0 == out.exit_code, out.output
        assert "Example" in out.output, command
        assert f"leadscore {command} " in out.output, command
    assert "python -m leadscore" not in run("--help").stdout


def test_no_progress_bar_when_stderr_is_not_a_terminal(generated):
    """Progress goes to a terminal only: a pipe's stderr stays empty."""
    _, files = generated
    out = run("score", HIGHLEVEL, files["csv"], "--as-of", "2024-06-01T00:00:00Z")
    assert "" == out.stderr


def test_a_plain_parquet_file_is_scored_by_frame_and_a_bad_row_named(tmp_path):
    """Parquet of plain columns goes through leadscore.frame (one query)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    at = pa.array(
        [dt.datetime(2024, 5, 1, tzinfo=dt.UTC)] * 2, pa.timestamp("us", tz="UTC")
    )
    good = pa.table(
        {"contact": ["ann", "bob"], "kind": ["form.submitted"] * 2, "at": at}
    )
    path = tmp_path / "events.parquet"
    pq.write_table(good, path)
    model = ls.config.load(HIGHLEVEL)
    out = run("score", HIGHLEVEL, path, "--as-of", "2024-06-01T00:00:00Z")
    expected = ls.score(
        model,
        [ls.Event(c, "form.submitted", "2024-05-01T00:00:00Z") for c in ("ann", "bob")],
        "2024-06-01T00:00:00Z",
    )
    assert expected == {r["contact"]: float(r["score"]) for r in rows(out.stdout)}
    bad = good.set_column(0, "contact", pa.array(["ann", ""]))
    pq.write_table(bad, path)
    done = run(
        "score", HIGHLEVEL, path, "--as-of", "2024-06-01T00:00:00Z", check_status=2
    )
    assert "row 1" in done.stderr
    assert "column 'contact'" in done.stderr  # frame's message, not the reader's
