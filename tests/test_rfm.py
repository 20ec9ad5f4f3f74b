"""The Action Score (seed 000) and RFM segments, on the seed's example and CDNOW."""

from __future__ import annotations

import collections
import datetime as dt
import itertools
import math
import random
from decimal import Decimal
from pathlib import Path

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import leadscore as ls
from leadscore import ActionScore, ActionScoreConfig, Event
from leadscore.datasets import load_cdnow

CDNOW = load_cdnow(Path(__file__).parent / "data" / "CDNOW_sample.txt")
END = dt.datetime(1998, 7, 1, tzinfo=dt.UTC)  # the log ends June 30, 1998
T0 = dt.datetime(2024, 6, 1, tzinfo=dt.UTC)


def test_the_seed_example_is_45():
    """(25x100%) + (25x1%) + (25x77%) + (25x1%) = 44.75, rounded up to 45."""
    score = ActionScore(social=1.0, value=0.01, recency=0.77, frequency=0.01)
    assert Decimal("44.75") == score.exact
    assert 45 == score.total


def test_all_100_percent_is_100_and_all_1_percent_is_1():
    """The ends of the 1-100 range."""
    assert 100 == ActionScore(recency=1, frequency=1, value=1, social=1).total
    assert 1 == ActionScore(recency=0.01, frequency=0.01, value=0.01, social=0.01).total


@pytest.mark.parametrize(
    ("fractions", "total"),
    [
        ((0.6, 0.6, 0.6, 0.6), 60),  # 25 x 0.6 is 15, never 15.000000000000002
        ((0.2, 0.4, 0.12, 0.28), 25),  # floats sum to 25.000000000000004
        ((0.33, 0.33, 0.33, 0.33), 33),
        ((0.333, 0.0, 0.0, 0.0), 9),  # 8.325 rounds up
        ((0.04, 0.0, 0.0, 0.0), 1),
    ],
)
def test_exact_rounding_cases(fractions, total):
    """The total is computed in decimal, from the decimals the fractions print as."""
    r, f, v, s = fractions
    assert total == ActionScore(recency=r, frequency=f, value=v, social=s).total


def test_weights_are_configurable_and_must_add_up_to_100():
    """Custom weights change the total; bad weights raise."""
    assert (
        70
        == ActionScore(
            recency=1, frequency=0, value=0, social=0, weights=(70, 10, 10, 10)
        ).total
    )
    with pytest.raises(
        ls.InvalidModelError,
        match=r"weights must add up to 100, got \(25, 25, 25, 20\)",
    ):
        ActionScore(recency=1, frequency=1, value=1, social=1, weights=(25, 25, 25, 20))
    with pytest.raises(ls.InvalidModelError, match="recency must be a fraction in"):
        ActionScore(recency=1.5, frequency=1, value=1, social=1)


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (
            lambda: ActionScoreConfig(weights=(30, 30, 30, 30)),
            "weights must add up to 100",
        ),
        (lambda: ActionScoreConfig(weights=(50, 50)), "weights must be four numbers"),
        (
            lambda: ActionScoreConfig(weights=(110, -10, 0, 0)),
            "weights must be finite numbers >= 0",
        ),
        (
            lambda: ActionScoreConfig(max_networks=-1),
            "max_networks must be a whole number >= 1, got -1",
        ),
        (
            lambda: ActionScoreConfig(kinds={"purchases": ("order.paid",)}),
            "unknown role 'purchases'",
        ),
        (
            lambda: ActionScoreConfig(kinds={"social": [3]}),
            r"kinds.social must be event kinds",
        ),
        (
            lambda: ActionScoreConfig(recency=ls.AgingPolicy.by_count(0.5)),
            "recency must be a time-based",
        ),
        (
            lambda: ActionScoreConfig(frequency_window=dt.timedelta(0)),
            "frequency_window must be a positive",
        ),
        (
            lambda: ls.rfm_segments([], END, bins=1),
            "bins must be a whole number from 2 to 10, got 1",
        ),
    ],
)
def test_bad_config_raises_invalid_model_error(make, match):
    """Weights not adding to 100, negative maxima, unknown kinds mappings."""
    with pytest.raises(ls.InvalidModelError, match=match):
        make()


