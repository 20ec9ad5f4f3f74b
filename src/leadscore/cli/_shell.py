"""The command group, the options the commands share, and their output."""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import json
import math
import os
import re
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import IO, Any, TypeVar

import click

import leadscore as ls
from leadscore import config
from leadscore import io as lsio
from leadscore.exceptions import LeadScoreError, StoreError
from leadscore.io._cells import CellError, check_tz, to_at

F = TypeVar("F", bound=Callable[..., Any])

#: Bad rows listed on stderr before the rest are only counted.
MAX_LISTED = 100
_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*(w|d|h|m|s)")
_UNITS = {"w": "weeks", "d": "days", "h": "hours", "m": "minutes", "s": "seconds"}


class BadInput(click.ClickException):
    """Bad input: a model, an events file, an option value. Exit status 2."""

    exit_code = 2


def _unwrapped(text: str | None) -> str | None:
    # Raw docstrings spell click's "do not rewrap" marker as backslash-b.
    return None if text is None else text.replace("\\b\n", "\b\n")


class _Command(click.Command):
    """A command whose help keeps its examples as written."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        """Build the command, then restore the no-rewrap markers of its help."""
        super().__init__(*args, **kwargs)
        self.help = _unwrapped(self.help)


class _Group(click.Group):
    """Turns leadscore's errors into messages and exit statuses."""

    command_class = _Command

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        """Build the group, then restore the no-rewrap markers of its help."""
        super().__init__(*args, **kwargs)
        self.help = _unwrapped(self.help)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except BrokenPipeError:
            # The reader went away (`leadscore rfm ... | head`): stop quietly.
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            raise SystemExit(1) from None
        except StoreError as e:
            raise click.ClickException(str(e)) from None
        except LeadScoreError as e:
            raise BadInput(str(e)) from None
        except OSError as e:
            name = e.filename or ""
            raise BadInput(f"{name}: {e.strerror or e}" if name else str(e)) from None


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="leadscore", prog_name="leadscore")
def main() -> None:
    r"""Lead scores, RFM segments and explanations from files of events.

    EVENTS is a CSV, JSON Lines, JSON or Parquet file with the columns contact,
    kind, at, optional id and value; every other column is an attribute. MODEL
    is a TOML or JSON model file (see "Models as data" in the manual).

    \b
    Example:
      leadscore score model.toml events.csv --as-of 2024-06-01T00:00:00Z
    """


# -- options shared by the commands --------------------------------------------------


def events_options(f: F) -> F:
    """Add the options that say how to read EVENTS (see :class:`Events`)."""
    options = [
        click.option(
            "--map",
            "mapping",
            multiple=True,
            metavar="FIELD=COLUMN",
            help="Read an Event field from another column: --map contact=email.",
        ),
        click.option(
            "--preset",
            type=click.Choice(sorted(lsio.EXPORTS)),
            help="Read a product's activity export (columns and kinds).",
        ),
        click.option(
            "--tz",
            metavar="ZONE",
            help="Time zone of timestamps without an offset (e.g. Europe/Paris).",
        ),
        click.option(
            "--epoch",
            type=click.Choice(["auto", "s", "ms", "us", "ns"]),
            help="Unit of numeric timestamps (default: by magnitude).",
        ),
        click.option(
            "--events-format",
            type=click.Choice(["csv", "jsonl", "json", "parquet"]),
            help="Format of EVENTS when its suffix does not tell.",
        ),
        click.option(
            "--on-error",
            type=click.Choice(["raise", "skip"]),
            default="raise",
            show_default=True,
            help="raise: any bad row fails the command (exit 2, every bad row "
            "listed); skip: leave bad rows out and list them on stderr.",
        ),
    ]
    for option in reversed(options):
        f = option(f)
    return f


def output_options(f: F) -> F:
    """Add --format and --out."""
    f = click.option(
        "--format",
        "out_format",
        type=click.Choice(["csv", "json", "table"]),
        default="csv",
        show_default=True,
        help="Output: CSV, a JSON array of objects, or a readable table.",
    )(f)
    return click.option(
        "--out",
        type=click.Path(dir_okay=False, writable=True, path_type=Path),
        help="Write to this file instead of stdout.",
    )(f)


as_of_option = click.option(
    "--as-of",
    "as_of",
    required=True,
    metavar="T",
    help="The instant to score at: ISO-8601 with offset, seconds since 1970, or 'now'.",
)
existing_file = click.Path(exists=True, dir_okay=False, path_type=Path)


