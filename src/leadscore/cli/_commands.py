"""The commands on files of events: score, rfm, explain, validate, timeline ..."""

from __future__ import annotations

import datetime as dt
import itertools
import json
import os
import tomllib
from pathlib import Path
from typing import Any

import click

import leadscore as ls
from leadscore import config
from leadscore import io as lsio

from ._shell import (
    BadInput,
    Events,
    _progress,
    as_of_option,
    duration,
    emit,
    emit_columns,
    events_options,
    existing_file,
    load_model,
    main,
    output_options,
)

# -- the scoring call ------------------------------------------------------------

#: Files from this size up are read as columns and scored by ``leadscore.frame``
#: when the frame extra is installed (``LEADSCORE_FRAME_BYTES`` overrides it; 0:
#: always, when the events can be columns). Below it, importing Ibis and DuckDB
#: costs more than the pure path spends on the whole file.
FRAME_BYTES = 16 * 2**20


def score_events(
    model: ls.ScoringModel, events: Events, as_of: dt.datetime
) -> dict[str, float]:
    """Every contact's score: the one place the CLI scores a file of events."""
    contacts, scores = score_columns(model, events, as_of)
    return dict(zip(contacts, scores, strict=True))


def score_columns(
    model: ls.ScoringModel, events: Events, as_of: dt.datetime
) -> tuple[list[str], list[float]]:
    """The contacts (sorted) and their scores, by the quickest path that can.

    - A Parquet file of plain columns (aware timestamps, no product preset, bad
      rows refused) is scored by ``leadscore.frame`` straight from the file:
      one query on an embedded DuckDB, bad rows named by frame.
    - A file of at least :data:`FRAME_BYTES` (CSV, JSON Lines, Parquet), when
      the frame extra is installed, is read as columns
      (``EventReader.to_arrow``: the reader's bad rows, word for word) and
      scored by ``leadscore.frame``.
    - Anything else, and events a table cannot hold (an attribute of mixed
      types), is read once, streaming, and scored by ``ls.score``.
    """
    columns = _frame_columns(events)
    if columns is not None:
        from leadscore import frame

        table = frame.score(model, events.reader.source, as_of, columns=columns)
        return _sorted(table["contact"].tolist(), table["score"].tolist())
    table = _as_columns(events)
    if table is not None:
        from leadscore import frame

        result = frame.score(model, table, as_of)
        return _sorted(
            result.column("contact").to_pylist(), result.column("score").to_pylist()
        )
    with events.reading("Scoring") as reader:
        scores = ls.score(model, reader, as_of)
    contacts = sorted(scores)
    return contacts, [scores[c] for c in contacts]


def _sorted(contacts: list[str], scores: list[float]) -> tuple[list[str], list[float]]:
    """Both lists in the order of the contacts (frame sorts them already)."""
    if all(a < b for a, b in itertools.pairwise(contacts)):
        return contacts, scores
    order = sorted(range(len(contacts)), key=contacts.__getitem__)
    return [contacts[i] for i in order], [scores[i] for i in order]


def _frame_installed() -> bool:
    try:
        import ibis  # noqa: F401 - only to know that the frame extra is there
        import pyarrow as pa  # noqa: F401
    except ImportError:
        return False
    return True


def _frame_bytes() -> int:
    text = os.environ.get("LEADSCORE_FRAME_BYTES")
    if text is None:
        return FRAME_BYTES
    try:
        return int(text)
    except ValueError:
        msg = f"LEADSCORE_FRAME_BYTES must be a number of bytes, got {text!r}"
        raise BadInput(msg) from None


def _as_columns(events: Events) -> Any:
    """The events as an Arrow table for ``leadscore.frame``, or None: the pure path.

    Bad rows are reported as the streaming reader reports them (every one listed;
    with --on-error raise, exit 2).
    """
    reader = events.reader
    if reader.format not in {"csv", "jsonl", "parquet"}:
        return None
    try:
        size = Path(reader.source).stat().st_size
    except OSError:
        return None  # the reader names the file
    if size < _frame_bytes() or not _frame_installed():
        return None
    with _progress(f"Reading {reader.name}"):
        try:
            table = reader.to_arrow()
        except lsio.NotColumnar:
            return None
    events.report()
    return table


