"""The seed documents' own examples, reproduced with the shipped model files."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import attrs
import pytest

import leadscore as ls
from leadscore import Event, config

#: Every law here holds on every execution path (see leadscore.plan._strategy).
pytestmark = pytest.mark.usefixtures("each_path")

MODELS = Path(__file__).parent.parent / "examples" / "models"
UTC = dt.UTC


def day(y, m, d, h=12):
    return dt.datetime(y, m, d, h, tzinfo=UTC)


# ActiveCampaign (seed 004):
# | Action                           | Score | Expiration |
# | Open an email                    | 1+    | 6 month    |
# | Click an email                   | 5+    | 6 month    |
# | Answer an email                  | 10+   | 6 month    |
# | Visited a sales page             | 20+   | 6 month    |
# | Visited a checkout/purchase page | 20+   | 6 month    |
# | Become a Customer                | 100+  | Never      |
ACTIVECAMPAIGN_TABLE = [
    ("Open an email", 1, "6 month"),
    ("Click an email", 5, "6 month"),
    ("Answer an email", 10, "6 month"),
    ("Visited a sales page", 20, "6 month"),
    ("Visited a checkout/purchase page", 20, "6 month"),
    ("Become a Customer", 100, "Never"),
]


def test_activecampaign_model_is_the_seed_table():
    """The shipped model has the seed's actions, points and expirations."""
    model = config.load(MODELS / "activecampaign.toml")
    six = ls.AgingPolicy.expire_after(months=6)
    expiry = {six: "6 month", ls.AgingPolicy.never(): "Never"}
    actual = [(r.name, r.points, expiry[model.policy(r)]) for r in model.rules]
    assert ACTIVECAMPAIGN_TABLE == actual


def test_activecampaign_points_expire_after_six_calendar_months():
    """Everything but becoming a customer is gone six months later, to the instant."""
    model = config.load(MODELS / "activecampaign.toml")
    t = day(2024, 8, 31)
    events = [
        Event("ann", "email.opened", t),
        Event("ann", "email.clicked", t),
        Event("ann", "email.replied", t),
        Event("ann", "page.viewed", t, {"path": "/sales/enterprise"}),
        Event("ann", "page.viewed", t, {"path": "/checkout/cart"}),
        Event("ann", "order.paid", t, value=49.0),
        Event("ann", "order.paid", day(2024, 9, 2), value=19.0),  # a customer once
    ]
    assert {"ann": 156.0} == ls.score(model, events, day(2024, 9, 30))
    # Aug 31 + 6 months is Feb 28 (2025 is no leap year), at the same hour.
    assert {"ann": 156.0} == ls.score(
        model, events, day(2025, 2, 28) - dt.timedelta(seconds=1)
    )
    assert {"ann": 100.0} == ls.score(model, events, day(2025, 2, 28))
    assert {"ann": 100.0} == ls.score(model, events, day(2030, 1, 1))


# HighLevel (seed 001): "+10 points — contact submits a contact form, +5 points —
# contact opens an email, +15 points — contact books an appointment, +20 points —
# contact visits the pricing page, -5 points — contact unsubscribes from email,
# -10 points — contact misses a scheduled appointment". Each rule as written: the
# open rule has no condition. The condition filter "email opened AND campaign name
# contains 'newsletter'" is a separate example (test_the_newsletter_filter_...).
HIGHLEVEL_RULES = [
    ("form.submitted", 10, None),
    ("email.opened", 5, None),
    ("appointment.booked", 15, None),
    ("page.viewed", 20, ls.where("path", eq="/pricing")),
    ("email.unsubscribed", -5, None),
    ("appointment.missed", -10, None),
]


@pytest.mark.parametrize(
    "load", [lambda: config.load(MODELS / "highlevel.toml"), ls.presets.highlevel]
)
def test_highlevel_model_has_the_seed_rules(load):
    """The shipped HighLevel model has the seed's triggers, points and conditions."""
    model = load()
    assert HIGHLEVEL_RULES == [(r.kind, r.points, r.when) for r in model.rules]


