"""A small persistent map: a shared base dict and a small overlay of recent updates.

Ledgers hold one entry per contact. Folding a batch of ten events into a ledger of a
million contacts must not copy a million entries, and reading a contact must cost
about what a dict read costs (the engine reads a few per event). So a map is a
*base* dict, shared by every map derived from it and never changed, and a small
*top* dict of the keys updated since; an update copies only the top. When the top
outgrows ``max(2048, 16 * sqrt(len(base)))`` entries it is merged into a new base
(one C-level dict copy), so an update costs amortised O(sqrt(n)) copied entries
per key and no Python-level work per untouched key.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from math import isqrt
from typing import Any, Generic, TypeVar

__all__ = ["PMap"]

K = TypeVar("K")
V = TypeVar("V")

_MISSING: Any = object()
_SMALL = 2048  # a top this small is never merged into the base


class PMap(Mapping[K, V], Generic[K, V]):
    """An immutable mapping whose :meth:`update` shares structure.

    >>> a = PMap().update({"ann": 1})
    >>> b = a.update({"bob": 2})
    >>> dict(a), dict(sorted(b.items()))
    ({'ann': 1}, {'ann': 1, 'bob': 2})
    """

    __slots__ = ("_base", "_len", "_top")

    _base: dict[K, V]  # shared between maps: never changed
    _top: dict[K, V]  # this map's own: the keys updated since the base was made
    _len: int

    def __init__(self) -> None:
        """Create an empty map."""
        self._base = {}
        self._top = {}
        self._len = 0

    def __getitem__(self, key: K) -> V:
        """Return the value of *key*."""
        value = self._top.get(key, _MISSING)
        return self._base[key] if value is _MISSING else value

    def get(self, key: K, default: V | None = None) -> V | None:  # type: ignore[override]
        """Return the value of *key*, or *default*."""
        value = self._top.get(key, _MISSING)
        return self._base.get(key, default) if value is _MISSING else value

    def __contains__(self, key: object) -> bool:
        """Return whether *key* is in the map."""
        return key in self._top or key in self._base

    def __iter__(self) -> Iterator[K]:
        """Iterate over the keys (in no particular order)."""
        top = self._top
        yield from top
        for key in self._base:
            if key not in top:
                yield key

    def __len__(self) -> int:
        """Return the number of keys."""
        return self._len

    def items(self) -> Iterator[tuple[K, V]]:  # type: ignore[override]
        """Iterate over ``(key, value)`` pairs (in no particular order)."""
        top = self._top
        yield from top.items()
        for key, value in self._base.items():
            if key not in top:
                yield key, value

    def values(self) -> Iterator[V]:  # type: ignore[override]
        """Iterate over the values (in no particular order)."""
        top = self._top
        yield from top.values()
        for key, value in self._base.items():
            if key not in top:
                yield value

    def update(self, changes: Mapping[K, V]) -> PMap[K, V]:
        """Return a new map with *changes* applied; ``self`` is unchanged."""
        if not changes:
            return self
        base, top = self._base, self._top
        size = self._len
        for key in changes:
            if key not in top and key not in base:
                size += 1
        top = {**top, **changes}
        if len(top) > max(_SMALL, isqrt(len(base)) << 4):
            base, top = {**base, **top}, {}
        result: PMap[K, V] = PMap.__new__(PMap)
        result._base = base
        result._top = top
        result._len = size
        return result
