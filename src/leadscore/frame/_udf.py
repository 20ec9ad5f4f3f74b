"""Engine built-ins that read no session time zone (Ibis UDF declarations).

Kept apart, without postponed annotations: Ibis reads these signatures at run time.
"""

import ibis
import ibis.expr.datatypes as idt

__all__ = ["date_part", "epoch_us", "float8", "unix_micros"]


@ibis.udf.scalar.builtin(name="epoch_us")  # type: ignore[untyped-decorator]
def epoch_us(a: idt.timestamp) -> idt.int64:
    """DuckDB: microseconds since the epoch."""


@ibis.udf.scalar.builtin(name="unix_micros")  # type: ignore[untyped-decorator]
def unix_micros(a: idt.timestamp) -> idt.int64:
    """Spark: microseconds since the epoch."""


@ibis.udf.scalar.builtin(name="date_part")  # type: ignore[untyped-decorator]
def date_part(unit: str, a: idt.timestamp) -> idt.Decimal(38, 6):  # type: ignore[valid-type]
    """PostgreSQL: ``date_part('epoch', ts)``, seconds as an exact numeric."""


@ibis.udf.scalar.builtin(name="float8")  # type: ignore[untyped-decorator]
def float8(a: idt.float64) -> idt.float64:
    """PostgreSQL: a double, where its literals would make a ``numeric``."""
