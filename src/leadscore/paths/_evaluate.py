"""Scores at one instant, per contact, from the events grouped by the plan.

Everything order-dependent happens here, per contact, by the canonical key of the
events: the latest ``score.set``/``score.reset``, the latest event per ``once_per``
key, and the ``by_count`` ranks. Nothing depends on the order the events arrived in.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from bisect import bisect_right
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from leadscore.model._aging import expiry_window, weigher
from leadscore.model._events import (
    EARLIEST_US,
    SCORE_ADJUSTED,
    SCORE_SET,
    Event,
    canonical_key,
    from_micros,
)
from leadscore.plan._compile import Compiled, Entry, Log
from leadscore.plan._strategy import Path
from leadscore.results import Contribution

from ._merges import Source

__all__ = ["Scorer", "later"]


def later(a: Event, b: Event) -> bool:
    """Whether *a* comes after *b* in the canonical order."""
    ta, tb = a._us, b._us  # noqa: SLF001
    if ta != tb:
        return ta > tb
    return canonical_key(a) > canonical_key(b)


class Scorer:
    """Scores of one model at one instant (microseconds), for any contact."""

    def __init__(self, compiled: Compiled, as_of_us: int) -> None:
        """Prepare the per-rule weights and points for *as_of_us*."""
        model = compiled.model
        self.model = model
        self.as_of_us = as_of_us
        self.initial = model.initial
        rules = model.rules
        self.policies = [model.policy(r) for r in rules]
        self.points = [r.points for r in rules]
        self.limits = [r.limit for r in rules]
        self.once_per = [r.once_per for r in rules]
        self.kernels = compiled.kernels
        self.enders = compiled.enders
        self.at_most = [r.at_most for r in rules]
        index = {g.name: g for g in model.groups}
        members = {
            g.name: frozenset(i for i, r in enumerate(rules) if r.group == g.name)
            for g in model.groups
        }
        #: (once_per keys, member rules) of every group with a once_per.
        self.group_once = [
            (g.once_per, members[g.name])
            for g in model.groups
            if g.once_per is not None
        ]
        #: (limit, member rules) of every group with a limit.
        self.group_limits: list[tuple[float, tuple[int, ...]]] = [
            (limit, tuple(sorted(m)))
            for name, m in members.items()
            if (limit := index[name].limit) is not None and m
        ]
        #: The stages beyond rule once_per (group once_per, ended_by, at_most).
        self.staged = bool(
            self.group_once or self.enders or any(c is not None for c in self.at_most)
        )
        #: ``(rule, once_per keys)`` of the rules that keep the latest per key.
        self.keyed_rules = [
            (i, k) for i, k in enumerate(self.once_per) if k is not None
        ]
        #: ``(rule, at_most)`` of the rules with a cap.
        self.capped_rules = [
            (i, c) for i, c in enumerate(self.at_most) if c is not None
        ]
        #: Per rules tuple of an entry, :meth:`_parts` of it (shared by every instant).
        self._split: dict[tuple[int, ...], tuple[tuple[int, ...], tuple[int, ...]]] = {}
        self.zone = zoneinfo.ZoneInfo(model.timezone)
        self.uses_rank = any(p.uses_rank for p in self.policies)
        #: Per rule, the by_count factor (its weight is ``factor ** rank``) or None.
        self.factors = [p.factor if p.uses_rank else None for p in self.policies]
        # The kernel path scores a contact in one loop over its entries (the plan
        # decides which models may; contacts with manual events or merges always
        # take the general path). For step policies it inlines the expiry window
        # so that most entries cost two integer comparisons.
        self.simple = compiled.strategy.reads is Path.KERNEL
        self._windows: list[Any] | None = None
        self._weighers: list[Callable[[int, int], float]] | None = None
        #: Some rule keeps only the latest event per key (once_per).
        self.keyed = any(k is not None for k in self.once_per)
        self.ratio = model.combine == "ratio"
        #: initial + Σ totals, clamped: no limits and no ratio to apply.
        self.plain_sum = compiled.strategy.plain_sum

    def at(self, as_of_us: int) -> Scorer:
        """This scorer at another instant (a cheap copy: the rules are shared)."""
        other = object.__new__(Scorer)
        other.__dict__.update(self.__dict__)
        other.as_of_us = as_of_us
        other._windows = None
        other._weighers = None
        return other

    def fast_kernel(
        self,
        entries: Iterable[tuple[Event, tuple[int, ...]]],
        as_of_us: int | None = None,
    ) -> float:
        """Like :meth:`fast`, with the as_of-free kernels: for one-off reads.

        *as_of_us*, when given, stands for this scorer's own: without ranks the
        kernels need nothing else of it, and no copy is made (:meth:`at`).
        """
        if as_of_us is None:
            as_of_us = self.as_of_us
        if self.uses_rank:
            scorer = self if as_of_us == self.as_of_us else self.at(as_of_us)
            return scorer._fast_ranked(entries)  # noqa: SLF001
        if self.keyed:
            return self._fast_keyed(entries, kernel=True, as_of_us=as_of_us)
        points, kernels = self.points, self.kernels
        totals = [0.0] * len(points)
        for e, rules in entries:
            t = e._us  # noqa: SLF001
            if t <= as_of_us:
                for i in rules:
                    totals[i] += points[i] * kernels[i](t, 0, as_of_us)
        return self.combine(self.initial, totals, 0.0)

    @property
    def windows(self) -> list[Any]:
        """Per rule, the expiry window at as_of (step policies) or None.

        Computed on first use: only the fast paths need it, and month arithmetic
        is not free.
        """
        if self._windows is None:
            cache: dict[Any, Any] = {}
            for p in self.policies:
                if p.is_step and p not in cache:
                    cache[p] = expiry_window(p, self.as_of_us)
            self._windows = [cache.get(p) for p in self.policies]
        return self._windows

    # -- combination -------------------------------------------------------------

    def combine(self, base: float, totals: Sequence[float], adjust: float) -> float:
        """The score from per-rule totals: limits, then sum or ratio, then bounds.

        *base* is ``initial`` (or a ``score.set`` value); *adjust* the manual
        adjustments, added after the combination and before the bounds.
        """
        pos = neg = 0.0
        limits, points = self.limits, self.points
        if self.group_limits:
            scales = self.scales(totals)
            totals = [total * s for total, s in zip(totals, scales, strict=True)]
            limits = [None] * len(totals)
        for i, total in enumerate(totals):
            limit = limits[i]
            if limit is not None and abs(total) > limit:
                total = limit if total > 0 else -limit  # noqa: PLW2901
            if self.ratio and points[i] < 0:
                neg -= total
            else:
                pos += total
        value = (base + pos) / (1.0 + neg) if self.ratio else base + pos
        return self.model.clamp(value + adjust)

    def scales(self, totals: Sequence[float]) -> list[float]:
        """Per rule, the factor its limit and its group's limit scale it by."""
        scales = [1.0] * len(totals)
        limited = list(totals)
        for i, limit in enumerate(self.limits):
            total = totals[i]
            if limit is not None and abs(total) > limit:
                scales[i] = limit / abs(total)
                limited[i] = limit if total > 0 else -limit
        for limit, members in self.group_limits:
            together = sum(limited[i] for i in members)
            if abs(together) > limit:
                factor = limit / abs(together)
                for i in members:
                    scales[i] *= factor
        return scales

    # -- one contact ----------------------------------------------------------

    def fast(self, entries: Iterable[tuple[Event, tuple[int, ...]]]) -> float:
        """Score a contact with no manual events and no merges (simple models)."""
        if self.uses_rank:
            return self._fast_ranked(entries)
        if self.keyed:
            return self._fast_keyed(entries)
        as_of_us = self.as_of_us
        points, windows, kernels = self.points, self.windows, self.kernels
        totals = [0.0] * len(points)
        for e, rules in entries:
            t = e._us  # noqa: SLF001
            if t > as_of_us:
                continue
            for i in rules:
                window = windows[i]
                if window is None:
                    totals[i] += points[i] * kernels[i](t, 0, as_of_us)
                elif t > window.hi or (t > window.lo and window.alive(t)):
                    totals[i] += points[i]
        return self.combine(self.initial, totals, 0.0)

    def _fast_keyed(
        self,
        entries: Iterable[tuple[Event, tuple[int, ...]]],
        *,
        kernel: bool = False,
        as_of_us: int | None = None,
    ) -> float:
        """:meth:`fast` for models with once_per: the latest event per key counts.

        With *kernel*, the as_of-free kernels weigh (no per-instant preparation:
        for one-off reads), at *as_of_us* if given; otherwise the weighers
        prepared for as_of.
        """
        if as_of_us is None or not kernel:
            as_of_us = self.as_of_us
        points, once_per = self.points, self.once_per
        counted: list[tuple[int, int]] = []  # (rule, instant) of each counted match
        latest: dict[tuple[Any, ...], Event] = {}
        for e, rules in entries:
            t = e._us  # noqa: SLF001
            if t > as_of_us:
                continue
            for i in rules:
                keys = once_per[i]
                if keys is None:
                    counted.append((i, t))
                    continue
                key = (i, *map(e.attrs.get, keys))
                best = latest.get(key)
                if best is None or later(e, best):
                    latest[key] = e
        counted.extend((i, e._us) for (i, *_), e in latest.items())  # noqa: SLF001
        totals = [0.0] * len(points)
        if kernel:
            kernels = self.kernels
            for i, t in counted:
                totals[i] += points[i] * kernels[i](t, 0, as_of_us)
        else:
            weighers = self.weighers
            for i, t in counted:
                totals[i] += points[i] * weighers[i](t, 0)
        return self.combine(self.initial, totals, 0.0)

    def _fast_ranked(self, entries: Iterable[Entry]) -> float:
        """:meth:`fast` for models with ``by_count``: ranks need every instant.

        The counted entries (once_per keeps the latest per key), then one sorted
        list of their instants: an entry's rank is the number of counted entries
        strictly later, one bisection each.
        """
        as_of_us, points, kernels = self.as_of_us, self.points, self.kernels
        live = [entry for entry in entries if entry[0]._us <= as_of_us]  # noqa: SLF001
        if self.keyed:
            counted = self._counted(
                [(Log(EARLIEST_US, tuple(live), ()), EARLIEST_US)], EARLIEST_US
            )
            pairs = [
                (entry, i)
                for i, rule_entries in enumerate(counted)
                for entry in rule_entries
            ]
            actions = {id(entry): entry for entry, _ in pairs}.values()
        else:
            pairs = [(entry, i) for entry in live for i in entry[1]]
            actions = live  # type: ignore[assignment]
        times = sorted(entry[0]._us for entry in actions)  # noqa: SLF001
        n = len(times)
        totals = [0.0] * len(points)
        factors = self.factors
        for entry, i in pairs:
            t = entry[0]._us  # noqa: SLF001
            rank = n - bisect_right(times, t)
            f = factors[i]
            if f is not None:
                totals[i] += points[i] * f**rank
            else:
                totals[i] += points[i] * kernels[i](t, rank, as_of_us)
        return self.combine(self.initial, totals, 0.0)

    @property
    def weighers(self) -> list[Callable[[int, int], float]]:
        """Per rule, ``(at_us, rank) -> weight`` at as_of (computed on first use)."""
        if self._weighers is None:
            cache: dict[Any, Callable[[int, int], float]] = {}
            for p in self.policies:
                if p not in cache:
                    cache[p] = weigher(p, self.as_of_us)
            self._weighers = [cache[p] for p in self.policies]
        return self._weighers

    def general(
        self, sources: Iterable[Source], rows: list[Contribution] | None = None
    ) -> float:
        """Score a contact from its own events and those merged into it.

        If *rows* is given, append one :class:`Contribution` per counted event and
        rule, and one per manual change.
        """
        as_of_us, initial = self.as_of_us, self.initial
        sources = list(sources)
        # 1. The latest score.set / score.reset restarts the score.
        restart: Event | None = None
        adjustments: list[Event] = []
        for log, since in sources:
            for m in log.manual:
                t = m._us  # noqa: SLF001
                if t > as_of_us or t < since:
                    continue
                if m.kind == SCORE_ADJUSTED:
                    adjustments.append(m)
                elif restart is None or later(m, restart):
                    restart = m
        cut, base = EARLIEST_US, initial
        if restart is not None:
            cut = restart._us  # noqa: SLF001
            if restart.kind == SCORE_SET:
                base = restart.value
        adjustments = [m for m in adjustments if m._us >= cut]  # noqa: SLF001
        # 2. The counted entries of each rule (once_per keeps the latest per key).
        n = len(self.points)
        if self.staged:
            kept: list[Entry] = []
            for log, since in sources:
                start = max(since, cut)
                kept += [
                    entry
                    for entry in log.entries
                    if start <= entry[0]._us <= as_of_us  # noqa: SLF001
                ]
            counted = self._stages(kept)
        else:
            counted = self._counted(sources, cut)
        # 3. Ranks: counted actions strictly later in time (an entry is one action
        #    however many rules it counts under).
        times: list[int] = []
        if self.uses_rank:
            distinct = {
                id(entry): entry for rule_entries in counted for entry in rule_entries
            }
            times = sorted(entry[0]._us for entry in distinct.values())  # noqa: SLF001
        # 4. Weights, per-rule totals, limits, combination.
        points, kernels = self.points, self.kernels
        totals = [0.0] * n
        weighted: list[list[tuple[Event, float]]] = (
            [[] for _ in range(n)] if rows is not None else []
        )
        for i, rule_entries in enumerate(counted):
            if not rule_entries:
                continue
            weigh, p = kernels[i], points[i]
            for entry in rule_entries:
                t = entry[0]._us  # noqa: SLF001
                rank = len(times) - bisect_right(times, t) if times else 0
                w = weigh(t, rank, as_of_us)
                totals[i] += p * w
                if rows is not None:
                    weighted[i].append((entry[0], w))
        adjust = sum(m.value for m in adjustments)
        score = self.combine(base, totals, adjust)
        if rows is not None:
            self._rows(rows, restart, adjustments, weighted, totals)
        return score

    def _counted(self, sources: list[Source], cut: int) -> list[list[Entry]]:
        """Per rule, its counted entries: every match, or once_per's latest."""
        as_of_us = self.as_of_us
        counted: list[list[Entry]] = [[] for _ in self.points]
        for log, since in sources:
            start = max(since, cut)
            for entry in log.entries:
                t = entry[0]._us  # noqa: SLF001
                if start <= t <= as_of_us:
                    for i in entry[1]:
                        counted[i].append(entry)
        for i, keys in self.keyed_rules:
            if len(counted[i]) > 1:
                counted[i] = _latest_per_key(counted[i], keys)
        return counted

    def _parts(self, rules: tuple[int, ...]) -> tuple[tuple[int, ...], tuple[int, ...]]:
        """An entry's rules split into those it counts for and its ``ended_by`` ones."""
        n = len(self.points)
        return tuple(i for i in rules if i < n), tuple(i for i in rules if i >= n)

    def _stages(self, entries: list[Entry]) -> list[list[Entry]]:
        """Per rule, its counted entries, stage by stage (DESIGN's order).

        Group once_per, then rule once_per, then ended_by, then at_most; each
        stage sees what the one before kept.
        """
        n = len(self.points)
        split, ender_of = self._split, self.enders
        # Each entry with the rules it still counts for; the enders apart.
        rows: list[list[Any]] = []
        ended: dict[int, list[Event]] = {}
        for entry in entries:
            parts = split.get(entry[1])
            if parts is None:
                parts = split[entry[1]] = self._parts(entry[1])
            own, ends = parts
            rows.append([entry, own])
            for i in ends:
                ended.setdefault(ender_of[i - n], []).append(entry[0])
        for keys, members in self.group_once:
            best: dict[tuple[Any, ...], list[Any]] = {}
            inside = [row for row in rows if not members.isdisjoint(row[1])]
            for row in inside:
                e = row[0][0]
                key = tuple(map(e.attrs.get, keys))
                kept = best.get(key)
                if kept is None or later(e, kept[0][0]):
                    best[key] = row
            if len(best) < len(inside):
                winners = {id(row) for row in best.values()}
                for row in inside:
                    if id(row) not in winners:
                        row[1] = tuple(i for i in row[1] if i not in members)
        counted: list[list[Entry]] = [[] for _ in range(n)]
        for row in rows:
            for i in row[1]:
                counted[i].append(row[0])
        for i, once in self.keyed_rules:
            if len(counted[i]) > 1:
                counted[i] = _latest_per_key(counted[i], once)
        for i, enders in ended.items():
            keys = self.once_per[i] or ()
            last: dict[tuple[Any, ...], Event] = {}
            for e in enders:
                key = tuple(e.attrs.get(k) for k in keys)
                if key not in last or later(e, last[key]):
                    last[key] = e
            counted[i] = [
                entry
                for entry in counted[i]
                if (end := last.get(tuple(entry[0].attrs.get(k) for k in keys))) is None
                or not later(end, entry[0])
            ]
        for i, cap in self.capped_rules:
            if len(counted[i]) > cap.count:
                counted[i] = _capped(counted[i], cap.count, cap.per, self.zone)
        return counted

    def _rows(
        self,
        rows: list[Contribution],
        restart: Event | None,
        adjustments: list[Event],
        weighted: list[list[tuple[Event, float]]],
        totals: list[float],
    ) -> None:
        found: list[tuple[tuple[Any, ...], int, Contribution]] = []
        if restart is not None:
            shift = (restart.value if restart.kind == SCORE_SET else self.initial) - (
                self.initial
            )
            found.append(
                (
                    canonical_key(restart),
                    -1,
                    Contribution(restart, None, shift, 1.0, shift),
                )
            )
        found.extend(
            (canonical_key(m), -1, Contribution(m, None, m.value, 1.0, m.value))
            for m in adjustments
        )
        rules = self.model.rules
        scales = self.scales(totals)
        for i, pairs in enumerate(weighted):
            p, scale = self.points[i], scales[i]
            for e, w in pairs:
                found.append(
                    (
                        canonical_key(e),
                        i,
                        Contribution(e, rules[i], p, w, p * w * scale),
                    )
                )
        found.sort(key=lambda row: (row[0], row[1]))
        rows.extend(row[2] for row in found)


