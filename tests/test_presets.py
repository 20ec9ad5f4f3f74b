"""Presets: the email engagement score's calibration, grades, and the seed models."""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

import leadscore as ls
from leadscore import Event, FitRule, config, presets, where
from leadscore.strategies import email_events, instants

STARS = ls.RatingScale.stars()
ENGAGEMENT = presets.email_engagement()
FIRST = dt.datetime(2024, 1, 1, 9, tzinfo=dt.UTC)
# The calibration scenario: one mail a week for ten weeks, scored two weeks after
# the last.
AS_OF = FIRST + dt.timedelta(weeks=9 + 2)
EXAMPLES = Path(__file__).parent.parent / "examples" / "models"


def mails(*, opened=(), clicked=(), bounced=(), complained=(), contact="c"):
    """Ten weekly mails: each delivered (or bounced), maybe opened, clicked, complained."""
    events = [Event(contact, "contact.subscribed", FIRST - dt.timedelta(days=1))]
    for i in range(10):
        sent, msg = FIRST + dt.timedelta(weeks=i), {"message": f"m{i}"}
        if i in bounced:
            events.append(Event(contact, "email.bounced", sent, msg))
            continue
        events.append(Event(contact, "email.delivered", sent, msg))
        for hours, kind, which in (
            (1, "email.opened", opened),
            (2, "email.clicked", clicked),
            (3, "email.complained", complained),
        ):
            if i in which:
                events.append(
                    Event(contact, kind, sent + dt.timedelta(hours=hours), msg)
                )
    return events


def engagement(events, as_of=AS_OF):
    return ls.score(ENGAGEMENT, events, as_of)["c"]


ALL = range(10)


@pytest.mark.parametrize(
    ("scenario", "events", "stars"),
    [
        ("nothing opened", mails(), {2}),
        ("the two latest mails bounced", mails(bounced=(8, 9)), {1}),
        (
            "everything opened but a complaint on the latest",
            mails(opened=ALL, complained=(9,)),
            {1},
        ),
        ("everything opened, nothing clicked", mails(opened=ALL), {3, 4}),
        ("everything opened and clicked", mails(opened=ALL, clicked=ALL), {5}),
    ],
)
def test_calibration_scenarios(scenario, events, stars):
    """The issue's calibration: a weekly mail for ten weeks, scored two weeks later."""
    assert STARS.rate(engagement(events)) in stars, scenario


def test_new_contacts_start_from_two_and_rate_two_stars():
    """Seed 002: "New contacts joining the system are given a score of 2".

    The score starts from 2 (``initial``); subscribing is itself a positive
    action ("we assume that since they have just been subscribed, they are still
    active"), so a new subscriber is 2 stars and a contact known only by a
    delivery scores exactly 2.
    """
    new = ls.score(ENGAGEMENT, [Event("ann", "contact.subscribed", FIRST)], AS_OF)
    assert ENGAGEMENT.initial == 2.0
    assert 2.0 < new["ann"] < 3.0
    assert STARS.rate(new["ann"]) == 2
    delivered = [Event("bob", "email.delivered", FIRST, {"message": "m1"})]
    assert {"bob": 2.0} == ls.score(ENGAGEMENT, delivered, AS_OF)


def _new_contact(*later):
    """A contact who just subscribed, then *later* (kind, message) one day apart."""
    events = [Event("n", "contact.subscribed", FIRST)]
    for day, (kind, message) in enumerate(later, start=1):
        attrs = {} if message is None else {"message": message}
        events.append(Event("n", kind, FIRST + dt.timedelta(days=day), attrs))
    return ls.score(ENGAGEMENT, events, AS_OF)["n"]


def test_one_bounce_is_not_yet_one_star_but_two_bounces_or_a_complaint_are():
    """Seed 002: "The 1-star value is for contacts that have a score less than 2.

    This may be caused by multiple bounces or complaints." A bounce "divides the
    current contact score": one lowers a new contact's score but leaves it at two
    stars; two bounces, or a complaint, take it below 2.
    """
    new = _new_contact()
    one = _new_contact(("email.bounced", "m1"))
    two = _new_contact(("email.bounced", "m1"), ("email.bounced", "m2"))
    complaint = _new_contact(("email.complained", "m1"))
    assert one < new
    assert STARS.rate(one) == 2
    assert STARS.rate(two) == 1
    assert STARS.rate(complaint) == 1