def _frame_columns(events: Events) -> dict[str, str] | None:
    """The column mapping for ``leadscore.frame``, or None if it cannot read them."""
    reader = events.reader
    export = reader.export
    if (
        reader.format != "parquet"
        or events.on_error != "raise"
        or export.kinds
        or export.rename
        or export.drop
    ):
        return None
    if not _frame_installed():
        return None
    import pyarrow.parquet as pq

    columns = dict(export.columns)
    try:
        at = pq.read_schema(reader.source).field(columns.get("at", "at")).type
    except KeyError:  # no such column: the reader names it
        return None
    aware = getattr(at, "tz", None) is not None
    return columns if aware and not any("." in c for c in columns.values()) else None


# -- commands --------------------------------------------------------------------


@main.command()
@click.argument("model", type=existing_file)
@click.argument("events", type=existing_file)
@as_of_option
@output_options
@events_options
def score(
    *,
    model: Path,
    events: Path,
    as_of: str,
    out: Path | None,
    out_format: str,
    **options: Any,
) -> None:
    r"""Every contact's score under MODEL: contact,score.

    \b
    Examples:
      leadscore score model.toml events.csv --as-of 2024-06-01T00:00:00Z
      leadscore score model.toml export.jsonl --as-of now --preset hubspot
      leadscore score model.json events.parquet --as-of 2024-06-01T00:00:00Z \
          --format table --on-error skip
    """
    source = Events(events, **options)
    contacts, scores = score_columns(load_model(model), source, source.instant(as_of))
    emit_columns(
        {"contact": contacts, "score": scores}, out_format, out, title="Scores"
    )


@main.command()
@click.argument("events", type=existing_file)
@as_of_option
@click.option(
    "--bins", default=5, show_default=True, type=click.IntRange(2, 10), help="Bins."
)
@output_options
@events_options
def rfm(
    *,
    events: Path,
    as_of: str,
    bins: int,
    out: Path | None,
    out_format: str,
    **options: Any,
) -> None:
    r"""RFM scores, segments and Action Scores of every purchasing contact.

    Columns contact,r,f,m,code,segment,action_score; purchases are events of kind
    order.paid (refunds order.refunded), the Action Score is the total under the
    default ActionScoreConfig().

    \b
    Example:
      leadscore rfm orders.csv --as-of 1998-07-01T00:00:00Z --format table
    """
    source = Events(events, **options)
    at = source.instant(as_of)
    with source.reading() as reader:
        found = list(reader)
    segments = ls.rfm_segments(found, at, bins)
    actions = ls.action_scores(found, at)
    rows = [
        {
            "contact": c,
            "r": s.r,
            "f": s.f,
            "m": s.m,
            "code": s.code,
            "segment": s.segment,
            "action_score": actions[c].total if c in actions else None,
        }
        for c, s in sorted(segments.items())
    ]
    columns = ["contact", "r", "f", "m", "code", "segment", "action_score"]
    emit(rows, columns, out_format, out, title="RFM segments")


