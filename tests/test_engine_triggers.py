"""Triggers that behave like triggers: thresholds, advance, next_due, set_model."""

from __future__ import annotations

import datetime as dt

import pytest

import leadscore as ls
from leadscore import Event, Rule, ScoringModel, Threshold
from leadscore.engine import Engine
from leadscore.exceptions import StoreError
from leadscore.stores import MemoryStore, SQLiteStore

T0 = dt.datetime(2024, 5, 1, tzinfo=dt.UTC)
DAY = dt.timedelta(days=1)
HOUR = dt.timedelta(hours=1)
US = dt.timedelta(microseconds=1)
MODEL = ls.presets.highlevel()  # points expire after 90 days
NAME = MODEL.name
STORES = {"memory": MemoryStore, "sqlite": lambda: SQLiteStore(":memory:")}


def form(contact, at, id):
    return Event(contact, "form.submitted", at, id=id)


def summary(reported):
    return [(c.contact, c.at, c.before, c.after) for c in reported]


# -- Threshold -----------------------------------------------------------------------


def test_a_plain_number_is_every_crossing_both_ways():
    assert Threshold.from_value(25) == Threshold(25.0, direction="both")
    t = Threshold(25)
    assert ("up", None) == (t.crossing(10, 25), t.crossing(25, 10))
    both = Threshold.from_value(25.0)
    assert ("up", "down") == (both.crossing(10, 25), both.crossing(25, 10))
    down = Threshold(25, direction="down")
    assert (None, "down") == (down.crossing(10, 25), down.crossing(25, 10))


def test_strict_means_exceeds():
    assert Threshold(50, strict=True).crossing(40, 50) is None
    assert "up" == Threshold(50, strict=True).crossing(40, 50.5)
    assert "up" == Threshold(50).crossing(40, 50)


@pytest.mark.parametrize(
    ("build", "path"),
    [
        (lambda: Threshold(float("nan")), "value"),
        (lambda: Threshold("50"), "value"),
        (lambda: Threshold(5, direction="sideways"), "direction"),
        (lambda: Threshold(5, first_only=1), "first_only"),
        (lambda: Threshold(5, strict="yes"), "strict"),
        (lambda: Threshold.from_value("5"), "thresholds"),
    ],
)
def test_a_bad_threshold_names_the_field(build, path):
    with pytest.raises(ls.InvalidModelError) as info:
        build()
    assert path == info.value.path


def test_thresholds_of_an_unknown_model_are_refused():
    with pytest.raises(ls.InvalidModelError, match="no model named 'nope'"):
        Engine([MODEL], MemoryStore(), thresholds={"nope": [5]})
    with pytest.raises(ls.InvalidModelError, match="must be a list"):
        Engine([MODEL], MemoryStore(), thresholds={NAME: 5})


# -- first_only ----------------------------------------------------------------------


def test_first_only_fires_once_per_contact_across_restarts_and_models(tmp_path):
    """A first-only threshold is HighLevel's trigger (seed 001).

    "trigger a workflow when a contact's score first exceeds a defined value
    (e.g., notify a sales rep when score reaches 50)".
    """
    path = tmp_path / "s.db"
    fifty = Threshold(50, first_only=True)
    engine = Engine([MODEL], SQLiteStore(path), thresholds={NAME: [fifty]})
    up = engine.ingest(
        [form("ann", T0 + dt.timedelta(hours=h), f"a{h}") for h in range(5)]
    )
    assert [("ann", T0 + dt.timedelta(hours=4), 40.0, 50.0, "up")] == [
        (c.contact, c.at, c.before, c.after, c.direction) for _, c in up.crossings
    ]
    assert [(NAME, fifty)] == [(m, t) for m, t, _ in up.fired]
    # The points expire (a fall), then the score reaches 50 again: not again.
    engine.advance(T0 + 100 * DAY)
    later = T0 + 120 * DAY
    again = engine.ingest(
        [form("ann", later + dt.timedelta(hours=h), f"b{h}") for h in range(5)]
    )
    assert () == again.crossings
    engine.close()
    # A restart, a rebuild and a new version of the model: still never again.
    richer = ScoringModel(NAME, [Rule("form.submitted", 60)])
    with Engine([MODEL], SQLiteStore(path), thresholds={NAME: [fifty]}) as engine:
        engine.set_model(richer, retroactive=True)
        assert () == engine.ingest([form("ann", later + 200 * DAY, "c")]).crossings
        # Another contact fires once; a threshold without first_only fires each time.
        assert 1 == len(engine.ingest([form("bob", later, "d")]).crossings)
    every = Threshold(50)
    with Engine(
        [MODEL], SQLiteStore(path), thresholds={NAME: [fifty, every]}
    ) as engine:
        crossed = engine.ingest(
            [form("ann", later + 400 * DAY + h * DAY / 24, f"e{h}") for h in range(5)]
        ).fired
        assert [every] == [t for _, t, _ in crossed]


