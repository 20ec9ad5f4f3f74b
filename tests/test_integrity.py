"""Issue 10 regressions: nothing rejected is stored, nothing accepted fails later.

Each test names the defect it pins down. The adversarial property tests and the
stateful engine test are in ``test_adversarial.py``; store corruption and paths in
``test_sqlite_store.py`` and the store contract.
"""

from __future__ import annotations

import datetime as dt
import random
import sqlite3
from collections import Counter

import pytest
from hypothesis import given
from hypothesis import strategies as st

import leadscore as ls
from leadscore.engine import Engine
from leadscore.engine import _engine as engine_module
from leadscore.engine import _reader as reader_module
from leadscore.exceptions import LeadScoreWarning
from leadscore.model._events import canonical_key
from leadscore.paths._merges import MergeIndex
from leadscore.stores import MemoryStore, SQLiteStore
from leadscore.testing import RAW_ROW

#: Every law here holds on every execution path (see leadscore.plan._strategy).
pytestmark = pytest.mark.usefixtures("each_path")

T0 = dt.datetime(2024, 5, 1, tzinfo=dt.UTC)
END = dt.datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=dt.UTC)
MODEL = ls.ScoringModel(
    "m",
    [ls.Rule("form.submitted", 10), ls.Rule("page.viewed", 1)],
    aging=ls.AgingPolicy.expire_after(months=6),
)


def _stores(tmp_path):
    return {
        "memory": MemoryStore,
        "sqlite": lambda: SQLiteStore(tmp_path / "events.db"),
    }


@pytest.fixture(params=["memory", "sqlite"])
def make_store(request, tmp_path):
    make = _stores(tmp_path)[request.param]
    if request.param == "memory":
        store = make()
        return lambda: store  # the same object stands for "reopening"
    return make


# -- defect 1: a rejected batch is never stored; the store always reopens --------


@pytest.mark.parametrize(
    "attrs",
    [{}, {"from": 7}, {"from": ""}, {"from": None}, {"from": "ann"}],
    ids=["no from", "int from", "empty from", "None from", "self merge"],
)
def test_a_merge_no_model_could_fold_is_rejected_when_built(attrs):
    with pytest.raises(ls.InvalidEventError) as caught:
        ls.Event("ann", "contact.merged", T0, attrs)
    assert caught.value.field == "attrs['from']"
    assert caught.value.value == attrs.get("from")


def test_merging_a_contact_into_itself_changes_nothing_and_the_store_reopens(
    make_store,
):
    engine = Engine([MODEL], make_store())
    engine.ingest([ls.Event("ann", "form.submitted", T0, id="e1")])
    before = Counter(engine.store.events())
    with pytest.raises(ls.InvalidEventError) as caught:
        engine.merge("ann", "ann", T0 + dt.timedelta(hours=1))
    assert caught.value.field == "attrs['from']"
    assert before == Counter(engine.store.events())
    reopened = Engine([MODEL], make_store())
    assert {"ann": 10.0} == reopened.scores("m", T0 + dt.timedelta(days=1))
    assert reopened.forget("ann") == 1


def test_a_batch_a_model_cannot_fold_is_not_written(make_store, monkeypatch):
    # Every event the library builds folds; to prove the order (fold, then
    # write) a fault is injected into the engine's fold for one kind.
    engine = Engine([MODEL], make_store())
    engine.ingest([ls.Event("ann", "form.submitted", T0, id="e1")])
    before = Counter(engine.store.events())
    real_fold = engine_module.fold_read

    def failing_fold(ledger, events):
        events = list(events)
        if any(e.kind == "boom" for e in events):
            raise ls.InvalidEventError("cannot fold", field="kind", value="boom")
        return real_fold(ledger, events)

    monkeypatch.setattr(engine_module, "fold_read", failing_fold)
    batch = [
        ls.Event("bob", "form.submitted", T0, id="e2"),
        ls.Event("bob", "boom", T0, id="e3"),
    ]
    with pytest.raises(ls.InvalidEventError):
        engine.ingest(batch)
    assert before == Counter(engine.store.events())
    assert {"ann": 10.0} == engine.scores("m", T0 + dt.timedelta(days=1))
    monkeypatch.undo()
    assert [c.contact for c in engine.ingest(batch[:1])] == ["bob"]


