"""The engine's bounded cache: the ledgers of the contacts it has read.

The store holds the events; the engine reads a contact's events when it needs
them (an event of the contact comes in, its score is asked for, it is due) and
keeps them folded, per model, for the *capacity* contacts used most recently.

What is cached is always a union of whole *components*: a contact together with
every contact a merge links it to, transitively. A score reads only its own
component, so a cached contact scores exactly as over every stored event; and a
component is read and evicted as one.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping, Sequence

from leadscore.model._events import CONTACT_MERGED, Event
from leadscore.model._rules import ScoringModel
from leadscore.paths._fold import Ledger
from leadscore.paths._pmap import PMap
from leadscore.stores._protocol import names_of

__all__ = ["ContactCache", "FoldStored", "names", "without"]

#: ``(model, events, base ledger) -> ledger``: the engine's tolerant fold.
FoldStored = Callable[[ScoringModel, list[Event], Ledger | None], Ledger]


def names(e: Event) -> tuple[str, ...]:
    """The contacts *e* names: its contact, and the id a merge merges."""
    return tuple(names_of((e,)))


def without(ledger: Ledger, gone: set[str]) -> Ledger:
    """*ledger* with the contacts *gone* (and the merges naming them) left out."""
    contacts: PMap[str, object] = PMap()
    kept = {
        c: log
        for c, log in ledger._contacts.items()  # noqa: SLF001
        if c not in gone
    }
    merges = tuple(
        m
        for m in ledger._merges  # noqa: SLF001
        if m.contact not in gone and m.attrs.get("from") not in gone
    )
    new = Ledger.__new__(Ledger)
    for name, value in (
        ("model", ledger.model),
        ("_compiled", ledger._compiled),  # noqa: SLF001
        ("_contacts", contacts.update(kept)),
        ("_ids", ledger._ids),  # noqa: SLF001
        ("_merges", merges),
        ("_merge_index", None),
        ("_cache", ledger._cache),  # noqa: SLF001
    ):
        object.__setattr__(new, name, value)
    return new


class ContactCache:
    """Per model, a ledger of the contacts read so far; at most *capacity* of them.

    Args:
        models: The engine's models by name.
        capacity: The most contacts kept (None: no bound). Past it, the least
            recently used fifth is evicted at once (so that the ledgers are
            rebuilt rarely: amortised constant work per contact read).
        fold_stored: How stored events are folded (leaving out bad ones).

    *complete* is True when every contact with stored events (up to the
    engine's mark) is cached: then a contact not cached has no stored events,
    and nothing needs to be read for it.
    """

    def __init__(
        self,
        models: Mapping[str, ScoringModel],
        capacity: int | None,
        fold_stored: FoldStored,
    ) -> None:
        """An empty cache."""
        self.models = dict(models)
        self.capacity = capacity
        self._fold = fold_stored
        self.ledgers: dict[str, Ledger] = {
            name: Ledger(m, track_ids=False) for name, m in self.models.items()
        }
        self._lru: OrderedDict[str, None] = OrderedDict()
        self._links: dict[str, set[str]] = {}
        self.complete = False
        #: The due index rows of cached keys as this engine last wrote them, or
        #: None for a key it knows has none (so that an unchanged row is not
        #: written again); forgotten with the contact, and for contacts other
        #: processes wrote events of.
        self.due: dict[str, int | None] = {}

    def __len__(self) -> int:
        """The number of names (contacts and merged ids) cached."""
        return len(self._lru)

    def __contains__(self, name: object) -> bool:
        """Whether *name* is cached (or known to have no stored events)."""
        return self.complete or name in self._lru

    def missing(self, wanted: Iterable[str]) -> set[str]:
        """The names of *wanted* whose events must be read from the store."""
        if self.complete:
            return set()
        lru = self._lru
        return {n for n in wanted if n not in lru}

    def sort_out(self, events: Iterable[Event]) -> tuple[list[Event], set[str]]:
        """*events* about cached contacts only, and the cached names of the others.

        An event naming cached and uncached contacts (a merge across the cache's
        edge) is left out, and its cached names returned: their component is
        not whole in the cache any more.
        """
        taken: list[Event] = []
        split: set[str] = set()
        for e in events:
            named = names(e)
            cached = [n for n in named if n in self]
            if len(cached) == len(named):
                taken.append(e)
            elif cached:
                split.update(cached)
        return taken, split

    def add(self, events: Sequence[Event], loaded: Iterable[str]) -> None:
        """Fold *events*, the whole components of the names *loaded*, in."""
        batch = list(events)
        if batch:
            self.ledgers = {
                name: self._fold(m, batch, self.ledgers[name])
                for name, m in self.models.items()
            }
        self.link(batch)
        self.touch(loaded)

    def link(self, events: Iterable[Event]) -> None:
        """Remember the components the merges among *events* make."""
        for e in events:
            if e.kind != CONTACT_MERGED:
                continue
            pair = names(e)
            if len(pair) == 2:
                a, b = pair
                self._links.setdefault(a, set()).add(b)
                self._links.setdefault(b, set()).add(a)

    def touch(self, used: Iterable[str]) -> None:
        """Mark *used* as the most recently used (adding the new ones)."""
        lru = self._lru
        move = lru.move_to_end
        for name in used:
            if name in lru:
                move(name)
            else:
                lru[name] = None

    def component(self, start: Iterable[str]) -> set[str]:
        """The cached names merges link to *start*, *start* included."""
        group = set(start)
        todo = list(group)
        while todo:
            for other in self._links.get(todo.pop(), ()):
                if other not in group:
                    group.add(other)
                    todo.append(other)
        return group

    def drop(self, start: Iterable[str]) -> None:
        """Evict the components of *start* (their events are read again)."""
        gone = self.component(n for n in start if n in self._lru)
        if not gone:
            return
        for name in gone:
            self._lru.pop(name, None)
            self._links.pop(name, None)
            self.due.pop(name, None)
        for partners in self._links.values():
            partners.difference_update(gone)
        self.ledgers = {
            name: without(ledger, gone) for name, ledger in self.ledgers.items()
        }
        self.complete = False

    def shrink(self, keep: Iterable[str] = ()) -> None:
        """Evict the least recently used components until within capacity."""
        if self.capacity is None or len(self._lru) <= self.capacity:
            return
        target = self.capacity - self.capacity // 5
        kept = self.component(keep)
        victims: list[str] = []
        count = len(self._lru)
        for name in self._lru:
            if count <= target:
                break
            if name not in kept:
                victims.append(name)
                count -= 1
        self.drop(victims)
