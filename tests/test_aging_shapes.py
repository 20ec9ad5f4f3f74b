"""The inverse and step decay shapes: weights, boundaries, order, config, timelines."""

from __future__ import annotations

import datetime as dt
import itertools
import math

import attrs
import pytest
from dateutil.relativedelta import relativedelta
from hypothesis import given
from hypothesis import strategies as st

import leadscore as ls
from leadscore import AgingPolicy, config
from leadscore.model._aging import BEYOND_US, breakpoints_us
from leadscore.model._events import to_micros
from leadscore.model._limits import MAX_DAYS, MAX_MONTHS, MAX_STEPS
from leadscore.model._steps import Step, is_later, shortest_gap
from leadscore.plan._strategy import SUPPORTS, Path, choose, features
from leadscore.strategies import aging_policies, event_lists, instants, models

from . import reference

UTC = dt.UTC
US = dt.timedelta(microseconds=1)
DAY = dt.timedelta(days=1)
T0 = dt.datetime(2024, 8, 31, 12, tzinfo=UTC)
MONTH, TWO_MONTHS = relativedelta(months=1), relativedelta(months=2)
#: HubSpot's "-25 % after a month, -50 % after two".
HUBSPOT = AgingPolicy.steps([(MONTH, 0.75), (TWO_MONTHS, 0.5)])


def shapes():
    """Drawn inverse and steps policies."""
    return aging_policies(kinds={"inverse", "steps"})


# -- inverse -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("age", "expected"),
    [
        (dt.timedelta(0), 1.0),  # 1 / (1 + 0)
        (dt.timedelta(days=30), 0.5),  # age = period: 1 / (1 + 1)
        (dt.timedelta(days=90), 0.25),  # 1 / (1 + 3)
        (dt.timedelta(days=15), 1 / 1.5),
    ],
)
def test_inverse_is_one_over_one_plus_age_over_period(age, expected):
    """inverse(30 days): 1 at age 0, 1/2 at age 30 days, 1/4 at 90 days.

    Seed 002: "The relevancy of an action to the current score is inversely
    proportional to the action's age." DESIGN: ``1 / (1 + age / period)``.
    """
    assert expected == AgingPolicy.inverse(days=30).weight(T0, T0 + age)


def test_inverse_is_continuous_to_the_microsecond():
    """Age is as_of - at, continuous: one microsecond already weighs less than 1."""
    policy = AgingPolicy.inverse(dt.timedelta(microseconds=2))
    assert [1.0, 1 / 1.5, 0.5] == [policy.weight(T0, T0 + k * US) for k in range(3)]


@given(st.integers(1, MAX_DAYS), instants(), st.integers(0, 10**15))
def test_inverse_decreases_and_never_reaches_zero(days, at, age_us):
    """Older points weigh less, and no point ever weighs 0."""
    policy = AgingPolicy.inverse(days=days)
    age = dt.timedelta(microseconds=age_us)
    w = policy.weight(at, at + age)
    assert 0.0 < w <= 1.0
    assert policy.weight(at, at + age + DAY) < w
    assert policy.expires_at(at) is None
    assert breakpoints_us(policy) is None


# -- steps: weights and boundaries --------------------------------------------------


def test_a_step_begins_exactly_at_at_plus_after():
    """Weight 1 until at + after_1; weight_i from at + after_i (inclusive) on."""
    policy = AgingPolicy.steps([(dt.timedelta(days=10), 0.6), (20 * DAY, 0.2)])
    ages = [10 * DAY - US, 10 * DAY, 20 * DAY - US, 20 * DAY, 10_000 * DAY]
    assert [1.0, 0.6, 0.6, 0.2, 0.2] == [policy.weight(T0, T0 + a) for a in ages]


