"""Results as tables: HTML for notebooks, pandas and Polars DataFrames.

Every result collection (:class:`~leadscore.results.Scores`, an explanation, RFM
segments, a backtest ...) describes itself as columns and rows through
``_table()``; this module turns that into an HTML table (``_repr_html_``, which
Jupyter shows) and into DataFrames. pandas and Polars are imported only when a
DataFrame is asked for, so the core stays free of them.
"""

from __future__ import annotations

import datetime as dt
import html
import importlib
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any, Protocol

__all__ = [
    "MAX_HTML_ROWS",
    "Tabular",
    "html_table",
    "keyed_rows",
    "to_pandas",
    "to_polars",
]

#: Rows an HTML table shows; the rest are counted in a last line.
MAX_HTML_ROWS = 30

Table = tuple[Sequence[str], Sequence[Sequence[Any]]]


class _HasTable(Protocol):
    def _table(self) -> Table: ...


def keyed_rows(items: Mapping[str, Any], key: str, fields: Sequence[str]) -> Table:
    """Columns *key* and *fields*; a row per item: its key, then those attributes.

    >>> import leadscore as ls
    >>> keyed_rows({"ann": ls.Frequency(3, "day")}, "contact", ("count", "per"))
    (('contact', 'count', 'per'), [('ann', 3, 'day')])
    """
    rows = [(k, *(getattr(v, f) for f in fields)) for k, v in items.items()]
    return (key, *fields), rows


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return str(value)


def html_table(
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    caption: str | None = None,
    limit: int = MAX_HTML_ROWS,
) -> str:
    """An HTML table of *rows* (at most *limit* of them), escaped.

    >>> print(html_table(("contact", "score"), [("ann", 1.5)]))
    <table class="leadscore"><thead><tr><th>contact</th><th>score</th></tr></thead><tbody><tr><td>ann</td><td>1.5</td></tr></tbody></table>
    """  # noqa: E501
    head = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(_cell(v))}</td>" for v in row) + "</tr>"
        for row in rows[:limit]
    )
    if len(rows) > limit:
        body += (
            f'<tr><td colspan="{len(columns)}">… {len(rows) - limit:,} more rows '
            "(use .to_pandas() for all)</td></tr>"
        )
    title = f"<caption>{html.escape(caption)}</caption>" if caption else ""
    return (
        f'<table class="leadscore">{title}<thead><tr>{head}</tr></thead>'
        f"<tbody>{body}</tbody></table>"
    )


def to_pandas(columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> Any:
    """A pandas DataFrame of *rows* (pandas imported here, on demand).

    Aware datetimes become ``datetime64[ns, UTC]`` columns.
    """
    try:
        pd = importlib.import_module("pandas")  # untyped without pandas-stubs
    except ImportError as e:  # pragma: no cover - depends on the environment
        msg = "to_pandas() needs pandas: pip install 'leadscore[pandas]'"
        raise ImportError(msg) from e
    return pd.DataFrame.from_records(list(rows), columns=list(columns))


def to_polars(columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> Any:
    """A Polars DataFrame of *rows* (Polars imported here, on demand)."""
    try:
        import polars as pl
    except ImportError as e:  # pragma: no cover - depends on the environment
        msg = "to_polars() needs Polars: pip install polars"
        raise ImportError(msg) from e
    data = {c: [row[i] for row in rows] for i, c in enumerate(columns)}
    return pl.DataFrame(data, strict=False)


class Tabular:
    """Mixin: ``to_pandas()``, ``to_polars()`` and ``_repr_html_`` from ``_table()``.

    The class supplies ``_table() -> (columns, rows)`` and may set ``_caption``.
    """

    __slots__ = ()
    _caption: str | None = None

    def to_pandas(self: _HasTable) -> Any:
        """The rows as a pandas DataFrame (needs pandas)."""
        return to_pandas(*self._table())

    def to_polars(self: _HasTable) -> Any:
        """The rows as a Polars DataFrame (needs Polars)."""
        return to_polars(*self._table())

    def _repr_html_(self) -> str:
        """An HTML table, for Jupyter."""
        columns, rows = self._table()  # type: ignore[attr-defined]
        caption = self._caption
        if caption is not None:
            caption = f"{caption} ({len(rows):,} rows)"
        return html_table(columns, rows, caption=caption)