@main.command()
@click.argument("model", type=existing_file)
@click.argument("events", type=existing_file)
@click.argument("contact")
@as_of_option
@output_options
@events_options
def explain(
    *,
    model: Path,
    events: Path,
    contact: str,
    as_of: str,
    out: Path | None,
    out_format: str,
    **options: Any,
) -> None:
    r"""Why CONTACT has its score: one row per counted event and rule.

    Columns at,kind,id,rule,points,weight,effective; the total is on stderr.

    \b
    Example:
      leadscore explain model.toml events.csv ann@example.com \
          --as-of 2024-06-01T00:00:00Z --format table
    """
    source = Events(events, **options)
    at = source.instant(as_of)
    loaded = load_model(model)
    with source.reading() as reader:
        found = list(reader)
    rows = [
        {
            "at": c.event.at,
            "kind": c.event.kind,
            "id": c.event.id,
            "rule": c.rule.label if c.rule is not None else "(manual)",
            "points": c.points,
            "weight": c.weight,
            "effective": c.effective,
        }
        for c in ls.explain(loaded, found, contact, at)
    ]
    columns = ["at", "kind", "id", "rule", "points", "weight", "effective"]
    emit(rows, columns, out_format, out, title=f"{contact} under {loaded.name}")
    total = ls.score(loaded, found, at).get(contact)
    if total is None:
        click.echo(f"{contact} has no events by {at.isoformat()}", err=True)
    else:
        click.echo(f"score of {contact} at {at.isoformat()}: {total}", err=True)


_DOCUMENTS: dict[str, type[Any]] = {
    "points": ls.ScoringModel,
    "fit": ls.FitModel,
    "scale": ls.RatingScale,
    "segment": ls.Segment,
}


@main.command()
@click.argument("model", type=existing_file)
@click.option(
    "--to",
    "to",
    type=click.Choice(["json", "toml"]),
    help="Print as JSON or TOML (default: the file's own format).",
)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path))
def validate(*, model: Path, to: str | None, out: Path | None) -> None:
    r"""Check a model file (TOML or JSON) and print it back normalised.

    Points models, fit models, rating scales and segments (told apart by their
    "type" key). Exit status 2 names the key at fault.

    \b
    Examples:
      leadscore validate model.toml
      leadscore validate model.toml --to json --out model.json
    """
    kind = _DOCUMENTS.get(_document_type(model), ls.ScoringModel)
    document = config.load(model, kind)
    to = to or ("toml" if model.suffix == ".toml" else "json")
    to_toml = getattr(config, "to_toml", None)
    if to == "toml" and to_toml is not None:
        text: str = to_toml(document)
    else:
        text = config.to_json(document, indent=2) + "\n"
    with click.open_file(str(out) if out else "-", "w", encoding="utf-8") as f:
        f.write(text)
    click.echo(f"{model}: valid {kind.__name__}", err=True)


def _document_type(path: Path) -> str:
    """The ``type`` key of a model file ("points" when absent or unreadable)."""
    try:
        text = path.read_text(encoding="utf-8")
        data = tomllib.loads(text) if path.suffix == ".toml" else json.loads(text)
    except (ValueError, OSError, RecursionError):
        return "points"  # config.load reports what is wrong
    kind = data.get("type", "points") if isinstance(data, dict) else "points"
    return kind if isinstance(kind, str) else "points"


@main.command()
@click.argument("model", type=existing_file)
@click.argument("events", type=existing_file)
@click.argument("contact")
@click.option("--start", metavar="T", help="First instant shown.")
@click.option("--end", metavar="T", help="Last instant shown.")
@click.option(
    "--step", metavar="DURATION", help="Also sample every DURATION (needs --end)."
)
@output_options
@events_options
def timeline(
    *,
    model: Path,
    events: Path,
    contact: str,
    start: str | None,
    end: str | None,
    step: str | None,
    out: Path | None,
    out_format: str,
    **options: Any,
) -> None:
    r"""CONTACT's score over time: at,score at every change (expiry included).

    \b
    Example:
      leadscore timeline model.toml events.csv ann@example.com \
          --end 2024-12-31T00:00:00Z --step 7d
    """
    source = Events(events, **options)
    start_at = source.instant(start, "--start") if start else None
    end_at = source.instant(end, "--end") if end else None
    every = duration(step, "--step") if step else None
    with source.reading() as reader:
        found = list(reader)
    points = ls.timeline(
        load_model(model), found, contact, start=start_at, end=end_at, step=every
    )
    rows = [{"at": at, "score": value} for at, value in points]
    emit(rows, ["at", "score"], out_format, out, title=f"Timeline of {contact}")


