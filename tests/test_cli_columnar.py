"""`leadscore score` through the columnar reader and frame: the pure path's output.

The command reads a big CSV, JSON Lines or Parquet file as columns and scores it
with ``leadscore.frame`` when the frame extra is installed; ``LEADSCORE_FRAME_BYTES``
sets how big "big" is. Each test runs the same command twice as a subprocess,
with every file big (0 bytes) and with none (the pure path), and asserts the same
exit status, the same output byte for byte, and the same bad rows on stderr.
"""

from __future__ import annotations

import csv
import datetime as dt
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
ENV = {**os.environ, "TZ": "America/New_York", "COLUMNS": "120"}


def run(*args: object, frame: bool) -> subprocess.CompletedProcess[str]:
    """``python -m leadscore ARGS``, every file big (frame) or none (pure)."""
    env = {**ENV, "LEADSCORE_FRAME_BYTES": "0" if frame else str(2**62)}
    return subprocess.run(
        [sys.executable, "-m", "leadscore", *map(str, args)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )


def both(*args: object) -> subprocess.CompletedProcess[str]:
    """Run *args* on both paths; assert the same status, stdout and stderr."""
    columnar, pure = run(*args, frame=True), run(*args, frame=False)
    assert pure.returncode == columnar.returncode, columnar.stderr
    assert pure.stdout == columnar.stdout
    assert pure.stderr == columnar.stderr
    return columnar


@pytest.fixture(scope="module")
def cdnow(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cdnow")
    events = load_cdnow(CDNOW)
    files = {fmt: folder / f"cdnow.{fmt}" for fmt in ("csv", "jsonl", "parquet")}
    for path in files.values():
        io.write_events(events, path)
    return events, files


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "parquet"])
def test_cdnow_scores_are_the_same_through_columns(cdnow, fmt):
    """CDNOW in each format: the library's scores, the same text on both paths."""
    events, files = cdnow
    done = both("score", ACTIVECAMPAIGN, files[fmt], "--as-of", "1998-07-01T00:00:00Z")
    assert 0 == done.returncode
    expected = ls.score(config.load(ACTIVECAMPAIGN), events, "1998-07-01T00:00:00Z")
    got = {
        r["contact"]: float(r["score"])
        for r in csv.DictReader(done.stdout.splitlines())
    }
    assert expected == got


@pytest.mark.parametrize("out_format", ["json", "table"])
def test_json_and_table_output_are_the_same_through_columns(cdnow, out_format):
    """--format json and table: the same document on both paths."""
    _, files = cdnow
    both(
        "score", ACTIVECAMPAIGN, files["csv"], "--as-of", "1998-07-01T00:00:00Z",
        "--format", out_format,
    )  # fmt: skip


MALFORMED = (
    "contact,kind,at,path\n"
    "ann,form.submitted,2024-05-01T09:00:00Z,\n"
    "bob,form.submitted,not a date,\n"
    "cy,page.viewed,2024-05-02T09:00:00Z,/pricing\n"
    ",form.submitted,2024-05-02T09:00:00Z,\n"
    "dee,form.submitted,2024-05-03 09:00,\n"
    'fay,page.viewed,"2024-05-04T09:00:00Z",/pricing\n'
    "gus,score.set,1714557600,\n"
)


@pytest.mark.parametrize("on_error", ["raise", "skip"])
def test_bad_rows_are_listed_the_same_through_columns(tmp_path, on_error):
    """Each bad line named on stderr, exit 2 (raise) or the good rows scored (skip)."""
    path = tmp_path / "events.csv"
    path.write_text(MALFORMED, encoding="utf-8")
    done = both(
        "score", HIGHLEVEL, path, "--as-of", "2024-06-01T00:00:00Z",
        "--on-error", on_error,
    )  # fmt: skip
    assert (2 if on_error == "raise" else 0) == done.returncode
    assert f"{path}:3:" in done.stderr
    assert f"{path}:5:" in done.stderr


def test_tz_epoch_and_a_mapping_are_the_same_through_columns(tmp_path):
    """--map, --tz for naive times and --epoch: the same scores."""
    rng = random.Random(15)
    path = tmp_path / "export.csv"
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["email", "type", "when", "path"])
        start = dt.datetime(2024, 1, 1)
        for _ in range(300):
            kind = rng.choice(["form.submitted", "page.viewed", "email.opened"])
            at = start + dt.timedelta(minutes=rng.randrange(200_000))
            when = at.isoformat(sep=" ") if rng.random() < 0.5 else int(at.timestamp())
            page = rng.choice(["/pricing", "/"]) if kind == "page.viewed" else ""
            writer.writerow([f"c{rng.randrange(30)}", kind, when, page])
    both(
        "score", HIGHLEVEL, path, "--as-of", "2024-06-01T00:00:00Z",
        "--map", "contact=email", "--map", "kind=type", "--map", "at=when",
        "--tz", "Europe/Paris", "--epoch", "s",
    )  # fmt: skip


def test_what_a_table_cannot_hold_is_scored_by_the_pure_path(tmp_path):
    """A mixed attribute (zip codes as text and numbers), HubSpot's lists: the same."""
    path = tmp_path / "events.csv"
    path.write_text(
        "contact,kind,at,zip\n"
        "ann,form.submitted,2024-05-01T09:00:00Z,02134\n"
        "bob,form.submitted,2024-05-01T09:00:00Z,12345\n",
        encoding="utf-8",
    )
    done = both("score", HIGHLEVEL, path, "--as-of", "2024-06-01T00:00:00Z")
    assert ["contact,score", "ann,10.0", "bob,10.0"] == done.stdout.splitlines()
    both(
        "score", HIGHLEVEL, EXPORTS / "hubspot_email_events.jsonl",
        "--as-of", "2024-06-01T00:00:00Z", "--preset", "hubspot",
    )  # fmt: skip


def test_a_big_csv_file_is_read_as_columns_and_scored_by_frame(cdnow, monkeypatch):
    """The route itself: to_arrow() and frame.score on an Arrow table, not ls.score."""
    from click.testing import CliRunner

    from leadscore import frame
    from leadscore.cli import main

    calls = []
    score = frame.score

    def recording(model, events, as_of, **kwargs):
        calls.append(type(events).__module__.split(".")[0])
        return score(model, events, as_of, **kwargs)

    monkeypatch.setattr(frame, "score", recording)
    monkeypatch.setenv("LEADSCORE_FRAME_BYTES", "0")
    _, files = cdnow
    args = ["score", str(ACTIVECAMPAIGN), str(files["csv"]), "--as-of"]
    done = CliRunner().invoke(main, [*args, "1998-07-01T00:00:00Z"])
    assert 0 == done.exit_code, done.output
    assert ["pyarrow"] == calls
    monkeypatch.setenv("LEADSCORE_FRAME_BYTES", str(2**62))
    assert 0 == CliRunner().invoke(main, [*args, "1998-07-01T00:00:00Z"]).exit_code
    assert ["pyarrow"] == calls  # a small file: the pure path
