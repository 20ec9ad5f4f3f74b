"""The plan: one place decides which path runs what, and each fast path is taken.

The laws themselves run under "auto" and "general" (the ``each_path`` fixture in
``conftest.py``); here, one example per fast path shows that it is the path taken,
and the feature table is checked against the model's real fields.
"""

from __future__ import annotations

import datetime as dt

import attrs
import pytest

import leadscore as ls
from leadscore import _time
from leadscore.model._rules import Rule, ScoringModel
from leadscore.paths import _fold
from leadscore.paths._evaluate import Scorer
from leadscore.plan._compile import compile_model
from leadscore.plan._strategy import SUPPORTS, Path, features, forced

T0 = dt.datetime(2024, 5, 1, tzinfo=dt.UTC)
AS_OF = T0 + dt.timedelta(days=10)
EVENTS = [
    ls.Event("ann", "form.submitted", T0, id="e1"),
    ls.Event("ann", "page.viewed", T0 + dt.timedelta(days=1), {"path": "/x"}, id="e2"),
    ls.Event("bob", "form.submitted", T0 + dt.timedelta(days=2), id="e3"),
]
PLAIN = ls.ScoringModel(
    "plain",
    [ls.Rule("form.submitted", 10), ls.Rule("page.viewed", 5)],
    aging=ls.AgingPolicy.expire_after(days=30),
)


class Spy:
    """Counts the calls of a function it wraps."""

    def __init__(self, monkeypatch, owner, name):
        """Replace ``owner.name`` for the test with a counting wrapper."""
        self.calls = 0
        real = getattr(owner, name)

        def wrapper(*args, **kwargs):
            self.calls += 1
            return real(*args, **kwargs)

        monkeypatch.setattr(owner, name, wrapper)


def test_a_plain_model_of_whole_points_is_scored_in_one_stream_of_ints(monkeypatch):
    strategy = compile_model(PLAIN).strategy
    assert (strategy.score, strategy.whole_sums) == (Path.STREAM, True)
    whole = Spy(monkeypatch, _fold, "stream_whole_sums")
    stream = Spy(monkeypatch, _fold, "stream_scores")
    assert {"ann": 15.0, "bob": 10.0} == ls.score(PLAIN, EVENTS, AS_OF)
    assert (whole.calls, stream.calls) == (1, 0)


def test_fractional_points_keep_one_float_total_per_rule(monkeypatch):
    """Float sums mixing rules would depend on the order: one total per rule."""
    model = attrs.evolve(PLAIN, rules=[ls.Rule("form.submitted", 2.5)])
    strategy = compile_model(model).strategy
    assert (strategy.score, strategy.whole_sums) == (Path.STREAM, False)
    stream = Spy(monkeypatch, _fold, "stream_scores")
    assert {"ann": 2.5, "bob": 2.5} == ls.score(model, EVENTS, AS_OF)
    assert stream.calls == 1


def test_forcing_the_general_path_skips_the_stream_and_agrees(monkeypatch):
    stream = Spy(monkeypatch, _fold, "stream_scores")
    with forced("general"):
        assert compile_model(PLAIN).strategy.score is Path.GENERAL
        assert {"ann": 15.0, "bob": 10.0} == ls.score(PLAIN, EVENTS, AS_OF)
    assert stream.calls == 0


def test_ledger_reads_of_a_plain_model_take_the_kernel(monkeypatch):
    ledger = ls.fold(PLAIN, EVENTS)
    assert compile_model(PLAIN).strategy.reads is Path.KERNEL
    kernel = Spy(monkeypatch, Scorer, "fast_kernel")
    general = Spy(monkeypatch, Scorer, "general")
    assert ledger.score("ann", AS_OF) == 15.0
    assert (kernel.calls, general.calls) == (1, 0)


def test_whole_points_cross_by_the_integer_sweep(monkeypatch):
    assert compile_model(PLAIN).strategy.crossings is Path.INTEGER_SWEEP
    sweep = Spy(monkeypatch, _time, "integer_sweep")
    found = ls.crossings(PLAIN, EVENTS, 12, first_only=False)
    assert [(c.contact, c.direction) for c in found] == [("ann", "up"), ("ann", "down")]
    assert sweep.calls == 1