def test_an_engine_opens_over_a_stored_event_a_model_cannot_fold(tmp_path, monkeypatch):
    store = SQLiteStore(tmp_path / "events.db")
    good = ls.Event("ann", "form.submitted", T0, id="e1")
    bad = ls.Event("bob", "form.submitted", T0, id="e2")
    store.append([good, bad])
    real_fold = reader_module.fold  # stored events are folded by the reader

    def fold_refusing_bob(model, events, ledger=None):
        events = list(events)
        if any(e.contact == "bob" for e in events):
            raise ValueError("bob cannot be folded")
        return real_fold(model, events, ledger)

    monkeypatch.setattr(reader_module, "fold", fold_refusing_bob)
    engine = Engine([MODEL], store)  # opening reads no event: reading does
    with pytest.warns(LeadScoreWarning, match="could not fold 1 stored event"):
        scores = engine.scores("m", T0 + dt.timedelta(days=1))
    assert {"ann": 10.0} == scores
    assert [(s.model, s.event) for s in engine.skipped] == [("m", bad)]
    assert "bob cannot be folded" in engine.skipped[0].error
    assert Counter(store.events()) == Counter([good, bad])  # kept, not deleted


def test_a_store_holding_a_merge_an_older_version_accepted_still_opens(tmp_path):
    path = tmp_path / "events.db"
    store = SQLiteStore(path)
    store.append([ls.Event("ann", "form.submitted", T0, id="e1")])
    store.close()
    with sqlite3.connect(path) as db:
        row = {**RAW_ROW, "kind": "contact.merged", "event_id": "m1"}
        db.execute(
            f"INSERT INTO leadscore_events ({', '.join(row)}) "  # noqa: S608
            f"VALUES ({', '.join('?' * len(row))})",
            list(row.values()),
        )
    engine = Engine([MODEL], SQLiteStore(path))  # opening reads no event
    with pytest.warns(LeadScoreWarning):
        assert {"ann": 10.0} == engine.scores("m", T0 + dt.timedelta(days=1))
    assert [r.data["kind"] for r in engine.rejected] == ["contact.merged"]
    with pytest.warns(LeadScoreWarning):
        assert engine.forget("ann") == 2  # the merge names ann as its master


@pytest.mark.parametrize(
    "at", [END, dt.datetime(1, 1, 1, tzinfo=dt.UTC)], ids=["year 9999", "year 1"]
)
def test_events_at_the_ends_of_time_fold_score_and_retry(make_store, at):
    engine = Engine([MODEL], make_store())
    event = ls.Event("ann", "form.submitted", at, id="edge")
    changes = engine.ingest([event])
    assert [(c.contact, c.before, c.after) for c in changes] == [("ann", 0.0, 10.0)]
    assert engine.ingest([event]) == []  # a retry is a no-op, not a late success
    assert {"ann": 10.0} == engine.scores("m", at)
    assert {"ann": 10.0} == ls.score(MODEL, [event], at)


def test_the_first_instant_written_with_an_offset_is_an_invalid_event():
    with pytest.raises(ls.InvalidEventError) as caught:
        ls.Event("ann", "form.submitted", "0001-01-01T00:00:00+01:00")
    assert caught.value.field == "at"
    assert caught.value.value == "0001-01-01T00:00:00+01:00"


# -- defect 2: True is not 1 -------------------------------------------------------


@pytest.mark.parametrize(
    ("a", "b"),
    [(True, 1), (False, 0), ((True,), (1,)), (("x", (False,)), ("x", (0,)))],
)
def test_a_bool_and_a_number_are_different_attribute_values(a, b):
    assert ls.Event("ann", "k", T0, {"x": a}) != ls.Event("ann", "k", T0, {"x": b})


@pytest.mark.parametrize("order", [0, 1])
def test_one_id_on_true_and_on_1_is_a_conflict_in_either_order(order):
    model = ls.ScoringModel("m", [ls.Rule("k", 10, when=ls.where("x", gt=0))])
    pair = [
        ls.Event("ann", "k", T0, {"x": True}, id="e1"),
        ls.Event("ann", "k", T0, {"x": 1}, id="e1"),
    ]
    if order:
        pair.reverse()
    with pytest.raises(ls.InvalidEventError) as caught:
        ls.score(model, pair, T0)
    assert caught.value.field == "id"
    assert caught.value.value == "e1"


def test_the_canonical_order_tells_int_from_float_and_signed_zeros():
    keys = {
        canonical_key(ls.Event("ann", "k", T0, {"x": v})) for v in (1, 1.0, 0.0, -0.0)
    }
    assert len(keys) == 4


def test_ints_and_floats_of_one_value_stay_one_event():
    # Conditions compare numbers by value, so identity does too.
    assert ls.Event("ann", "k", T0, {"x": 1}, id="e") == ls.Event(
        "ann", "k", T0, {"x": 1.0}, id="e"
    )


