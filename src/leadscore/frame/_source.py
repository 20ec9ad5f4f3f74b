"""A normalised, checked event table (:class:`Source`) and how results go back.

A :class:`Source` holds the table :func:`leadscore.frame._sources.load` made,
the engine it runs on, and the function that hands a result back as the kind of
table the caller gave (pandas, Polars, Arrow, an unexecuted Ibis table ...).
``_ls_row`` (and ``_ls_file``) say where a row came from, for errors.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import attrs

if TYPE_CHECKING:
    import ibis.expr.types as ir

__all__ = ["FIELDS", "FILE", "KEY", "RAW", "ROW", "Source"]

#: The event fields a table names with its columns.
FIELDS = ("contact", "kind", "at", "id", "value")
ROW, FILE, RAW = "_ls_row", "_ls_file", "_ls_raw"
#: The contact as the input gave it, when that is an integer (see :mod:`._rfm`).
KEY = "_ls_key"


@attrs.frozen
class Source:
    """A normalised, checked event table and how to hand a result back.

    Attributes:
        table: The normalised table (see the module docstring).
        types: ``{attribute column: "str" | "int" | "float" | "bool"}``.
        deliver: Turns a result table into what the caller gave (pandas ...).
        bytewise: Order strings as bytes (the engine's collation may not).
        lines: Rows of a CSV file are reported as lines (header + 1).
    """

    table: ir.Table
    types: dict[str, str]
    backend: Any
    deliver: Callable[[Any, ir.Table], Any]
    bytewise: bool = False
    lines: bool = False
    #: Filled by the checks: ``has_ids``, ``first_us`` and the ``specials`` present.
    profile: dict[str, Any] = attrs.field(factory=dict)

    def where(self, row: Mapping[str, Any]) -> str:
        """Where a row came from: file and line or row, or its position."""
        pos = row.get(ROW)
        name = row.get(FILE)
        if pos is None:
            return "a row"
        pos = int(pos)
        place = f"line {pos + 2}" if self.lines else f"row {pos}"
        return f"{name}, {place}" if name else place

    def execute(self, expr: ir.Table) -> list[dict[str, Any]]:
        """Run *expr* on the source's engine; rows as dicts."""
        return self.backend.to_pyarrow(expr).to_pylist()  # type: ignore[no-any-return]

    def result(self, expr: ir.Table) -> Any:
        """*expr* as the kind of table the caller gave."""
        return self.deliver(self.backend, expr)

    def result_of(self, arrow: Any) -> Any:
        """An Arrow table computed in Python, as the kind of table the caller gave."""
        import ibis

        if self.deliver is _to_arrow:
            return arrow
        if self.deliver is _to_polars:
            import polars as pl

            return pl.from_arrow(arrow)
        if self.deliver is _to_pandas:
            return arrow.to_pandas()
        if getattr(self.backend, "name", "") == "pyspark":
            return self.backend._session.createDataFrame(arrow.to_pandas())  # noqa: SLF001
        return ibis.memtable(arrow)

    def runs(self, expr: ir.Table) -> bool:
        """Whether the engine can run *expr* (Ibis's Polars backend has no windows)."""
        from ibis.common.exceptions import (
            OperationNotDefinedError,
            UnsupportedOperationError,
        )

        if getattr(self.backend, "name", "") != "polars":
            return True
        try:
            self.backend.compile(expr)
        except (OperationNotDefinedError, UnsupportedOperationError):
            return False
        return True

    def on_duckdb(self) -> Source:
        """The same table read into an embedded DuckDB (for what the engine lacks).

        The result is then computed at once: an Ibis caller gets an in-memory
        table of it, any other caller the kind it gave.
        """
        import ibis

        arrow = self.backend.to_pyarrow(self.table)
        deliver = self.deliver
        if deliver is _unexecuted:
            deliver = _in_memory
        return Source(
            ibis.memtable(arrow), self.types, _duckdb(), deliver, profile=self.profile
        )


def _to_pandas(backend: Any, expr: ir.Table) -> Any:
    return backend.to_pyarrow(expr).to_pandas()


def _to_polars(backend: Any, expr: ir.Table) -> Any:
    import polars as pl

    return pl.from_arrow(backend.to_pyarrow(expr))


def _to_arrow(backend: Any, expr: ir.Table) -> Any:
    return backend.to_pyarrow(expr)


def _unexecuted(backend: Any, expr: ir.Table) -> Any:
    del backend
    return expr


def _in_memory(backend: Any, expr: ir.Table) -> Any:
    import ibis

    return ibis.memtable(backend.to_pyarrow(expr))


def _duckdb() -> Any:
    import ibis

    con = ibis.duckdb.connect()
    # Nothing here reads the session zone, but results never should.
    con.raw_sql("SET TimeZone = 'UTC'")
    return con