def test_highlevel_every_email_open_scores_five():
    """'+5 points — contact opens an email': any open, whatever its campaign."""
    model = config.load(MODELS / "highlevel.toml")
    t = day(2024, 5, 1)
    events = [
        Event("ann", "email.opened", t, {"campaign": "May newsletter"}),
        Event("bob", "email.opened", t, {"campaign": "Spring promo"}),
        Event("cy", "email.opened", t),
        Event("dee", "email.opened", t, {"message": "m1"}),
        Event("dee", "email.opened", t, {"message": "m2"}),
    ]
    assert {"ann": 5.0, "bob": 5.0, "cy": 5.0, "dee": 10.0} == ls.score(
        model, events, t
    )


def test_highlevel_rules_with_negative_points():
    """Each seed rule adds its points; misses and unsubscribes take points away."""
    model = config.load(MODELS / "highlevel.toml")
    t = day(2024, 5, 1)
    events = [
        Event("ann", "form.submitted", t),
        Event("ann", "email.opened", t, {"campaign": "May newsletter"}),
        Event("ann", "email.opened", t, {"campaign": "Spring promo"}),
        Event("ann", "page.viewed", t, {"path": "/pricing"}),
        Event("ann", "page.viewed", t, {"path": "/blog"}),
        Event("ann", "appointment.booked", t),
        Event("bob", "appointment.booked", t),
        Event("bob", "appointment.missed", t),
        Event("bob", "email.unsubscribed", t),
    ]
    # ann: a form, two opens, the pricing page and a booking; bob: a booking, a
    # missed appointment and an unsubscribe, which cancel out.
    assert {"ann": 55.0, "bob": 0.0} == ls.score(model, events, t)
    explained: dict[str, float] = {}
    for row in ls.explain(model, events, "ann", t):
        if row.rule:
            name = row.rule.name
            explained[name] = explained.get(name, 0.0) + row.effective
    assert {
        "Submits a contact form": 10,
        "Opens an email": 10,
        "Visits the pricing page": 20,
        "Books an appointment": 15,
    } == explained


# "Condition filters (optional) — narrow the rule further, for example "email opened
# AND campaign name contains 'newsletter'"" (the seed's curly quotes made straight):
# the trigger and the condition must both hold.
NEWSLETTER_OPENS = ls.Rule(
    "email.opened",
    5,
    when=ls.where("campaign", contains="newsletter"),
    name="Opens a newsletter email",
)


def test_the_newsletter_filter_needs_an_open_and_a_newsletter_campaign():
    """'email opened AND campaign name contains newsletter': both, or no points."""
    model = ls.ScoringModel("newsletter", [NEWSLETTER_OPENS])
    t = day(2024, 5, 1)
    events = [
        Event("ann", "email.opened", t, {"campaign": "May newsletter"}),  # both
        Event("bob", "email.opened", t, {"campaign": "Spring promo"}),  # no match
        Event("cy", "email.opened", t),  # no campaign name at all
        Event("dee", "email.clicked", t, {"campaign": "May newsletter"}),  # no open
        Event("eve", "page.viewed", t, {"campaign": "newsletter"}),  # no open
    ]
    assert {"ann": 5.0, "bob": 0.0, "cy": 0.0, "dee": 0.0, "eve": 0.0} == ls.score(
        model, events, t
    )


def test_the_newsletter_filter_narrows_the_preset_open_rule():
    """Swapping the filtered rule in narrows opens only; the other rules stay."""
    preset = ls.presets.highlevel()
    rules = [NEWSLETTER_OPENS if r.kind == "email.opened" else r for r in preset.rules]
    narrowed = attrs.evolve(preset, rules=rules)
    t = day(2024, 5, 1)
    events = [
        Event("ann", "email.opened", t, {"campaign": "May newsletter"}),
        Event("ann", "email.opened", t, {"campaign": "Spring promo"}),
        Event("ann", "form.submitted", t),
    ]
    assert {"ann": 20.0} == ls.score(preset, events, t)  # 5 + 5 + 10
    assert {"ann": 15.0} == ls.score(narrowed, events, t)  # 5 + 10


