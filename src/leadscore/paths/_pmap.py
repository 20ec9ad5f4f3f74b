"""A small persistent hash map: updates copy only the shards they touch.

Ledgers hold one entry per contact. Folding a batch of ten events into a ledger of a
million contacts must not copy a million entries, so the map is a fixed two-level
trie of 64 x 64 dict shards: an update copies the touched shards (about n / 4096
entries each) and two 64-slot tuples, and shares everything else with the old map.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Generic, TypeVar

__all__ = ["PMap"]

K = TypeVar("K")
V = TypeVar("V")

_BITS = 6
_WIDTH = 1 << _BITS
_MASK = _WIDTH - 1
_EMPTY_LEAF: dict[object, object] = {}
_EMPTY_ROW: tuple[dict[object, object], ...] = (_EMPTY_LEAF,) * _WIDTH


class PMap(Mapping[K, V], Generic[K, V]):
    """An immutable mapping whose :meth:`update` shares structure.

    >>> a = PMap().update({"ann": 1})
    >>> b = a.update({"bob": 2})
    >>> dict(a), dict(sorted(b.items()))
    ({'ann': 1}, {'ann': 1, 'bob': 2})
    """

    __slots__ = ("_len", "_rows")

    _rows: tuple[tuple[dict[K, V], ...], ...]
    _len: int

    def __init__(self) -> None:
        """Create an empty map."""
        self._rows = (_EMPTY_ROW,) * _WIDTH  # type: ignore[assignment]
        self._len = 0

    def _leaf(self, key: K) -> dict[K, V]:
        h = hash(key)
        return self._rows[(h >> _BITS) & _MASK][h & _MASK]

    def __getitem__(self, key: K) -> V:
        """Return the value of *key*."""
        return self._leaf(key)[key]

    def get(self, key: K, default: V | None = None) -> V | None:  # type: ignore[override]
        """Return the value of *key*, or *default*."""
        return self._leaf(key).get(key, default)

    def __contains__(self, key: object) -> bool:
        """Return whether *key* is in the map."""
        return key in self._leaf(key)  # type: ignore[arg-type]

    def __iter__(self) -> Iterator[K]:
        """Iterate over the keys (in no particular order)."""
        for row in self._rows:
            for leaf in row:
                yield from leaf

    def __len__(self) -> int:
        """Return the number of keys."""
        return self._len

    def leaves(self) -> Iterator[dict[K, V]]:
        """Iterate over the shards (read-only!), for fast bulk reads."""
        for row in self._rows:
            yield from row

    def update(self, changes: Mapping[K, V]) -> PMap[K, V]:
        """Return a new map with *changes* applied; ``self`` is unchanged."""
        if not changes:
            return self
        by_leaf: dict[int, dict[K, V]] = {}
        for key, value in changes.items():
            h = hash(key)
            slot = ((h >> _BITS) & _MASK) << _BITS | (h & _MASK)
            by_leaf.setdefault(slot, {})[key] = value
        rows = list(self._rows)
        size = self._len
        touched_rows: dict[int, list[dict[K, V]]] = {}
        for slot, new in by_leaf.items():
            r, c = slot >> _BITS, slot & _MASK
            row = touched_rows.get(r)
            if row is None:
                row = touched_rows[r] = list(rows[r])
            leaf = dict(row[c])
            before = len(leaf)
            leaf.update(new)
            size += len(leaf) - before
            row[c] = leaf
        for r, row in touched_rows.items():
            rows[r] = tuple(row)
        result: PMap[K, V] = PMap.__new__(PMap)
        result._rows = tuple(rows)
        result._len = size
        return result
