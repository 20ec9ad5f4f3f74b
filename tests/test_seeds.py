"""The seed documents' own examples, reproduced with the shipped model files."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

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
# -10 points — contact misses a scheduled appointment"; condition filter: "email
# opened AND campaign name contains 'newsletter'".
HIGHLEVEL_RULES = [
    ("form.submitted", 10),
    ("email.opened", 5),
    ("appointment.booked", 15),
    ("page.viewed", 20),
    ("email.unsubscribed", -5),
    ("appointment.missed", -10),
]


def test_highlevel_model_has_the_seed_rules():
    """The shipped HighLevel model has the seed's triggers and points."""
    model = config.load(MODELS / "highlevel.toml")
    assert HIGHLEVEL_RULES == [(r.kind, r.points) for r in model.rules]


def test_highlevel_rules_with_newsletter_filter_and_negative_points():
    """Only newsletter opens score; misses and unsubscribes take points away."""
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
    assert {"ann": 50.0, "bob": 0.0} == ls.score(model, events, t)
    explained = {
        r.rule.name: r.effective for r in ls.explain(model, events, "ann", t) if r.rule
    }
    assert {
        "Submits a contact form": 10,
        "Opens a newsletter email": 5,
        "Visits the pricing page": 20,
        "Books an appointment": 15,
    } == explained


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
