"""The persistent map under ledgers: updates share what they do not touch."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

import leadscore as ls
from leadscore.paths._pmap import PMap


@given(
    st.dictionaries(st.text(max_size=5), st.integers()),
    st.dictionaries(st.text(max_size=5), st.integers()),
)
def test_update_behaves_like_a_dict_and_leaves_the_original_alone(a, b):
    """PMap.update is dict.update without mutation."""
    first = PMap().update(a)
    second = first.update(b)
    assert a == dict(first)
    assert a | b == dict(second)
    assert len(a | b) == len(second)


def test_an_update_copies_only_the_touched_shard():
    """Folding one contact into 10,000 shares every other shard."""
    big = PMap().update({f"c{i}": i for i in range(10_000)})
    small = big.update({"c1": -1})
    shared = sum(x is y for x, y in zip(big.leaves(), small.leaves(), strict=True))
    assert 4095 == shared


def test_folding_a_small_batch_shares_the_ledger():
    """A fold of one event leaves the other contacts' logs shared, not copied."""
    model = ls.ScoringModel("m", [ls.Rule("email.opened", 1)])
    events = [
        ls.Event(f"c{i}", "email.opened", "2024-01-01T00:00:00Z") for i in range(5_000)
    ]
    ledger = ls.fold(model, events)
    more = ls.fold(
        model, [ls.Event("c1", "email.opened", "2024-01-02T00:00:00Z")], ledger
    )
    old, new = ledger._contacts, more._contacts
    assert all(old[c] is new[c] for c in old if c != "c1")
    assert 4095 == sum(x is y for x, y in zip(old.leaves(), new.leaves(), strict=True))


def test_a_ledger_without_id_tracking_still_dedupes_within_a_batch():
    """track_ids=False keeps no id map; a batch is still deduplicated in itself."""
    model = ls.ScoringModel("m", [ls.Rule("email.opened", 1)])
    e = ls.Event("ann", "email.opened", "2024-01-01T00:00:00Z", id="1")
    ledger = ls.fold(model, [e, e], ls.Ledger(model, track_ids=False))
    assert {"ann": 1.0} == ledger.scores("2024-01-02T00:00:00Z")
    assert 0 == len(ledger._ids)
    assert {"ann": 2.0} == ls.fold(model, [e], ledger).scores("2024-01-02T00:00:00Z")
