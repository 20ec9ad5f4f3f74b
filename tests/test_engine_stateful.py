"""A stateful test of the engine against the pure functions.

Random interleavings of ingest (late events included), advance, set_model,
forget, merge, adjust and restart, over a MemoryStore and a SQLite file, and
by two engines taking turns over one SQLite file. After
every step the engine's scores equal :func:`leadscore.score` over the events a
reference keeps; what ``ingest`` reports equals :func:`leadscore.changes` at the
batch's instants; what ``advance`` reports equals :func:`leadscore.changes` and
:func:`leadscore.crossings` in ``(watermark, until]`` away from event instants;
a first-only threshold fires at most once per contact, ever (until the contact
is forgotten: then it is a new contact).
"""

from __future__ import annotations

import datetime as dt
import math
import shutil
import tempfile
from collections import Counter
from pathlib import Path

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

import leadscore as ls
from leadscore import AgingPolicy, Event, Rule, ScoringModel, Threshold
from leadscore.engine import Engine, merged_into
from leadscore.stores import MemoryStore, SQLiteStore

T0 = dt.datetime(2024, 5, 1, tzinfo=dt.UTC)
MINUTE = dt.timedelta(minutes=1)
US = dt.timedelta(microseconds=1)
CONTACTS = ("ann", "bob", "cy", "dee")
MASTERS = ("m1", "m2")
FIRST = Threshold(10, first_only=True)
EVERY = 8.0
DOWN = Threshold(12, direction="down", strict=True)


def model_of(points: int, days: int) -> ScoringModel:
    return ScoringModel(
        "m",
        [
            Rule("a", points),
            Rule("b", -4),
            Rule("c", 6, aging=AgingPolicy.steps([(dt.timedelta(days=1), 0.5)])),
        ],
        aging=AgingPolicy.expire_after(days=days),
    )


def close(a: dict[str, float], b: dict[str, float]) -> bool:
    return a.keys() == b.keys() and all(
        math.isclose(a[k], b[k], abs_tol=1e-9) for k in a
    )