# -- ingest and advance --------------------------------------------------------------


@pytest.mark.parametrize("make", STORES.values(), ids=STORES.keys())
def test_ingest_reports_only_its_own_instants_and_advance_the_rest_once(make):
    engine = Engine([MODEL], make(), thresholds={NAME: [15]})
    first = engine.ingest([form("ann", T0, "1"), form("ann", T0 + DAY, "2")])
    assert [("ann", T0, 0.0, 10.0), ("ann", T0 + DAY, 10.0, 20.0)] == summary(first)
    assert [("up", T0 + DAY)] == [(c.direction, c.at) for _, c in first.crossings]
    assert T0 + 90 * DAY == engine.next_due()
    half = engine.advance(T0 + 90 * DAY)
    assert [("ann", T0 + 90 * DAY, 20.0, 10.0)] == summary(half)
    assert [("down", T0 + 90 * DAY)] == [(c.direction, c.at) for _, c in half.crossings]
    assert T0 + 91 * DAY == engine.next_due()
    rest = engine.advance(T0 + 200 * DAY)
    assert [("ann", T0 + 91 * DAY, 10.0, 0.0)] == summary(rest)
    assert engine.next_due() is None
    assert [] == engine.advance(T0 + 300 * DAY)
    assert [] == engine.advance(T0 + 10 * DAY)  # behind the watermark: nothing


def test_before_the_first_advance_the_watermark_is_the_earliest_stored_instant():
    engine = Engine([MODEL], MemoryStore())
    engine.ingest([form("ann", T0, "1")])
    engine.ingest([form("bob", T0 - 30 * DAY, "2")])  # a late event, earlier still
    assert T0 - 30 * DAY + 90 * DAY == engine.next_due()
    falls = engine.advance(T0 + 365 * DAY)
    assert [("bob", T0 + 60 * DAY), ("ann", T0 + 90 * DAY)] == [
        (c.contact, c.at) for c in falls
    ]


def test_an_event_at_an_expiry_instant_is_reported_once_by_ingest():
    engine = Engine([MODEL], MemoryStore())
    engine.ingest([form("ann", T0, "1")])
    both = engine.ingest([Event("ann", "appointment.booked", T0 + 90 * DAY, id="2")])
    assert [("ann", T0 + 90 * DAY, 10.0, 15.0)] == summary(both)  # +15, -10 at once
    rest = engine.advance(T0 + 200 * DAY)
    assert [("ann", T0 + 180 * DAY, 15.0, 0.0)] == summary(rest)


def test_advance_is_exactly_once_across_restarts(tmp_path):
    path = tmp_path / "s.db"
    with Engine([MODEL], SQLiteStore(path), thresholds={NAME: [5]}) as engine:
        engine.ingest([form(f"c{i}", T0 + i * DAY, str(i)) for i in range(10)])
        assert 5 == len(engine.advance(T0 + 94 * DAY))
    with Engine([MODEL], SQLiteStore(path), thresholds={NAME: [5]}) as engine:
        assert [] == engine.advance(T0 + 94 * DAY)
        rest = engine.advance(T0 + 200 * DAY)
        assert [f"c{i}" for i in range(5, 10)] == [c.contact for c in rest]
        assert 5 == len(rest.crossings)
    with Engine([MODEL], SQLiteStore(path)) as engine:
        records = engine.outbox().read(limit=1000)
    ids = [r.id for r in records]
    assert len(ids) == len(set(ids))
    assert 10 + 10 + 10 + 10 == len(records)  # changes and crossings, up and down