def test_action_scores_of_a_small_account():
    """Each category as documented, floored at 1%."""
    events = [
        Event("ann", "contact.opted_in", T0 - dt.timedelta(days=30)),
        Event("ann", "page.viewed", T0),
        Event("ann", "order.paid", T0 - dt.timedelta(days=2), value=100),
        Event("ann", "social.connected", T0, {"network": "x"}),
        Event("ann", "social.connected", T0, {"network": "x"}),
        Event("ann", "social.connected", T0, {"network": "linkedin"}),
        Event("bob", "order.paid", T0 - dt.timedelta(days=30), value=50),
        Event("bob", "order.refunded", T0 - dt.timedelta(days=20), value=50),
        Event("cy", "email.opened", T0),
    ]
    scores = ls.action_scores(events, T0)
    assert (
        ActionScore(recency=1.0, frequency=1.0, value=1.0, social=0.5) == scores["ann"]
    )
    assert (
        ActionScore(recency=0.5, frequency=0.5, value=0.01, social=0.01)
        == scores["bob"]
    )
    assert 1 == scores["cy"].total


@settings(max_examples=10)
@given(st.integers(0, 2**32))
def test_on_cdnow_the_result_does_not_depend_on_event_order(seed):
    """Shuffling the events changes nothing (money is summed exactly)."""
    shuffled = random.Random(seed).sample(CDNOW, len(CDNOW))
    assert ls.action_scores(CDNOW, END) == ls.action_scores(shuffled, END)
    assert ls.rfm_segments(CDNOW, END) == ls.rfm_segments(shuffled, END)


def _features(events):
    last, spend = {}, collections.defaultdict(list)
    for e in events:
        last[e.contact] = max(last.get(e.contact, e.at), e.at)
        spend[e.contact].append(e.value)
    return last, {c: math.fsum(v) for c, v in spend.items()}


def _never_falls(key, score, contacts):
    """Sorted by key, the score never falls."""
    ordered = sorted(contacts, key=key)
    return all(score(a) <= score(b) for a, b in itertools.pairwise(ordered))


def test_on_cdnow_value_and_m_never_fall_as_spend_rises():
    """More total spend never means a lower value fraction or M score."""
    actions, rfm = ls.action_scores(CDNOW, END), ls.rfm_segments(CDNOW, END)
    _, spend = _features(CDNOW)
    assert _never_falls(spend.get, lambda c: actions[c].value, spend)
    assert _never_falls(spend.get, lambda c: rfm[c].m, spend)


def test_on_cdnow_recency_and_r_never_fall_as_the_last_purchase_is_more_recent():
    """A more recent last purchase never means lower recency or R."""
    actions, rfm = ls.action_scores(CDNOW, END), ls.rfm_segments(CDNOW, END)
    last, _ = _features(CDNOW)
    assert _never_falls(last.get, lambda c: actions[c].recency, last)
    assert _never_falls(last.get, lambda c: rfm[c].r, last)


def test_on_cdnow_m_quintiles_hold_a_fifth_each():
    """M quintiles hold 20% +- 2% of the 2,357 customers."""
    rfm = ls.rfm_segments(CDNOW, END)
    assert 2357 == len(rfm)
    sizes = collections.Counter(s.m for s in rfm.values())
    assert {1, 2, 3, 4, 5} == set(sizes)
    for size in sizes.values():
        assert 0.18 <= size / len(rfm) <= 0.22


def test_on_cdnow_every_total_is_within_1_and_100():
    """Action Scores run from 1 to 100."""
    totals = [s.total for s in ls.action_scores(CDNOW, END).values()]
    assert 2357 == len(totals)
    assert 1 <= min(totals) <= max(totals) <= 100


def test_on_cdnow_a_one_time_buyer_is_never_a_champion():
    """Equal values share a bin; a single purchase is the lowest F."""
    rfm = ls.rfm_segments(CDNOW, END)
    counts = collections.Counter(e.contact for e in CDNOW)
    one_time = [c for c, n in counts.items() if n == 1]
    assert one_time
    assert all(rfm[c].f == 1 and rfm[c].segment != "Champions" for c in one_time)
    assert "Champions" in {s.segment for s in rfm.values()}


@pytest.mark.parametrize("bins", [3, 4, 5])
def test_rfm_with_3_4_and_5_bins(bins):
    """Klaviyo-style 3 bins and quartiles work; every customer gets a segment."""
    rfm = ls.rfm_segments(CDNOW, END, bins=bins)
    assert all(
        1 <= s.r <= bins and 1 <= s.f <= bins and 1 <= s.m <= bins for s in rfm.values()
    )
    assert all(s.segment is not None for s in rfm.values())
    assert all(s.code == f"{s.r}{s.f}{s.m}" for s in rfm.values())


def test_equal_values_share_a_bin():
    """Ties never split, whatever the input order."""
    events = [
        Event(f"c{i}", "order.paid", T0, value=10 if i < 6 else 20 + i)
        for i in range(10)
    ]
    rfm = ls.rfm_segments(
        random.Random(3).sample(events, 10), T0 + dt.timedelta(days=1)
    )
    assert {1} == {rfm[f"c{i}"].m for i in range(6)}
    assert {1} == {s.r for s in rfm.values()}  # everyone bought at the same instant


