"""The real-time engine: equal to the pure fold, atomic, idempotent, durable."""

from __future__ import annotations

import datetime as dt
import gc
import math
import multiprocessing
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap

import pytest
from hypothesis import given
from hypothesis import strategies as st

import leadscore as ls
from leadscore import Event, Rule, ScoringModel
from leadscore.engine import Engine, model_version
from leadscore.exceptions import StoreError
from leadscore.stores import MemoryStore, SQLiteStore
from leadscore.strategies import event_lists, instants, models

#: Every law here holds on every execution path (see leadscore.plan._strategy).
pytestmark = pytest.mark.usefixtures("each_path")

T0 = dt.datetime(2024, 5, 1, tzinfo=dt.UTC)
MODEL = ls.presets.highlevel()
STORES = {"memory": MemoryStore, "sqlite": lambda: SQLiteStore(":memory:")}


def close(a, b):
    return a.keys() == b.keys() and all(
        math.isclose(a[k], b[k], rel_tol=1e-9, abs_tol=1e-9) for k in a
    )


@pytest.mark.parametrize("make", STORES.values(), ids=STORES.keys())
@given(model=models(), events=event_lists(), as_of=instants(days=480), data=st.data())
def test_engine_scores_equal_the_pure_fold(make, model, events, as_of, data):
    """Random streams in random batches and orders give score()'s answer."""
    shuffled = data.draw(st.permutations(events))
    cuts = sorted(data.draw(st.lists(st.integers(0, len(events)), max_size=4)))
    engine = Engine([model], make())
    for lo, hi in zip([0, *cuts], [*cuts, len(events)], strict=True):
        engine.ingest(shuffled[lo:hi])
    assert close(ls.score(model, events, as_of), engine.scores(model.name, as_of))
    for contact in {e.contact for e in events}:
        assert math.isclose(
            ls.fold(model, events).score(contact, as_of),
            engine.score(model.name, contact, as_of),
            abs_tol=1e-9,
        )


@pytest.mark.parametrize("make", STORES.values(), ids=STORES.keys())
def test_a_batch_with_one_bad_event_changes_nothing(make):
    """Atomic: the batch raises and neither store nor scores change."""
    engine = Engine([MODEL], make())
    engine.ingest([Event("ann", "form.submitted", T0, id="1")])
    for bad in (
        [
            Event("bob", "form.submitted", T0, id="2"),
            Event("ann", "form.submitted", T0, value=1, id="1"),
        ],
        [Event("bob", "form.submitted", T0, id="3"), {"contact": "cy"}],
    ):
        with pytest.raises(ls.InvalidEventError):
            engine.ingest(bad)
    assert {"ann": 10.0} == engine.scores(MODEL.name, T0)
    assert 1 == len(engine.store.events())


def test_re_ingesting_changes_nothing_and_changes_report_before_and_after():
    """Ids make retries no-ops; changes carry the score around the event's instant."""
    engine = Engine([MODEL], MemoryStore())
    batch = [
        Event("ann", "form.submitted", T0, id="1"),
        Event("ann", "appointment.booked", T0 + dt.timedelta(hours=1), id="2"),
    ]
    changes = engine.ingest(batch)
    assert [(T0, 0.0, 10.0), (T0 + dt.timedelta(hours=1), 10.0, 25.0)] == [
        (c.at, c.before, c.after) for c in changes
    ]
    assert [] == engine.ingest(batch)
    late = engine.ingest(
        [Event("ann", "form.submitted", T0 - dt.timedelta(days=1), id="0")]
    )
    assert [(T0 - dt.timedelta(days=1), 0.0, 10.0)] == [
        (c.at, c.before, c.after) for c in late
    ]
    assert 35.0 == engine.score(MODEL.name, "ann", T0 + dt.timedelta(days=1))


