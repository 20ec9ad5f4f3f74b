"""A slow, literal implementation of DESIGN.md's semantics: the test oracle.

Written for reading, not speed, straight from "Semantics that tests rely on". It
shares nothing with the library but the types and the canonical tie-break key.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any
from zoneinfo import ZoneInfo

from dateutil.relativedelta import relativedelta

from leadscore import AgingPolicy, Event, InvalidEventError, ScoringModel
from leadscore.model._events import canonical_key

SPECIAL = {"score.adjusted", "score.set", "score.reset", "contact.merged"}


def weight(  # noqa: PLR0911 (one return per kind, as the design card lists them)
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
    if policy.kind == "inverse":  # 1 / (1 + age / period), age = as_of - at
        return 1 / (1 + (as_of - at) / policy.period)
    if policy.kind == "steps":
        # Weight 1 until at + after_1; from at + after_i (inclusive) on, weight_i.
        w = 1.0
        for months, period, weight_i in policy.schedule:
            try:
                begins = at + relativedelta(months=months) + period
            except (OverflowError, ValueError):  # past the year 9999: never
                break
            if as_of >= begins:
                w = weight_i
        return w
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

    def who(e: Event) -> str | None:
        # What the event is about: its contact, or (subject models) the value of
        # the subject attribute; special events name the subject in `contact`.
        if model.subject is None or e.kind in SPECIAL:
            return e.contact
        return e.attrs.get(model.subject)

    evs = [e for e in distinct(events) if applies(e) and who(e) is not None]
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
        c = who(e)
        assert c is not None
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

    def latest_per_key(js: list[int], keys: tuple[str, ...]) -> list[int]:
        groups: dict[tuple[Any, ...], list[int]] = defaultdict(list)
        for j in js:
            groups[tuple(es[j].attrs.get(k) for k in keys)].append(j)
        return [max(g, key=lambda j: canonical_key(es[j])) for g in groups.values()]

    # Stage 1: match.
    counted: dict[int, list[int]] = {}
    for i, rule in enumerate(model.rules):
        counted[i] = [
            j
            for j, e in enumerate(es)
            if e.kind in rule.kinds and (rule.when is None or rule.when(e))
        ]
    # Stage 2: group once_per, over the events matching any rule of the group.
    for group in model.groups:
        if group.once_per is None:
            continue
        members = [i for i, r in enumerate(model.rules) if r.group == group.name]
        anyone = sorted({j for i in members for j in counted[i]})
        kept = set(latest_per_key(anyone, group.once_per))
        for i in members:
            counted[i] = [j for j in counted[i] if j in kept]
    # Stage 3: rule once_per.
    for i, rule in enumerate(model.rules):
        if rule.once_per is not None:
            counted[i] = latest_per_key(counted[i], rule.once_per)
    # Stage 4: ended_by: a later event of those kinds with the same key ends it.
    for i, rule in enumerate(model.rules):
        if rule.ended_by is None:
            continue
        keys = rule.once_per or ()
        enders = [j for j, e in enumerate(es) if e.kind in rule.ended_by]

        def ended(
            j: int, keys: tuple[str, ...] = keys, enders: list[int] = enders
        ) -> bool:
            key = tuple(es[j].attrs.get(k) for k in keys)
            return any(
                tuple(es[k].attrs.get(x) for x in keys) == key
                and canonical_key(es[k]) > canonical_key(es[j])
                for k in enders
            )

        counted[i] = [j for j in counted[i] if not ended(j)]
    # Stage 5: at_most: the first n of each calendar bucket, in the model's zone.
    zone = ZoneInfo(model.timezone)
    for i, rule in enumerate(model.rules):
        if rule.at_most is None:
            continue
        per_bucket: dict[Any, int] = defaultdict(int)
        kept_js = []
        for j in sorted(counted[i], key=lambda j: canonical_key(es[j])):
            local = es[j].at.astimezone(zone)
            if rule.at_most.per == "hour":
                b: Any = (local.date(), local.hour, local.utcoffset())
            elif rule.at_most.per == "day":
                b = local.date()
            elif rule.at_most.per == "week":
                b = local.date() - dt.timedelta(days=local.weekday())
            else:
                b = (local.year, local.month)
            if per_bucket[b] < rule.at_most.count:
                per_bucket[b] += 1
                kept_js.append(j)
        counted[i] = kept_js
    actions = {j for js in counted.values() for j in js}
    # Stages 6-8: aging weights, rule limits, group limits.
    totals: dict[int, float] = {}
    scales: dict[int, float] = {}
    parts: dict[int, list[tuple[int, float]]] = {}
    for i, rule in enumerate(model.rules):
        policy = model.policy(rule)
        parts[i] = []
        for j in counted[i]:
            rank = sum(1 for k in actions if es[k].at > es[j].at)
            parts[i].append((j, weight(policy, es[j].at, as_of, rank)))
        total = sum(rule.points * w for _, w in parts[i])
        scales[i] = 1.0
        if rule.limit is not None and abs(total) > rule.limit:
            scales[i] = rule.limit / abs(total)
            total = rule.limit if total > 0 else -rule.limit
        totals[i] = total
    for group in model.groups:
        members = [i for i, r in enumerate(model.rules) if r.group == group.name]
        together = sum(totals[i] for i in members)
        if group.limit is not None and abs(together) > group.limit:
            factor = group.limit / abs(together)
            for i in members:
                totals[i] *= factor
                scales[i] *= factor
    # Stage 9: combine.
    positive = negative = 0.0
    for i, rule in enumerate(model.rules):
        explained.extend(
            (es[j], rule, rule.points * w * scales[i]) for j, w in parts[i]
        )
        if model.combine == "ratio" and rule.points < 0:
            negative += -totals[i]
        else:
            positive += totals[i]
    if model.combine == "ratio":
        value = (base + positive) / (1.0 + negative)
    else:
        value = base + positive
    return model.clamp(value + adjust), explained
