"""The engine's commands: ingest and advance over a SQLite store."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click

from leadscore.io._cells import CellError, to_at

from ._shell import (
    BadInput,
    Events,
    emit,
    events_options,
    existing_file,
    load_model,
    main,
    output_options,
)


def _engine(store: Path, models: Sequence[Path], thresholds: Sequence[float]) -> Any:
    from leadscore.engine import Engine
    from leadscore.stores import SQLiteStore

    if not models:
        msg = "give at least one --model"
        raise BadInput(msg)
    loaded = [load_model(m) for m in models]
    limits = {m.name: list(thresholds) for m in loaded} if thresholds else None
    return Engine(loaded, SQLiteStore(store), thresholds=limits)


def _changes(result: Any) -> tuple[list[dict[str, Any]], list[str]]:
    rows = [
        {
            "model": c.model,
            "contact": c.contact,
            "at": c.at,
            "before": c.before,
            "after": c.after,
        }
        for c in result
    ]
    crossings = [
        f"{name}: {c.contact} crossed {c.direction} at {c.at.isoformat()} "
        f"({c.before} -> {c.after})"
        for name, c in getattr(result, "crossings", ())
    ]
    return rows, crossings


_storeexisting_file = click.Path(dir_okay=False, path_type=Path)
model_option = click.option(
    "--model",
    "models",
    multiple=True,
    type=existing_file,
    help="A model file the engine scores (repeat for several).",
)
threshold_option = click.option(
    "--threshold",
    "thresholds",
    multiple=True,
    type=float,
    help="Report crossings of this score (repeat for several).",
)
_CHANGE_COLUMNS = ["model", "contact", "at", "before", "after"]


@main.command()
@click.argument("store", type=_storeexisting_file)
@click.argument("events", type=existing_file)
@model_option
@threshold_option
@output_options
@events_options
def ingest(
    *,
    store: Path,
    events: Path,
    models: tuple[Path, ...],
    thresholds: tuple[float, ...],
    out: Path | None,
    out_format: str,
    **options: Any,
) -> None:
    r"""Store EVENTS in a SQLite STORE and print the score changes they cause.

    The batch is atomic; events with ids already stored count once. Crossings of
    --threshold are listed on stderr.

    \b
    Example:
      leadscore ingest leads.sqlite today.jsonl --model model.toml --threshold 50
    """
    source = Events(events, **options)
    engine = _engine(store, models, thresholds)
    try:
        with source.reading("Ingesting") as reader:
            found = list(reader)
        result = engine.ingest(found)
    finally:
        engine.close()
    rows, crossings = _changes(result)
    emit(rows, _CHANGE_COLUMNS, out_format, out, title="Score changes")
    for line in crossings:
        click.echo(line, err=True)


@main.command()
@click.argument("store", type=_storeexisting_file)
@click.option("--until", required=True, metavar="T", help="Advance up to T (or now).")
@model_option
@threshold_option
@output_options
def advance(
    *,
    store: Path,
    until: str,
    models: tuple[Path, ...],
    thresholds: tuple[float, ...],
    out: Path | None,
    out_format: str,
) -> None:
    r"""Report the score changes time alone causes (expiry, decay) up to --until.

    \b
    Example:
      leadscore advance leads.sqlite --model model.toml --until now --threshold 50
    """
    if until == "now":
        moment = dt.datetime.now(dt.UTC)
    else:
        try:
            moment = to_at(until, None)
        except CellError as e:
            raise BadInput(str(e).replace("at ", "--until ", 1)) from None
    engine = _engine(store, models, thresholds)
    try:
        step = getattr(engine, "advance", None)
        if step is None:
            msg = "this version of the engine has no advance()"
            raise click.ClickException(msg)
        result = step(moment)
    finally:
        engine.close()
    rows, crossings = _changes(result)
    emit(rows, _CHANGE_COLUMNS, out_format, out, title="Score changes")
    for line in crossings:
        click.echo(line, err=True)
