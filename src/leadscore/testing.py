"""A conformance suite for stores: run it against your own.

Needs pytest and the ``testing`` extra (Hypothesis). Subclass the contract in a
test module and say how to make a store::

    from leadscore.testing import DurableStoreContract, store_machine

    class TestMyStore(DurableStoreContract):
        def make_store(self, tmp_path):
            return MyStore(tmp_path / "events")

        def reopen(self, store):
            store.close()
            return MyStore(store.path)

        # Optional: the tests of damaged rows skip (and say so) without these.
        def corrupt_a_row(self, store):
            ...  # make one stored row undecodable; return its row id

        def write_raw_row(self, store, row):
            ...  # write *row* (columns as in RAW_ROW) unchecked; return its row id

    TestMyStoreMachine = store_machine(lambda: MyStore(...))

Every shipped store passes it, and implements both hooks, so nothing is skipped.
"""

from __future__ import annotations

import abc
import datetime as dt
import math
from collections import Counter
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from . import presets
from .engine import Engine, merged_into
from .exceptions import InvalidEventError, LeadScoreWarning, StoreError
from .model._events import Event
from .paths._fold import score
from .stores import MemoryStore, Store
from .stores._protocol import Effects, OutboxEntry, Txn
from .strategies import CONTACTS, events

__all__ = ["RAW_ROW", "DurableStoreContract", "StoreContract", "store_machine"]

T0 = dt.datetime(2024, 5, 1, tzinfo=dt.UTC)
ODD_IDS = (
    "o'brien",
    'say "hi"',
    "x'); DROP TABLE leadscore_events; --",
    "emoji 🎉 ünïcødé",
    "tab\tand\nnewline",
    "k" * 10_000,
)


#: A stored row as the SQL stores keep it (``write_raw_row`` gets such a mapping,
#: with some values changed): the columns of ``leadscore_events`` but ``seq``.
#: ``checksum`` None is a row written before checksums existed.
RAW_ROW: Mapping[str, Any] = {
    "event_id": None,
    "contact": "ann",
    "kind": "email.opened",
    "at_us": 1_714_521_600_000_000,  # T0
    "attrs": "{}",
    "value": 0.0,
    "merged_from": None,
    "checksum": None,
}

#: Rows an older leadscore could have written that are no longer valid events.
NO_LONGER_EVENTS: Mapping[str, Mapping[str, Any]] = {
    "merge without from": {"kind": "contact.merged", "attrs": "{}"},
    "merge into itself": {
        "kind": "contact.merged",
        "attrs": '{"from":"ann"}',
        "merged_from": "ann",
    },
    "NaN attribute": {"attrs": '{"x":NaN}'},
    "int beyond 2**1023": {"attrs": f'{{"n":{2**1100}}}'},
}


def _counter(store: Store) -> Counter[Event]:
    return Counter(store.events())


def _forged(**fields: Any) -> Event:
    """An event with *fields* set past validation, as a buggy caller might."""
    e = Event("ann", "email.opened", T0, {"k": 1}, id="forged")
    for name, value in fields.items():
        object.__setattr__(e, name, value)
    return e


#: Batches a durable store must refuse as a whole, touching nothing.
BAD_BATCHES: Mapping[str, Callable[[], list[Event]]] = {
    "an id used by a different event": lambda: [
        Event("cy", "form.submitted", T0, id="new"),
        Event("ann", "email.opened", T0, value=5, id="1"),
    ],
    "a lone surrogate in the contact": lambda: [
        Event("cy", "form.submitted", T0, id="new"),
        _forged(contact="ann\udc80"),
    ],
    "a lone surrogate in an attribute": lambda: [
        Event("cy", "form.submitted", T0, id="new"),
        _forged(attrs={"k": "\ud800"}),
    ],
    "an int of 5,000 digits": lambda: [
        Event("cy", "form.submitted", T0, id="new"),
        _forged(attrs={"k": 10**5000}),
    ],
    "a NUL in the kind": lambda: [
        Event("cy", "form.submitted", T0, id="new"),
        _forged(kind="email\x00opened"),
    ],
}