def test_unsubscribing_lowers_the_score():
    """Unsubscribing is a negative action: it divides the score."""
    assert _new_contact(("email.unsubscribed", None)) < _new_contact()
    reader = mails(opened=ALL)
    gone = [*reader, Event("c", "email.unsubscribed", AS_OF - dt.timedelta(days=1))]
    assert engagement(gone) < engagement(reader)


def test_a_contact_that_ignored_fifty_mails_scores_below_a_new_one():
    """Seed 002: the score "decreases with ... unread mails".

    Yet "Inactive contacts may also be rated 2 stars": fifty unread mails rate two
    stars, below a new contact.
    """
    new = _new_contact()
    ignored = _new_contact(*[("email.delivered", f"m{i}") for i in range(50)])
    assert ignored < new
    assert STARS.rate(ignored) == 2 == STARS.rate(new)


def test_only_the_latest_action_on_a_message_counts():
    """Seed 002: "only the latest action on an individual message will be considered".

    A mail opened then clicked counts the click only: exactly as if it had only
    been clicked.
    """
    subscribed = Event("n", "contact.subscribed", FIRST)
    opened = Event("n", "email.opened", FIRST + dt.timedelta(days=1), {"message": "m1"})
    clicked = Event(
        "n", "email.clicked", FIRST + dt.timedelta(days=2), {"message": "m1"}
    )
    both = ls.score(ENGAGEMENT, [subscribed, opened, clicked], AS_OF)
    assert both == ls.score(ENGAGEMENT, [subscribed, clicked], AS_OF)
    assert both != ls.score(ENGAGEMENT, [subscribed, opened], AS_OF)
    rows = ls.explain(
        ENGAGEMENT,
        [
            Event("n", "email.opened", FIRST, {"message": "m1"}),
            Event(
                "n", "email.clicked", FIRST + dt.timedelta(hours=1), {"message": "m1"}
            ),
        ],
        "n",
        AS_OF,
    )
    assert [r.event.kind for r in rows] == ["email.clicked"]


def test_four_opens_of_one_message_count_once():
    """'if a contact opens a particular message four times, it will only count as opened once'."""
    once = [Event("c", "email.opened", FIRST, {"message": "m1"})]
    four = [
        Event("c", "email.opened", FIRST + dt.timedelta(minutes=i), {"message": "m1"})
        for i in range(4)
    ]
    assert engagement(once) == engagement(four)
    assert engagement(once) < engagement(
        [*once, Event("c", "email.opened", FIRST, {"message": "m2"})]
    )


def test_older_engagement_weighs_less_than_recent():
    """Reading the last five mails beats reading the first five."""
    assert engagement(mails(opened=range(5))) < engagement(mails(opened=range(5, 10)))


def test_an_inactive_contact_drifts_back_to_two_stars():
    """Unread mails age old reads away: 'Inactive contacts may also be rated 2 stars'."""
    early = mails(opened=range(2))
    assert 2 == STARS.rate(engagement(early))
    assert engagement(early) > 2.0


def test_a_fresh_bounce_divides_a_readers_score_and_hurts_more_than_an_old_one():
    """A bounce on the latest mail divides by about 1 + its weight; an old one less."""
    reader = engagement(mails(opened=range(9)))
    fresh_divisor = reader / engagement(mails(opened=range(9), bounced=(9,)))
    old_divisor = engagement(mails(opened=range(1, 9))) / engagement(
        mails(opened=range(1, 9), bounced=(0,))
    )
    assert fresh_divisor >= 1 + 0.9 * presets.ENGAGEMENT_WEIGHTS["bounce"]
    # The bounce's own share of the divisor (above 1): at least four times larger.
    assert fresh_divisor - 1 >= 4 * (old_divisor - 1)


