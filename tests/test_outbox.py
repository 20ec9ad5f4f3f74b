"""The outbox: written with its cause, read after a cursor, acknowledged."""

from __future__ import annotations

import datetime as dt
import hashlib
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

import leadscore as ls
from leadscore import Event, Threshold
from leadscore.engine import Engine, Outbox, OutboxRecord
from leadscore.engine._outbox import change_entry
from leadscore.stores import MemoryStore, SQLiteStore

T0 = dt.datetime(2024, 5, 1, tzinfo=dt.UTC)
DAY = dt.timedelta(days=1)
MODEL = ls.presets.highlevel()
NAME = MODEL.name
STORES = {"memory": MemoryStore, "sqlite": lambda: SQLiteStore(":memory:")}


def form(contact, at, id):
    return Event(contact, "form.submitted", at, id=id)


@pytest.mark.parametrize("make", STORES.values(), ids=STORES.keys())
def test_the_outbox_holds_exactly_what_was_reported_in_order(make):
    engine = Engine([MODEL], make(), thresholds={NAME: [Threshold(15)]})
    reported = [
        engine.ingest([form("ann", T0, "1"), form("bob", T0, "2")]),
        engine.ingest([form("ann", T0 + DAY, "3")]),
        engine.advance(T0 + 200 * DAY),
    ]
    records = engine.outbox().read(limit=100)
    assert [r.position for r in records] == sorted(r.position for r in records)
    assert [c for r in reported for c in r] == [
        r.change for r in records if r.type == "change"
    ]
    assert [c for r in reported for _, c in r.crossings] == [
        r.crossing for r in records if r.type == "crossing"
    ]
    assert all(isinstance(r, OutboxRecord) for r in records)
    assert {Threshold(15)} == {r.threshold for r in records if r.type == "crossing"}
    # In time order per contact.
    for contact in ("ann", "bob"):
        times = [r.at for r in records if r.contact == contact]
        assert times == sorted(times)


@pytest.mark.parametrize("make", STORES.values(), ids=STORES.keys())
def test_a_refused_batch_writes_no_outbox_row(make):
    engine = Engine([MODEL], make())
    engine.ingest([form("ann", T0, "1")])
    with pytest.raises(ls.InvalidEventError):
        engine.ingest([form("bob", T0, "2"), Event("ann", "email.opened", T0, id="1")])
    assert ["ann"] == [r.contact for r in engine.outbox().read()]


def test_a_consumer_gets_records_again_until_it_acknowledges(tmp_path):
    path = tmp_path / "s.db"
    with Engine([MODEL], SQLiteStore(path)) as engine:
        engine.ingest([form(f"c{i}", T0, str(i)) for i in range(5)])
        hooks = engine.outbox("webhooks")
        first = hooks.read(limit=2)
        assert first == hooks.read(limit=2)  # not acknowledged: again
        hooks.acknowledge(first[-1])
        assert 2 == hooks.cursor
        assert ["c2", "c3", "c4"] == [r.contact for r in hooks.read()]
        hooks.acknowledge(1)  # never back
        assert 2 == hooks.cursor
        assert 5 == len(engine.outbox("crm").read())  # each consumer its own cursor
    store = SQLiteStore(path)
    try:
        again = Outbox(store, "webhooks")
        assert 2 == again.cursor  # durable
        assert ["c2", "c3", "c4"] == [r.contact for r in again.read()]
        assert [r.id for r in again.read(after=0)][:2] == [r.id for r in first]
    finally:
        store.close()


def test_ids_are_stable_so_a_consumer_can_dedupe():
    """The same change has the same id in any store, any run."""

    def ids():
        engine = Engine([MODEL], MemoryStore(), thresholds={NAME: [10]})
        engine.ingest([form("ann", T0, "1")])
        engine.advance(T0 + 100 * DAY)
        return [r.id for r in engine.outbox().read()]

    first = ids()
    assert first == ids()
    assert len(set(first)) == len(first) == 4


def test_a_consumer_name_must_be_given():
    with pytest.raises(ValueError, match="consumer"):
        Outbox(MemoryStore(), "")


# -- entries written out directly equal the plain encoding -------------------------


def _plain_change_entry(change, cause):
    """The change entry as first written: json.dumps and the joined reprs."""
    at_us = ls.model._events.to_micros(change.at)
    payload = json.dumps(
        {
            "type": "change",
            "model": change.model,
            "contact": change.contact,
            "at_us": at_us,
            "before": change.before,
            "after": change.after,
        },
        ensure_ascii=False,
        separators=(",", ":"),
    )
    parts = ("change", cause, change.model, change.contact, at_us)
    text = "\x1f".join(repr(p) for p in (*parts, change.before, change.after))
    digest = hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16)
    return digest.hexdigest(), change.contact, payload


@given(
    contact=st.text(min_size=1),
    model=st.text(min_size=1),
    cause=st.text(),
    before=st.floats(allow_nan=False) | st.integers(-(10**20), 10**20),
    after=st.floats(allow_nan=False),
    at_us=st.integers(0, 2**52),
)
def test_a_change_entry_is_the_plain_json_and_id_of_its_fields(
    *, contact, model, cause, before, after, at_us
):
    # Ids must never change between versions (consumers dedupe by them), and
    # payloads are read back with json.loads: the hand-written f-strings must
    # equal what the JSON encoder and the joined reprs give, byte for byte.
    at = ls.model._events.from_micros(at_us)
    change = ls.ScoreChange(contact, model, at, before, after)
    entry = change_entry(change, cause)
    assert (entry.id, entry.contact, entry.payload) == _plain_change_entry(
        change, cause
    )
    assert json.loads(entry.payload)["contact"] == contact
