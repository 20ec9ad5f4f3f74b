"""The compiler's first stages: which events count, per rule and contact.

A boolean column per rule says whether an event matches it (its kinds, its
``when``); the stages that follow clear those flags, in DESIGN's order: group
``once_per`` -> rule ``once_per`` -> ``ended_by`` -> ``at_most``. Each is a
window per contact; ties at one instant are broken by the canonical event order
where the choice decides something, and by less of it where it does not.
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from leadscore.model._events import SCORE_RESET, SCORE_SET
from leadscore.model._rules import Rule, ScoringModel

from ._columns import (
    AT,
    Columns,
    _any,
    _collated,
    _disjoint,
    _key_cols,
    canonical_order,
)
from ._conditions import condition
from ._time import FIRST_US, bucket

if TYPE_CHECKING:
    import ibis.expr.types as ir


class _Stages:
    """The match flags (``_ls_m{i}``) and the stages that clear them."""

    def __init__(self, model: ScoringModel, cols: Columns, as_of_us: int) -> None:
        self.model, self.cols, self.as_of_us = model, cols, as_of_us
        self.n = len(model.rules)

    def test(self, rule: Rule, t: ir.Table) -> Any:
        """Whether an event matches *rule*: its kind, then its ``when``."""
        kinds = sorted(rule.kinds)
        # One kind: an equality, which DuckDB evaluates faster than IN (one).
        test = t["kind"] == kinds[0] if len(kinds) == 1 else t["kind"].isin(kinds)
        if rule.when is not None:
            test &= condition(rule.when, t, self.cols)
        return test

    def matches(self, t: ir.Table, *, every_row: bool = False) -> ir.Table:
        """The events of scored kinds with one boolean column per rule (and ender).

        With *every_row*, the other events too (every flag false for them).
        """
        import ibis

        model = self.model
        kinds: set[str] = set()
        flags: dict[str, Any] = {}
        for i, rule in enumerate(model.rules):
            kinds.update(rule.kinds)
            flags[f"_ls_m{i}"] = self.test(rule, t)
            if rule.ended_by:
                kinds.update(rule.ended_by)
                flags[f"_ls_e{i}"] = t["kind"].isin(sorted(rule.ended_by))
        if every_row:
            return t.mutate(**flags)
        if not kinds:
            return t.filter(ibis.literal(value=False)).mutate(**flags)
        return t.filter(t["kind"].isin(sorted(kinds))).mutate(**flags)

    @property
    def staged(self) -> bool:
        m = self.model
        return bool(
            any(g.once_per is not None for g in m.groups)
            or any(r.once_per is not None or r.ended_by or r.at_most for r in m.rules)
        )

    def stages(self, t: ir.Table) -> ir.Table:
        """Group once_per, rule once_per, ended_by, at_most: flags cleared."""
        import ibis

        model, cols = self.model, self.cols

        # Ties at one instant decide nothing unless an event's rank, bucket, end
        # or group rival depends on which one is kept: order by time alone then.
        canonical = self.canonical

        def latest_order(t: ir.Table) -> list[Any]:
            if not canonical:
                keys = [t[AT]]
            elif "_ls_ord" not in t.columns and self.kind_decides:
                keys = self.by_kind(t)
            else:
                keys = self.order(t)
            return [ibis.desc(k) for k in keys]

        def latest(t: ir.Table, flag: Any, keys: Sequence[str]) -> Any:
            """0 for the latest row (canonical order) per contact, flag and key."""
            return ibis.row_number().over(
                group_by=[t["contact"], flag, *_key_cols(t, keys, cols)],
                order_by=latest_order(t),
            )

        families, nested = self.families()
        if self.disjoint(families):
            t = self.latest_of_families(t, families, latest_order=latest_order)
        else:
            for inside, on in families:
                t = t.mutate(_ls_in=_any([t[f"_ls_m{i}"] for i in inside]))
                t = t.mutate(_ls_n=latest(t, t["_ls_in"], on))
                t = t.mutate(
                    **{f"_ls_m{i}": t[f"_ls_m{i}"] & (t["_ls_n"] == 0) for i in inside}
                )
        for i in nested:
            m = f"_ls_m{i}"
            t = t.mutate(_ls_n=latest(t, t[m], model.rules[i].once_per or ()))
            t = t.mutate(**{m: t[m] & (t["_ls_n"] == 0)})
        if any(r.ended_by for r in model.rules):
            if "_ls_ord" in t.columns:
                t = t.mutate(_ls_seq=t["_ls_ord"])
            else:
                # Equal events (twins) share a rank: neither is before the other.
                seq = ibis.rank().over(
                    group_by=t["contact"], order_by=canonical_order(t, cols)
                )
                t = t.mutate(_ls_seq=seq)
            for i, r in enumerate(model.rules):
                if not r.ended_by:
                    continue
                e, m = f"_ls_e{i}", f"_ls_m{i}"
                last_end = (
                    ibis.cases((t[e], t["_ls_seq"]), else_=ibis.null("int64"))
                    .max()
                    .over(
                        group_by=[t["contact"], *_key_cols(t, r.once_per or (), cols)]
                    )
                )
                t = t.mutate(_ls_end=last_end)
                alive = t["_ls_end"].isnull() | (t["_ls_end"] <= t["_ls_seq"])
                t = t.mutate(**{m: t[m] & alive})
        zone = zoneinfo.ZoneInfo(model.timezone)
        for i, r in enumerate(model.rules):
            if r.at_most is None:
                continue
            m = f"_ls_m{i}"
            keys = bucket(t[AT], r.at_most.per, zone, self.span)
            nth = ibis.row_number().over(
                group_by=[t["contact"], t[m], *keys], order_by=self.order(t)
            )
            t = t.mutate(_ls_n=nth)
            t = t.mutate(**{m: t[m] & (t["_ls_n"] < r.at_most.count)})
        return t

    def families(self) -> tuple[list[tuple[list[int], tuple[str, ...]]], list[int]]:
        """The once_per stages: ``([(member rules, keys)], nested rules)``.

        A family is a group with ``once_per`` (its rules) or a rule with its own
        ``once_per`` outside such a group; groups come first, as in DESIGN. A
        rule with its own ``once_per`` inside such a group is *nested*: its stage
        runs after its group's.
        """
        model = self.model
        members: dict[str, list[int]] = {g.name: [] for g in model.groups}
        for i, r in enumerate(model.rules):
            if r.group is not None:
                members[r.group].append(i)
        families = [
            (members[g.name], tuple(g.once_per))
            for g in model.groups
            if g.once_per is not None and members[g.name]
        ]
        grouped = {i for inside, _ in families for i in inside}
        nested = []
        for i, r in enumerate(model.rules):
            if r.once_per is None:
                continue
            if i in grouped:
                nested.append(i)
            else:
                families.append(([i], tuple(r.once_per)))
        return families, nested

    def disjoint(self, families: list[tuple[list[int], tuple[str, ...]]]) -> bool:
        """Whether no event can belong to two families (their kinds differ)."""
        rules = self.model.rules
        # One family needs no merging.
        return len(families) > 1 and _disjoint(
            [[k for i in inside for k in rules[i].kinds] for inside, _ in families]
        )

    def latest_of_families(
        self,
        t: ir.Table,
        families: list[tuple[list[int], tuple[str, ...]]],
        *,
        latest_order: Callable[[ir.Table], list[Any]],
    ) -> ir.Table:
        """Every family's once_per in one window (an event is in one family at most).

        The window is partitioned by the contact, the event's family and that
        family's keys, in slots the families share by key position and type.
        """
        import ibis

        arms = [
            (_any([t[f"_ls_m{i}"] for i in inside]), f)
            for f, (inside, _) in enumerate(families)
        ]
        t = t.mutate(_ls_f=ibis.cases(*arms, else_=ibis.null("int64")))
        # One slot per key position and type: the family number tells the
        # families apart, so they can share it (fewer columns to partition by).
        shared: dict[tuple[int, Any], list[tuple[Any, Any]]] = {}
        for f, (_, keys) in enumerate(families):
            for j, k in enumerate(_key_cols(t, keys, self.cols)):
                shared.setdefault((j, k.type()), []).append((t["_ls_f"] == f, k))
        slots = [
            ibis.cases(*branches, else_=ibis.null(dtype))
            for (_, dtype), branches in shared.items()
        ]
        nth = ibis.row_number().over(
            group_by=[t["contact"], t["_ls_f"], *slots], order_by=latest_order(t)
        )
        t = t.mutate(_ls_n=nth)
        return t.mutate(
            **{
                f"_ls_m{i}": t[f"_ls_m{i}"] & (t["_ls_n"] == 0)
                for inside, _ in families
                for i in inside
            }
        )

    @property
    def canonical(self) -> bool:
        """Whether ties at one instant decide a stage.

        They do when an event's rank, bucket, end or group rival depends on which
        one is kept; a rule's own ``once_per`` alone keeps one of equal events.
        """
        model = self.model
        return (
            any(model.policy(r).kind == "by_count" for r in model.rules)
            or any(g.once_per is not None for g in model.groups)
            or any(bool(r.ended_by or r.at_most) for r in model.rules)
        )

    @property
    def kind_decides(self) -> bool:
        """Whether the once_per stages may order ties by the kind alone.

        Which of a stage's events tied at one instant is kept decides nothing
        more than which rules count it, when the rules matching its kind have
        no ``when`` (events of one kind match the same rules) and no later
        stage orders or keys the kept events again (``ended_by``, ``at_most``,
        a rule's own ``once_per`` inside a group's): then the canonical order
        up to the kind (the instant, the id, the kind) keeps an event that
        counts exactly as the one it would keep.
        """
        model = self.model
        families, nested = self.families()
        rules = model.rules
        kinds = {k for inside, _ in families for i in inside for k in rules[i].kinds}
        return (
            not nested
            and not any(r.ended_by or r.at_most for r in rules)
            and all(r.when is None for r in rules if kinds & set(r.kinds))
        )

    def by_kind(self, t: ir.Table) -> list[Any]:
        """The canonical order's keys up to the kind, the kind as its rank.

        The events ordered are of the rules' kinds, a few strings known here:
        their rank in Python's order (the canonical one) is a small integer,
        folded into the instant when the product fits in 63 bits.
        """
        import ibis

        kinds = sorted({k for r in self.model.rules for k in r.kinds})
        index = t["kind"].substitute(
            {k: i for i, k in enumerate(kinds)}, else_=ibis.literal(-1)
        )
        keys: list[Any] = []
        if self.cols.has_ids:
            keys += [t["id"].notnull(), _collated(t["id"].fill_null(""), self.cols)]
        span = max(abs(FIRST_US), abs(self.as_of_us)) + 1
        if not keys and span * (len(kinds) + 1) < 2**62:
            return [t[AT] * (len(kinds) + 1) + index]
        return [t[AT], *keys, index]

    def order(self, t: ir.Table) -> list[Any]:
        """The canonical order's sort keys: its rank when computed, else the keys."""
        if "_ls_ord" in t.columns:
            return [t["_ls_ord"]]
        return canonical_order(t, self.cols)

    def ordered_windows(self, cols: Columns) -> int:
        """How many windows sort by the canonical order (stages and restarts)."""
        model = self.model
        families, nested = self.families()
        n = 1 if self.disjoint(families) else len(families)
        if self.kind_decides:  # the once_per windows sort by instant and kind
            n = 0
        n += len(nested) + sum(1 for r in model.rules if r.at_most is not None)
        n += 1 if any(r.ended_by for r in model.rules) else 0
        return n + (1 if cols.specials & {SCORE_SET, SCORE_RESET} else 0)

    @property
    def span(self) -> tuple[int, int]:
        """The instants an ``at_most`` bucket may be asked of."""
        return (min(self.cols.first_us, self.as_of_us), self.as_of_us)