def _latest_per_key(entries: list[Entry], keys: tuple[str, ...]) -> list[Entry]:
    """The latest entry (canonical order) per value of the *keys* attributes."""
    latest: dict[tuple[Any, ...], Entry] = {}
    for entry in entries:
        key = tuple(map(entry[0].attrs.get, keys))
        best = latest.get(key)
        if best is None or later(entry[0], best[0]):
            latest[key] = entry
    return list(latest.values())


def bucket(at_us: int, per: str, zone: zoneinfo.ZoneInfo) -> tuple[Any, ...]:
    """The calendar bucket of *at_us* in *zone*: an hour, day, week or month.

    An hour is one hour of wall-clock time at one UTC offset (the repeated hour
    of a DST change is two buckets); weeks start on Monday.
    """
    local = from_micros(at_us).astimezone(zone)
    if per == "hour":
        return (local.date(), local.hour, local.utcoffset())
    if per == "day":
        return (local.date(),)
    if per == "week":
        return (local.date() - dt.timedelta(days=local.weekday()),)
    return (local.year, local.month)


def _capped(
    entries: list[Entry], count: int, per: str, zone: zoneinfo.ZoneInfo
) -> list[Entry]:
    """The first *count* entries (canonical order) of each calendar bucket."""
    seen: dict[tuple[Any, ...], int] = {}
    kept = []
    for entry in sorted(entries, key=lambda entry: canonical_key(entry[0])):
        b = bucket(entry[0]._us, per, zone)  # noqa: SLF001
        if seen.get(b, 0) < count:
            seen[b] = seen.get(b, 0) + 1
            kept.append(entry)
    return kept
