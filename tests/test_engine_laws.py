"""Laws of the engine's reports, for random models and streams.

Fed in time order, with ``advance`` up to each batch's instant, the engine
reports every change :func:`leadscore.changes` finds, once: the changes at the
events' instants from ``ingest``, the rest from ``advance``.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections import Counter
from itertools import groupby

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import leadscore as ls
from leadscore.engine import Engine
from leadscore.stores import MemoryStore
from leadscore.strategies import event_lists, models

#: Every law here holds on every execution path (see leadscore.plan._strategy).
pytestmark = pytest.mark.usefixtures("each_path")

US = dt.timedelta(microseconds=1)


def key(c):
    return (c.contact, c.model, c.at, c.before, c.after)


def real(changes):
    """Leave out the drift of continuous decay within one microsecond.

    ``ls.changes`` counts it at every instant of a contact's merge group (a
    merge of a member's member, say); it is no change a trigger cares about.
    """
    return [
        c
        for c in changes
        if abs(c.after - c.before) > 1e-9 * max(1.0, abs(c.before), abs(c.after))
    ]


@settings(max_examples=100)
@given(model=models(), events=event_lists())
def test_in_time_order_ingest_and_advance_report_every_change_once(model, events):
    if not events:
        return
    ordered = sorted(events, key=lambda e: e.at)
    end = ordered[-1].at + dt.timedelta(days=400)
    engine = Engine([model], MemoryStore())
    reported = []
    for at, batch in groupby(ordered, key=lambda e: e.at):
        reported += engine.advance(at - US)
        reported += engine.ingest(list(batch))
    reported += engine.advance(end)
    assert Counter(map(key, real(ls.changes(model, events, until=end)))) == Counter(
        map(key, real(reported))
    )
    assert engine.next_due() is None or engine.next_due() > end


@settings(max_examples=100)
@given(model=models(), events=event_lists())
def test_where_advance_stops_does_not_matter(model, events):
    if not events:
        return
    end = max(e.at for e in events) + dt.timedelta(days=200)
    one, many = Engine([model], MemoryStore()), Engine([model], MemoryStore())
    one.ingest(events)
    many.ingest(events)
    stepped = []
    while (due := many.next_due()) is not None and due <= end:
        stepped += many.advance(due)
    stepped += many.advance(end)
    assert list(map(key, one.advance(end))) == list(map(key, stepped))


def _due_rows(engine):
    return {key: t for t, key in engine.store.due(None, 1_000_000)}


@settings(max_examples=50)
@given(model=models(), events=event_lists(), cuts=st.lists(st.integers(0, 40)))
def test_due_rows_kept_batch_by_batch_are_never_later_than_a_fresh_count(
    model, events, cuts
):
    """A contact's due row, updated from each batch's new entries, is never late.

    Fed in batches (in any order, out of time order too), the engine keeps each
    row as the soonest of the stored row and the new entries' breakpoints; one
    engine fed everything at once counts them afresh. Without drift the rows
    are the same; with drift and a threshold a kept row may be sooner (a
    crossing the later events took away), never later. (Merges are left out:
    under them a row is any instant of the merge group, a bound of another kind.)
    """
    events = [e for e in events if e.kind != "contact.merged"]
    bounds = sorted({0, len(events), *(min(c, len(events)) for c in cuts)})
    engines = [
        Engine([model], MemoryStore(), thresholds={model.name: [1.0]}) for _ in range(2)
    ]
    kept, fresh = engines
    for lo, hi in itertools.pairwise(bounds):
        kept.ingest(events[lo:hi])
    fresh.ingest(events)
    ours, theirs = _due_rows(kept), _due_rows(fresh)
    if any(model.policy(r).drifts for r in model.rules):
        assert all(k in ours and ours[k] <= t for k, t in theirs.items())
    else:
        assert ours == theirs


STEPPED = ls.ScoringModel(
    "stepped",
    [
        ls.Rule("email.opened", 2, aging=ls.AgingPolicy.expire_after(days=30)),
        ls.Rule("page.viewed", 1, aging=ls.AgingPolicy.expire_after(months=1)),
        ls.Rule("form.submitted", 5, once_per="form", aging=ls.AgingPolicy.never()),
    ],
)


@settings(max_examples=200)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["ann", "bob", "cy"]),
            st.sampled_from(["email.opened", "page.viewed", "form.submitted"]),
            st.integers(0, 120 * 24),
        ),
        max_size=30,
    ),
    st.lists(st.integers(0, 30)),
)
def test_due_rows_of_step_aging_kept_batch_by_batch_equal_a_fresh_count(rows, cuts):
    """Out-of-order batches into known contacts: each row is the soonest expiry."""
    t0 = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
    events = [
        ls.Event(c, k, t0 + dt.timedelta(hours=h), {"form": "f"}) for c, k, h in rows
    ]
    bounds = sorted({0, len(events), *(min(c, len(events)) for c in cuts)})
    kept, fresh = Engine([STEPPED], MemoryStore()), Engine([STEPPED], MemoryStore())
    for lo, hi in itertools.pairwise(bounds):
        kept.ingest(events[lo:hi])
    fresh.ingest(events)
    assert _due_rows(fresh) == _due_rows(kept)
