"""A rule's ``when`` condition as a boolean column of the event table.

Each comparison is answered as the pure path answers it for one event: a null
cell, or a column the table lacks, is an attribute the event does not have, and
a column whose type cannot hold the operand never equals it. The column is
never null.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from leadscore.model._conditions import (
    VALUE,
    All,
    AnyOf,
    Compare,
    Condition,
    Not,
)

from ._columns import Columns, _collated

if TYPE_CHECKING:
    import ibis.expr.types as ir

__all__ = ["condition"]

#: A constant for "no match" (ibis.literal(False) would read as a flag argument).
FALSE = False


_NUMBER = ("int", "float")


def _is_number(x: Any) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool)


def _fits(kind: str, operand: Any) -> bool:
    """Whether a column of *kind* can hold a value strictly equal to *operand*."""
    if isinstance(operand, bool):
        return kind == "bool"
    if _is_number(operand):
        return kind in _NUMBER
    if isinstance(operand, str):
        return kind == "str"
    return False  # a tuple: frames hold no tuples


def condition(c: Condition, t: ir.Table, cols: Columns) -> ir.BooleanValue:
    """*c* as a boolean column of *t* (never null: a missing value is False)."""
    import ibis

    if isinstance(c, All):
        parts = [condition(x, t, cols) for x in c.conditions]
        out = parts[0]
        for p in parts[1:]:
            out &= p
        return out
    if isinstance(c, AnyOf):
        parts = [condition(x, t, cols) for x in c.conditions]
        out = parts[0]
        for p in parts[1:]:
            out |= p
        return out
    if isinstance(c, Not):
        return ~condition(c.condition, t, cols)
    assert isinstance(c, Compare)
    return _compare(c, t, cols, ibis.literal(value=False))


def _compare(
    c: Compare, t: ir.Table, cols: Columns, false: ir.BooleanValue
) -> ir.BooleanValue:
    op, operand = c.op, c.operand
    if c.key is VALUE:
        col, kind = t["value"], "float"
    elif c.key in cols.types:
        col, kind = t[c.key], cols.types[c.key]
    else:
        col, kind = None, None
    if op == "exists":
        if col is None:
            return ~false if operand is False else false
        return col.notnull() if operand else col.isnull()
    if op in {"eq", "ne", "in_"}:
        operands: tuple[Any, ...] = (
            operand if isinstance(operand, tuple) else (operand,)
        )
        if op != "in_":
            operands = (operand,)
        tests = [_equal(col, kind, o, false) for o in operands]
        out = tests[0] if tests else false
        for x in tests[1:]:
            out |= x
        return ~out if op == "ne" else out
    if col is None or kind is None:
        return false
    if op in {"gt", "ge", "lt", "le"}:
        same = (kind == "str" and isinstance(operand, str)) or (
            kind in _NUMBER and _is_number(operand)
        )
        if not same:
            return false
        x = _collated(col, cols) if kind == "str" else col
        test = {"gt": x > operand, "ge": x >= operand, "lt": x < operand}.get(
            op, x <= operand
        )
        return test.fill_null(FALSE)
    if kind != "str" or not isinstance(operand, str):
        return false  # contains on a tuple: frames hold none
    if op == "contains":
        return col.contains(operand).fill_null(FALSE)
    if op == "startswith":
        return col.startswith(operand).fill_null(FALSE)
    return col.endswith(operand).fill_null(FALSE)


def _equal(
    col: Any, kind: str | None, operand: Any, false: ir.BooleanValue
) -> ir.BooleanValue:
    if operand is None:
        return ~false if col is None else col.isnull()
    if col is None or kind is None or not _fits(kind, operand):
        return false
    return (col == operand).fill_null(FALSE)