def test_thresholds_report_the_crossings_a_batch_causes_at_its_own_instants():
    """Ingest reports the rise its events cause; the expiry fall is advance's.

    Changed in issue 14: ingest no longer reports future expiry falls.
    """
    engine = Engine([MODEL], MemoryStore(), thresholds={MODEL.name: [25]})
    assert () == engine.ingest([Event("ann", "form.submitted", T0, id="1")]).crossings
    crossed = engine.ingest([Event("ann", "appointment.booked", T0, id="2")]).crossings
    assert [("up", T0)] == [(c.direction, c.at) for _, c in crossed]
    fall = engine.advance(T0 + dt.timedelta(days=100)).crossings
    assert [("down", T0 + dt.timedelta(days=90))] == [
        (c.direction, c.at) for _, c in fall
    ]
    result = engine.ingest([Event("bob", "form.submitted", T0, id="3")])
    with pytest.raises(AttributeError):
        result.crossings = ()  # type: ignore[misc]
    with pytest.raises(AttributeError):
        result.note = "x"  # type: ignore[attr-defined]


def test_manual_helpers_write_the_special_events():
    """adjust, set_score, reset and merge are events like any other."""
    engine = Engine([MODEL, ls.presets.manual()], MemoryStore())
    engine.ingest(
        [
            Event("ann", "form.submitted", T0, id="1"),
            Event("dup", "form.submitted", T0, id="2"),
        ]
    )
    engine.adjust("ann", 5, T0, model="Score", id="a")
    assert (10.0, 5.0) == (
        engine.score(MODEL.name, "ann", T0),
        engine.score("Score", "ann", T0),
    )
    engine.set_score("ann", 50, T0 + dt.timedelta(hours=1), id="s")
    engine.merge("ann", "dup", T0 + dt.timedelta(hours=2), id="m")
    assert {"ann": 50.0} == engine.scores(MODEL.name, T0 + dt.timedelta(hours=3))
    engine.reset("ann", T0 + dt.timedelta(hours=4), model=MODEL.name, id="r")
    assert 0.0 == engine.score(MODEL.name, "ann", T0 + dt.timedelta(hours=5))
    with pytest.raises(ls.InvalidModelError, match="no model named 'nope'"):
        engine.adjust("ann", 1, T0, model="nope")


def test_forget_erases_the_contact_and_ids_merged_into_it(tmp_path):
    """A privacy request leaves nothing of the contact or its merged ids."""
    store = SQLiteStore(tmp_path / "s.db")
    engine = Engine([MODEL], store)
    engine.ingest(
        [
            Event("old", "form.submitted", T0, id="1"),
            Event("ann", "contact.merged", T0, {"from": "old"}, id="2"),
            Event("ann", "form.submitted", T0, id="3"),
            Event("bob", "form.submitted", T0, id="4"),
        ]
    )
    assert 3 == engine.forget("ann")
    assert ["bob"] == sorted({e.contact for e in store.events()})
    assert {"bob": 10.0} == engine.scores(MODEL.name, T0)


def test_changing_a_model_retroactively_rescores_from_stored_events():
    """Models are versioned by content; retroactive=True rebuilds from every event."""
    engine = Engine([MODEL], MemoryStore())
    engine.ingest([Event("ann", "form.submitted", T0, id="1")])
    richer = ScoringModel(MODEL.name, [Rule("form.submitted", 30)])
    assert model_version(MODEL) != model_version(richer)
    assert model_version(MODEL) == model_version(ls.presets.highlevel())
    assert richer == engine.set_model(richer, retroactive=True)
    assert {"ann": 30.0} == engine.scores(MODEL.name, T0)
    assert {MODEL.name: model_version(richer)} == engine.versions()


def test_a_new_model_applies_going_forward_by_default():
    """A new model applies to activity from its activation on (seed 001).

    HighLevel: "By default, scoring models apply to new activity going forward
    from when the model is activated."
    """
    engine = Engine([MODEL], MemoryStore())
    engine.ingest([Event("ann", "form.submitted", T0, id="1")])
    richer = ScoringModel(MODEL.name, [Rule("form.submitted", 30)])
    activated = T0 + dt.timedelta(days=1)
    used = engine.set_model(richer, at=activated)
    assert activated == used.active_from == engine.models[MODEL.name].active_from
    assert {} == engine.scores(MODEL.name, activated)  # old activity does not count
    engine.ingest([Event("ann", "form.submitted", activated, id="2")])
    assert {"ann": 30.0} == engine.scores(MODEL.name, activated)
    events = engine.store.events()
    assert ls.score(used, events, activated) == engine.scores(MODEL.name, activated)