def test_a_custom_segment_table_and_kinds():
    """The segment table and the purchase kinds are the user's to replace."""
    table = [
        ls.SegmentRule("Whales", r=(1, 3), f=(1, 3), m=(3, 3)),
        ls.SegmentRule("Others", (1, 3), (1, 3)),
    ]
    events = [
        Event("a", "deal.won", T0, value=5),
        Event("b", "deal.won", T0, value=500),
        Event("c", "deal.won", T0, value=50),
        Event("b", "order.paid", T0, value=1),
    ]
    rfm = ls.rfm_segments(
        events, T0, bins=3, segments=table, purchase_kinds=["deal.won"]
    )
    assert {"a": "Others", "b": "Whales", "c": "Others"} == {
        c: s.segment for c, s in rfm.items()
    }


def test_cdnow_lines_with_bad_fields_name_file_line_and_value(tmp_path):
    """Bad input in a file names the line, the field and the value."""
    bad = tmp_path / "cdnow.txt"
    bad.write_text(
        " 00004 0001 19970101  2   29.33\r\n 00005 0001 19971345  1   9.99\r\n"
    )
    with pytest.raises(
        ls.InvalidEventError,
        match=r"cdnow.txt:2: date must be YYYYMMDD, got '19971345'",
    ):
        load_cdnow(bad)
    bad.write_text(" 00004 0001 19970101  2   lots\r\n")
    with pytest.raises(
        ls.InvalidEventError, match=r"cdnow.txt:1: dollars must be a number, got 'lots'"
    ):
        load_cdnow(bad)


def test_equal_spend_in_any_order_ranks_equally():
    """0.1 + 0.2 + 0.3 and 0.3 + 0.2 + 0.1 are the same spend (summed exactly)."""
    events = [Event("a", "order.paid", T0, value=v) for v in (0.1, 0.2, 0.3)]
    events += [Event("b", "order.paid", T0, value=v) for v in (0.3, 0.2, 0.1)]
    rfm, actions = ls.rfm_segments(events, T0), ls.action_scores(events, T0)
    assert rfm["a"] == rfm["b"]
    assert actions["a"] == actions["b"]


def test_the_master_layout_with_header_and_four_columns_reads_too(tmp_path):
    """CDNOW_master.txt has a header line and no sample index."""
    master = tmp_path / "CDNOW_master.txt"
    master.write_text(
        " customer_id  date number_of_cds  dollar_value\r\n 00001 19970101  1   11.77\r\n"
    )
    assert [
        Event(
            "00001", "order.paid", "1997-01-01T00:00:00Z", {"cds": 1}, 11.77, "cdnow:2"
        )
    ] == load_cdnow(master)
    master.write_text(" 00001 19970101  1\r\n")
    with pytest.raises(
        ls.InvalidEventError, match=r"CDNOW_master.txt:1: line must have 4 or 5 columns"
    ):
        load_cdnow(master)


def test_action_scores_are_ordinary_validated_values():
    """What action_scores builds equals the same ActionScore built by hand."""
    for score in list(ls.action_scores(CDNOW, END).values())[:50]:
        rebuilt = ActionScore(
            recency=score.recency,
            frequency=score.frequency,
            value=score.value,
            social=score.social,
            weights=score.weights,
        )
        assert rebuilt == score
        assert hash(rebuilt) == hash(score)


# -- exact money and the raw values beside the bins (issue 12) -----------------------


def test_point_one_plus_point_two_shares_a_bin_with_point_three():
    """0.1 + 0.2 is 0.3 exactly: the two spenders share the lowest M bin."""
    events = [
        Event("a", "order.paid", T0, value=0.1),
        Event("a", "order.paid", T0, value=0.2),
        Event("b", "order.paid", T0, value=0.3),
        *(Event(f"c{i}", "order.paid", T0, value=float(i)) for i in range(1, 4)),
    ]
    rfm = ls.rfm_segments(events, T0, bins=5)
    # Summed as floats, a's 0.30000000000000004 would be above b's 0.3 and one bin up.
    assert 1 == rfm["a"].m == rfm["b"].m
    assert Decimal("0.3") == rfm["a"].spend == rfm["b"].spend