class StoreContract(abc.ABC):
    """What every store must do. Subclass it and implement :meth:`make_store`."""

    @abc.abstractmethod
    def make_store(self, tmp_path: Path) -> Store:
        """A new, empty store."""

    @pytest.fixture
    def store(self, tmp_path: Path) -> Any:
        """The store under test, closed afterwards."""
        made = self.make_store(tmp_path)
        yield made
        made.close()

    def test_append_returns_new_events_and_reads_them_back(self, store: Store) -> None:
        """What goes in comes out, equal."""
        batch = [
            Event(
                "ann", "email.opened", T0, {"message": "m1", "tags": ("a", 1)}, id="1"
            ),
            Event("ann", "order.paid", T0, value=19.99),
            Event("bob", "contact.merged", T0, {"from": "bo"}, id="2"),
        ]
        assert batch == store.append(batch)
        assert Counter(batch) == _counter(store)

    def test_a_known_id_is_skipped_and_id_less_events_are_new(
        self, store: Store
    ) -> None:
        """Replaying is harmless with ids; id-less events are new every time."""
        with_id = Event("ann", "email.opened", T0, id="1")
        without = Event("ann", "email.opened", T0)
        store.append([with_id, without])
        assert [without] == store.append([with_id, without])
        assert Counter({with_id: 1, without: 2}) == _counter(store)

    def test_a_conflicting_id_rejects_the_whole_batch(self, store: Store) -> None:
        """A different event reusing an id raises; nothing of the batch is stored."""
        store.append([Event("ann", "email.opened", T0, id="1")])
        before = _counter(store)
        batch = [
            Event("cy", "form.submitted", T0, id="2"),
            Event("ann", "email.opened", T0, value=5, id="1"),
        ]
        with pytest.raises(InvalidEventError, match="already used"):
            store.append(batch)
        assert before == _counter(store)

    def test_forget_erases_a_contact_and_merges_naming_it(self, store: Store) -> None:
        """Forget leaves nothing of the contact behind."""
        store.append(
            [
                Event("ann", "email.opened", T0, id="1"),
                Event("bob", "contact.merged", T0, {"from": "ann"}, id="2"),
                Event("bob", "email.opened", T0, id="3"),
            ]
        )
        assert 2 == store.forget(["ann"])
        assert [Event("bob", "email.opened", T0, id="3")] == store.events()
        # Old events of a forgotten contact are left out if they come again...
        old = Event("ann", "email.opened", T0, value=1, id="1")
        assert [] == store.append([old])
        assert [] == store.append([Event("x", "contact.merged", T0, {"from": "ann"})])
        # ... later ones are new activity (and the id is free again).
        later = Event("ann", "email.opened", T0 + dt.timedelta(seconds=1), id="1")
        assert [later] == store.append([later])

    @pytest.mark.parametrize("odd", ODD_IDS)
    def test_odd_ids_round_trip_unharmed(self, store: Store, odd: str) -> None:
        """Quotes, SQL, emoji and 10 kB strings are data, never code."""
        e = Event(odd, odd[:50], T0, {odd[:100]: odd}, id=odd)
        store.append([e])
        assert [e] == store.events()

    # -- what the engine needs beyond append (schema version 3) -------------------

    def test_since_reads_what_was_stored_after_a_mark(self, store: Store) -> None:
        """A high-water mark: each read returns only what came after the last."""
        first = [Event("ann", "form.submitted", T0, id="1")]
        second = [Event("bob", "form.submitted", T0, id="2"), Event("cy", "x", T0)]
        store.append(first)
        got = store.since(0)
        assert (tuple(first), got.mark) == (got.events, got.mark)
        store.append(second)
        later = store.since(got.mark)
        assert tuple(second) == later.events
        assert later.mark > got.mark
        assert () == store.since(later.mark).events
        assert later.epoch == got.epoch
        store.forget(["cy"])
        assert store.since(later.mark).epoch != got.epoch  # an erasure: read again

    def test_events_of_reads_one_contact_and_the_merges_naming_it(
        self, store: Store
    ) -> None:
        """Per-contact reads, in stored order."""
        batch = [
            Event("ann", "form.submitted", T0, id="1"),
            Event("bob", "form.submitted", T0, id="2"),
            Event("bob", "contact.merged", T0, {"from": "ann"}, id="3"),
            Event("ann", "page.viewed", T0, id="4"),
        ]
        store.append(batch)
        assert [batch[0], batch[2], batch[3]] == store.events_of(["ann"])
        assert batch[:3] == store.events_of(["bob", "ann"])[:3]
        assert [] == store.events_of(["nobody"])

    def test_commit_writes_events_outbox_and_state_together(self, store: Store) -> None:
        """One transaction: the events, the outbox entries, the state keys."""
        store.append([Event("zed", "form.submitted", T0, id="0")])
        seen: list[Txn] = []

        def effects(txn: Txn) -> Effects:
            seen.append(txn)
            return Effects(
                (
                    OutboxEntry("i1", "ann", '{"n":1}'),
                    OutboxEntry("i1", "ann", '{"n":1}'),  # a duplicate id: once
                    OutboxEntry("i2", "ann", '{"n":2}', once="first:ann"),
                ),
                {"watermark": "5"},
            )

        batch = [Event("ann", "form.submitted", T0, id="1")]
        done = store.commit(batch, effects, since=0)
        assert (tuple(batch), tuple(batch)) == (done.new, seen[-1].new)
        assert ("zed",) == tuple(e.contact for e in seen[-1].others)
        assert ["i1", "i2"] == [r.id for r in done.rows]
        assert list(done.rows) == store.outbox(0, 10)
        assert "5" == store.state()["watermark"]
        assert done.mark == store.since(0).mark
        # The marker is used: an entry carrying it again is dropped.
        again = store.commit(
            [],
            lambda _: Effects((OutboxEntry("i3", "ann", "{}", once="first:ann"),)),
            since=done.mark,
        )
        assert () == again.rows
        assert [done.rows[1]] == store.outbox(done.rows[0].position, 10)

    def test_a_failing_commit_writes_nothing(self, store: Store) -> None:
        """Whatever the effects raise aborts the transaction."""
        before = _counter(store)

        def fails(_: Txn) -> Effects:
            msg = "no"
            raise RuntimeError(msg)

        with pytest.raises(RuntimeError):
            store.commit([Event("ann", "form.submitted", T0, id="1")], fails, since=0)
        assert before == _counter(store)
        assert [] == store.outbox(0, 10)

    def test_acknowledge_moves_a_cursor_forward_only(self, store: Store) -> None:
        """Each consumer's cursor is a state key that never goes back."""
        store.acknowledge("hooks", 5)
        store.acknowledge("hooks", 3)
        store.acknowledge("crm", 1)
        state = store.state()
        assert ("5", "1") == (state["cursor:hooks"], state["cursor:crm"])

    def test_forget_erases_outbox_rows_and_markers_and_ignores_replays(
        self, store: Store
    ) -> None:
        """Nothing of a forgotten contact stays; its old events stay out."""
        merge = Event("bob", "contact.merged", T0, {"from": "ann"}, id="m")
        store.commit(
            [Event("ann", "form.submitted", T0, id="1"), merge],
            lambda _: Effects(
                (
                    OutboxEntry("a", "ann", "{}", once="first:ann"),
                    OutboxEntry("b", "bob", "{}"),
                )
            ),
            since=0,
        )
        assert 2 == store.forget(["ann", "bob"])
        assert [] == store.outbox(0, 10)
        assert [] == store.append([merge])
        later = store.commit(
            [],
            lambda _: Effects((OutboxEntry("c", "ann", "{}", once="first:ann"),)),
            since=0,
        )
        assert ["c"] == [r.id for r in later.rows]  # a new contact by that name

    # -- what the engine needs to open without reading (schema version 4) ---------

    def test_head_gives_the_mark_and_epoch_without_events(self, store: Store) -> None:
        """head() says what since() would, without the events."""
        assert 0 == store.head().mark
        store.append([Event("ann", "form.submitted", T0, id="1")])
        got = store.since(0)
        assert (got.mark, (), got.epoch) == (
            store.head().mark,
            store.head().events,
            store.head().epoch,
        )

    def test_events_of_reads_up_to_a_mark(self, store: Store) -> None:
        """With upto, only what was stored at or before that mark."""
        first = Event("ann", "form.submitted", T0, id="1")
        store.append([first])
        mark = store.head().mark
        later = Event("ann", "page.viewed", T0, id="2")
        store.append([later])
        assert [first] == store.events_of(["ann"], upto=mark)
        assert [first, later] == store.events_of(["ann"])

    def test_contacts_pages_through_the_stored_contacts(self, store: Store) -> None:
        """Distinct contacts, ascending, after a key: keyset paging."""
        names = ["dee", "ann", "cy", "bob", "ann"]
        store.append([Event(n, "x", T0) for n in names])
        assert ["ann", "bob"] == store.contacts(None, 2)
        assert ["cy", "dee"] == store.contacts("bob", 10)
        assert [] == store.contacts("dee", 10)

    def test_earliest_is_the_first_stored_instant(self, store: Store) -> None:
        """None when empty; else the earliest instant, in microseconds."""
        assert store.earliest() is None
        store.append(
            [Event("ann", "x", T0 + dt.timedelta(days=1)), Event("b", "x", T0)]
        )
        assert int(T0.timestamp()) * 1_000_000 == store.earliest()

    def test_due_rows_are_written_by_commit_and_erased_by_forget(
        self, store: Store
    ) -> None:
        """Effects.due sets and deletes rows; due() pages them by instant, key."""
        store.append([Event("ann", "x", T0), Event("bob", "x", T0)])
        rows = {"ann": 30, "bob": 20, "cy": 20, "dee": 10}
        store.commit([], lambda _: Effects(due=rows), since=0)
        everything = [(10, "dee"), (20, "bob"), (20, "cy"), (30, "ann")]
        assert everything == store.due(None, 10)
        assert everything[1:3] == store.due((10, "dee"), 2)
        store.commit([], lambda _: Effects(due={"dee": None, "ann": 5}), since=0)
        assert [(5, "ann"), (20, "bob"), (20, "cy")] == store.due(None, 10)
        store.forget(["ann", "cy"])
        assert [(20, "bob")] == store.due(None, 10)

    def test_an_engine_over_the_store_equals_the_pure_fold(self, store: Store) -> None:
        """Scores read through an engine equal score() over all events."""
        model = presets.highlevel()
        batches = [
            [
                Event("ann", "form.submitted", T0 + dt.timedelta(days=d), id=f"f{d}")
                for d in range(3)
            ],
            [
                Event("ann", "appointment.missed", T0, id="m"),
                Event("bob", "page.viewed", T0, {"path": "/pricing"}),
            ],
            [Event("ann", "form.submitted", T0 - dt.timedelta(days=1), id="late")],
        ]
        engine = Engine([model], store)
        for batch in batches:
            engine.ingest(batch)
        every = [e for batch in batches for e in batch]
        as_of = T0 + dt.timedelta(days=10)
        assert score(model, every, as_of) == engine.scores(model.name, as_of)


