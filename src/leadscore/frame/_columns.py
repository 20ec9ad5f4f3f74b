"""The normalised event table as the compiler reads it, and its canonical order.

The input is a normalised event table (see :mod:`leadscore.frame._sources`):
``contact``, ``kind`` (str), ``_ls_at`` (int64 microseconds since the epoch, UTC),
``id`` (str or null), ``value`` (float, never null) and one column per attribute
(str, int, float or bool; null = the event has no such attribute). This module
names the internal columns, says what the compiler knows of the attribute
columns (:class:`Columns`), sorts the rows in the canonical event order and
keeps the events at or before ``as_of`` (:func:`until`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import attrs

if TYPE_CHECKING:
    import ibis.expr.types as ir

__all__ = ["AT", "PREFIX", "TS", "Columns", "canonical_order", "until"]

#: The event instant, in microseconds since the epoch (UTC).
AT = "_ls_at"
#: The instant as the input gave it, where a filter on it is cheaper (DuckDB).
TS = "_ls_ts"
#: Internal columns carry this prefix; no attribute may.
PREFIX = "_ls_"


@attrs.frozen
class Columns:
    """What the compiler knows of the input: the attribute columns and their types.

    ``types`` maps an attribute column to ``"str"``, ``"int"``, ``"float"`` or
    ``"bool"``; ``has_ids`` whether any event has an id; ``specials`` the special
    kinds present (so that a table without manual events compiles to one scan).
    """

    types: dict[str, str]
    has_ids: bool = False
    specials: frozenset[str] = frozenset()
    #: ``{merged-away contact: (master it counts for, since_us)}`` at ``as_of``.
    routes: dict[str, tuple[str, int]] = attrs.field(factory=dict)
    #: Order strings as bytes (UTF-8 byte order is Python's code point order);
    #: for engines whose default collation follows a locale (PostgreSQL).
    bytewise: bool = False
    #: The earliest event instant (microseconds), for the zone's offset table.
    first_us: int = 0


def _collated(col: Any, cols: Columns) -> Any:
    return col.cast("binary") if cols.bytewise else col


def canonical_order(t: ir.Table, cols: Columns) -> list[Any]:
    """Sort keys of the canonical event order (see ``model._events.canonical_key``).

    Attributes compare as the sorted (key, value) tuples do: column by column in
    key order, a present value before an absent one that is followed by another
    present key, and after an absent one that ends the tuple; a float's sign
    orders -0.0 before 0.0.
    """
    import ibis

    # Every window using this order is partitioned by contact: the order's last
    # key, the contact, is left out, and so are the ids when no event has one.
    keys: list[Any] = [t[AT]]
    if cols.has_ids:
        keys += [t["id"].notnull(), _collated(t["id"].fill_null(""), cols)]
    keys.append(_collated(t["kind"], cols))
    names = sorted(cols.types)
    for i, name in enumerate(names):
        any_later = _any([t[n].notnull() for n in names[i + 1 :]])
        flag = ibis.cases((t[name].notnull(), 1), (any_later, 2), else_=0)
        value = t[name]
        keys += [flag, _collated(value, cols) if cols.types[name] == "str" else value]
        if cols.types[name] == "float":
            # -0.0 before 0.0, as the pure order has them (SQL finds them equal):
            # atan2(-0.0, -1) is -pi, atan2(0.0, -1) pi.
            keys.append(ibis.cases((value == 0.0, value.atan2(-1.0)), else_=0.0))
    keys.append(t["value"])
    return keys


def _any(flags: Sequence[Any]) -> Any:
    """The OR of boolean expressions (false for none)."""
    import ibis

    either: Any = ibis.literal(value=False)
    for flag in flags:
        either |= flag
    return either


def _disjoint(kind_sets: Sequence[Sequence[str]]) -> bool:
    """Whether no kind is in two of the sets (so no event matches two)."""
    seen: set[str] = set()
    for kinds in kind_sets:
        if seen & set(kinds):
            return False
        seen |= set(kinds)
    return True


def _key_cols(t: ir.Table, keys: Sequence[str], cols: Columns) -> list[Any]:
    import ibis

    return [t[k] if k in cols.types else ibis.null("string") for k in keys]


def until(t: ir.Table, as_of_us: int) -> Any:
    """Whether an event is at or before *as_of_us*.

    On the input's own instant column where the table keeps it (see :data:`TS`).
    """
    import ibis

    from leadscore.model._events import from_micros

    if TS not in t.columns:
        return t[AT] <= as_of_us
    at = from_micros(as_of_us)  # in UTC: compared as an instant, in any zone
    if t[TS].type().timezone is None:  # naive instants read as UTC
        at = at.replace(tzinfo=None)
    return t[TS] <= ibis.literal(at)
