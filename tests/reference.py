"""A slow, literal implementation of DESIGN.md's semantics: the test oracle.

Written for reading, not speed, straight from "Semantics that tests rely on". It
shares nothing with the library but the types and the canonical tie-break key.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

from dateutil.relativedelta import relativedelta

from leadscore import AgingPolicy, Event, InvalidEventError, ScoringModel
from leadscore.model._events import canonical_key

SPECIAL = {"score.adjusted", "score.set", "score.reset", "contact.merged"}


def weight(
    policy: AgingPolicy, at: dt.datetime, as_of: dt.datetime, rank: int
) -> float:
    """The weight of a point, exactly as the design card defines it."""
    if policy.kind == "never":
        return 1.0
    if policy.kind == "expire_after":
        expires = at + relativedelta(months=policy.months) + policy.period
        return 1.0 if as_of < expires else 0.0
    if policy.kind == "half_life":
        return 0.5 ** ((as_of - at) / policy.period)
    if policy.kind == "linear":
        return max(0.0, 1.0 - (as_of - at) / policy.period)
    return policy.factor**rank


def distinct(events: list[Event]) -> list[Event]:
    """Identity: an id seen twice counts once; a conflicting id is an error."""
    seen: dict[str, Event] = {}
    out = []
    for e in events:
        if e.id is not None:
            if e.id in seen:
                if seen[e.id] == e:
                    continue
                raise InvalidEventError("conflict", field="id", value=e.id)
            seen[e.id] = e
        out.append(e)
    return out


def scores(
    model: ScoringModel, events: list[Event], as_of: dt.datetime
) -> dict[str, float]:
    return {c: score for c, (score, _) in _score_all(model, events, as_of).items()}


def rows(
    model: ScoringModel, events: list[Event], contact: str, as_of: dt.datetime
) -> list[Any]:
    return _score_all(model, events, as_of).get(contact, (None, []))[1]


def _score_all(
    model: ScoringModel, events: list[Event], as_of: dt.datetime
) -> dict[str, Any]:
    def applies(e: Event) -> bool:
        if e.kind in SPECIAL and e.attrs.get("model") not in (None, model.name):
            return False
        if model.active_from is not None and e.at < model.active_from:
            return False
        return e.at <= as_of

    evs = [e for e in distinct(events) if applies(e)]
    parent: dict[str, tuple[str, dt.datetime]] = {}
    for m in sorted((e for e in evs if e.kind == "contact.merged"), key=canonical_key):
        source = m.attrs["from"]
        if source in parent:
            continue
        root = m.contact
        while root in parent:
            root = parent[root][0]
        if root != source:
            parent[source] = (m.contact, m.at)

    def owner(e: Event) -> str | None:
        c = e.contact
        while c in parent:
            c, merged_at = parent[c]
            if model.merge == "keep-master" and e.at < merged_at:
                return None
        return c

    by_owner: dict[str, list[Event]] = defaultdict(list)
    for e in evs:
        o = owner(e)
        if o is not None:
            by_owner[o].append(e)
    return {c: _contact(model, es, as_of) for c, es in by_owner.items()}


def _contact(
    model: ScoringModel, es: list[Event], as_of: dt.datetime
) -> tuple[float, list[Any]]:
    restarts = [e for e in es if e.kind in ("score.set", "score.reset")]
    base, explained = model.initial, []
    if restarts:
        restart = max(restarts, key=canonical_key)
        es = [e for e in es if e.at >= restart.at]
        if restart.kind == "score.set":
            base = restart.value
        explained.append((restart, None, base - model.initial))
    adjust = 0.0
    for e in es:
        if e.kind == "score.adjusted":
            adjust += e.value
            explained.append((e, None, e.value))
    counted: dict[int, list[int]] = {}
    for i, rule in enumerate(model.rules):
        matching = [
            j
            for j, e in enumerate(es)
            if e.kind in rule.kinds and (rule.when is None or rule.when(e))
        ]
        if rule.once_per is not None:
            groups: dict[tuple[Any, ...], list[int]] = defaultdict(list)
            for j in matching:
                groups[tuple(es[j].attrs.get(k) for k in rule.once_per)].append(j)
            matching = [
                max(g, key=lambda j: canonical_key(es[j])) for g in groups.values()
            ]
        counted[i] = matching
    actions = {j for js in counted.values() for j in js}
    positive = negative = 0.0
    for i, rule in enumerate(model.rules):
        policy = model.policy(rule)
        parts = []
        for j in counted[i]:
            rank = sum(1 for k in actions if es[k].at > es[j].at)
            parts.append((j, weight(policy, es[j].at, as_of, rank)))
        total = sum(rule.points * w for _, w in parts)
        scale = 1.0
        if rule.limit is not None and abs(total) > rule.limit:
            scale = rule.limit / abs(total)
            total = rule.limit if total > 0 else -rule.limit
        explained.extend((es[j], rule, rule.points * w * scale) for j, w in parts)
        if model.combine == "ratio" and rule.points < 0:
            negative += -total
        else:
            positive += total
    if model.combine == "ratio":
        value = (base + positive) / (1.0 + negative)
    else:
        value = base + positive
    return model.clamp(value + adjust), explained
