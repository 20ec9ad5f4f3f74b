"""Benchmark: the pure-path matrix of issue 11, ``score()`` against hand loops.

Run with ``nox -s bench`` (or ``python benchmarks/bench_matrix.py``). Each row is one
model shape, each column a number of events per contact (2, 6, 20, 100). For each
cell the benchmark builds one synthetic stream of pre-built ``Event`` objects
(``--events`` in all, 300,000 by default; fixed seed; distinct instants spread over
2024; about a third of the events of kinds no rule scores; random arrival order),
runs ``leadscore.score(model, events, as_of)`` and the loop a good engineer would
write by hand for that one model over the same ``Event`` objects, checks that both
give the same contacts and scores (1e-9 relative) and reports
``score time / hand time``, best of ``--repeat`` runs of each. Issue 11's target is
at most 2x in every cell.

The hand loops use only the public fields of ``Event`` (``contact``, ``kind``,
``at``, ``attrs``). ``as_of`` is mid-month (2024-12-15 12:00 UTC), so that one
pre-computed cut-off is exact for a 6-month calendar expiry (no month-end clipping
near the cut-off); the check would catch it if it were not. The same holds for
the one-month and two-month cut-offs of the ``steps`` row.

The rows of issue 12's model features (groups, group ``once_per``, ``at_most``,
``subject``, state rules, ``inverse`` and ``steps`` aging) follow the ones of issue
11. Two of them shape their stream: the ``at-most`` row packs its events into two
weeks around the autumn DST change (so that the daily cap binds, and a Paris day
of 25 hours is in it), the ``subject`` row gives most events the ``company`` of
their contact.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import json
import math
import os
import platform
import random
import sys
import time
from bisect import bisect_right
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from dateutil.relativedelta import relativedelta

import leadscore as ls

START = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
SPAN_US = 366 * 86_400 * 1_000_000  # the events' instants: all of 2024
AS_OF = dt.datetime(2024, 12, 15, 12, tzinfo=dt.UTC)  # ~4% of events are later
PER_CONTACT = (2, 6, 20, 100)
OTHER_SHARE = 0.35  # events of kinds that no rule scores
OTHER = ("email.delivered", "tag.added", "profile.updated", "contact.subscribed")

#: The points table of the rows that test aging (as in ``bench_fold.py``).
KINDS: Mapping[str, float] = {
    "email.opened": 1.0,
    "email.clicked": 5.0,
    "email.replied": 10.0,
    "page.viewed": 20.0,
    "order.paid": 100.0,
}
#: How often each scored kind occurs in those rows.
KIND_WEIGHTS: Mapping[str, float] = {
    "email.opened": 8,
    "email.clicked": 4,
    "email.replied": 1,
    "page.viewed": 6,
    "order.paid": 1,
}

Scores = dict[str, float]
HandLoop = Callable[[list[ls.Event], dt.datetime], Scores]
AttrsMaker = Callable[[random.Random, str, int], dict[str, Any]]


# --- the models ------------------------------------------------------------------


def rule_expiry_model() -> ls.ScoringModel:
    """KINDS, each rule with its own 90-day expiry (the model never ages)."""
    aging = ls.AgingPolicy.expire_after(days=90)
    rules = [ls.Rule(k, p, aging=aging) for k, p in KINDS.items()]
    return ls.ScoringModel("rule expiry", rules)


def month_expiry_model() -> ls.ScoringModel:
    """KINDS with a model-level 6-month calendar expiry."""
    rules = [ls.Rule(k, p) for k, p in KINDS.items()]
    aging = ls.AgingPolicy.expire_after(months=6)
    return ls.ScoringModel("month expiry", rules, aging=aging)


def half_life_model() -> ls.ScoringModel:
    """KINDS with a model-level 30-day half-life."""
    rules = [ls.Rule(k, p) for k, p in KINDS.items()]
    return ls.ScoringModel("half-life", rules, aging=ls.AgingPolicy.half_life(days=30))


def by_count_model() -> ls.ScoringModel:
    """KINDS aged by the number of later actions: 0.9 per action."""
    rules = [ls.Rule(k, p) for k, p in KINDS.items()]
    return ls.ScoringModel("by count", rules, aging=ls.AgingPolicy.by_count(0.9))


#: once_per rows: email kinds scored once per message, 90-day model expiry.
ONCE_PER: Mapping[str, float] = {
    "email.opened": 1.0,
    "email.clicked": 5.0,
    "email.replied": 10.0,
}


def once_per_model() -> ls.ScoringModel:
    """Opens, clicks and replies counted once per message, 90-day expiry."""
    rules = [ls.Rule(k, p, once_per="message") for k, p in ONCE_PER.items()]
    aging = ls.AgingPolicy.expire_after(days=90)
    return ls.ScoringModel("once per message", rules, aging=aging)


#: The ratio row: positives over 1 + |negatives|, starting at 2, 90-day expiry.
RATIO: Mapping[str, float] = {
    "email.opened": 1.0,
    "email.clicked": 5.0,
    "email.replied": 10.0,
    "email.bounced": -3.0,
    "email.complained": -10.0,
}
RATIO_WEIGHTS: Mapping[str, float] = {
    "email.opened": 8,
    "email.clicked": 4,
    "email.replied": 1,
    "email.bounced": 2,
    "email.complained": 1,
}


def ratio_model() -> ls.ScoringModel:
    """RATIO combined as a ratio, initial 2, 90-day expiry."""
    rules = [ls.Rule(k, p) for k, p in RATIO.items()]
    return ls.ScoringModel(
        "ratio",
        rules,
        aging=ls.AgingPolicy.expire_after(days=90),
        combine="ratio",
        initial=2.0,
    )


#: The eq row: ``page.viewed`` on path ``/p{i}`` scores i + 1 for i < 50.
EQ_RULES = 50
EQ_PATHS = 70  # paths /p50 ... /p69 match no rule


def eq_model() -> ls.ScoringModel:
    """50 rules on ``page.viewed``, each with ``where("path", eq=f"/p{i}")``."""
    rules = [
        ls.Rule("page.viewed", i + 1, when=ls.where("path", eq=f"/p{i}"))
        for i in range(EQ_RULES)
    ]
    return ls.ScoringModel("50 eq rules", rules)


# --- issue 12: groups, frequency caps, subjects, state rules, decay shapes ------

#: The group-cap row: email rules in a group capped at 25, web rules uncapped.
GROUP_EMAIL: Mapping[str, float] = {
    "email.opened": 1.0,
    "email.clicked": 5.0,
    "email.replied": 10.0,
}
GROUP_WEB: Mapping[str, float] = {"page.viewed": 2.0, "form.submitted": 15.0}
EMAIL_CAP = 25.0


def group_cap_model() -> ls.ScoringModel:
    """GROUP_EMAIL in ``Group("email", limit=25)``, GROUP_WEB in an uncapped group.

    Every rule expires after 90 days (rule-level aging; the model never ages).
    """
    aging = ls.AgingPolicy.expire_after(days=90)
    rules = [ls.Rule(k, p, aging=aging, group="email") for k, p in GROUP_EMAIL.items()]
    rules += [ls.Rule(k, p, aging=aging, group="web") for k, p in GROUP_WEB.items()]
    groups = [ls.Group("email", limit=EMAIL_CAP), ls.Group("web")]
    return ls.ScoringModel("group cap", rules, groups=groups)


def group_once_model() -> ls.ScoringModel:
    """ONCE_PER's rules in ``Group("email", once_per="message")``, 90-day expiry.

    Only the latest action (open, click or reply) on each message counts.
    """
    rules = [ls.Rule(k, p, group="email") for k, p in ONCE_PER.items()]
    return ls.ScoringModel(
        "group once per message",
        rules,
        groups=[ls.Group("email", once_per="message")],
        aging=ls.AgingPolicy.expire_after(days=90),
    )


#: The at-most row: opens capped at 3 a day (Paris days), clicks and views not.
AT_MOST: Mapping[str, float] = {
    "email.opened": 1.0,
    "email.clicked": 5.0,
    "page.viewed": 20.0,
}
AT_MOST_COUNT = 3
PARIS = ZoneInfo("Europe/Paris")
#: The at-most row's stream: two weeks around the end of summer time in Paris
#: (2024-10-27, a day of 25 hours), so that three opens a day is a cap that binds.
AT_MOST_START = dt.datetime(2024, 10, 21, tzinfo=dt.UTC)
AT_MOST_SPAN_US = 14 * 86_400 * 1_000_000


def at_most_model() -> ls.ScoringModel:
    """AT_MOST, opens at most 3 a calendar day in Europe/Paris; never ages."""
    rules = [
        ls.Rule(k, p, at_most=ls.Frequency(AT_MOST_COUNT, "day") if i == 0 else None)
        for i, (k, p) in enumerate(AT_MOST.items())
    ]
    return ls.ScoringModel("at most 3 opens a day", rules, timezone="Europe/Paris")


#: The subject row: this share of events carries ``attrs["company"]``, the
#: company of its contact (COMPANY_SIZE contacts per company).
COMPANY_SHARE = 0.85
COMPANY_SIZE = 3


def subject_model() -> ls.ScoringModel:
    """KINDS scored per ``attrs["company"]``, model-level 90-day expiry."""
    rules = [ls.Rule(k, p) for k, p in KINDS.items()]
    aging = ls.AgingPolicy.expire_after(days=90)
    return ls.ScoringModel("per company", rules, aging=aging, subject="company")


#: The state row: 10 points per list the contact is in, plus two ordinary rules.
LIST_POINTS = 10.0
LISTS = 3
STATE_PLAIN: Mapping[str, float] = {"email.opened": 1.0, "page.viewed": 20.0}


def state_model() -> ls.ScoringModel:
    """A state rule, 10 points per list, and STATE_PLAIN's rules for 90 days.

    ``Rule("list.joined", 10, once_per="list", ended_by="list.left")``; the plain
    rules expire after 90 days (rule-level aging); the model never ages.
    """
    aging = ls.AgingPolicy.expire_after(days=90)
    rules = [
        ls.Rule("list.joined", LIST_POINTS, once_per="list", ended_by="list.left"),
        *(ls.Rule(k, p, aging=aging) for k, p in STATE_PLAIN.items()),
    ]
    return ls.ScoringModel("state rule", rules)


def inverse_model() -> ls.ScoringModel:
    """KINDS with a model-level ``inverse(days=30)``: 1 / (1 + age / 30 days)."""
    rules = [ls.Rule(k, p) for k, p in KINDS.items()]
    return ls.ScoringModel("inverse", rules, aging=ls.AgingPolicy.inverse(days=30))


#: HubSpot's "-25 % after a month, -50 % after two".
STEPS = ((relativedelta(months=1), 0.75), (relativedelta(months=2), 0.5))


def steps_model() -> ls.ScoringModel:
    """KINDS with a model-level ``steps``: 0.75 after a month, 0.5 after two."""
    rules = [ls.Rule(k, p) for k, p in KINDS.items()]
    return ls.ScoringModel("steps", rules, aging=ls.AgingPolicy.steps(STEPS))


# --- the hand loops -------------------------------------------------------------
#
# Each is the loop a good engineer would write for that one model: one pass over
# the events, a dict of totals, everything that does not depend on the event
# computed before the loop. Every contact with an event at or before as_of is
# reported, at the model's initial score when nothing of it counts.


def hand_rule_expiry(events: list[ls.Event], as_of: dt.datetime) -> Scores:
    """Sum KINDS points of events with ``as_of - 90 days < at <= as_of``."""
    points = KINDS
    cutoff = as_of - dt.timedelta(days=90)
    totals: Scores = {}
    for e in events:
        at = e.at
        if at > as_of:
            continue
        c = e.contact
        total = totals.get(c, 0.0)
        if at > cutoff:
            total += points.get(e.kind, 0.0)
        totals[c] = total
    return totals


def hand_month_expiry(events: list[ls.Event], as_of: dt.datetime) -> Scores:
    """Sum KINDS points of events with ``as_of - 6 months < at <= as_of``.

    DESIGN counts a point while ``as_of < at + 6 months``; for a mid-month as_of
    that is exactly ``at > as_of - 6 months`` (no month-end clipping nearby).
    """
    points = KINDS
    cutoff = as_of - relativedelta(months=6)
    totals: Scores = {}
    for e in events:
        at = e.at
        if at > as_of:
            continue
        c = e.contact
        total = totals.get(c, 0.0)
        if at > cutoff:
            total += points.get(e.kind, 0.0)
        totals[c] = total
    return totals


def hand_half_life(events: list[ls.Event], as_of: dt.datetime) -> Scores:
    """Sum KINDS points times ``0.5 ** (age / 30 days)`` of events at <= as_of."""
    points = KINDS
    as_of_s = as_of.timestamp()
    rate = math.log(2) / dt.timedelta(days=30).total_seconds()
    exp = math.exp
    totals: Scores = {}
    for e in events:
        at = e.at
        if at > as_of:
            continue
        c = e.contact
        p = points.get(e.kind)
        if p is None:
            totals.setdefault(c, 0.0)
        else:
            totals[c] = totals.get(c, 0.0) + p * exp(rate * (at.timestamp() - as_of_s))
    return totals


def hand_by_count(events: list[ls.Event], as_of: dt.datetime) -> Scores:
    """Sum KINDS points times ``0.9 ** rank``, rank = later scored events.

    Collects each contact's scored (at, points) pairs, then sorts them newest
    first: the rank of a pair is its index (the instants are distinct).
    """
    points = KINDS
    counted: dict[str, list[tuple[dt.datetime, float]]] = {}
    for e in events:
        at = e.at
        if at > as_of:
            continue
        c = e.contact
        mine = counted.get(c)
        if mine is None:
            mine = counted[c] = []
        p = points.get(e.kind)
        if p is not None:
            mine.append((at, p))
    totals: Scores = {}
    for c, mine in counted.items():
        mine.sort(reverse=True)
        totals[c] = sum(p * 0.9**rank for rank, (_, p) in enumerate(mine))
    return totals


def hand_once_per(events: list[ls.Event], as_of: dt.datetime) -> Scores:
    """Sum ONCE_PER points once per (contact, kind, message) alive at as_of.

    Only the latest matching event at or before as_of counts per key, and it is
    alive when it is within 90 days; that holds exactly when any event of the key
    is in ``(as_of - 90 days, as_of]``, so a set of keys seen in that window does.
    """
    points = ONCE_PER
    cutoff = as_of - dt.timedelta(days=90)
    totals: Scores = {}
    seen: set[tuple[str, str, Any]] = set()
    for e in events:
        at = e.at
        if at > as_of:
            continue
        c = e.contact
        kind = e.kind
        p = points.get(kind)
        if p is not None and at > cutoff:
            key = (c, kind, e.attrs.get("message"))
            if key not in seen:
                seen.add(key)
                totals[c] = totals.get(c, 0.0) + p
                continue
        totals.setdefault(c, 0.0)
    return totals


def hand_ratio(events: list[ls.Event], as_of: dt.datetime) -> Scores:
    """``(2 + positive) / (1 + |negative|)`` of RATIO points alive for 90 days."""
    points = RATIO
    cutoff = as_of - dt.timedelta(days=90)
    positive: Scores = {}
    negative: Scores = {}
    for e in events:
        at = e.at
        if at > as_of:
            continue
        c = e.contact
        if c not in positive:
            positive[c] = negative[c] = 0.0
        p = points.get(e.kind)
        if p is not None and at > cutoff:
            if p > 0:
                positive[c] += p
            else:
                negative[c] -= p
    return {c: (2.0 + pos) / (1.0 + negative[c]) for c, pos in positive.items()}


def hand_eq(events: list[ls.Event], as_of: dt.datetime) -> Scores:
    """Sum, over page views at <= as_of, the points of their path: one lookup."""
    by_path = {f"/p{i}": float(i + 1) for i in range(EQ_RULES)}
    totals: Scores = {}
    for e in events:
        if e.at > as_of:
            continue
        c = e.contact
        total = totals.get(c, 0.0)
        if e.kind == "page.viewed":
            total += by_path.get(e.attrs.get("path"), 0.0)
        totals[c] = total
    return totals


def hand_highlevel(events: list[ls.Event], as_of: dt.datetime) -> Scores:
    """``presets.highlevel()``: its six rules on events of the last 90 days."""
    plain = {
        "form.submitted": 10.0,
        "email.opened": 5.0,
        "appointment.booked": 15.0,
        "email.unsubscribed": -5.0,
        "appointment.missed": -10.0,
    }
    cutoff = as_of - dt.timedelta(days=90)
    totals: Scores = {}
    for e in events:
        at = e.at
        if at > as_of:
            continue
        c = e.contact
        total = totals.get(c, 0.0)
        if at > cutoff:
            kind = e.kind
            p = plain.get(kind)
            if p is not None:
                total += p
            elif kind == "page.viewed" and e.attrs.get("path") == "/pricing":
                total += 20.0
        totals[c] = total
    return totals


def hand_activecampaign(events: list[ls.Event], as_of: dt.datetime) -> Scores:
    """``presets.activecampaign()``: 6-month points, plus 100 once for a purchase.

    Opens, clicks, replies and sales/checkout/purchase page views count while
    younger than 6 months (mid-month as_of: one cut-off is exact); any purchase
    at or before as_of adds 100 once, forever.
    """
    plain = {"email.opened": 1.0, "email.clicked": 5.0, "email.replied": 10.0}
    pages = ("/sales", "/checkout", "/purchase")
    cutoff = as_of - relativedelta(months=6)
    totals: Scores = {}
    customers: set[str] = set()
    for e in events:
        at = e.at
        if at > as_of:
            continue
        c = e.contact
        total = totals.get(c, 0.0)
        kind = e.kind
        if kind == "order.paid":
            customers.add(c)
        elif at > cutoff:
            p = plain.get(kind)
            if p is not None:
                total += p
            elif kind == "page.viewed":
                path = e.attrs.get("path")
                if isinstance(path, str) and path.startswith(pages):
                    total += 20.0
        totals[c] = total
    for c in customers:
        totals[c] += 100.0
    return totals


#: ``presets.email_engagement()``'s points, the attribute each is once per, and
#: what shares that key: the per-message actions are one group (the latest action
#: on a message counts), the other kinds each their own.
ENGAGEMENT: Mapping[str, tuple[float, str | None, str]] = {
    "contact.subscribed": (0.75, None, "contact.subscribed"),
    "email.delivered": (0.0, "message", "email.delivered"),
    "email.opened": (0.4, "message", "message"),
    "email.clicked": (1.0, "message", "message"),
    "email.forwarded": (1.5, "message", "message"),
    "email.replied": (1.5, "message", "message"),
    "email.bounced": (-0.25, "message", "message"),
    "email.complained": (-2.0, "message", "message"),
    "profile.updated": (0.5, None, "profile.updated"),
    "list.invited": (0.5, "list", "list.invited"),
    "email.unsubscribed": (-1.0, None, "email.unsubscribed"),
}


def hand_engagement(events: list[ls.Event], as_of: dt.datetime) -> Scores:
    """``presets.email_engagement()``: latest action per key, aged 0.9 per action.

    Keeps each contact's latest event per (group, message | list | nothing) at or
    before as_of; ranks those newest first (distinct instants: rank = index);
    score = (2 + Σ positive·0.9**rank) / (1 + Σ |negative|·0.9**rank), at least 0.
    """
    rules = ENGAGEMENT
    latest: dict[str, dict[tuple[str, Any], tuple[dt.datetime, float]]] = {}
    for e in events:
        at = e.at
        if at > as_of:
            continue
        c = e.contact
        mine = latest.get(c)
        if mine is None:
            mine = latest[c] = {}
        rule = rules.get(e.kind)
        if rule is None:
            continue
        points, per, shared = rule
        key = (shared, None if per is None else e.attrs.get(per))
        kept = mine.get(key)
        if kept is None or kept[0] < at:
            mine[key] = (at, points)
    totals: Scores = {}
    for c, mine in latest.items():
        positive = negative = 0.0
        for rank, (_, points) in enumerate(sorted(mine.values(), reverse=True)):
            if points >= 0:
                positive += points * 0.9**rank
            else:
                negative -= points * 0.9**rank
        totals[c] = max(0.0, (2.0 + positive) / (1.0 + negative))
    return totals


def hand_group_cap(events: list[ls.Event], as_of: dt.datetime) -> Scores:
    """GROUP_WEB points plus GROUP_EMAIL points capped at 25, for 90 days.

    All points are positive, so the group's cap is ``min(email total, 25)``.
    """
    web, email, cap = GROUP_WEB, GROUP_EMAIL, EMAIL_CAP
    cutoff = as_of - dt.timedelta(days=90)
    totals: Scores = {}
    mail: Scores = {}
    for e in events:
        at = e.at
        if at > as_of:
            continue
        c = e.contact
        total = totals.get(c, 0.0)
        if at > cutoff:
            kind = e.kind
            p = web.get(kind)
            if p is not None:
                total += p
            else:
                p = email.get(kind)
                if p is not None:
                    mail[c] = mail.get(c, 0.0) + p
        totals[c] = total
    for c, m in mail.items():
        totals[c] += min(m, cap)
    return totals


def hand_group_once(events: list[ls.Event], as_of: dt.datetime) -> Scores:
    """ONCE_PER points of the latest email action per (contact, message), 90 days.

    The latest action on a message is alive when it is within 90 days; that holds
    exactly when some action on it is, and then the latest of those in the window
    is the latest of all: events before the cut-off need no look. Relies on the
    stream's distinct instants (no ties to break).
    """
    points = ONCE_PER
    cutoff = as_of - dt.timedelta(days=90)
    totals: Scores = {}
    latest: dict[tuple[str, Any], tuple[dt.datetime, float]] = {}
    for e in events:
        at = e.at
        if at > as_of:
            continue
        c = e.contact
        totals[c] = 0.0
        if at > cutoff:
            p = points.get(e.kind)
            if p is not None:
                key = (c, e.attrs.get("message"))
                kept = latest.get(key)
                if kept is None or kept[0] < at:
                    latest[key] = (at, p)
    for (c, _), (_, p) in latest.items():
        totals[c] += p
    return totals


def paris_midnights() -> list[dt.datetime]:
    """The UTC instants of the Paris midnights from 2023-12-31 to 2025-01-04.

    ``bisect_right(midnights, at)`` numbers the Paris day of any 2024 instant.
    """
    first = dt.date(2023, 12, 31)
    return [
        dt.datetime.combine(first + dt.timedelta(days=i), dt.time(), PARIS).astimezone(
            dt.UTC
        )
        for i in range(371)
    ]


def hand_at_most(events: list[ls.Event], as_of: dt.datetime) -> Scores:
    """AT_MOST points, opens counting at most 3 a Paris calendar day.

    Nothing ages and every open is worth the same, so a day's opens add
    ``min(opens that day, 3)``: which three count does not matter.
    """
    opened, clicked, viewed = AT_MOST.values()
    cap = AT_MOST_COUNT
    midnights = paris_midnights()
    day_of = bisect_right
    totals: Scores = {}
    opens: dict[tuple[str, int], int] = {}
    for e in events:
        at = e.at
        if at > as_of:
            continue
        c = e.contact
        kind = e.kind
        if kind == "email.opened":
            key = (c, day_of(midnights, at))
            opens[key] = opens.get(key, 0) + 1
            totals.setdefault(c, 0.0)
        elif kind == "email.clicked":
            totals[c] = totals.get(c, 0.0) + clicked
        elif kind == "page.viewed":
            totals[c] = totals.get(c, 0.0) + viewed
        else:
            totals.setdefault(c, 0.0)
    for (c, _), n in opens.items():
        totals[c] += opened * min(n, cap)
    return totals


def hand_subject(events: list[ls.Event], as_of: dt.datetime) -> Scores:
    """Sum KINDS points of the last 90 days per ``attrs["company"]``.

    Events without a company are ignored; every company with an event at or
    before as_of is reported.
    """
    points = KINDS
    cutoff = as_of - dt.timedelta(days=90)
    totals: Scores = {}
    for e in events:
        at = e.at
        if at > as_of:
            continue
        s = e.attrs.get("company")
        if s is None:
            continue
        total = totals.get(s, 0.0)
        if at > cutoff:
            total += points.get(e.kind, 0.0)
        totals[s] = total
    return totals


def hand_state(events: list[ls.Event], as_of: dt.datetime) -> Scores:
    """10 points per list joined and not left since, plus STATE_PLAIN for 90 days.

    Keeps the latest join and the latest leave per (contact, list): the list
    counts when the join is later than any leave. Relies on the stream's distinct
    instants (a join and a leave at one instant would need the canonical order).
    """
    plain = STATE_PLAIN
    cutoff = as_of - dt.timedelta(days=90)
    totals: Scores = {}
    joined: dict[tuple[str, Any], dt.datetime] = {}
    left: dict[tuple[str, Any], dt.datetime] = {}
    for e in events:
        at = e.at
        if at > as_of:
            continue
        c = e.contact
        total = totals.get(c, 0.0)
        kind = e.kind
        if kind == "list.joined":
            key = (c, e.attrs.get("list"))
            kept = joined.get(key)
            if kept is None or kept < at:
                joined[key] = at
        elif kind == "list.left":
            key = (c, e.attrs.get("list"))
            kept = left.get(key)
            if kept is None or kept < at:
                left[key] = at
        elif at > cutoff:
            total += plain.get(kind, 0.0)
        totals[c] = total
    for key, at in joined.items():
        gone = left.get(key)
        if gone is None or gone < at:
            totals[key[0]] += LIST_POINTS
    return totals


def hand_inverse(events: list[ls.Event], as_of: dt.datetime) -> Scores:
    """Sum KINDS points times ``1 / (1 + age / 30 days)`` of events at <= as_of."""
    points = KINDS
    as_of_s = as_of.timestamp()
    period_s = dt.timedelta(days=30).total_seconds()
    totals: Scores = {}
    for e in events:
        at = e.at
        if at > as_of:
            continue
        c = e.contact
        p = points.get(e.kind)
        if p is None:
            totals.setdefault(c, 0.0)
        else:
            age = as_of_s - at.timestamp()
            totals[c] = totals.get(c, 0.0) + p * period_s / (period_s + age)
    return totals


def hand_steps(events: list[ls.Event], as_of: dt.datetime) -> Scores:
    """Sum KINDS points times 1, 0.75 from a month on, 0.5 from two months on.

    DESIGN gives weight 0.75 once ``as_of >= at + 1 month``; for a mid-month
    as_of that is exactly ``at <= as_of - 1 month`` (month-end clipping only
    moves instants near the end of a month), and likewise for two months.
    """
    points = KINDS
    one = as_of - relativedelta(months=1)
    two = as_of - relativedelta(months=2)
    totals: Scores = {}
    for e in events:
        at = e.at
        if at > as_of:
            continue
        c = e.contact
        p = points.get(e.kind)
        if p is None:
            totals.setdefault(c, 0.0)
        else:
            if at <= one:
                p *= 0.5 if at <= two else 0.75
            totals[c] = totals.get(c, 0.0) + p
    return totals


# --- the streams ----------------------------------------------------------------


def no_attrs(_rng: random.Random, _kind: str, _per_contact: int) -> dict[str, Any]:
    """No attributes."""
    return {}


def message_attrs(rng: random.Random, kind: str, per_contact: int) -> dict[str, Any]:
    """A message id on email events, from a pool that repeats within a contact."""
    if not kind.startswith("email."):
        return {}
    return {"message": f"m{rng.randrange(max(2, per_contact // 4))}"}


def path_attrs(rng: random.Random, kind: str, _per_contact: int) -> dict[str, Any]:
    """A path ``/p0`` ... ``/p69`` on page views."""
    if kind != "page.viewed":
        return {}
    return {"path": f"/p{rng.randrange(EQ_PATHS)}"}


def preset_attrs(rng: random.Random, kind: str, per_contact: int) -> dict[str, Any]:
    """What the presets' conditions and ``once_per`` keys look at."""
    if kind == "page.viewed":
        path = ("/pricing", "/sales/demo", "/checkout", "/purchase/1", "/blog", "/")
        return {"path": rng.choice(path)}
    if kind == "list.invited":
        return {"list": f"l{rng.randrange(3)}"}
    if kind.startswith("email."):
        campaign = rng.choice(("newsletter-2024", "promo", "weekly newsletter"))
        return {
            "message": f"m{rng.randrange(max(2, per_contact // 4))}",
            "campaign": campaign,
        }
    return {}


