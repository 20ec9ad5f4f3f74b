"""Laws of the engine's reports, for random models and streams.

Fed in time order, with ``advance`` up to each batch's instant, the engine
reports every change :func:`leadscore.changes` finds, once: the changes at the
events' instants from ``ingest``, the rest from ``advance``.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from itertools import groupby

import pytest
from hypothesis import given, settings

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