def test_reopening_the_store_gives_the_same_scores(tmp_path):
    """The engine rebuilds its state from the stored events."""
    engine = Engine([MODEL], SQLiteStore(tmp_path / "s.db"))
    engine.ingest(
        [
            Event("ann", "form.submitted", T0, id="1"),
            Event("ann", "appointment.missed", T0),
        ]
    )
    engine.close()
    assert {"ann": 0.0} == Engine([MODEL], SQLiteStore(tmp_path / "s.db")).scores(
        MODEL.name, T0
    )


def _writer(path, worker, batches):
    store = SQLiteStore(path)
    for b in range(batches):
        store.append(
            [
                Event(f"c{worker}-{b}", "form.submitted", T0, id=f"{worker}-{b}-{i}")
                for i in range(5)
            ]
        )
    store.close()


def test_two_processes_writing_one_sqlite_file_lose_nothing(tmp_path):
    """Concurrent writers wait for each other; every batch is stored."""
    path = str(tmp_path / "shared.db")
    SQLiteStore(path).close()
    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=_writer, args=(path, w, 60)) for w in range(2)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(120)
        assert 0 == w.exitcode
    assert 2 * 60 * 5 == len(SQLiteStore(path).events())


KILLED_WRITER = textwrap.dedent("""
    import sys, datetime as dt
    from leadscore import Event
    from leadscore.stores import SQLiteStore
    store = SQLiteStore(sys.argv[1])
    t = dt.datetime(2024, 5, 1, tzinfo=dt.UTC)
    for b in range(100_000):
        store.append([Event(f"c{b}", "form.submitted", t, id=f"{b}-{i}") for i in range(20)])
        print(b, flush=True)
""")


def test_a_process_killed_during_ingest_loses_no_acknowledged_batch(tmp_path):
    """SIGKILL mid-stream: every acknowledged batch is there; replaying double-counts nothing."""
    path = str(tmp_path / "killed.db")
    writer = subprocess.Popen(
        [sys.executable, "-c", KILLED_WRITER, path], stdout=subprocess.PIPE, text=True
    )
    acked = -1
    assert writer.stdout is not None
    while acked < 50:
        acked = int(writer.stdout.readline())
    os.kill(writer.pid, signal.SIGKILL)
    writer.wait(30)
    writer.stdout.close()
    store = SQLiteStore(path)
    stored = {e.id for e in store.events()}
    assert {f"{b}-{i}" for b in range(acked + 1) for i in range(20)} <= stored
    replay = [
        Event(f"c{b}", "form.submitted", T0, id=f"{b}-{i}")
        for b in range(acked + 3)
        for i in range(20)
    ]
    engine = Engine([MODEL], store)
    engine.ingest(replay)
    assert {200.0} == set(engine.scores(MODEL.name, T0).values())  # 20 forms each, once
    # The writer may have stored more batches than the parent had read when it
    # killed it (lines still in the pipe): those are complete, and counted once.
    assert len({e.id for e in replay} | stored) == len(store.events())


def test_driver_errors_surface_as_store_errors(tmp_path):
    """sqlite3 errors never leak: StoreError with the cause chained."""
    with pytest.raises(StoreError, match="cannot open SQLite store") as info:
        SQLiteStore(tmp_path / "no" / "such" / "dir.db")
    assert isinstance(info.value.__cause__, sqlite3.Error)
    garbage = tmp_path / "garbage.db"
    garbage.write_bytes(b"this is not a database" * 100)
    with pytest.raises(StoreError) as info:
        SQLiteStore(garbage)
    assert isinstance(info.value.__cause__, sqlite3.Error)


def test_import_leadscore_does_not_import_the_shell():
    """The engine and stores are imported only by their modules."""
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, leadscore; print('leadscore.engine' in sys.modules, 'sqlite3' in sys.modules)",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "False False" == out.stdout.strip()