class DurableStoreContract(StoreContract):
    """The contract of stores that survive being closed and opened again."""

    @abc.abstractmethod
    def reopen(self, store: Store) -> Store:
        """Close *store* and open the same storage again."""

    def corrupt_a_row(self, store: Store) -> int:  # noqa: ARG002
        """Damage one stored row so that it cannot be decoded; return its row id.

        For example, write invalid JSON into its ``attrs``. Implement it where a
        test can write raw rows; the tests that need it skip otherwise.
        """
        pytest.skip(
            f"{type(self).__name__} does not implement corrupt_a_row(store): "
            "the tests of corrupt rows cannot run"
        )

    def write_raw_row(self, store: Store, row: Mapping[str, Any]) -> int:  # noqa: ARG002
        """Write *row* (the columns of :data:`RAW_ROW`) unchecked; return its row id.

        As an older leadscore, which accepted more, would have written it.
        Implement it where a test can write raw rows; the tests that need it skip
        otherwise.
        """
        pytest.skip(
            f"{type(self).__name__} does not implement write_raw_row(store, row): "
            "the tests of rows that are no longer events cannot run"
        )

    def _three_events(self, store: Store) -> list[Event]:
        batch = [
            Event("ann", "form.submitted", T0, id="1"),
            Event("bob", "email.opened", T0, {"message": "m1"}, id="2"),
            Event("cy", "page.viewed", T0, {"path": "/pricing"}),
        ]
        store.append(batch)
        return batch

    def test_a_corrupt_row_raises_a_store_error_naming_it(self, store: Store) -> None:
        """A row that cannot be decoded is a StoreError naming it, not a bare error."""
        self._three_events(store)
        row = self.corrupt_a_row(store)
        with pytest.raises(StoreError, match=rf"row {row}\b"):
            store.events()
        engine = Engine([presets.highlevel()], store)  # opening reads no event
        with pytest.raises(StoreError, match=rf"row {row}\b"):
            engine.scores(presets.highlevel().name, T0)

    def test_quarantine_moves_corrupt_rows_aside_and_the_store_opens(
        self, store: Store
    ) -> None:
        """quarantine_corrupt() keeps the damaged row aside; the rest reads again."""
        if not hasattr(store, "quarantine_corrupt"):
            pytest.skip(f"{type(store).__name__} has no quarantine_corrupt()")
        repairable: Any = store  # quarantine_corrupt() is not in the protocol
        batch = self._three_events(store)
        row = self.corrupt_a_row(store)
        moved = repairable.quarantine_corrupt()
        assert [row] == [m.row for m in moved]
        assert [row] == [q.row for q in repairable.quarantined()]
        assert [] == repairable.quarantine_corrupt()
        again: Any = self.reopen(store)
        try:
            left = again.events()
            assert 2 == len(left)
            assert set(left) < set(batch)
            scores = Engine([presets.highlevel()], again).scores(
                presets.highlevel().name, T0
            )
            assert {e.contact for e in left} == set(scores)
            assert [row] == [q.row for q in again.quarantined()]
        finally:
            again.close()

    @pytest.mark.parametrize("change", list(NO_LONGER_EVENTS), ids=str)
    def test_a_row_that_is_no_longer_an_event_is_skipped_and_reported(
        self, store: Store, change: str
    ) -> None:
        """Such a row is skipped with a warning, listed in rejected, and kept."""
        good = Event("ann", "form.submitted", T0, id="1")
        store.append([good])
        row = self.write_raw_row(store, {**RAW_ROW, **NO_LONGER_EVENTS[change]})
        with pytest.warns(LeadScoreWarning, match=rf"1 stored row.*row {row}\b"):
            assert [good] == store.events()
        rejected = store.rejected  # type: ignore[attr-defined]
        assert [row] == [r.row for r in rejected]
        assert "ann" == rejected[0].data["contact"]
        assert rejected[0].error
        engine = Engine([presets.highlevel()], store)  # opening reads no event
        with pytest.warns(LeadScoreWarning):
            assert {"ann": 10.0} == engine.scores(presets.highlevel().name, T0)
        again = self.reopen(store)
        try:
            with pytest.warns(LeadScoreWarning):
                assert [good] == again.events()
            assert [row] == [r.row for r in again.rejected]  # type: ignore[attr-defined]
        finally:
            again.close()

    @pytest.mark.parametrize("bad", list(BAD_BATCHES), ids=str)
    def test_a_rejected_append_changes_nothing_and_the_store_reopens(
        self, store: Store, bad: str
    ) -> None:
        """After a refused batch the store holds exactly what it held, and reopens."""
        store.append([Event("ann", "email.opened", T0, id="1")])
        before = _counter(store)
        with pytest.raises((InvalidEventError, StoreError)):
            store.append(BAD_BATCHES[bad]())
        assert before == _counter(store)
        again = self.reopen(store)
        try:
            assert before == _counter(again)
        finally:
            again.close()

    def test_reopening_returns_the_same_events_and_scores(self, store: Store) -> None:
        """Nothing acknowledged is lost by closing the store."""
        model = presets.highlevel()
        engine = Engine([model], store)
        engine.ingest(
            [
                Event("ann", "form.submitted", T0, id="1"),
                Event("ann", "page.viewed", T0, {"path": "/pricing"}),
            ]
        )
        before = engine.scores(model.name, T0)
        again = self.reopen(store)
        try:
            assert before == Engine([model], again).scores(model.name, T0)
            assert 2 == len(again.events())
        finally:
            again.close()