# -- defects 4 and 5: what stores cannot keep, and scores that would overflow -----


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"contact": "a\ud800"}, "contact"),
        ({"kind": "k\x00"}, "kind"),
        ({"id": "\udfff"}, "id"),
        ({"attrs": {"x": "\ud800"}}, "attrs['x']"),
        ({"attrs": {"x": ("ok", "nul\x00")}}, "attrs['x']"),
        ({"attrs": {"bad\x00key": 1}}, "attrs key"),
        ({"attrs": {"x": 10**5000}}, "attrs['x']"),
        ({"attrs": {"x": -(2**1024)}}, "attrs['x']"),
        ({"value": 10**400}, "value"),
        ({"kind": "score.adjusted", "value": 1e308}, "value"),
        ({"kind": "score.set", "value": -2e15}, "value"),
        ({"kind": "score.reset", "attrs": {"model": 3}}, "attrs['model']"),
    ],
)
def test_values_no_store_could_keep_are_rejected_when_built(kwargs, field):
    fields = {"contact": "ann", "kind": "k", "at": T0, **kwargs}
    with pytest.raises(ls.InvalidEventError) as caught:
        ls.Event(**fields)
    assert caught.value.field == field
    assert len(str(caught.value)) < 400  # a huge value makes no huge message


def test_emoji_long_strings_and_the_largest_int_are_accepted_and_stored(tmp_path):
    event = ls.Event(
        "émile 🎉",
        "k",
        T0,
        {"note": "x" * 10_000, "n": 2**1023, "rtl": "שלום"},
        id="é",
    )
    store = SQLiteStore(tmp_path / "events.db")
    assert store.append([event]) == [event]
    store.close()
    assert SQLiteStore(tmp_path / "events.db").events() == [event]


def test_manual_points_at_the_limit_give_finite_scores():
    events = [
        ls.Event("ann", "score.adjusted", T0, value=1e15),
        ls.Event("ann", "score.adjusted", T0 + dt.timedelta(seconds=1), value=1e15),
    ]
    assert {"ann": 2e15} == ls.score(MODEL, events, T0 + dt.timedelta(days=1))


# -- defect 6: merge chains resolve in linear time --------------------------------


def _naive_routes(merges, as_of_us, union):
    # The first round's definition, kept literal: quadratic, but plainly right.
    parent = {}
    for m in sorted((m for m in merges if m._us <= as_of_us), key=canonical_key):
        source = m.attrs["from"]
        if source in parent:
            continue
        root = m.contact
        while root in parent:
            root = parent[root][0]
        if root == source:
            continue
        parent[source] = (m.contact, m._us)
    routes = {}
    for source in parent:
        node, since = source, -(2**63)
        while node in parent:
            node, t = parent[node]
            if not union:
                since = max(since, t)
        routes[source] = (node, since)
    return routes


@given(
    st.lists(
        st.tuples(
            st.sampled_from("abcdef"),
            st.sampled_from("abcdef"),
            st.integers(0, 5),
        ),
        max_size=12,
    ),
    st.integers(-1, 6),
    st.booleans(),
)
def test_merge_resolution_equals_its_literal_definition(triples, hour, union):
    merges = [
        ls.Event(master, "contact.merged", T0 + dt.timedelta(hours=h), {"from": src})
        for master, src, h in triples
        if master != src
    ]
    as_of_us = ls.Event("x", "k", T0 + dt.timedelta(hours=hour))._us
    index = MergeIndex(merges, union)
    routes = _naive_routes(merges, as_of_us, union)
    assert routes == index.routes(as_of_us)
    for contact in "abcdef":
        assert routes.get(contact, (contact, 0))[0] == index.owner(contact, as_of_us)
        if contact not in routes:  # sources are asked of a master only
            expected = sorted((s, t) for s, (r, t) in routes.items() if r == contact)
            assert expected == sorted(index.sources(contact, as_of_us))


def test_a_chain_of_5000_merges_scores_like_its_last_master():
    n = 5000
    events = []
    for i in range(n):
        at = T0 + dt.timedelta(minutes=2 * i)
        events.append(ls.Event(f"c{i}", "page.viewed", at, id=f"e{i}"))
        if i:
            events.append(
                ls.Event(
                    f"c{i}",
                    "contact.merged",
                    at + dt.timedelta(minutes=1),
                    {"from": f"c{i - 1}"},
                    id=f"m{i}",
                )
            )
    random.Random(10).shuffle(events)
    union = ls.ScoringModel("u", [ls.Rule("page.viewed", 1)], merge="union")
    keep = ls.ScoringModel("k", [ls.Rule("page.viewed", 1)])
    as_of = T0 + dt.timedelta(days=30)
    assert {f"c{n - 1}": float(n)} == ls.score(union, events, as_of)
    assert {f"c{n - 1}": 1.0} == ls.score(keep, events, as_of)
    ledger = ls.fold(union, events)
    assert ledger.score("c0", as_of) == float(n)  # a merged id reads its master