class EngineMachine(RuleBasedStateMachine):
    durable = False
    cache: int | None = 100_000

    def __init__(self) -> None:  # noqa: D107
        super().__init__()
        self.dir = Path(tempfile.mkdtemp(prefix="leadscore-stateful-"))
        self.memory = MemoryStore()
        self.model = model_of(10, 2)
        self.engine = self.open()
        self.reference: list[Event] = []
        self.forgotten: dict[str, dt.datetime] = {}
        self.now = T0
        self.watermark: dt.datetime | None = None
        self.fired: Counter[str] = Counter()
        self.serial = 0

    def open(self) -> Engine:
        store = SQLiteStore(self.dir / "s.db") if self.durable else self.memory
        thresholds = {"m": [FIRST, EVERY, DOWN]}
        return Engine([self.model], store, thresholds=thresholds, cache=self.cache)

    def next_id(self) -> str:
        self.serial += 1
        return f"e{self.serial}"

    # -- what the engine should do -------------------------------------------------

    def owner(self, ledger: ls.Ledger, contact: str, at: dt.datetime) -> str:
        return ledger._owner_us(contact, ls.model._events.to_micros(at))

    def event_instants(self, ledger: ls.Ledger) -> set[tuple[str, dt.datetime]]:
        found = {(self.owner(ledger, e.contact, e.at), e.at) for e in self.reference}
        found |= {
            (str(e.attrs["from"]), e.at)
            for e in self.reference
            if e.kind == ls.CONTACT_MERGED
        }
        return found

    def kept(self, e: Event) -> bool:
        names = [e.contact]
        if e.kind == ls.CONTACT_MERGED:
            names.append(str(e.attrs["from"]))
        return not any(n in self.forgotten and e.at <= self.forgotten[n] for n in names)

    def check_fired(self, reported: ls.engine.Ingested) -> None:
        for _, threshold, crossing in reported.fired:
            if threshold == FIRST:
                assert crossing.direction == "up"
                self.fired[crossing.contact] += 1
                assert self.fired[crossing.contact] == 1, crossing

    def ingested(self, batch: list[Event], reported: ls.engine.Ingested) -> None:
        new = [e for e in batch if self.kept(e)]
        self.reference += new
        ledger = ls.fold(self.model, self.reference)
        pairs = {(self.owner(ledger, e.contact, e.at), e.at) for e in new}
        expected = [
            c
            for c in ls.changes(self.model, self.reference)
            if (c.contact, c.at) in pairs
        ]
        assert expected == list(reported)
        every = [c for name, t, c in reported.fired if t == Threshold.from_value(EVERY)]
        assert [(c.contact, c.at) for c in every] == [
            (c.contact, c.at)
            for c in expected
            if (c.before >= EVERY) != (c.after >= EVERY)
        ]
        self.check_fired(reported)

    # -- rules ---------------------------------------------------------------------

    @rule(
        data=st.lists(
            st.tuples(
                st.sampled_from(CONTACTS),
                st.sampled_from("abc"),
                st.integers(-24 * 60, 3 * 24 * 60),
            ),
            min_size=1,
            max_size=4,
        )
    )
    def ingest(self, data: list[tuple[str, str, int]]) -> None:
        batch = [
            Event(c, k, self.now + m * MINUTE, id=self.next_id()) for c, k, m in data
        ]
        self.ingested(batch, self.engine.ingest(batch))

    @rule(
        contact=st.sampled_from(CONTACTS + MASTERS),
        points=st.sampled_from([-7, 3, 11]),
        minutes=st.integers(-60, 600),
    )
    def adjust(self, contact: str, points: int, minutes: int) -> None:
        at = self.now + minutes * MINUTE
        event = Event(contact, ls.SCORE_ADJUSTED, at, value=points, id=self.next_id())
        self.ingested([event], self.engine.adjust(contact, points, at, id=event.id))

    @rule(
        master=st.sampled_from(MASTERS),
        merged=st.sampled_from(CONTACTS),
        minutes=st.integers(0, 600),
    )
    def merge(self, master: str, merged: str, minutes: int) -> None:
        at = self.now + minutes * MINUTE
        event = Event(
            master, ls.CONTACT_MERGED, at, {"from": merged}, id=self.next_id()
        )
        self.ingested([event], self.engine.merge(master, merged, at, id=event.id))

    @rule(hours=st.integers(0, 4 * 24))
    def advance(self, hours: int) -> None:
        until = self.now + hours * dt.timedelta(hours=1)
        self.now = max(self.now, until - dt.timedelta(hours=12))
        reported = self.engine.advance(until)
        low = self.watermark
        if low is None and self.reference:
            low = min(e.at for e in self.reference)
        if low is None or until <= low:
            assert [] == list(reported)
            self.watermark = until if low is None else low
            return
        self.watermark = until
        ledger = ls.fold(self.model, self.reference)
        events = self.event_instants(ledger)
        expected = [
            c
            for c in ls.changes(self.model, self.reference, start=low + US, until=until)
            if (c.contact, c.at) not in events
        ]
        assert expected == list(reported)
        crossed = [
            (c.contact, c.at, c.direction)
            for c in ls.crossings(
                self.model, self.reference, EVERY, first_only=False, until=until
            )
            if c.at > low and (c.contact, c.at) not in events
        ]
        every = Threshold.from_value(EVERY)
        assert crossed == [
            (c.contact, c.at, c.direction) for _, t, c in reported.fired if t == every
        ]
        self.check_fired(reported)

    @rule(
        points=st.sampled_from([5, 10, 20]), days=st.integers(1, 3), back=st.booleans()
    )
    def set_model(self, points: int, days: int, back: bool) -> None:
        self.model = self.engine.set_model(
            model_of(points, days), retroactive=back, at=self.now
        )

    @rule(contact=st.sampled_from(CONTACTS + MASTERS))
    def forget(self, contact: str) -> None:
        group = merged_into(self.reference, contact)
        erased = [
            e
            for e in self.reference
            if e.contact in group
            or (e.kind == ls.CONTACT_MERGED and e.attrs["from"] in group)
        ]
        for name in group:
            ats = [
                e.at
                for e in erased
                if e.contact == name
                or (e.kind == ls.CONTACT_MERGED and e.attrs["from"] == name)
            ]
            if ats:
                self.forgotten[name] = max([*ats, self.forgotten.get(name, ats[0])])
        self.reference = [e for e in self.reference if e not in erased]
        assert len(erased) == self.engine.forget(contact)
        for name in group:
            self.fired.pop(name, None)

    @rule()
    def restart(self) -> None:
        self.engine.close()
        self.engine = self.open()

    @precondition(lambda self: self.reference)
    @rule(contact=st.sampled_from(CONTACTS + MASTERS))
    def per_contact_reads(self, contact: str) -> None:
        as_of = self.now + dt.timedelta(days=1)
        assert ls.timeline(self.model, self.reference, contact) == self.engine.timeline(
            "m", contact
        )
        assert ls.explain(self.model, self.reference, contact, as_of) == (
            self.engine.explain("m", contact, as_of)
        )
        assert ls.changes(self.model, self.reference, contact) == self.engine.changes(
            "m", contact
        )
        hot = ls.Segment.greater_than("hot", 5)
        expected = ls.segment(self.model, self.reference, hot, as_of)
        assert ([contact] if contact in expected else []) == self.engine.segment(
            "m", hot, as_of, contact=contact
        )

    # -- invariants ----------------------------------------------------------------

    @invariant()
    def scores_equal_the_pure_score(self) -> None:
        self.check_scores(self.engine)

    def check_scores(self, engine: Engine) -> None:
        """*engine* scores everyone as the pure ``score`` does, now and later."""
        for as_of in (self.now, self.now + dt.timedelta(days=5)):
            assert close(
                ls.score(self.model, self.reference, as_of),
                engine.scores("m", as_of),
            )

    def teardown(self) -> None:
        self.engine.close()
        shutil.rmtree(self.dir, ignore_errors=True)