def store_machine(
    make_store: Callable[[], Store], max_examples: int = 25
) -> type[RuleBasedStateMachine]:
    """A Hypothesis state machine that drives a store and MemoryStore alike.

    Random batches (some replaying ids, some conflicting), forgets and reads; after
    every step the store holds the same events as the reference and an engine over
    it gives the same scores. Use ``TestX = store_machine(factory).TestCase``.
    """
    model = presets.highlevel()

    class StoreMachine(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            self.store = make_store()
            self.reference = MemoryStore()
            self.engine = Engine([model], self.store)
            self.sent: list[Event] = []

        @rule(
            batch=st.lists(events(ids=True) | events(), max_size=8),
            replay=st.booleans(),
        )
        def ingest(self, batch: list[Event], replay: bool) -> None:
            if replay and self.sent:
                batch = batch + self.sent[-3:]
            try:
                expected = self.reference.append(batch)
            except InvalidEventError:
                with pytest.raises(InvalidEventError):
                    self.engine.ingest(batch)
                return
            self.engine.ingest(batch)
            self.sent.extend(expected)

        @rule(contact=st.sampled_from(CONTACTS))
        def forget(self, contact: str) -> None:
            group = merged_into(self.reference.events(), contact)
            assert self.reference.forget(group) == self.engine.forget(contact)

        @invariant()
        def same_events_and_scores(self) -> None:
            assert _counter(self.reference) == _counter(self.store)
            as_of = T0 + dt.timedelta(days=500)
            expected = score(model, self.reference.events(), as_of)
            actual = self.engine.scores(model.name, as_of)
            assert expected.keys() == actual.keys()
            assert all(
                math.isclose(expected[c], actual[c], abs_tol=1e-9) for c in expected
            )

        def teardown(self) -> None:
            self.store.close()

    StoreMachine.TestCase.settings = settings(max_examples=max_examples, deadline=None)
    return StoreMachine