def test_a_scheduler_sleeping_until_next_due_sees_what_one_advance_sees():
    def run(step_by_step):
        engine = Engine([MODEL], MemoryStore(), thresholds={NAME: [12]})
        engine.ingest([form(f"c{i % 3}", T0 + i * 7 * DAY, str(i)) for i in range(12)])
        end = T0 + 400 * DAY
        if not step_by_step:
            return list(engine.advance(end))
        seen = []
        while (due := engine.next_due()) is not None and due <= end:
            seen += engine.advance(due)
        return seen + list(engine.advance(end))

    assert run(step_by_step=False) == run(step_by_step=True)


def test_decay_crossings_come_from_advance_at_the_first_whole_second():
    model = ScoringModel(
        "decay", [Rule("form.submitted", 100)], aging=ls.AgingPolicy.half_life(days=10)
    )
    engine = Engine(
        [model], MemoryStore(), thresholds={"decay": [Threshold(50, direction="down")]}
    )
    engine.ingest([form("ann", T0, "1")])
    expected = ls.crossings(
        model, engine.store.events(), 50, first_only=False, until=T0 + 30 * DAY
    )
    assert (
        T0 + 10 * DAY + dt.timedelta(seconds=1) == engine.next_due() == expected[1].at
    )
    fired = engine.advance(T0 + 30 * DAY).crossings
    assert [("ann", expected[1].at, "down")] == [
        (c.contact, c.at, c.direction) for _, c in fired
    ]


# -- models going forward ------------------------------------------------------------


def test_a_model_set_going_forward_keeps_its_activation_across_a_restart(tmp_path):
    path = tmp_path / "s.db"
    with Engine([MODEL], SQLiteStore(path)) as engine:
        engine.ingest([form("ann", T0, "1")])
        model = engine.set_model(
            ScoringModel("sales", [Rule("form.submitted", 5)]), at=T0 + DAY
        )
        engine.ingest([form("ann", T0 + 2 * DAY, "2")])
        assert 5.0 == engine.score("sales", "ann", T0 + 3 * DAY)
        assert 20.0 == engine.score(NAME, "ann", T0 + 3 * DAY)
    with Engine([MODEL, model], SQLiteStore(path)) as engine:
        assert 5.0 == engine.score("sales", "ann", T0 + 3 * DAY)
    with pytest.raises(ls.InvalidModelError, match="retroactive"):
        Engine([MODEL], MemoryStore()).set_model(MODEL, retroactive="yes")  # type: ignore[arg-type]


def _expiring(points, days):
    return ScoringModel(
        "m", [Rule("a", points)], aging=ls.AgingPolicy.expire_after(days=days)
    )


@pytest.mark.parametrize("store", STORES)
def test_rows_written_after_set_model_do_not_pass_for_the_old_models_index(store):
    # Found by the stateful test: the due index was built for model A; under B
    # (going forward) an adjustment deleted ann's row; back to A retroactively,
    # the index named A's models again and was not rebuilt, so advance missed
    # the expiry of ann's points at T0 + 2 days.
    engine = Engine([_expiring(10, 2)], STORES[store]())
    engine.ingest([Event("ann", "a", T0, id="1")])
    engine.advance(T0 + 42 * HOUR)
    now = T0 + 30 * HOUR
    engine.set_model(_expiring(5, 1), at=now)
    engine.adjust("ann", -7, now, id="2")
    model = engine.set_model(_expiring(10, 2), retroactive=True)
    events = engine.store.events()
    expected = ls.changes(model, events, start=T0 + 42 * HOUR + US, until=T0 + 2 * DAY)
    assert [("ann", T0 + 2 * DAY, 3.0, -7.0)] == summary(expected)
    assert T0 + 2 * DAY == engine.next_due()
    assert summary(expected) == summary(engine.advance(T0 + 2 * DAY))


