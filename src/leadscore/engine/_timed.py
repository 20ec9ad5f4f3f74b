"""Time-driven changes: the due index and ``advance``'s search.

The due index keeps, per contact, a lower bound of the next instant at which time
alone may change its score (:func:`~._due.candidate`); ``advance`` reads only
the contacts due by its *until* and reports what time changed for them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from leadscore.exceptions import StoreError
from leadscore.model._events import (
    EARLIEST_US,
    from_micros,
)
from leadscore.paths._fold import Ledger
from leadscore.paths._history import History
from leadscore.plan._compile import Entry
from leadscore.results import Crossing, ScoreChange
from leadscore.stores._protocol import Effects, Txn, names_of

from ._due import candidate, drift_crossings, first_break, simple, time_changes
from ._reader import Reader, Retry, Stale
from ._reports import Fired, Ingested, model_version, record, report, touched_by

__all__ = ["MIXED", "NEXT_PAGE", "Grown", "Timed", "due_name", "low"]

_DUE_PAGE = 1_000  # due index rows per read by advance
NEXT_PAGE = 100  # due index rows per read by next_due (it stops early)

#: ``(due rows as stored, keys whose rows are unknown, {model: {key: entries
#: just added}})``: see ``Timed._dues``.
Grown = tuple[
    Mapping[str, int | None], set[str], Mapping[str, Mapping[str, list[Entry]]]
]


#: The due index's name while it holds rows of other models than those it was
#: built for (a rebuild under way, or an ingest after ``set_model``): no models'
#: key equals it, so the next ``advance`` or ``next_due`` rebuilds it whatever
#: the models are then, even the very ones it was first built for.
MIXED = "mixed"


def due_name(txn: Txn, key: str) -> dict[str, str]:
    """The state an ingest under the models *key* names writes with its events.

    A new store's index is built for these models from the start. An index
    built for other models (before ``set_model``, or by an engine with other
    models) becomes :data:`MIXED` once events it has not seen are stored, whatever
    rows this engine writes for them: it is rebuilt at the next ``advance``,
    whatever the models are by then.
    """
    built = txn.state.get("due")
    if built is None and not txn.high:
        return {"due": key}
    if built not in {key, MIXED}:
        return {"due": MIXED}
    return {}


def low(state: Mapping[str, str]) -> int:
    """The watermark in *state*; before the first advance, the earliest instant.

    (A due candidate computed from there is never too late for any watermark.)
    """
    text = state.get("watermark")
    return int(text) if text is not None else EARLIEST_US - 1


class Timed(Reader):
    """The due index and ``advance``, on the store plumbing of :class:`Reader`."""

    def _due_key(self) -> str:
        """What the due index rows depend on: the models and their thresholds."""
        text = "|".join(
            f"{name}:{model_version(m)}:"
            + ",".join(t.key for t in self.thresholds.get(name, ()))
            for name, m in sorted(self._models.items())
        )
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def _dues(
        self,
        ledgers: Mapping[str, Ledger],
        keys: Iterable[str],
        low: int,
        grown: Grown | None = None,
    ) -> dict[str, int | None]:
        """The due index rows of *keys*: the soonest candidate over the models.

        With *grown* ``(rows, unknown, entries)``: the rows stored for some
        keys (but those of *unknown*, which others may have rewritten), and per
        model the entries each key has just gained. A key whose row is still
        after *low* takes the soonest of it and of the new entries'
        breakpoints, under the models where a row is the soonest breakpoint of
        the entries (:func:`simple`): entries were only added.
        """
        wanted = sorted(set(keys))
        out: dict[str, int | None] = dict.fromkeys(wanted)
        rows, unknown, added = grown if grown is not None else ({}, set(), {})
        known = {
            k: t
            for k in wanted
            if k in rows and k not in unknown and ((t := rows[k]) is None or t > low)
        }
        out.update(known)
        for name, ledger in ledgers.items():
            history = History(ledger)
            thresholds = self.thresholds.get(name, ())
            logs = history.logs
            fast = simple(history, thresholds)
            new = added.get(name, {})
            for key in wanted:
                if key not in logs:
                    continue
                if fast and key in known:
                    t = first_break(history, new.get(key, ()), low)
                else:
                    t = candidate(history, key, low, thresholds)
                if t is not None:
                    before = out[key]
                    out[key] = t if before is None else min(before, t)
        return out

    def _ensure_due(self) -> None:
        """Rebuild the due index if other models (or none) wrote it.

        Reads every stored contact once, a page at a time, and writes their
        rows; the last commit names the models it was built for.
        """
        for _ in range(8):
            self._refresh()
            key = self._due_key()
            state = self.store.state()
            if state.get("due") == key:
                return
            try:
                self._build_due(key, low(state))
            except Stale:
                self._open()
                continue
            except Retry:
                continue
            return
        raise StoreError(  # pragma: no cover - eight concurrent changes in a row
            f"{self.store!r} kept changing under the engine; try again"
        )

    def _build_due(self, key: str, low: int) -> None:
        start = self._mark
        for page, ledgers in self._stream():
            keys: set[str] = set()
            for ledger in ledgers.values():
                keys.update(ledger)
            if page is not None:
                keys &= page
            self._write_due(self._dues(ledgers, keys, low), key, built=False)
        # The contacts others stored events of meanwhile: their rows again.
        got = self.store.since(start)
        if got.epoch != self._epoch:
            raise Stale
        touched = names_of(got.events)
        for model in self._models.values():
            touched |= touched_by(model, got.events)
        self._refresh()
        if not self._whole:
            self._load(touched)
        self._write_due(self._dues(self._cache.ledgers, touched, low), key)

    def _write_due(
        self, rows: dict[str, int | None], key: str, *, built: bool = True
    ) -> None:
        """Write due rows of the models *key* names; name the index if *built*.

        The last commit of a build names the index *key*, and must see nothing
        stored since the build began. A page before it names the index
        :data:`MIXED`, unless it already names *key* (another engine with these
        models built it meanwhile: the rows agree).
        """
        outcome: dict[str, Any] = {}

        def effects(txn: Txn) -> Effects:
            if txn.state.get("epoch") != self._epoch:
                raise Stale
            if built and txn.others:
                raise Retry
            if built:
                state = {"due": key}
            elif txn.state.get("due") == key:
                state = {}  # built meanwhile by an engine with these models
            else:
                state = {"due": MIXED}
            return self._effects(outcome, "due", [], [], state, rows)

        committed = self.store.commit([], effects, since=self._mark)
        if committed.others:
            self._absorb(committed.others)
        self._mark = committed.mark
        for k in rows:
            self._cache.due.pop(k, None)

    def _watermark(self, state: Mapping[str, str]) -> int | None:
        text = state.get("watermark")
        return int(text) if text is not None else self.store.earliest()

    def _advance(self, until_us: int) -> Ingested:
        self._ensure_due()
        key = self._due_key()
        state = self.store.state()
        low = self._watermark(state)
        changes: list[ScoreChange] = []
        fired: list[Fired] = []
        due: dict[str, int | None] = {}
        if low is not None and until_us <= low:
            # The first advance fixes the watermark, even when it reports
            # nothing: later late events do not move it back.
            mark = str(low)
        else:
            mark = str(until_us)
            if low is not None:
                keys = self._due_by(until_us)
                step = max(1, (self._capacity or len(keys) or 1) // 2)
                for i in range(0, len(keys), step):
                    chunk = keys[i : i + step]
                    if not self._whole:
                        self._load(chunk)
                    ledgers = self._cache.ledgers
                    self._time_driven(ledgers, chunk, low, until_us, changes, fired)
                    due.update(self._dues(ledgers, chunk, until_us))
                    self._cache.shrink(keep=chunk)
        outcome: dict[str, Any] = {}
        cause = f"advance:{low}:{until_us}"

        def effects(txn: Txn) -> Effects:
            if txn.state.get("epoch") != self._epoch:
                raise Stale
            if txn.others or txn.state.get("watermark") != state.get("watermark"):
                raise Retry  # something new came in: look again
            if txn.state.get("due") != key:
                raise Retry  # an engine with other models rebuilt the index
            return self._effects(
                outcome, cause, changes, fired, {"watermark": mark}, due
            )

        committed = self.store.commit([], effects, since=self._mark)
        self._mark = committed.mark
        for k in due:
            self._cache.due.pop(k, None)
        return report(outcome["entries"], committed.rows)

    def _due_by(self, until_us: int) -> list[str]:
        """The keys the due index names due at or before *until_us*."""
        keys: list[str] = []
        after: tuple[int, str] | None = None
        while True:
            rows = self.store.due(after, _DUE_PAGE)
            for t, key in rows:
                if t > until_us:
                    return keys
                keys.append(key)
            if len(rows) < _DUE_PAGE:
                return keys
            after = rows[-1]

    def _time_driven(  # noqa: PLR0917 - one step of advance
        self,
        ledgers: dict[str, Ledger],
        keys: Sequence[str],
        low: int,
        high: int,
        changes: list[ScoreChange],
        fired: list[Fired],
    ) -> None:
        """What time alone changes in ``(low, high]`` for *keys* (and masters)."""
        for name in self._models:
            ledger = ledgers[name]
            history = History(ledger)
            thresholds = self.thresholds.get(name, ())
            present = [k for k in keys if k in history.logs]
            owners = set(present) | {
                ledger._owner_us(c, high)  # noqa: SLF001
                for c in present
            }
            for contact in sorted(owners):
                for moment in time_changes(history, contact, low, high):
                    record(changes, fired, name, thresholds, contact, moment)
                for threshold, (t, before, after) in drift_crossings(
                    history, contact, low, high, thresholds
                ):
                    at = from_micros(t)
                    up = after >= threshold.value
                    crossing = Crossing(
                        contact, at, before, after, "up" if up else "down"
                    )
                    fired.append((name, threshold, crossing))
