"""The plan of a model compiled into one relational expression (Ibis).

The input is a normalised event table (see :mod:`leadscore.frame._columns`). The
stages follow DESIGN's order, per contact: match (kind, ``when``, ``as_of``,
``active_from``, resets) -> group ``once_per`` -> rule ``once_per`` ->
``ended_by`` -> ``at_most`` -> aging weight (ranks over what is still counted) ->
rule ``limit`` -> group ``limit`` -> combine -> manual adjustments -> ``bounds``.

This module holds the entry point and the stages that choose the events a
model sees (its window, subject, unique ids, merges and manual events); the
flag-clearing stages are in :mod:`._stages`, the sums in :mod:`._sums`, the
conditions in :mod:`._conditions` and time arithmetic in :mod:`._time`.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from leadscore.model._events import (
    SCORE_ADJUSTED,
    SCORE_RESET,
    SCORE_SET,
    to_micros,
)
from leadscore.model._rules import ScoringModel

from ._columns import AT, PREFIX, TS, Columns, canonical_order, until
from ._sums import _Sums

if TYPE_CHECKING:
    import ibis.expr.types as ir

__all__ = ["AT", "TS", "Columns", "compile_score", "until"]


def compile_score(
    model: ScoringModel, t: ir.Table, as_of: dt.datetime, cols: Columns
) -> ir.Table:
    """The table ``contact, score`` of *model* over the event table *t* at *as_of*."""
    return _Compiler(model, cols, to_micros(as_of)).score(t)


class _Compiler(_Sums):
    # The stages, one method each, in DESIGN's order: those that choose the
    # events here, the flag-clearing ones in _Stages, the sums in _Sums.

    def score(self, t: ir.Table) -> ir.Table:
        import ibis

        model, cols = self.model, self.cols
        extra = (f"{PREFIX}row", f"{PREFIX}file", f"{PREFIX}raw", f"{PREFIX}key")
        t = t.drop(*(c for c in extra if c in t.columns))
        t = self.window(t)
        t = self.subject(t)
        if cols.has_ids:
            t = self.unique(t)
        if cols.routes:
            t = self.route(t)
        if self.staged and self.canonical and self.ordered_windows(cols) > 1:
            # One sort by the canonical order; every later window orders by its
            # rank (one integer; equal events share it) instead of sorting by the
            # dozen keys again.
            order = canonical_order(t, cols)
            t = t.mutate(_ls_ord=ibis.rank().over(group_by="contact", order_by=order))
        reported = t.select("contact").distinct()
        base: Any = ibis.literal(float(model.initial))
        adjust: Any = ibis.literal(0.0)
        manual = cols.specials & {SCORE_SET, SCORE_RESET, SCORE_ADJUSTED}
        if manual:
            t, restarts, adjustments = self.manual(t)
        if self.windowless and self.plain_sum and self.exclusive and model.rules:
            out = self.direct_sum(t)
        elif self.windowless:
            # One GROUP BY over every row: unscored kinds add 0, and the groups are
            # the contacts reported.
            out = self.totals(self.matches(t, every_row=True))
        elif self.grouped:
            out = self.latest_totals(self.matches(t, every_row=True))
        else:
            totals = self.totals(self.matches(t))
            out = reported.left_join(totals, "contact").drop("contact_right")
        if manual:
            if restarts is not None:
                out = out.left_join(restarts, "contact").drop("contact_right")
                base = out["_ls_base"].fill_null(base)
            if adjustments is not None:
                out = out.left_join(adjustments, "contact").drop("contact_right")
                adjust = out["_ls_adjust"].fill_null(0.0)
        value = self.combine(out, base) + adjust
        score = self.clamp(value)
        if cols.bytewise:  # PostgreSQL: its float literals are numeric
            from ._udf import float8

            score = float8(score)
        return out.select("contact", score=score).order_by("contact")

    def window(self, t: ir.Table) -> ir.Table:
        """Events at or before as_of, from active_from on, of this model."""
        keep = until(t, self.as_of_us)
        if self.model.active_from is not None:
            keep &= t[AT] >= to_micros(self.model.active_from)
        if "model" in self.cols.types and self.cols.specials:
            special = t["kind"].isin(sorted(self.cols.specials))
            other = t["model"].notnull() & (t["model"] != self.model.name)
            if self.cols.types["model"] != "str":
                other = t["model"].notnull()
            keep &= ~(special & other)
        t = t.filter(keep)
        return t.drop(TS) if TS in t.columns else t

    def subject(self, t: ir.Table) -> ir.Table:
        subject = self.model.subject
        if subject is None:
            return t
        import ibis

        special: Any = ibis.literal(value=False)
        if self.cols.specials:
            special = t["kind"].isin(sorted(self.cols.specials))
        named = (
            t[subject] if subject in self.cols.types else ibis.literal(None, "string")
        )
        owner = ibis.cases((special, t["contact"]), else_=named)
        return t.mutate(contact=owner).filter(owner.notnull())

    def unique(self, t: ir.Table) -> ir.Table:
        """Each id once: the input was checked, so rows with one id are equal."""
        with_ids = t.filter(t["id"].notnull()).distinct()
        return t.filter(t["id"].isnull()).union(with_ids)

    def route(self, t: ir.Table) -> ir.Table:
        """Merged-away contacts' events count for their master from ``since`` on.

        The routes are few (merge chains resolved in Python): written into the
        query as two CASE expressions, so that no engine has to receive a table.
        """
        import ibis

        routes = self.cols.routes
        contact = t["contact"]
        root = contact.substitute(
            {c: r for c, (r, _) in routes.items()}, else_=ibis.null("string")
        )
        since = contact.substitute(
            {c: s for c, (_, s) in routes.items()}, else_=ibis.null("int64")
        )
        t = t.mutate(_ls_root=root, _ls_since=since)
        keep = t["_ls_root"].isnull() | (t[AT] >= t["_ls_since"])
        t = t.filter(keep).mutate(contact=t["_ls_root"].fill_null(t["contact"]))
        return t.drop("_ls_root", "_ls_since")

    def manual(self, t: ir.Table) -> tuple[ir.Table, Any, Any]:
        """The latest set/reset cuts the contact's history; adjustments add up."""
        import ibis

        cols, model = self.cols, self.model
        restarts = None
        if cols.specials & {SCORE_SET, SCORE_RESET}:
            r = t.filter(t["kind"].isin([SCORE_SET, SCORE_RESET]))
            order = [ibis.desc(k) for k in self.order(r)]
            r = r.mutate(
                _ls_n=ibis.row_number().over(group_by="contact", order_by=order)
            )
            r = r.filter(r["_ls_n"] == 0)
            restarts = r.select(
                "contact",
                _ls_cut=r[AT],
                _ls_base=ibis.cases(
                    (r["kind"] == SCORE_SET, r["value"]), else_=float(model.initial)
                ),
            )
            j = t.left_join(restarts, "contact")
            t = j.filter(j["_ls_cut"].isnull() | (j[AT] >= j["_ls_cut"]))
            t = t.drop("contact_right", "_ls_cut", "_ls_base")
            restarts = restarts.drop("_ls_cut")
        adjustments = None
        if SCORE_ADJUSTED in cols.specials:
            a = t.filter(t["kind"] == SCORE_ADJUSTED)
            adjustments = a.group_by("contact").aggregate(_ls_adjust=a["value"].sum())
        return t, restarts, adjustments