def test_a_due_index_rebuild_cut_short_is_rebuilt_by_whichever_models_open_next(
    tmp_path, monkeypatch
):
    # A rebuild writes its rows a page at a time. If the process dies after a
    # page, the index holds rows of the new models: an engine opened with the
    # old models must rebuild it too, not trust the old name.
    path = tmp_path / "s.db"
    old, new = _expiring(10, 2), _expiring(10, 9)
    with Engine([old], SQLiteStore(path), cache=2) as engine:
        engine.ingest([Event(f"c{i}", "a", T0 + i * HOUR, id=str(i)) for i in range(6)])
        engine.advance(T0)
        engine.set_model(new, retroactive=True)
        pages = iter(range(10))
        write = Engine._write_due

        def dies_after_the_first_page(self, rows, key, **how):
            if next(pages) == 1:
                raise KeyboardInterrupt  # the process dies here
            write(self, rows, key, **how)

        monkeypatch.setattr(Engine, "_write_due", dies_after_the_first_page)
        with pytest.raises(KeyboardInterrupt):
            engine.advance(T0 + DAY)
        monkeypatch.undo()
    with Engine([old], SQLiteStore(path)) as engine:
        events = engine.store.events()
        assert T0 + 2 * DAY == engine.next_due()
        expected = ls.changes(old, events, start=T0 + DAY, until=T0 + 3 * DAY)
        assert len(expected) == 6
        assert summary(expected) == summary(engine.advance(T0 + 3 * DAY))


def _sharing(a, b):
    store = MemoryStore()
    return store, Engine([a], store), Engine([b], store)


def test_events_stored_by_an_engine_with_other_models_make_the_index_mixed():
    # Two engines over one store with different versions of model m (the
    # window between set_model in one and reopening the other). Engine 2's
    # model ignores "x", so it writes no row for bob's "x" event; the index
    # built for engine 1's model must not be trusted after it.
    expire = ls.AgingPolicy.expire_after(days=2)
    a = ScoringModel("m", [Rule("a", 10), Rule("x", 5)], aging=expire)
    b = ScoringModel("m", [Rule("a", 10), Rule("b", 1)], aging=expire)
    store, one, two = _sharing(a, b)
    one.ingest([Event("ann", "a", T0, id="1")])
    two.ingest([Event("bob", "b", T0, id="2")])  # engine 2 knows bob's row
    one.advance(T0 + HOUR)  # the index is rebuilt for a
    assert one._due_key() == store.state()["due"]
    two.ingest([Event("bob", "x", T0 + 2 * HOUR, id="3")])  # bob's row: the same
    assert "mixed" == store.state()["due"]
    start, end = T0 + HOUR + US, T0 + 3 * DAY
    events = store.events()
    # bob's own instant is not time-driven (engine 1 never ingested it).
    timed = [
        c
        for c in ls.changes(a, events, start=start, until=end)
        if c.at != T0 + 2 * HOUR
    ]
    assert summary(timed) == [
        ("ann", T0 + 2 * DAY, 10.0, 0.0),
        ("bob", T0 + 2 * DAY + 2 * HOUR, 5.0, 0.0),
    ]
    assert summary(timed) == summary(one.advance(end))


def test_advance_looks_again_when_the_index_is_rebuilt_for_other_models_meanwhile(
    monkeypatch,
):
    long, short = _expiring(10, 9), _expiring(10, 2)
    store, one, two = _sharing(long, short)
    one.ingest([Event("ann", "a", T0, id="1"), Event("ann", "a", T0 + DAY, id="2")])
    one.advance(T0)
    due_by = Engine._due_by
    calls = iter(range(10))

    def meanwhile(self, until_us):
        if self is one and next(calls) == 0:
            two.next_due()  # engine 2 rebuilds the index for its model
        return due_by(self, until_us)

    monkeypatch.setattr(Engine, "_due_by", meanwhile)
    assert [] == list(one.advance(T0 + 2 * DAY))
    monkeypatch.undo()
    got = two.advance(T0 + 5 * DAY)
    start, end = T0 + 2 * DAY + US, T0 + 5 * DAY
    expected = ls.changes(short, store.events(), start=start, until=end)
    assert [("ann", T0 + 3 * DAY, 10.0, 0.0)] == summary(expected) == summary(got)