def test_segments_carry_the_raw_recency_frequency_and_spend():
    """Beside the bins: days since the last purchase, purchases, net spend."""
    events = [
        Event("ann", "order.paid", T0 - dt.timedelta(days=40), value=19.99),
        Event("ann", "order.paid", T0 - dt.timedelta(days=2, hours=6), value=5.01),
        Event("ann", "order.refunded", T0 - dt.timedelta(days=1), value=0.5),
        Event("bob", "order.paid", T0 - dt.timedelta(days=7), value=100),
    ]
    rfm = ls.rfm_segments(events, T0)
    assert (2.25, 2, Decimal("24.50")) == (
        rfm["ann"].recency_days,
        rfm["ann"].purchases,
        rfm["ann"].spend,
    )
    assert (7.0, 1, Decimal(100)) == (
        rfm["bob"].recency_days,
        rfm["bob"].purchases,
        rfm["bob"].spend,
    )


def test_a_segment_built_by_hand_keeps_its_five_positional_fields():
    """RFMSegment(r, f, m, code, segment) still works; the raw values are None."""
    segment = ls.RFMSegment(5, 4, 3, "543", "Champions")
    assert (5, 4, 3, "543", "Champions", None, None, None) == attrs.astuple(segment)


# Amounts in whole cents from a small pool, so that equal spend is common, and the
# floats they print as (12.34 prints as 12.34).
CENTS = st.sampled_from((0, 1, 10, 20, 30, 45, 70, 100, 999, 12345))


def _amount(cents):
    return float(Decimal(cents) / 100)


@st.composite
def purchase_logs(draw):
    """(contact, days before T0, cents) for a few contacts, each buying at least once."""
    return [
        (f"c{i}", draw(st.integers(0, 30)), draw(CENTS))
        for i in range(draw(st.integers(1, 6)))
        for _ in range(draw(st.integers(1, 3)))
    ]


def _paid(contact, days, cents):
    return Event(
        contact, "order.paid", T0 - dt.timedelta(days=days), value=_amount(cents)
    )


def _raw(actions):
    return {
        c: (s.recency_days, s.activities, s.spend, s.networks)
        for c, s in actions.items()
    }


@given(purchase_logs(), st.randoms(use_true_random=False))
def test_permuting_events_never_changes_bins_or_raw_values(rows, rnd):
    """Any order of the same events gives the same segments and action scores."""
    events = [_paid(*row) for row in rows]
    shuffled = rnd.sample(events, len(events))
    assert ls.rfm_segments(events, T0) == ls.rfm_segments(shuffled, T0)
    actions, again = ls.action_scores(events, T0), ls.action_scores(shuffled, T0)
    assert actions == again
    assert _raw(actions) == _raw(again)


@st.composite
def split_logs(draw):
    """A purchase log, the index of one purchase, and its amount cut into parts."""
    rows = draw(purchase_logs())
    index = draw(st.integers(0, len(rows) - 1))
    cents = rows[index][2]
    cuts = sorted(draw(st.lists(st.integers(0, cents), min_size=1, max_size=3)))
    parts = [b - a for a, b in zip([0, *cuts], [*cuts, cents], strict=True)]
    return rows, index, parts


@given(split_logs())
def test_splitting_a_purchase_into_parts_of_the_same_sum_never_changes_m(case):
    """Parts that sum to the same decimal amount are the same spend: M never moves."""
    rows, index, parts = case
    contact, days, cents = rows[index]
    assert cents == sum(parts)
    whole = [_paid(*row) for row in rows]
    split = [_paid(*row) for i, row in enumerate(rows) if i != index]
    split += [_paid(contact, days, part) for part in parts]
    before, after = ls.rfm_segments(whole, T0), ls.rfm_segments(split, T0)
    # More purchases may move F; the same instant keeps R; the same spend keeps M.
    assert {c: (s.r, s.m, s.spend) for c, s in before.items()} == {
        c: (s.r, s.m, s.spend) for c, s in after.items()
    }
    actions, split_actions = ls.action_scores(whole, T0), ls.action_scores(split, T0)
    assert {c: (s.value, s.spend) for c, s in actions.items()} == {
        c: (s.value, s.spend) for c, s in split_actions.items()
    }


@given(purchase_logs(), st.data())
def test_a_larger_purchase_netted_down_by_a_refund_never_changes_anything(rows, data):
    """Paying x + y and being refunded y is spending x: every bin stays."""
    index = data.draw(st.integers(0, len(rows) - 1))
    extra = data.draw(CENTS)
    contact, days, cents = rows[index]
    whole = [_paid(*row) for row in rows]
    netted = [_paid(*row) for i, row in enumerate(rows) if i != index]
    netted += [
        _paid(contact, days, cents + extra),
        Event(contact, "order.refunded", T0, value=_amount(extra)),
    ]
    assert ls.rfm_segments(whole, T0) == ls.rfm_segments(netted, T0)
    actions, again = ls.action_scores(whole, T0), ls.action_scores(netted, T0)
    assert actions == again
    assert {c: s.spend for c, s in actions.items()} == {
        c: s.spend for c, s in again.items()
    }