@pytest.mark.parametrize(
    ("at", "first", "second"),
    [
        # Aug 31 + 1 month = Sep 30, + 2 months = Oct 31 (relativedelta clips).
        ((2024, 8, 31, 12), (2024, 9, 30, 12), (2024, 10, 31, 12)),
        # Jan 31 + 1 month = Feb 29 in a leap year, + 2 months = Mar 31.
        ((2024, 1, 31, 23), (2024, 2, 29, 23), (2024, 3, 31, 23)),
        # Dec 31 + 1 month = Jan 31, + 2 months = Feb 28 (not a leap year).
        ((2024, 12, 31, 6), (2025, 1, 31, 6), (2025, 2, 28, 6)),
    ],
)
def test_month_steps_follow_relativedelta_across_month_ends(at, first, second):
    """HubSpot's steps begin at at + 1 month and at + 2 months, clipped to month ends."""
    at, first, second = (dt.datetime(*t, tzinfo=UTC) for t in (at, first, second))
    assert first == at + MONTH
    assert second == at + TWO_MONTHS
    weights = [HUBSPOT.weight(at, t) for t in (first - US, first, second - US, second)]
    assert [1.0, 0.75, 0.75, 0.5] == weights


def test_hubspot_scores_lose_a_quarter_then_half():
    """A 20-point form scores 20, then 15 a month later, then 10 two months later."""
    model = ls.ScoringModel("hubspot", [ls.Rule("form.submitted", 20)], aging=HUBSPOT)
    events = [ls.Event("ann", "form.submitted", T0)]
    as_ofs = (T0, T0 + MONTH - US, T0 + MONTH, T0 + TWO_MONTHS, T0 + 3 * TWO_MONTHS)
    scores = [ls.score(model, events, t)["ann"] for t in as_ofs]
    assert [20.0, 20.0, 15.0, 10.0, 10.0] == scores


def test_a_step_to_zero_is_an_expiry():
    """The first step of weight 0 is where the point expires, and it stays 0."""
    policy = AgingPolicy.steps([(MONTH, 0.5), (TWO_MONTHS, 0.0)])
    assert T0 + TWO_MONTHS == policy.expires_at(T0)
    assert 0.0 == policy.weight(T0, T0 + TWO_MONTHS + 10_000 * DAY)
    assert HUBSPOT.expires_at(T0) is None


@given(shapes(), instants(), instants())
def test_weight_is_the_design_card_formula(policy, at, as_of):
    """weight() is the reference's literal formula, in [0, 1]."""
    expected = reference.weight(policy, at, as_of, 0) if at <= as_of else 0.0
    assert expected == pytest.approx(policy.weight(at, as_of), rel=1e-12, abs=1e-12)


@given(shapes(), instants())
def test_weights_never_rise_with_age(policy, at):
    """Aging a point longer never gives it more weight."""
    ages = [k * 7 * DAY for k in range(60)]
    weights = [policy.weight(at, at + age) for age in ages]
    assert weights == sorted(weights, reverse=True)


# -- steps: order of the steps ------------------------------------------------------


@given(aging_policies(kinds={"steps"}), instants())
def test_steps_begin_in_order_for_every_event_time(policy, at):
    """Every accepted schedule's steps begin strictly one after another."""
    begins = [at + relativedelta(months=m) + p for m, p, _ in policy.schedule]
    assert all(a < b for a, b in itertools.pairwise(begins))