def test_limits_cross_by_the_counting_sweep(monkeypatch):
    model = ls.ScoringModel("m", [ls.Rule("form.submitted", 10, limit=15)])
    assert compile_model(model).strategy.crossings is Path.COUNT_SWEEP
    sweep = Spy(monkeypatch, _time, "CountSweep")
    assert [c.contact for c in ls.crossings(model, EVENTS, 10)] == ["ann", "bob"]
    assert sweep.calls == 1


def test_once_per_is_scored_in_one_stream_and_read_by_the_kernel(monkeypatch):
    model = ls.ScoringModel(
        "m", [ls.Rule("page.viewed", 3, once_per="path"), ls.Rule("form.submitted", 10)]
    )
    strategy = compile_model(model).strategy
    assert (strategy.score, strategy.reads) == (Path.STREAM, Path.KERNEL)
    stream = Spy(monkeypatch, _fold, "stream_scores")
    twice = [*EVENTS, ls.Event("ann", "page.viewed", T0, {"path": "/x"})]
    assert {"ann": 13.0, "bob": 10.0} == ls.score(model, twice, AS_OF)
    assert stream.calls == 1
    kernel = Spy(monkeypatch, Scorer, "fast_kernel")
    assert ls.fold(model, twice).score("ann", AS_OF) == 13.0
    assert kernel.calls == 1


def test_by_count_is_ranked_by_the_kernel_on_grouped_entries(monkeypatch):
    """Ranks need every instant of a contact: score() groups, then the kernel."""
    model = ls.ScoringModel(
        "m",
        [ls.Rule("form.submitted", 8), ls.Rule("page.viewed", 0)],
        aging=ls.AgingPolicy.by_count(0.5),
    )
    strategy = compile_model(model).strategy
    assert (strategy.score, strategy.reads) == (Path.GENERAL, Path.KERNEL)
    kernel = Spy(monkeypatch, Scorer, "fast")
    general = Spy(monkeypatch, Scorer, "general")
    # ann: the form, then a page view one day later: 8 * 0.5; bob: 8.
    assert {"ann": 4.0, "bob": 8.0} == ls.score(model, EVENTS, AS_OF)
    assert (kernel.calls, general.calls) == (2, 0)


@pytest.mark.parametrize(
    "rule",
    [
        ls.Rule("form.submitted", 10, at_most=ls.Frequency(1, "day")),
        ls.Rule("form.submitted", 10, ended_by="form.withdrawn"),
        ls.Rule("form.submitted", 10, group="once", once_per=()),
    ],
    ids=["at_most", "ended_by", "group_and_rule_once_per"],
)
def test_what_no_fast_path_is_taught_takes_the_general_path(monkeypatch, rule):
    groups = [ls.Group("once", once_per=())]
    model = ls.ScoringModel("m", [rule], groups=groups)
    strategy = compile_model(model).strategy
    assert (strategy.score, strategy.reads, strategy.crossings) == (
        Path.GENERAL,
        Path.GENERAL,
        Path.RESCORE,
    )
    stream = Spy(monkeypatch, _fold, "stream_scores")
    ls.score(model, EVENTS, AS_OF)
    assert stream.calls == 0


@pytest.mark.parametrize("cls", [Rule, ScoringModel])
def test_every_field_set_away_from_its_default_is_a_feature(cls):
    # A field added later is a feature no fast path supports, until taught.
    prefix = "rule" if cls is Rule else "model"
    names = {f.name for f in attrs.fields(cls)}
    taught = {
        f.split(".", 1)[1] for s in SUPPORTS.values() for f in s if f.startswith(prefix)
    }
    assert taught <= names  # no typo in the table
    samples = {
        "when": ls.where("x", eq=1),
        "aging": ls.AgingPolicy.half_life(days=1),
        "once_per": ("message",),
        "limit": 5.0,
        "name": "n",
        "combine": "ratio",
        "initial": 1.0,
        "bounds": (0.0, 10.0),
        "active_from": T0,
        "merge": "union",
        "group": "g",
        "at_most": ls.Frequency(3, "day"),
        "ended_by": ("k.undone",),
        "groups": (ls.Group("g"),),
        "subject": "company",
        "timezone": "Europe/Paris",
    }
    base = Rule("k", 1) if cls is Rule else ScoringModel("m", [Rule("k", 1)])
    for name in names - {"kind", "points", "rules"}:
        changed = attrs.evolve(base, **{name: samples[name]})
        groups = [ls.Group("g")] if name == "group" else []
        model = (
            changed
            if cls is ScoringModel
            else ScoringModel("m", [changed], groups=groups)
        )
        assert f"{prefix}.{name}" in features(model)
        assert compile_model(model).strategy.score is Path.GENERAL or any(
            f"{prefix}.{name}" in s for s in SUPPORTS.values()
        )