def list_attrs(rng: random.Random, kind: str, _per_contact: int) -> dict[str, Any]:
    """A list ``l0`` ... ``l2`` on list joins and leaves."""
    if not kind.startswith("list."):
        return {}
    return {"list": f"l{rng.randrange(LISTS)}"}


@dataclass(frozen=True)
class Row:
    """One model shape of the matrix: its model, hand loop and event mix."""

    key: str
    label: str
    model: Callable[[], ls.ScoringModel]
    hand: HandLoop
    kinds: Mapping[str, float]  # scored kinds -> relative frequency
    attrs: AttrsMaker = no_attrs
    other: tuple[str, ...] = OTHER
    start: dt.datetime = START  # the events' instants: start + [0, span_us)
    span_us: int = SPAN_US
    company: float = 0.0  # share of events with attrs["company"] (of the contact)


ROWS = (
    Row(
        "rule-expiry",
        "rule-level expire_after(days=90)",
        rule_expiry_model,
        hand_rule_expiry,
        KIND_WEIGHTS,
    ),
    Row(
        "month-expiry",
        "model-level expire_after(months=6)",
        month_expiry_model,
        hand_month_expiry,
        KIND_WEIGHTS,
    ),
    Row(
        "half-life",
        "half_life(days=30)",
        half_life_model,
        hand_half_life,
        KIND_WEIGHTS,
    ),
    Row("by-count", "by_count(0.9)", by_count_model, hand_by_count, KIND_WEIGHTS),
    Row(
        "once-per",
        'once_per="message", 90 days',
        once_per_model,
        hand_once_per,
        {"email.opened": 8, "email.clicked": 4, "email.replied": 1},
        message_attrs,
        ("email.delivered", "tag.added", "page.viewed"),
    ),
    Row(
        "ratio",
        'combine="ratio", negatives, 90 days',
        ratio_model,
        hand_ratio,
        RATIO_WEIGHTS,
    ),
    Row(
        "eq-50",
        '50 rules where("path", eq=...)',
        eq_model,
        hand_eq,
        {"page.viewed": 1},
        path_attrs,
    ),
    Row(
        "highlevel",
        "presets.highlevel()",
        ls.presets.highlevel,
        hand_highlevel,
        {
            "form.submitted": 1,
            "email.opened": 8,
            "appointment.booked": 1,
            "page.viewed": 6,
            "email.unsubscribed": 1,
            "appointment.missed": 1,
        },
        preset_attrs,
    ),
    Row(
        "activecampaign",
        "presets.activecampaign()",
        ls.presets.activecampaign,
        hand_activecampaign,
        {
            "email.opened": 8,
            "email.clicked": 4,
            "email.replied": 1,
            "page.viewed": 6,
            "order.paid": 1,
        },
        preset_attrs,
    ),
    Row(
        "engagement",
        "presets.email_engagement()",
        ls.presets.email_engagement,
        hand_engagement,
        {
            "email.delivered": 10,
            "email.opened": 6,
            "email.clicked": 2,
            "email.forwarded": 0.5,
            "email.replied": 0.5,
            "email.bounced": 0.5,
            "email.complained": 0.2,
            "profile.updated": 0.5,
            "list.invited": 0.5,
        },
        preset_attrs,
        ("contact.subscribed", "tag.added", "page.viewed"),
    ),
    Row(
        "group-cap",
        "groups: email limit=25, web uncapped, 90 days",
        group_cap_model,
        hand_group_cap,
        {
            "email.opened": 8,
            "email.clicked": 4,
            "email.replied": 1,
            "page.viewed": 6,
            "form.submitted": 1,
        },
    ),
    Row(
        "group-once",
        'Group(once_per="message"), 90 days',
        group_once_model,
        hand_group_once,
        {"email.opened": 8, "email.clicked": 4, "email.replied": 1},
        message_attrs,
        ("email.delivered", "tag.added", "page.viewed"),
    ),
    Row(
        "at-most",
        'at_most=Frequency(3, "day"), Europe/Paris',
        at_most_model,
        hand_at_most,
        {"email.opened": 12, "email.clicked": 4, "page.viewed": 4},
        start=AT_MOST_START,
        span_us=AT_MOST_SPAN_US,
    ),
    Row(
        "subject",
        'subject="company", 90 days',
        subject_model,
        hand_subject,
        KIND_WEIGHTS,
        company=COMPANY_SHARE,
    ),
    Row(
        "state",
        'state rule ended_by="list.left", 2 plain rules',
        state_model,
        hand_state,
        {"list.joined": 2, "list.left": 1, "email.opened": 8, "page.viewed": 4},
        list_attrs,
    ),
    Row("inverse", "inverse(days=30)", inverse_model, hand_inverse, KIND_WEIGHTS),
    Row(
        "steps",
        "steps: 0.75 after 1 month, 0.5 after 2",
        steps_model,
        hand_steps,
        KIND_WEIGHTS,
    ),
)


