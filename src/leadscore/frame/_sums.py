"""The compiler's last stages: what the counted events add up to, per contact.

Aging weights (ranks over what is still counted) -> rule ``limit`` -> group
``limit`` -> combine (sum or ratio) -> ``bounds``. Where no stage needs a window
the sums are one GROUP BY (one CASE when the rules' kinds are disjoint), and
where rule ``once_per`` is the only stage, a GROUP BY finds each key's latest
event.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._columns import AT, _any, _disjoint, _key_cols
from ._stages import _Stages
from ._time import step_branches, weight

if TYPE_CHECKING:
    import ibis.expr.types as ir


class _Sums(_Stages):
    """The weighted totals of the counted events, their limits and bounds."""

    @property
    def windowless(self) -> bool:
        """Whether the rules need no window: no stage, no rank."""
        model = self.model
        return not self.staged and not any(
            model.policy(r).kind == "by_count" for r in model.rules
        )

    def direct_sum(self, t: ir.Table) -> ir.Table:
        """One GROUP BY of one CASE: rules of disjoint kinds, no window, a sum.

        The rule tests are written into the CASE rather than computed as columns
        first, so that an event stops at the first rule it matches.
        """
        import ibis

        model = self.model
        arms = []
        for rule in model.rules:
            policy, test, points = model.policy(rule), self.test(rule, t), rule.points
            if policy.kind == "never":
                arms.append((test, ibis.literal(float(points))))
            elif policy.kind in {"expire_after", "steps"}:  # tests join: no product
                for alive, level in step_branches(policy, t[AT], self.as_of_us):
                    arms.append((test & alive, ibis.literal(level * points)))
            else:
                w, _ = weight(policy, t[AT], 0, self.as_of_us)
                arms.append((test, w * float(points)))
        # An event no arm takes adds nothing (NULL is skipped; combine fills 0).
        total = ibis.cases(*arms, else_=ibis.null("float64"))
        return t.group_by("contact").aggregate(_ls_sum=total.sum())

    @property
    def exclusive(self) -> bool:
        """Whether no event can match two rules (their kinds are disjoint)."""
        return _disjoint([rule.kinds for rule in self.model.rules])

    @property
    def plain_sum(self) -> bool:
        """Whether the score is initial plus one sum (no limit, no ratio)."""
        m = self.model
        return (
            m.combine == "sum"
            and all(r.limit is None for r in m.rules)
            and all(g.limit is None for g in m.groups)
        )

    @property
    def grouped(self) -> bool:
        """Whether rule ``once_per`` is the only stage: then no window is needed.

        The latest event per key is the one with the greatest instant (ties
        are equal in what they count), found by a GROUP BY.
        """
        return self.staged and not self.canonical

    def latest_totals(self, t: ir.Table) -> ir.Table:
        """:meth:`totals` for :attr:`grouped` models, by aggregation alone.

        Every row adds its rules' terms, except for the ``once_per`` rules, whose
        terms come from one row per contact and key (the latest instant); the
        parts are stacked (UNION ALL) and summed per contact.
        """
        import ibis

        model, n = self.model, self.n
        once = {i for i, r in enumerate(model.rules) if r.once_per is not None}
        zero = ibis.literal(0.0).cast("float64")

        def columns(terms: dict[int, Any]) -> dict[str, Any]:
            if self.plain_sum:
                total: Any = zero
                for term in terms.values():
                    total += term
                return {"_ls_sum": total.cast("float64")}
            return {f"_ls_t{i}": terms.get(i, zero).cast("float64") for i in range(n)}

        terms = {}
        for i, rule in enumerate(model.rules):
            if i not in once:
                w, _ = weight(model.policy(rule), t[AT], 0, self.as_of_us)
                terms[i] = ibis.cases(
                    (t[f"_ls_m{i}"], w * float(rule.points)), else_=0.0
                )
        parts = [t.select("contact", **columns(terms))]
        for i in sorted(once):
            rule = model.rules[i]
            keys = _key_cols(t, rule.once_per or (), self.cols)
            names = {f"_ls_k{j}": k for j, k in enumerate(keys)}
            s = t.filter(t[f"_ls_m{i}"]).mutate(**names)
            last = s.group_by(["contact", *names]).aggregate(**{AT: s[AT].max()})
            w, _ = weight(model.policy(rule), last[AT], 0, self.as_of_us)
            parts.append(last.select("contact", **columns({i: w * float(rule.points)})))
        stacked = ibis.union(*parts, distinct=False)
        sums = {c: stacked[c].sum() for c in stacked.columns if c != "contact"}
        return stacked.group_by("contact").aggregate(**sums)

    def totals(self, t: ir.Table) -> ir.Table:
        """Per contact, each rule's weighted total (``_ls_t{i}``)."""
        import ibis

        model = self.model
        n = self.n
        if self.staged:
            t = self.stages(t)
        counted = [t[f"_ls_m{i}"] for i in range(n)]
        rank: Any = ibis.literal(0)
        if any(model.policy(r).kind == "by_count" for r in model.rules):
            # Ranks count the events still counted: the others add nothing and
            # need no sorting (the contacts reported are joined in afterwards).
            t = t.filter(_any(counted))
            rank_w = ibis.rank().over(group_by=t["contact"], order_by=ibis.desc(t[AT]))
            t = t.mutate(_ls_rank=rank_w)
            rank = t["_ls_rank"]
            counted = [t[f"_ls_m{i}"] for i in range(n)]
        terms: list[Any] = []
        arms: list[tuple[Any, Any]] = []
        for i, rule in enumerate(model.rules):
            w, _ = weight(model.policy(rule), t[AT], rank, self.as_of_us)
            arms.append((counted[i], w * float(rule.points)))
            terms.append(ibis.cases(arms[-1], else_=0.0))
        if not terms:
            return t.select("contact").distinct()
        if self.plain_sum and self.exclusive:
            # An event matches one rule at most: one CASE picks its term.
            total = ibis.cases(*arms, else_=0.0)
            return t.group_by("contact").aggregate(_ls_sum=total.sum())
        if self.plain_sum:  # one sum of every rule's terms
            total = terms[0]
            for term in terms[1:]:
                total += term
            return t.group_by("contact").aggregate(_ls_sum=total.sum())
        sums = {f"_ls_t{i}": term.sum() for i, term in enumerate(terms)}
        return t.group_by("contact").aggregate(**sums)

    def combine(self, t: ir.Table, base: Any) -> Any:
        """Rule limits, group limits, then sum or ratio."""
        import ibis

        model = self.model
        if "_ls_sum" in t.columns:
            return base + t["_ls_sum"].fill_null(0.0)
        totals: list[Any] = [t[f"_ls_t{i}"].fill_null(0.0) for i in range(self.n)]
        for i, rule in enumerate(model.rules):
            if rule.limit is not None:
                lim = float(rule.limit)
                totals[i] = ibis.greatest(ibis.least(totals[i], lim), -lim)
        members: dict[str, list[int]] = {}
        for i, r in enumerate(model.rules):
            if r.group is not None:
                members.setdefault(r.group, []).append(i)
        for g in model.groups:
            idx = members.get(g.name, [])
            if g.limit is None or not idx:
                continue
            together: Any = ibis.literal(0.0)
            for i in idx:
                together += totals[i]
            lim = float(g.limit)
            factor = ibis.cases((together.abs() > lim, lim / together.abs()), else_=1.0)
            for i in idx:
                totals[i] = totals[i] * factor
        pos: Any = ibis.literal(0.0)
        neg: Any = ibis.literal(0.0)
        ratio = model.combine == "ratio"
        for i, rule in enumerate(model.rules):
            if ratio and rule.points < 0:
                neg -= totals[i]
            else:
                pos += totals[i]
        if ratio:
            return (base + pos) / (1.0 + neg)
        return base + pos

    def clamp(self, value: Any) -> Any:
        import ibis

        if self.model.bounds is None:
            return value
        low, high = self.model.bounds
        if low is not None:
            value = ibis.greatest(value, float(low))
        if high is not None:
            value = ibis.least(value, float(high))
        return value