@main.command()
@click.argument("model", type=existing_file)
@click.argument("events", type=existing_file)
@as_of_option
@click.option("--above", type=float, help="Scores greater than this.")
@click.option("--below", type=float, help="Scores less than this.")
@click.option(
    "--segment-file",
    type=existing_file,
    help="A segment saved as TOML/JSON (type = 'segment').",
)
@output_options
@events_options
def segment(
    *,
    model: Path,
    events: Path,
    as_of: str,
    above: float | None,
    below: float | None,
    segment_file: Path | None,
    out: Path | None,
    out_format: str,
    **options: Any,
) -> None:
    r"""The contacts in a segment of scores: contact,score.

    \b
    Examples:
      leadscore segment model.toml events.csv --as-of now --above 75
      leadscore segment model.toml events.csv --as-of now --above 20 --below 50
      leadscore segment model.toml events.csv --as-of now \
          --segment-file cooling.toml
    """
    if segment_file is not None:
        if above is not None or below is not None:
            msg = "give --segment-file or --above/--below, not both"
            raise BadInput(msg)
        seg: ls.Segment = config.load(segment_file, ls.Segment)
    elif above is not None and below is not None:
        seg = ls.Segment.between("segment", above, below)
    elif above is not None:
        seg = ls.Segment.greater_than("segment", above)
    elif below is not None:
        seg = ls.Segment.less_than("segment", below)
    else:
        msg = "give --above, --below or --segment-file"
        raise BadInput(msg)
    source = Events(events, **options)
    at = source.instant(as_of)
    loaded = load_model(model)
    with source.reading() as reader:
        found = list(reader)
    members = ls.segment(loaded, found, seg, at)
    scores = ls.score(loaded, found, at)
    rows = [{"contact": c, "score": scores[c]} for c in members]
    emit(rows, ["contact", "score"], out_format, out, title=seg.name)


@main.command()
@click.argument("model", type=existing_file)
@click.argument("events", type=existing_file)
@click.option(
    "--outcome", required=True, multiple=True, help="The outcome's event kind(s)."
)
@click.option(
    "--date",
    "dates",
    required=True,
    multiple=True,
    metavar="T",
    help="A scoring date (repeat the option for several).",
)
@click.option(
    "--horizon",
    required=True,
    metavar="DURATION",
    help="How long after a date an outcome counts (e.g. 30d).",
)
@click.option("--k", "ks", multiple=True, type=int, help="Precision at k (10, 100).")
@output_options
@events_options
def backtest(
    *,
    model: Path,
    events: Path,
    outcome: tuple[str, ...],
    dates: tuple[str, ...],
    horizon: str,
    ks: tuple[int, ...],
    out: Path | None,
    out_format: str,
    **options: Any,
) -> None:
    r"""How well MODEL's scores predicted an outcome: measure,value.

    \b
    Example:
      leadscore backtest model.toml events.csv --outcome deal.won \
          --date 2024-03-01T00:00:00Z --date 2024-04-01T00:00:00Z --horizon 30d
    """
    source = Events(events, **options)
    when = [source.instant(d, "--date") for d in dates]
    span = duration(horizon, "--horizon")
    with source.reading() as reader:
        found = list(reader)
    result = ls.backtest(
        load_model(model), found, outcome, dates=when, horizon=span, ks=ks or (10, 100)
    )
    rows: list[dict[str, Any]] = [
        {"measure": "observations", "value": result.observations},
        {"measure": "positives", "value": result.positives},
        {"measure": "base_rate", "value": result.base_rate},
        {"measure": "auc", "value": result.auc},
    ]
    rows += [
        {"measure": f"lift_decile_{i}", "value": v}
        for i, v in enumerate(result.lift, start=1)
    ]
    rows += [
        {"measure": f"precision_at_{k}", "value": v}
        for k, v in result.precision_at.items()
    ]
    emit(rows, ["measure", "value"], out_format, out, title="Backtest")