def _peak_bytes(model, events, as_of):
    import gc
    import tracemalloc

    gc.collect()
    tracemalloc.start()
    try:
        ls.score(model, events, as_of)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


class _Generated:
    """A re-readable stream of *n* events over 100 contacts, built as it is read."""

    def __init__(self, n):
        self.n = n

    def __iter__(self):
        for i in range(self.n):
            at = T0 + dt.timedelta(minutes=i)
            yield ls.Event(f"c{i % 100}", ("email.opened", "page.viewed")[i % 2], at)


def test_score_memory_does_not_grow_with_the_number_of_events():
    """score() streams a re-readable input: 8x the events, not 8x the memory."""
    model = ScoringModel(
        "m", [Rule("email.opened", 1)], aging=ls.AgingPolicy.expire_after(days=90)
    )
    assert compile_model(model).strategy.score is Path.STREAM
    as_of = T0 + dt.timedelta(days=400)
    small = _peak_bytes(model, _Generated(5_000), as_of)
    large = _peak_bytes(model, _Generated(40_000), as_of)
    assert ls.score(model, _Generated(40_000), as_of)["c0"] == 0.0
    assert ls.score(model, _Generated(40_000), T0 + dt.timedelta(days=1))["c0"] > 0
    # 35,000 more events would hold more than 5 MB if they were kept (about 150
    # bytes each); the streaming pass keeps one entry per contact.
    assert large < small + 100_000, (small, large)


def test_group_limits_and_subjects_are_scored_in_one_stream(monkeypatch):
    """A group with a limit is a combine step; a subject picks whose totals grow."""
    model = ls.ScoringModel(
        "m",
        [
            ls.Rule("form.submitted", 10, group="forms"),
            ls.Rule("page.viewed", 1, group="web"),
        ],
        groups=[ls.Group("forms", limit=15), ls.Group("web")],
        subject="company",
    )
    strategy = compile_model(model).strategy
    assert (strategy.score, strategy.reads) == (Path.STREAM, Path.KERNEL)
    stream = Spy(monkeypatch, _fold, "stream_scores")
    events = [
        ls.Event(c, "form.submitted", T0 + dt.timedelta(hours=h), {"company": "acme"})
        for h, c in enumerate(("ann", "bob"))
    ]
    assert {"acme": 15.0} == ls.score(model, events, AS_OF)
    assert stream.calls == 1


def test_a_groups_once_per_is_kept_in_the_stream(monkeypatch):
    """The latest event per key among the group's rules counts for each it matches."""
    model = ls.ScoringModel(
        "m",
        [
            ls.Rule("email.opened", 1, group="email"),
            ls.Rule("email.clicked", 3, group="email"),
        ],
        groups=[ls.Group("email", once_per="message")],
    )
    strategy = compile_model(model).strategy
    assert (strategy.score, strategy.reads) == (Path.STREAM, Path.GENERAL)
    stream = Spy(monkeypatch, _fold, "stream_scores")
    events = [
        ls.Event("ann", "email.opened", T0, {"message": "m1"}),
        ls.Event("ann", "email.clicked", T0 + dt.timedelta(hours=1), {"message": "m1"}),
        ls.Event("ann", "email.opened", T0 + dt.timedelta(hours=2), {"message": "m2"}),
    ]
    assert {"ann": 4.0} == ls.score(model, events, AS_OF)
    assert stream.calls == 1