class DurableEngineMachine(EngineMachine):
    durable = True


class SmallCacheEngineMachine(EngineMachine):
    """Two contacts cached at most: eviction, reading back and paged reads."""

    durable = True
    cache = 2


class TwoEngineMachine(EngineMachine):
    """Two engines over one SQLite file, taking turns (as two processes would).

    Each step acts through whichever engine ``swap`` left current; both must
    score like the pure functions after every step, and what either reports
    (ingest, advance, first-only crossings) must be what one engine would:
    the advance watermark and the first-only markers live in the store. After
    ``set_model`` the other engine is reopened with the new models, as the
    engine's docs ask.
    """

    durable = True

    def open(self) -> Engine:
        if getattr(self, "other", None) is not None:
            self.other.close()
        self.other = self._engine_over_the_file([self.model])
        return self._engine_over_the_file([self.model])

    def _engine_over_the_file(self, models: list[ScoringModel]) -> Engine:
        thresholds = {"m": [FIRST, EVERY, DOWN]}
        return Engine(
            models,
            SQLiteStore(self.dir / "s.db"),
            thresholds=thresholds,
            cache=self.cache,
        )

    @rule()
    def swap(self) -> None:
        self.engine, self.other = self.other, self.engine

    @rule(
        points=st.sampled_from([5, 10, 20]), days=st.integers(1, 3), back=st.booleans()
    )
    def set_model(self, points: int, days: int, back: bool) -> None:
        super().set_model(points, days, back)
        self.other.close()
        self.other = self._engine_over_the_file(list(self.engine.models.values()))

    @invariant()
    def the_other_engine_scores_equal_the_pure_score(self) -> None:
        self.check_scores(self.other)

    def teardown(self) -> None:
        self.other.close()
        super().teardown()


TestEngineMachine = EngineMachine.TestCase
TestEngineMachine.settings = settings(
    max_examples=60, stateful_step_count=25, deadline=None
)
TestDurableEngineMachine = DurableEngineMachine.TestCase
TestDurableEngineMachine.settings = settings(
    max_examples=25, stateful_step_count=20, deadline=None
)
TestSmallCacheEngineMachine = SmallCacheEngineMachine.TestCase
TestSmallCacheEngineMachine.settings = settings(
    max_examples=25, stateful_step_count=20, deadline=None
)
TestTwoEngineMachine = TwoEngineMachine.TestCase
TestTwoEngineMachine.settings = settings(
    max_examples=20, stateful_step_count=20, deadline=None
)