class Events:
    """The events options of one command, and the reader they open."""

    def __init__(
        self,
        path: Path,
        *,
        mapping: Sequence[str],
        preset: str | None,
        tz: str | None,
        epoch: str | None,
        events_format: str | None,
        on_error: str,
    ) -> None:
        """Check the options; nothing is read yet."""
        columns: Any = preset
        if mapping:
            if preset:
                msg = "give --map or --preset, not both"
                raise BadInput(msg)
            columns = dict(_pair(m) for m in mapping)
        self.on_error = on_error
        # Always read in skip mode: with --on-error raise every bad row is still
        # listed (then nothing is written and the exit status is 2).
        self.reader = lsio.read_events(
            path,
            format=events_format,  # type: ignore[arg-type]
            columns=columns,
            on_error="skip",
            tz=tz,
            epoch=epoch,  # type: ignore[arg-type]
        )
        self.tz = tz

    def instant(self, text: str, option: str = "--as-of") -> dt.datetime:
        """*text* as an aware instant (naive text is read in --tz)."""
        if text == "now":
            return dt.datetime.now(dt.UTC)
        try:
            return to_at(text, check_tz(self.tz))
        except CellError as e:
            message = str(e).replace("at ", f"{option} ", 1)
            raise BadInput(message) from None

    @contextlib.contextmanager
    def reading(self, label: str = "Reading") -> Iterator[lsio.EventReader]:
        """Read under a progress bar (stderr, a terminal only), then report."""
        reader = self.reader
        with _progress(f"{label} {reader.name}") as update:
            reader.progress = update
            try:
                yield reader
            finally:
                reader.progress = None
        self.report()

    def report(self) -> None:
        """List the bad rows on stderr; with --on-error raise, exit 2."""
        errors = self.reader.errors
        if not errors:
            return
        verb = "bad row" if self.on_error == "raise" else "skipped"
        for bad in errors[:MAX_LISTED]:
            click.echo(f"{verb}: {bad}", err=True)
        if len(errors) > MAX_LISTED:
            click.echo(f"... and {len(errors) - MAX_LISTED} more", err=True)
        if self.on_error == "raise":
            msg = (
                f"{len(errors)} bad row(s) in {self.reader.name}; nothing written "
                "(--on-error skip scores the other rows)"
            )
            raise BadInput(msg)
        click.echo(
            f"{len(errors)} of {self.reader.rows} row(s) of {self.reader.name} skipped",
            err=True,
        )


def _pair(text: str) -> tuple[str, str]:
    field, sep, column = text.partition("=")
    if not sep or not field or not column:
        msg = f"--map takes FIELD=COLUMN, got {text!r}"
        raise BadInput(msg)
    return field.strip(), column.strip()


@contextlib.contextmanager
def _progress(label: str) -> Iterator[Callable[[int, int | None], None] | None]:
    """A transient progress bar on stderr, or nothing when stderr is no terminal."""
    if not sys.stderr.isatty():
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    console = Console(stderr=True)
    columns = (TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task(label, total=None)

        def update(done: int, total: int | None) -> None:
            progress.update(task, completed=done, total=total)

        yield update


def load_model(path: Path) -> ls.ScoringModel:
    """The points model in a TOML or JSON file."""
    return config.load(path)


def duration(text: str, option: str) -> dt.timedelta:
    """``"30d"``, ``"12h"``, ``"2w"``, ``"1d12h"`` ... as a timedelta."""
    parts = _DURATION.findall(text)
    if not parts or _DURATION.sub("", text).strip():
        msg = f"{option} takes a duration such as 30d, 12h, 2w or 1d12h, got {text!r}"
        raise BadInput(msg)
    out = dt.timedelta()
    for amount, unit in parts:
        out += dt.timedelta(**{_UNITS[unit]: float(amount)})
    return out


# -- output --------------------------------------------------------------------------


def _cell(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.isoformat()
    return value


def _json_cell(value: Any) -> Any:
    """A cell for JSON, which has no NaN: an undefined measure is null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return _cell(value)


def emit(
    rows: Sequence[Mapping[str, Any]],
    columns: Sequence[str],
    out_format: str,
    out: Path | None,
    title: str | None = None,
) -> None:
    """Write *rows* as CSV, a JSON array or a table, to *out* or stdout."""
    with click.open_file(str(out) if out else "-", "w", encoding="utf-8") as f:
        _write(f, rows, columns, out_format, title)


def emit_columns(
    columns: Mapping[str, Sequence[str | float | None]],
    out_format: str,
    out: Path | None,
    title: str | None = None,
) -> None:
    """Write columns of text and numbers (of equal length) as :func:`emit` would.

    CSV goes through one ``csv.writer.writerows`` call over the columns (the same
    text as :func:`emit`, without a dict per row); other formats through
    :func:`emit`.
    """
    names = list(columns)
    cells = zip(*columns.values(), strict=True)
    if out_format != "csv":
        rows = [dict(zip(names, row, strict=True)) for row in cells]
        emit(rows, names, out_format, out, title)
        return
    with click.open_file(str(out) if out else "-", "w", encoding="utf-8") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(names)
        writer.writerows(cells)


def _write(
    f: IO[str],
    rows: Sequence[Mapping[str, Any]],
    columns: Sequence[str],
    out_format: str,
    title: str | None,
) -> None:
    if out_format == "csv":
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(columns)
        for row in rows:
            writer.writerow(["" if row[c] is None else _cell(row[c]) for c in columns])
    elif out_format == "json":
        records = [{c: _json_cell(row[c]) for c in columns} for row in rows]
        f.write(json.dumps(records, indent=2, ensure_ascii=False, allow_nan=False))
        f.write("\n")
    else:
        from rich.console import Console
        from rich.table import Table

        table = Table(title=title)
        for c in columns:
            table.add_column(c, justify="right" if _numeric(rows, c) else "left")
        for row in rows:
            table.add_row(
                *("" if row[c] is None else str(_cell(row[c])) for c in columns)
            )
        Console(file=f, width=None if f.isatty() else 120).print(table)


def _numeric(rows: Sequence[Mapping[str, Any]], column: str) -> bool:
    return bool(rows) and all(
        isinstance(r[column], int | float) and not isinstance(r[column], bool)
        for r in rows
    )
