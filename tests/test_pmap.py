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


def test_an_update_copies_only_the_overlay():
    """Updating one key of 10,000 shares the base dict and copies one key."""
    big = PMap().update({f"c{i}": i for i in range(10_000)})
    small = big.update({"c1": -1})
    assert small._base is big._base
    assert {"c1": -1} == small._top
    assert 1 == big["c1"]
    assert -1 == small["c1"]


@given(st.lists(st.dictionaries(st.integers(0, 5_000), st.integers()), max_size=40))
def test_a_chain_of_updates_merges_its_overlay_and_keeps_every_version(batches):
    """Every map of a chain of updates (overlays merged on the way) stays as it was."""
    maps, dicts = [PMap()], [{}]
    for batch in batches:
        big = {k + 10_000 * len(maps): v for k, v in batch.items()} | batch
        maps.append(maps[-1].update(big))
        dicts.append(dicts[-1] | big)
    for m, d in zip(maps, dicts, strict=True):
        assert d == dict(m.items())
        assert len(d) == len(m)
        assert sorted(d) == sorted(m)
        assert all(m.get(k) == v and k in m for k, v in d.items())


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
    assert new._base is old._base
    assert ["c1"] == list(new._top)


def test_a_ledger_without_id_tracking_still_dedupes_within_a_batch():
    """track_ids=False keeps no id map; a batch is still deduplicated in itself."""
    model = ls.ScoringModel("m", [ls.Rule("email.opened", 1)])
    e = ls.Event("ann", "email.opened", "2024-01-01T00:00:00Z", id="1")
    ledger = ls.fold(model, [e, e], ls.Ledger(model, track_ids=False))
    assert {"ann": 1.0} == ledger.scores("2024-01-02T00:00:00Z")
    assert 0 == len(ledger._ids)
    assert {"ann": 2.0} == ls.fold(model, [e], ledger).scores("2024-01-02T00:00:00Z")


def test_a_grown_overlay_is_merged_into_a_new_base_and_old_maps_keep_theirs():
    """Past its bound the overlay becomes a new base; the maps before it are intact."""
    maps = [PMap().update(dict.fromkeys(range(10000), 0))]
    for step in range(1, 6):
        maps.append(maps[-1].update(dict.fromkeys(range(step * 1000), step)))
    assert any(m._base is not maps[0]._base for m in maps[1:])  # a merge happened
    assert all(len(m._top) <= 2048 for m in maps)
    for step, m in enumerate(maps):
        expected = dict.fromkeys(range(10000), 0) | dict.fromkeys(
            range(step * 1000), step
        )
        assert expected == dict(m.items())
        assert 10_000 == len(m)