def make_events(row: Row, n: int, per_contact: int) -> list[ls.Event]:
    """About *n* events, *per_contact* for each contact, in random order.

    Instants are distinct and uniform over the row's span (2024 unless the row
    says otherwise); OTHER_SHARE of the events are of kinds no rule of the row
    scores. Seeded by the row and the column.
    """
    rng = random.Random(f"{row.key}/{per_contact}")
    contacts = max(1, n // per_contact)
    owners = [f"c{i}" for i in range(contacts) for _ in range(per_contact)]
    rng.shuffle(owners)
    instants = rng.sample(range(row.span_us), len(owners))
    scored, weights = list(row.kinds), list(row.kinds.values())
    events = []
    for contact, us in zip(owners, instants, strict=True):
        if rng.random() < OTHER_SHARE:
            kind = rng.choice(row.other)
        else:
            kind = rng.choices(scored, weights)[0]
        at = row.start + dt.timedelta(microseconds=us)
        attrs = row.attrs(rng, kind, per_contact)
        if row.company and rng.random() < row.company:
            attrs = {**attrs, "company": f"co{int(contact[1:]) // COMPANY_SIZE}"}
        events.append(ls.Event(contact, kind, at, attrs))
    return events


def build_rate(n: int, attrs: Mapping[str, Any] | None) -> float:
    """Events built per second by ``Event(contact, kind, at[, attrs])``."""
    rng = random.Random(0)
    args = [
        (f"c{rng.randrange(n // 6)}", "email.opened", START + dt.timedelta(seconds=i))
        for i in range(n)
    ]
    gc.collect()
    t0 = time.perf_counter()
    if attrs is None:
        built = [ls.Event(c, k, at) for c, k, at in args]
    else:
        built = [ls.Event(c, k, at, attrs) for c, k, at in args]
    elapsed = time.perf_counter() - t0
    del built
    return n / elapsed


# --- measuring ------------------------------------------------------------------


def best_of(
    fns: tuple[Callable[[], Scores], ...], repeat: int
) -> list[tuple[float, Scores]]:
    """The shortest of *repeat* runs of each of *fns*, and its result.

    The functions take turns in each round, so that a busy machine slows them
    alike and the ratio of their times stays meaningful.
    """
    times: list[list[float]] = [[] for _ in fns]
    results: list[Scores] = [{} for _ in fns]
    for _ in range(repeat):
        for i, fn in enumerate(fns):
            gc.collect()
            t0 = time.perf_counter()
            results[i] = fn()
            times[i].append(time.perf_counter() - t0)
    return [(min(t), r) for t, r in zip(times, results, strict=True)]


def check_equal(cell: str, got: Scores, want: Scores) -> None:
    """Fail unless score() and the hand loop agree on contacts and scores."""
    if got.keys() != want.keys():
        extra, missing = got.keys() - want.keys(), want.keys() - got.keys()
        raise AssertionError(
            f"{cell}: contacts differ: {len(extra)} only in score() "
            f"(e.g. {sorted(extra)[:3]}), {len(missing)} only in the hand loop "
            f"(e.g. {sorted(missing)[:3]})"
        )
    bad = [
        c
        for c, v in want.items()
        if not math.isclose(got[c], v, rel_tol=1e-9, abs_tol=1e-12)
    ]
    if bad:
        c = bad[0]
        raise AssertionError(
            f"{cell}: {len(bad)} scores differ, e.g. {c}: score() {got[c]!r}, "
            f"hand loop {want[c]!r}"
        )


def measure(row: Row, n: int, per_contact: int, repeat: int) -> dict[str, Any]:
    """Build one cell's stream, time score() and the hand loop, check them equal."""
    events = make_events(row, n, per_contact)
    model = row.model()
    (hand_s, hand), (score_s, scores) = best_of(
        (lambda: row.hand(events, AS_OF), lambda: ls.score(model, events, AS_OF)),
        repeat,
    )
    check_equal(f"{row.key} x {per_contact}", scores, hand)
    return {
        "row": row.key,
        "model": row.label,
        "per_contact": per_contact,
        "events": len(events),
        "contacts": len(scores),
        "score_s": round(score_s, 4),
        "hand_s": round(hand_s, 4),
        "ratio": round(score_s / hand_s, 2),
        "score_events_per_s": round(len(events) / score_s),
        "hand_events_per_s": round(len(events) / hand_s),
    }


def table(
    rows: Iterable[Row], columns: tuple[int, ...], cells: list[dict[str, Any]]
) -> str:
    """The matrix as a Markdown table: score time / hand time per cell."""
    ratio = {(c["row"], c["per_contact"]): c["ratio"] for c in cells}
    head = "| model | " + " | ".join(f"{k} / contact" for k in columns) + " |"
    lines = [head, "|---|" + "---:|" * len(columns)]
    for row in rows:
        entries = " | ".join(f"{ratio[row.key, k]:.2f}x" for k in columns)
        lines.append(f"| {row.label} | {entries} |")
    return "\n".join(lines)


def main() -> None:
    """Run the matrix, print it and optionally write the figures as JSON."""
    keys = [row.key for row in ROWS]
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--events", type=int, default=300_000, help="events per cell (300,000)"
    )
    parser.add_argument("--repeat", type=int, default=3, help="best of N (3)")
    parser.add_argument("--json", help="write the figures to this file")
    parser.add_argument(
        "--rows", nargs="+", choices=keys, default=keys, help="rows to run (all)"
    )
    parser.add_argument(
        "--per-contact",
        nargs="+",
        type=int,
        default=list(PER_CONTACT),
        help="columns: events per contact (2 6 20 100)",
    )
    args = parser.parse_args()
    if args.events < 1 or args.repeat < 1 or min(args.per_contact) < 1:
        parser.error("--events, --repeat and --per-contact must be at least 1")
    rows = [row for row in ROWS if row.key in args.rows]
    columns = tuple(args.per_contact)

    started = time.perf_counter()
    build = {
        "events_built_per_s": round(build_rate(args.events, None)),
        "events_built_per_s_one_attr": round(
            build_rate(args.events, {"message": "m1"})
        ),
    }
    for key, value in build.items():
        print(f"{key:32} {value:,}")
    cells = []
    for row in rows:
        for per_contact in columns:
            cell = measure(row, args.events, per_contact, args.repeat)
            cells.append(cell)
            print(
                f"{row.key:15} {per_contact:4}/contact  score {cell['score_s']:.3f} s"
                f"  hand {cell['hand_s']:.3f} s  {cell['ratio']:.2f}x"
            )
            gc.collect()
    elapsed = time.perf_counter() - started
    print()
    print(table(rows, columns, cells))
    print(f"\nwhole matrix: {elapsed:.0f} s")

    if args.json:
        figures = {
            "python": sys.version.split()[0],
            "machine": platform.machine(),
            "cpus": os.cpu_count(),
            "events_per_cell": args.events,
            "repeat": args.repeat,
            "as_of": AS_OF.isoformat(),
            **build,
            "matrix_s": round(elapsed, 1),
            "cells": cells,
        }
        Path(args.json).write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