def test_changes_after_a_merge_are_reported_for_the_master():
    """An event of a merged-away id changes, and names, the master's score."""
    engine = Engine([MODEL], MemoryStore())
    engine.ingest(
        [
            Event("ann", "form.submitted", T0, id="1"),
            Event("dup", "form.submitted", T0, id="2"),
        ]
    )
    merged = engine.merge("ann", "dup", T0 + dt.timedelta(hours=1), id="m")
    assert [] == [
        (c.contact, c.before, c.after) for c in merged
    ]  # keep-master: no change
    later = engine.ingest(
        [Event("dup", "appointment.booked", T0 + dt.timedelta(hours=2), id="3")]
    )
    assert [("ann", 10.0, 25.0)] == [(c.contact, c.before, c.after) for c in later]


@pytest.mark.parametrize("combine", ["sum", "ratio"])
@pytest.mark.parametrize("earlier", [False, True])
def test_a_first_change_is_reported_from_the_score_ls_changes_starts_from(
    combine, earlier
):
    """Just before a contact's first event its score is ``initial``, sign and all.

    With ``initial=-0.0`` the pure :func:`ls.changes` reports -0.0 before the
    first event, and 0.0 (what the rules sum to) after an unmatched earlier one;
    the engine reports the same floats, not merely equal ones.
    """
    model = ScoringModel(
        "m", [Rule("a", 1), Rule("b", -1)], initial=-0.0, combine=combine
    )
    events = [Event("ann", "a", T0, id="1")]
    if earlier:
        events.append(Event("ann", "unmatched", T0 - dt.timedelta(days=1), id="2"))
    engine = Engine([model], MemoryStore())
    got = [(c.at, repr(c.before), repr(c.after)) for c in engine.ingest(events)]
    pure = ls.changes(model, events, until=T0 + dt.timedelta(days=1))
    assert [(c.at, repr(c.before), repr(c.after)) for c in pure] == got
    assert got[0][1] == ("0.0" if earlier else "-0.0")


@pytest.mark.parametrize("preset", ["highlevel", "activecampaign", "email_engagement"])
def test_the_engine_leaves_no_cyclic_garbage(tmp_path, preset):
    """Everything an engine drops is freed by reference counting alone.

    The engine how-to's throughput recipe pauses the garbage collector around
    each batch; with no cycles left behind, the pause leaves the collector
    nothing to do later. Covered: ingest with evictions (a small cache), a
    second engine writing between batches (read as others' events), merges,
    manual changes, advance, next_due, the outbox and forget, over the memory
    and SQLite stores. (SQLAlchemyStore's statements leave some of
    SQLAlchemy's own cycles, which the collector frees once it runs again.)
    """
    model = getattr(ls.presets, preset)()
    kinds = ("email.opened", "page.viewed", "form.submitted", "email.delivered")
    events = [
        Event(
            f"c{i % 97}",
            kinds[i % len(kinds)],
            T0 + dt.timedelta(hours=7 * i),
            {"path": "/pricing", "message": f"m{i % 5}"},
            id=f"e{i}",
        )
        for i in range(1_200)
    ]
    thresholds = {model.name: [ls.Threshold(25, first_only=True), 3.0]}
    for store in (MemoryStore, lambda: SQLiteStore(tmp_path / f"{preset}.db")):
        shared = store()
        with Engine([model], shared, thresholds=thresholds, cache=20) as engine:
            other = Engine([model], shared, thresholds=thresholds, cache=20)
            engine.ingest(events[:10])  # imports and first-use caches, before
            other.ingest(events[10:20])
            gc.collect()
            gc.disable()
            try:
                for i in range(20, len(events), 300):
                    engine.ingest(events[i : i + 150])
                    other.ingest(events[i + 150 : i + 300])
                engine.merge("c1", "c2", T0 + dt.timedelta(days=3), id="m")
                engine.adjust("c3", 5, T0 + dt.timedelta(days=3), id="a")
                engine.advance(T0 + dt.timedelta(days=400))
                engine.next_due()
                engine.score(model.name, "c5", T0 + dt.timedelta(days=30))
                outbox = engine.outbox()
                outbox.acknowledge(outbox.read(50)[-1])
                engine.forget("c7")
                engine.ingest([Event("c8", "form.submitted", T0, id="late")])
                assert gc.collect() == 0
            finally:
                gc.enable()