#: Event times at the start and at the ends of every month of 2001-2004 (a
#: leap year among three others): where calendar months are shortest and longest.
_STARTS = [
    dt.datetime(year, month, day, tzinfo=UTC)
    for year, month in itertools.product(range(2001, 2005), range(1, 13))
    for day in (1, 27, 28, 29, 30, 31)
    if day <= (dt.date(year + month // 12, month % 12 + 1, 1) - dt.timedelta(1)).day
]
_AFTERS = [
    (m, dt.timedelta(days=d))
    for m in range(3)
    for d in (0, 1, 27, 28, 29, 30, 31, 32, 58, 59, 60, 61, 62)
    if m or d
]


def test_a_schedule_is_accepted_exactly_when_its_order_holds_at_every_start():
    """is_later is the literal check "later for every at", no looser, no stricter."""
    begins = {
        after: [t + relativedelta(months=after[0]) + after[1] for t in _STARTS]
        for after in _AFTERS
    }
    for first, second in itertools.product(_AFTERS, repeat=2):
        literal = all(a < b for a, b in zip(begins[first], begins[second], strict=True))
        assert literal == is_later(Step(*first, 1.0), Step(*second, 1.0))


@pytest.mark.parametrize(("m1", "m2"), [(0, 48), (0, 1200), (13, 14), (0, 4800)])
def test_the_shortest_gap_is_attained(m1, m2):
    """The shortest gap between two month counts happens at the returned instant."""
    gap, at = shortest_gap(m1, m2)
    assert dt.timedelta(days=gap) == (
        at + relativedelta(months=m2) - (at + relativedelta(months=m1))
    )


def test_four_years_across_a_century_are_a_day_short():
    """48 months from Mar 2096 skip Feb 29, 2100: 1,460 days, not 1,461."""
    assert 1460 == shortest_gap(0, 48)[0]


@pytest.mark.parametrize(
    ("steps", "ok"),
    [
        ([(dt.timedelta(days=14), 0.9), (MONTH, 0.5)], True),  # a month >= 28 days
        ([(dt.timedelta(days=30), 0.9), (TWO_MONTHS, 0.5)], True),  # >= 59 days
        ([(relativedelta(months=1, days=5), 0.9), (TWO_MONTHS, 0.5)], True),
        ([(MONTH, 0.9), (dt.timedelta(days=32), 0.5)], True),  # a month <= 31 days
        ([(MONTH, 0.9), (dt.timedelta(days=31), 0.5)], False),  # Jan 1: both Feb 1
        ([(MONTH, 0.9), (dt.timedelta(days=30), 0.5)], False),  # Jan 1: Feb 1 > Jan 31
        ([(dt.timedelta(days=28), 0.9), (MONTH, 0.5)], False),  # Jan 31: Feb 28
    ],
)
def test_months_and_days_mix_when_the_order_is_certain(steps, ok):
    """A month is 28 to 31 days: mixed steps are accepted only if always in order."""
    if ok:
        assert "steps" == AgingPolicy.steps(steps).kind
    else:
        with pytest.raises(ls.InvalidModelError) as info:
            AgingPolicy.steps(steps)
        assert ("steps[1].after", steps[1][0]) == (info.value.path, info.value.value)


# -- steps and inverse: value semantics -------------------------------------------


def test_equal_schedules_are_equal_whatever_the_spelling():
    """A timedelta or relativedelta of the same days, int or float: one policy."""
    a = AgingPolicy.steps([(dt.timedelta(days=30), 1), (relativedelta(years=1), 0)])
    b = AgingPolicy.steps(
        [(relativedelta(days=30), 1.0), (relativedelta(months=12), 0)]
    )
    assert a == b
    assert hash(a) == hash(b)
    assert a != AgingPolicy.steps([(dt.timedelta(days=30), 1), (MONTH * 13, 0)])
    assert AgingPolicy.inverse(weeks=1) == AgingPolicy.inverse(days=7)
    assert AgingPolicy.inverse(days=7) != AgingPolicy.half_life(days=7)


def test_a_policy_cannot_be_changed():
    """Frozen: the schedule cannot be replaced or mutated."""
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        HUBSPOT.schedule = ()  # type: ignore[misc]
    assert isinstance(HUBSPOT.schedule, tuple)


@pytest.mark.parametrize(
    ("policy", "text"),
    [
        (AgingPolicy.inverse(days=30), "AgingPolicy.inverse(days=30)"),
        (
            AgingPolicy.inverse(dt.timedelta(hours=12)),
            "AgingPolicy.inverse(period=datetime.timedelta(seconds=43200))",
        ),
        (
            HUBSPOT,
            (
                "AgingPolicy.steps([(relativedelta(months=1), 0.75), "
                "(relativedelta(months=2), 0.5)])"
            ),
        ),
        (
            AgingPolicy.steps(
                [(dt.timedelta(hours=1), 0.5), (relativedelta(months=1, hours=1), 0)]
            ),
            (
                "AgingPolicy.steps([(datetime.timedelta(seconds=3600), 0.5), "
                "(relativedelta(months=1, seconds=3600), 0.0)])"
            ),
        ),
    ],
)
def test_repr_is_the_named_constructor_call(policy, text):
    """The repr is the code that builds the policy."""
    assert text == repr(policy)


@given(shapes())
def test_repr_evaluates_to_an_equal_policy(policy):
    """eval(repr(p)) == p, with relativedelta and datetime in scope."""
    scope = {"AgingPolicy": AgingPolicy, "relativedelta": relativedelta, "datetime": dt}
    assert policy == eval(repr(policy), scope)  # noqa: S307


@given(aging_policies(adversarial=True))
def test_every_policys_repr_evaluates_to_an_equal_policy(policy):
    """Every kind, at the limits too: linear's span is ``over``, not ``period``."""
    scope = {"AgingPolicy": AgingPolicy, "relativedelta": relativedelta, "datetime": dt}
    assert policy == eval(repr(policy), scope)  # noqa: S307


# -- errors ---------------------------------------------------------------------------

NAN = float("nan")


@pytest.mark.parametrize(
    ("make", "path", "value"),
    [
        (lambda: AgingPolicy.steps([]), "steps", []),
        (lambda: AgingPolicy.steps(5), "steps", 5),
        (lambda: AgingPolicy.steps("30 days"), "steps", "30 days"),
        (lambda: AgingPolicy.steps([(MONTH, 0.5, 1)]), "steps[0]", (MONTH, 0.5, 1)),
        (lambda: AgingPolicy.steps([(MONTH, 1.5)]), "steps[0].weight", 1.5),
        (lambda: AgingPolicy.steps([(MONTH, -0.1)]), "steps[0].weight", -0.1),
        (lambda: AgingPolicy.steps([(MONTH, True)]), "steps[0].weight", True),
        (lambda: AgingPolicy.steps([(MONTH, "½")]), "steps[0].weight", "½"),
        (
            lambda: AgingPolicy.steps([(DAY, 0.5), (2 * DAY, 0.75)]),
            "steps[1].weight",
            0.75,
        ),
        (lambda: AgingPolicy.steps([(DAY, 0.5), (DAY, 0.25)]), "steps[1].after", DAY),
        (
            lambda: AgingPolicy.steps([(TWO_MONTHS, 0.5), (MONTH, 0.25)]),
            "steps[1].after",
            MONTH,
        ),
        (lambda: AgingPolicy.steps([("30 days", 0.5)]), "steps[0].after", "30 days"),
        (lambda: AgingPolicy.steps([(30, 0.5)]), "steps[0].after", 30),
        (lambda: AgingPolicy.steps([(-DAY, 0.5)]), "steps[0].after", -DAY),
        (
            lambda: AgingPolicy.steps([(dt.timedelta(0), 0.5)]),
            "steps[0].after",
            dt.timedelta(0),
        ),
        (
            lambda: AgingPolicy.steps([(relativedelta(day=31), 0.5)]),
            "steps[0].after",
            relativedelta(day=31),
        ),
        (
            lambda: AgingPolicy.steps([(relativedelta(months=1, days=-1), 0.5)]),
            "steps[0].after",
            relativedelta(months=1, days=-1),
        ),
        (
            lambda: AgingPolicy.steps([(relativedelta(months=MAX_MONTHS + 1), 0.5)]),
            "steps[0].after",
            relativedelta(months=MAX_MONTHS + 1),
        ),
        (
            lambda: AgingPolicy.steps([(dt.timedelta(days=MAX_DAYS + 1), 0.5)]),
            "steps[0].after",
            dt.timedelta(days=MAX_DAYS + 1),
        ),
        (
            lambda: AgingPolicy.steps(
                [(k * DAY, 0.5) for k in range(1, MAX_STEPS + 2)]
            ),
            "steps",
            MAX_STEPS + 1,
        ),
        (AgingPolicy.inverse, "period", dt.timedelta(0)),
        (lambda: AgingPolicy.inverse(days=-1), "period", -DAY),
        (lambda: AgingPolicy.inverse(days=NAN), "days", None),
        (lambda: AgingPolicy.inverse("7 days"), "period", "7 days"),
        (lambda: AgingPolicy.inverse(days=MAX_DAYS + 1), "days", MAX_DAYS + 1),
        (lambda: AgingPolicy("steps"), "steps", ()),
        (
            lambda: AgingPolicy("half_life", period=DAY, schedule=HUBSPOT.schedule),
            "steps",
            HUBSPOT.schedule,
        ),
        (lambda: AgingPolicy("steps", schedule=((1, DAY),)), "steps[0]", (1, DAY)),
    ],
)
def test_bad_shapes_name_the_field_and_value(make, path, value):
    """InvalidModelError (a ValueError) names the step and field, and the value."""
    with pytest.raises(ls.InvalidModelError) as info:
        make()
    assert isinstance(info.value, ValueError)
    assert path == info.value.path
    if value is not None:
        assert value == info.value.value
    assert len(str(info.value)) < 600


def test_an_endless_list_of_steps_is_refused():
    """An endless iterable is read only up to the limit, then refused."""
    endless = ((k * DAY, 0.5) for k in itertools.count(1))
    with pytest.raises(ls.InvalidModelError, match=f"at most {MAX_STEPS} steps"):
        AgingPolicy.steps(endless)


def test_an_order_error_shows_an_event_time_where_it_breaks():
    """The message names an event time at which the steps come out of order."""
    with pytest.raises(ls.InvalidModelError) as info:
        AgingPolicy.steps([(MONTH, 0.9), (dt.timedelta(days=30), 0.5)])
    message = str(info.value)
    assert "for every event time" in message
    assert "2000-01-01T00:00:00+00:00" in message  # Jan 1 + 1 month = Feb 1 > Jan 31


# -- models as data -------------------------------------------------------------------


@given(shapes())
def test_aging_dict_round_trip_is_lossless(policy):
    """aging_from_dict(aging_to_dict(p)) == p, through JSON too."""
    data = config.aging_to_dict(policy)
    assert policy == config.aging_from_dict(data)
    model = ls.ScoringModel("m", [ls.Rule("k", 1, aging=policy)], aging=policy)
    assert model == config.from_json(config.to_json(model))


def test_steps_are_written_as_a_list_of_tables():
    """Each step: its non-zero months and period keys, and its weight."""
    policy = AgingPolicy.steps([(dt.timedelta(days=14), 0.9), (TWO_MONTHS, 0.5)])
    assert {
        "policy": "steps",
        "steps": [{"days": 14, "weight": 0.9}, {"months": 2, "weight": 0.5}],
    } == config.aging_to_dict(policy)
    assert {"policy": "inverse", "days": 30} == config.aging_to_dict(
        AgingPolicy.inverse(days=30)
    )


def test_a_toml_model_with_steps_loads(tmp_path):
    """HubSpot's steps in a TOML file: the same model as built in Python."""
    path = tmp_path / "hubspot.toml"
    path.write_text(
        'name = "hubspot"\n'
        'aging = { policy = "steps", steps = [\n'
        "  { months = 1, weight = 0.75 },\n"
        "  { months = 2, weight = 0.5 },\n"
        "] }\n"
        "[[rules]]\n"
        'kind = "form.submitted"\n'
        "points = 20\n"
        'aging = { policy = "inverse", weeks = 2 }\n',
        encoding="utf-8",
    )
    expected = ls.ScoringModel(
        "hubspot",
        [ls.Rule("form.submitted", 20, aging=AgingPolicy.inverse(days=14))],
        aging=HUBSPOT,
    )
    assert expected == config.load(path)


def _steps(*items):
    return {
        "name": "m",
        "rules": [],
        "aging": {"policy": "steps", "steps": list(items)},
    }


@pytest.mark.parametrize(
    ("data", "path", "value"),
    [
        (_steps(), "aging.steps", []),
        (_steps({"months": 1, "weight": 1.5}), "aging.steps[0].weight", 1.5),
        (
            _steps({"months": 1, "weight": 0.75}, {"months": 2, "weight": 2}),
            "aging.steps[1].weight",
            2,
        ),
        (_steps({"months": 1}), "aging.steps[0].weight", None),
        (_steps({"months": 1, "weight": "0.5"}), "aging.steps[0].weight", "0.5"),
        (_steps({"months": -1, "weight": 0.5}), "aging.steps[0].months", -1),
        (_steps({"months": 1.5, "weight": 0.5}), "aging.steps[0].months", 1.5),
        (_steps({"days": 4e5, "weight": 0.5}), "aging.steps[0].days", 4e5),
        (_steps({"days": -1, "weight": 0.5}), "aging.steps[0].days", -1),
        (_steps({"weight": 0.5}), "aging.steps[0]", {"weight": 0.5}),
        (_steps({"month": 1, "weight": 0.5}), "aging.steps[0].month", "month"),
        (
            _steps({"months": 1, "weight": 0.5}, {"days": 30, "weight": 0.25}),
            "aging.steps[1]",
            {"days": 30, "weight": 0.25},
        ),
        (
            _steps({"days": 2, "weight": 0.5}, {"days": 1, "weight": 0.25}),
            "aging.steps[1]",
            {"days": 1, "weight": 0.25},
        ),
        (_steps(0.5), "aging.steps[0]", 0.5),
        (
            {
                "name": "m",
                "rules": [],
                "aging": {"policy": "steps", "steps": "1 month"},
            },
            "aging.steps",
            "1 month",
        ),
        (
            {"name": "m", "rules": [], "aging": {"policy": "steps"}},
            "aging.steps",
            (),
        ),
        (
            {"name": "m", "rules": [], "aging": {"policy": "steps", "months": 1}},
            "aging.months",
            1,
        ),
        (
            {
                "name": "m",
                "rules": [],
                "aging": {
                    "policy": "half_life",
                    "days": 1,
                    "steps": [{"days": 1, "weight": 0.5}],
                },
            },
            "aging.steps",
            [{"days": 1, "weight": 0.5}],
        ),
        (
            {"name": "m", "rules": [], "aging": {"policy": "inverse"}},
            "aging",
            {},
        ),
        (
            {"name": "m", "rules": [], "aging": {"policy": "inverse", "days": 0}},
            "aging.days",
            0,
        ),
        (
            {
                "name": "m",
                "rules": [
                    {
                        "kind": "k",
                        "points": 1,
                        "aging": {"policy": "steps", "steps": [{"weight": -1}]},
                    }
                ],
            },
            "rules[0].aging.steps[0].weight",
            -1,
        ),
    ],
)
def test_bad_documents_name_the_key_path_and_value(data, path, value):
    """A bad step in a document names its key path (aging.steps[1].weight)."""
    with pytest.raises(ls.InvalidModelError) as info:
        config.model_from_dict(data)
    assert (path, value) == (info.value.path, info.value.value)


# -- timelines and crossings ------------------------------------------------------------


def test_a_timeline_has_a_point_at_every_step():
    """The score changes at at + 1 month and at + 2 months: both are points."""
    model = ls.ScoringModel("hubspot", [ls.Rule("form.submitted", 20)], aging=HUBSPOT)
    events = [ls.Event("ann", "form.submitted", T0)]
    assert [
        (T0, 20.0),
        (T0 + MONTH, 15.0),
        (T0 + TWO_MONTHS, 10.0),
    ] == ls.timeline(model, events, "ann")
    assert [("up", T0), ("down", T0 + TWO_MONTHS)] == [
        (c.direction, c.at) for c in ls.crossings(model, events, 12, first_only=False)
    ]


def test_an_inverse_score_falls_below_half_just_after_one_period():
    """10 points under inverse(10 days) are 5 (still reached) at 10 days, less after."""
    model = ls.ScoringModel(
        "m", [ls.Rule("form.submitted", 10)], aging=AgingPolicy.inverse(days=10)
    )
    events = [ls.Event("ann", "form.submitted", T0)]
    found = ls.crossings(model, events, 5, first_only=False)
    second = dt.timedelta(seconds=1)
    assert [("up", T0), ("down", T0 + 10 * DAY + second)] == [
        (c.direction, c.at) for c in found
    ]


def _with_aging(model, policy, rule_policies):
    rules = tuple(
        attrs.evolve(r, aging=p)
        for r, p in zip(model.rules, rule_policies, strict=False)
    )
    return attrs.evolve(model, rules=rules, aging=policy)


def step_shaped_models():
    """Models whose every policy is a step schedule (or never)."""
    policy = aging_policies(kinds={"steps"})
    return st.builds(
        _with_aging,
        models(),
        policy,
        st.lists(st.none() | policy, min_size=4, max_size=4),
    )


CONTACTS = st.sampled_from(("ann", "bob", "cy"))


@given(step_shaped_models(), event_lists(), CONTACTS, instants(days=500))
def test_a_step_timeline_is_the_score_at_every_instant(model, events, contact, when):
    """Between timeline points a step-aged score stays where the last point put it."""
    points = ls.timeline(model, events, contact)
    before = [v for t, v in points if t <= when]
    reported = ls.score(model, events, when)
    if contact in reported:
        assert before, "a reported contact has a point at or before as_of"
        assert math.isclose(before[-1], reported[contact], rel_tol=1e-9, abs_tol=1e-9)


@given(step_shaped_models(), event_lists(), st.sampled_from((2.0, 5.0, 12.0)))
def test_step_crossings_agree_with_the_timeline(model, events, threshold):
    """first_only=False lists exactly the timeline's passes over the threshold."""
    found = ls.crossings(model, events, threshold, first_only=False)
    for contact in {e.contact for e in events}:
        expected, previous = [], model.clamp(model.initial)
        for when, value in ls.timeline(model, events, contact):
            if (previous >= threshold) != (value >= threshold):
                expected.append((when, "up" if value >= threshold else "down"))
            previous = value
        assert expected == [(c.at, c.direction) for c in found if c.contact == contact]


@given(aging_policies(adversarial=True), instants())
def test_breakpoints_are_the_instants_where_the_weight_jumps(policy, at):
    """Each breakpoint changes the weight (or ends linear drift); none is missed."""
    breaks = breakpoints_us(policy)
    at_us = to_micros(at)
    found = [] if breaks is None else list(breaks(at_us))
    assert found == sorted(set(found))
    assert all(at_us < t < BEYOND_US for t in found)
    if policy.kind == "steps":
        literal = []
        previous = 1.0
        for months, period, weight in policy.schedule:
            try:
                begins = at + relativedelta(months=months) + period
            except (OverflowError, ValueError):
                break
            if weight != previous:
                literal.append(to_micros(begins))
            previous = weight
        assert literal == found


# -- the plan --------------------------------------------------------------------------


@pytest.mark.parametrize("policy", [AgingPolicy.inverse(days=3), HUBSPOT])
def test_the_new_shapes_stream_and_cross_by_rescoring(policy):
    """Inverse and steps weigh by their kernel in the stream; no sweep knows them."""
    model = ls.ScoringModel("m", [ls.Rule("k", 1)], aging=policy)
    assert f"aging.{policy.kind}" in features(model)
    assert f"aging.{policy.kind}" in SUPPORTS[Path.STREAM]
    assert f"aging.{policy.kind}" not in SUPPORTS[Path.COUNT_SWEEP]
    strategy = choose(model)
    assert (Path.STREAM, Path.KERNEL, Path.RESCORE) == (
        strategy.score,
        strategy.reads,
        strategy.crossings,
    )
