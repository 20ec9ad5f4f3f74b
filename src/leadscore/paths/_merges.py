"""Merges: whose events count for whom, at any instant.

A ``contact.merged`` event folds one contact's events into another's from its
instant on. :class:`MergeIndex` decides once which merges of a ledger take
effect and answers, for any ``as_of``, whom a contact's events count for and
which contacts' events a master reads, and since when.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TypeAlias

from leadscore.model._events import EARLIEST_US, Event, canonical_key
from leadscore.plan._compile import Grouped

__all__ = ["MergeIndex", "Source", "inbound"]

#: (grouped log of one contact, the earliest instant of it that still counts)
Source: TypeAlias = tuple[Grouped, int]


class MergeIndex:
    """A ledger's merges resolved once, answering for any ``as_of`` in linear time.

    Merges apply in canonical order. A contact is merged away once (later merges of
    it are ignored), and a merge that would close a cycle is ignored. Whether a
    merge takes effect depends only on the merges before it, and the merges at or
    before an ``as_of`` are a prefix of the canonical order, so the effective
    merges are decided once, as edges ``source -> (master, instant)``; a query at
    ``as_of`` follows only the edges at or before it.
    """

    __slots__ = ("children", "parent", "union")

    def __init__(self, merges: Iterable[Event], union: bool) -> None:
        """Decide which merges take effect (union-find with path halving)."""
        self.union = union
        self.parent: dict[str, tuple[str, int]] = {}
        self.children: dict[str, list[tuple[str, int]]] = {}
        up: dict[str, str] = {}
        for m in sorted(merges, key=canonical_key):
            source = str(m.attrs["from"])
            if source in self.parent:
                continue
            root = m.contact
            while root in up:
                above = up[root]
                if above in up:
                    up[root] = up[above]
                root = up[root]
            if root == source:
                continue  # the merge would close a cycle
            t = m._us  # noqa: SLF001
            self.parent[source] = (m.contact, t)
            self.children.setdefault(m.contact, []).append((source, t))
            up[source] = m.contact

    def owner(self, contact: str, as_of_us: int) -> str:
        """Whom *contact*'s events count for at *as_of_us*."""
        parent = self.parent
        edge = parent.get(contact)
        while edge is not None and edge[1] <= as_of_us:
            contact = edge[0]
            edge = parent.get(contact)
        return contact

    def sources(self, contact: str, as_of_us: int) -> list[tuple[str, int]]:
        """The contacts merged into *contact* at *as_of_us*, with their *since*.

        *contact* is one not merged away at *as_of_us* (see :meth:`owner`).

        *since* is the earliest instant of the merged contact's events that still
        counts: the latest merge time along the chain for ``keep-master``, no
        limit for ``union``.
        """
        found: list[tuple[str, int]] = []
        todo = [(contact, EARLIEST_US)]
        children, union = self.children, self.union
        while todo:
            node, since = todo.pop()
            for source, t in children.get(node, ()):
                if t <= as_of_us:
                    entry = (source, since if union or since >= t else t)
                    found.append(entry)
                    todo.append(entry)
        return found

    def routes(self, as_of_us: int) -> dict[str, tuple[str, int]]:
        """``{merged-away contact: (master it counts for, since)}`` at *as_of_us*."""
        parent, union = self.parent, self.union
        routes: dict[str, tuple[str, int]] = {}
        for start, (_, t0) in parent.items():
            if t0 > as_of_us or start in routes:
                continue
            # Walk up to the first node already resolved (or a root at as_of),
            # then resolve the walked path from the top down: each node once.
            path, node = [], start
            while True:
                edge = parent.get(node)
                if edge is None or edge[1] > as_of_us or node in routes:
                    break
                path.append(node)
                node = edge[0]
            root, since = routes.get(node, (node, EARLIEST_US))
            for source in reversed(path):
                t = parent[source][1]
                if not union and t > since:
                    since = t
                routes[source] = (root, since)
        return routes


def inbound(
    routes: Mapping[str, tuple[str, int]], logs: Mapping[str, Grouped]
) -> dict[str, list[Source]]:
    """Group merged-away contacts' logs by the contact they now count for."""
    into: dict[str, list[Source]] = {}
    for source, (root, since) in routes.items():
        log = logs.get(source)
        if log is not None:
            into.setdefault(root, []).append((log, since))
    return into