def test_forward_and_reply_are_worth_more_than_a_read():
    """Seed 002: a forward (or a reply) is more than a read."""

    def one(kind):
        return engagement([Event("c", kind, FIRST, {"message": "m1"})])

    assert one("email.forwarded") > one("email.opened")
    assert one("email.replied") > one("email.opened")


@given(
    st.lists(email_events(), max_size=40), instants(), st.sampled_from((0.5, 0.9, 1.0))
)
def test_the_ratio_score_is_never_negative_or_nan(events, as_of, factor):
    """Whatever happens, the engagement score is a finite number >= 0."""
    for value in ls.score(
        presets.email_engagement(factor=factor), events, as_of
    ).values():
        assert math.isfinite(value)
        assert value >= 0.0


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (
            lambda: presets.email_engagement(factor=0),
            r"by_count factor must be in \(0, 1\], got 0",
        ),
        (
            lambda: presets.email_engagement(read=-1),
            "read must be a finite number >= 0, got -1",
        ),
        (
            lambda: presets.email_engagement(bounce=math.inf),
            "bounce must be a finite number >= 0, got inf",
        ),
        (lambda: presets.email_engagement(opens=1), "unknown weight 'opens'"),
        (
            lambda: presets.grade([FitRule(where("x", eq=1), 4)]),
            r"rules\[0\].points: a grade moves by",
        ),
        (
            lambda: presets.grade([FitRule(where("x", eq=1), 1, otherwise=0.5)]),
            "got 0.5",
        ),
    ],
)
def test_bad_preset_parameters_raise_invalid_model_error(make, match):
    """Bad preset parameters name the value."""
    with pytest.raises(ls.InvalidModelError, match=match):
        make()


def test_grades_start_at_d_and_move_by_thirds():
    """Pardot-style: D to start; criteria move by a third, two thirds or a letter."""
    grading = presets.grade(
        [
            FitRule(
                where("title", contains="VP"), presets.LETTER, otherwise=-presets.THIRD
            ),
            FitRule(where("employees", ge=500), presets.TWO_THIRDS),
            FitRule(
                where("country", eq="US"), presets.THIRD, otherwise=-presets.LETTER
            ),
        ]
    )
    t = FIRST
    events = [
        Event(
            "vp",
            "profile.updated",
            t,
            {"title": "VP Sales", "employees": 900, "country": "US"},
        ),
        Event("intern", "profile.updated", t, {"title": "Intern", "country": "FR"}),
        Event("new", "page.viewed", t),
    ]
    # vp: +3 +2 +1 = 6 thirds = two letters above D -> B; intern: -1 -3 -> F; new too
    assert {"intern": "F", "new": "F", "vp": "B"} == grading.grades(events, t)
    nobody = presets.grade([])
    assert {"new": "D"} == nobody.grades([Event("new", "page.viewed", t)], t)


@pytest.mark.parametrize(
    ("preset", "file"),
    [
        (presets.highlevel, "highlevel.toml"),
        (presets.activecampaign, "activecampaign.toml"),
    ],
)
def test_presets_equal_the_shipped_model_files(preset, file):
    """The presets and examples/models/*.toml describe the same models."""
    assert preset() == config.load(EXAMPLES / file)


def test_manual_preset_moves_only_by_hand():
    """The manual CRM score: set, adjust, reset."""
    events = [
        Event("ann", "email.opened", FIRST),
        Event("ann", "score.set", FIRST, value=8),
        Event("ann", "score.adjusted", FIRST + dt.timedelta(days=1), value=-3),
    ]
    assert {"ann": 5.0} == ls.score(presets.manual(bounds=(0, 10)), events, AS_OF)


@given(
    st.sampled_from(
        [
            presets.email_engagement(),
            presets.highlevel(),
            presets.activecampaign(),
            presets.manual(),
        ]
    )
)
def test_presets_round_trip(model):
    """Every preset serialises losslessly."""
    assert model == config.from_json(config.to_json(model))