def test_a_rebuild_does_not_undo_one_another_engine_with_the_same_models_finished(
    monkeypatch,
):
    # Engine 1 rebuilds the index in full while engine 2 is between pages of
    # its own rebuild, and reads it again before engine 2 is done: engine 2's
    # later pages leave the name alone (its rows agree), so engine 1 does not
    # rebuild a second time.
    store = MemoryStore()
    with Engine([_expiring(10, 2)], store) as old:
        old.ingest([Event(f"c{i}", "a", T0 + i * HOUR, id=str(i)) for i in range(6)])
        old.advance(T0)
    model = _expiring(10, 9)
    one, two = Engine([model], store, cache=2), Engine([model], store, cache=2)
    write, build, pages = Engine._write_due, Engine._build_due, iter(range(100))
    builds = []

    def between_pages(self, rows, key, **how):
        write(self, rows, key, **how)
        if self is two and next(pages) < 2:  # after its first two pages
            assert T0 + 9 * DAY == one.next_due()

    def counted(self, key, low):
        builds.append("one" if self is one else "two")
        return build(self, key, low)

    monkeypatch.setattr(Engine, "_write_due", between_pages)
    monkeypatch.setattr(Engine, "_build_due", counted)
    assert T0 + 9 * DAY == two.next_due()
    assert ["two", "one"] == builds
    assert two._due_key() == store.state()["due"]


# -- the due index's writes ----------------------------------------------------------


class _DueSpy(SQLiteStore):
    """A SQLiteStore that keeps each commit's due rows (``Effects.due``)."""

    def __init__(self, path):
        super().__init__(path)
        self.writes = []

    def commit(self, events, effects, *, since):
        def spy(txn):
            done = effects(txn)
            self.writes.append(dict(done.due))
            return done

        return super().commit(events, spy, since=since)


def test_due_rows_are_written_only_where_one_can_be(tmp_path):
    """New contacts with nothing time-driven ahead cost no due write, not a delete.

    A key with no log before the batch has no row (rows are written for keys
    with logs, and logs only grow), so there is nothing to delete; an engine
    that does not know whether a key with a log has a row (reopened over the
    store) still sends the delete.
    """
    engagement = ls.presets.email_engagement()  # no expiry, no threshold
    spy = _DueSpy(tmp_path / "a.db")
    engine = Engine([engagement], spy)

    def opened(n):
        return [
            Event(
                f"c{i}",
                "email.opened",
                T0 + n * HOUR,
                {"message": f"m{n}"},
                id=f"{n}.{i}",
            )
            for i in range(20)
        ]

    with engine:
        engine.ingest(opened(1))
        engine.ingest(opened(2))  # known now: no row
    assert [{}, {}] == spy.writes
    spy = _DueSpy(tmp_path / "a.db")
    with Engine([engagement], spy) as engine:
        engine.ingest(opened(3)[:2])
    assert [{"c0": None, "c1": None}] == spy.writes
    spy = _DueSpy(tmp_path / "b.db")
    with Engine([MODEL], spy) as engine:  # points expire after 90 days: rows
        engine.ingest([form("ann", T0, "1"), form("bob", T0, "2")])
        expiry = int((T0 + 90 * DAY).timestamp()) * 1_000_000
        assert [{"ann": expiry, "bob": expiry}] == spy.writes
        assert [(expiry, "ann"), (expiry, "bob")] == spy.due(None, 10)


# -- the engine as a context manager -------------------------------------------------


def test_the_engine_closes_its_store_at_the_end_of_a_with_block(tmp_path):
    with Engine([MODEL], SQLiteStore(tmp_path / "s.db")) as engine:
        engine.ingest([form("ann", T0, "1")])
    with pytest.raises(StoreError):
        engine.store.events()


def test_a_store_of_the_older_protocol_is_refused_with_the_migration_named():
    class OldStore:
        def append(self, events):
            return list(events)

        def events(self):
            return []

        def forget(self, contacts):
            return 0

        def close(self):
            pass

    with pytest.raises(
        StoreError, match="lacks commit, since, head, events_of"
    ) as info:
        Engine([MODEL], OldStore())  # type: ignore[arg-type]
    assert "Your own store" in str(info.value)


def test_a_store_of_protocol_3_is_refused_naming_what_version_4_added():
    """A v3 store (no head, contacts, earliest, due) is named as such, not used."""

    class StoreOfVersion3(MemoryStore):
        head = contacts = earliest = due = None  # type: ignore[assignment]

    with pytest.raises(
        StoreError, match="lacks head, contacts, earliest, due of"
    ) as info:
        Engine([MODEL], StoreOfVersion3())
    assert "schema version 4" in str(info.value)