def test_highlevel_scores_decline_when_a_contact_goes_quiet():
    """'a contact who was engaged six months ago ... will see their score decline'."""
    model = config.load(MODELS / "highlevel.toml")
    events = [
        Event("ann", "form.submitted", day(2024, 1, 1)),
        Event("ann", "page.viewed", day(2024, 3, 1), {"path": "/pricing"}),
    ]
    assert {"ann": 30.0} == ls.score(model, events, day(2024, 3, 2))
    assert {"ann": 20.0} == ls.score(model, events, day(2024, 4, 15))
    assert {"ann": 0.0} == ls.score(model, events, day(2024, 7, 1))


def test_highlevel_several_models_side_by_side():
    """Seed 001: several models run side by side, each with its own score."""
    marketing = config.load(MODELS / "highlevel.toml")
    sales = ls.ScoringModel(
        "Sales readiness score",
        [
            ls.Rule("page.viewed", 20, when=ls.where("path", eq="/pricing")),
            ls.Rule("form.submitted", 30, when=ls.where("form", eq="demo request")),
            ls.Rule("email.replied", 10),
        ],
    )
    t = day(2024, 5, 1)
    events = [
        Event("ann", "page.viewed", t, {"path": "/pricing"}),
        Event("ann", "form.submitted", t, {"form": "demo request"}),
    ]
    assert {
        "Marketing engagement score": {"ann": 30.0},
        "Sales readiness score": {"ann": 50.0},
    } == ls.score_many([marketing, sales], events, t)


def test_manual_crm_score_set_adjust_reset():
    """Seed 003/001: edit the score by hand, adjust it, reset it to zero."""
    manual = ls.ScoringModel("Score", [])
    events = [
        Event("ann", "score.set", day(2024, 1, 1), value=7),
        Event("ann", "score.adjusted", day(2024, 2, 1), value=2),
        Event("ann", "score.reset", day(2024, 3, 1)),
        Event("ann", "score.adjusted", day(2024, 3, 2), value=1),
    ]
    assert {"ann": 9.0} == ls.score(manual, events, day(2024, 2, 15))
    assert {"ann": 0.0} == ls.score(manual, events, day(2024, 3, 1))
    assert {"ann": 1.0} == ls.score(manual, events, day(2024, 4, 1))


def test_merged_contacts_keep_the_master_score():
    """Seed 001: 'the master record retains its score' after a merge."""
    model = config.load(MODELS / "highlevel.toml")
    t = day(2024, 5, 1)
    events = [
        Event("ann", "form.submitted", t),
        Event("ann2", "appointment.booked", t),
        Event("ann", "contact.merged", day(2024, 5, 2), {"from": "ann2"}),
    ]
    assert {"ann": 10.0} == ls.score(model, events, day(2024, 5, 3))


def test_models_apply_going_forward_from_activation_or_retroactively():
    """Seed 001: a model applies going forward from activation, or retroactively.

    "By default, scoring models apply to new activity going forward from when the
    model is activated." The pure API says when a model is activated with
    ``active_from``; the same model without it scores history retroactively.
    """
    import attrs

    activated = dt.datetime(2024, 6, 1, tzinfo=dt.UTC)
    live = attrs.evolve(ls.presets.highlevel(), active_from=activated)
    retroactive = attrs.evolve(live, active_from=None)
    events = [
        ls.Event("ann", "form.submitted", activated - dt.timedelta(days=3)),
        ls.Event("ann", "form.submitted", activated + dt.timedelta(days=1)),
        ls.Event("bob", "form.submitted", activated - dt.timedelta(days=3)),
    ]
    as_of = activated + dt.timedelta(days=2)
    assert ls.score(live, events, as_of) == {"ann": 10.0}
    assert ls.score(retroactive, events, as_of) == {"ann": 20.0, "bob": 10.0}
