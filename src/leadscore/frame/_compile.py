"""The plan of a model compiled into one relational expression (Ibis).

The input is a normalised event table (see :mod:`leadscore.frame._sources`):
``contact``, ``kind`` (str), ``_ls_at`` (int64 microseconds since the epoch, UTC),
``id`` (str or null), ``value`` (float, never null) and one column per attribute
(str, int, float or bool; null = the event has no such attribute). Every time
computation is integer arithmetic on ``_ls_at``, so no engine's session time zone
can change an answer; the calendar (months in UTC for aging, buckets in the model's
zone for ``at_most``) is turned into integer cut-offs in Python, where the pure
path's own functions compute them.

The stages follow DESIGN's order, per contact: match (kind, ``when``, ``as_of``,
``active_from``, resets) -> group ``once_per`` -> rule ``once_per`` ->
``ended_by`` -> ``at_most`` -> aging weight (ranks over what is still counted) ->
rule ``limit`` -> group ``limit`` -> combine -> manual adjustments -> ``bounds``.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import attrs

from leadscore.model._aging import AgingPolicy, kernel
from leadscore.model._conditions import (
    VALUE,
    All,
    AnyOf,
    Compare,
    Condition,
    Not,
)
from leadscore.model._events import (
    SCORE_ADJUSTED,
    SCORE_RESET,
    SCORE_SET,
    to_micros,
)
from leadscore.model._rules import Rule, ScoringModel

if TYPE_CHECKING:
    import ibis.expr.types as ir

__all__ = ["AT", "TS", "Columns", "compile_score", "until"]

#: The event instant, in microseconds since the epoch (UTC).
AT = "_ls_at"
#: The instant as the input gave it, where a filter on it is cheaper (DuckDB).
TS = "_ls_ts"
#: Internal columns carry this prefix; no attribute may.
PREFIX = "_ls_"
#: A constant for "no match" (ibis.literal(False) would read as a flag argument).
FALSE = False
#: The first representable instant (``datetime.min`` in UTC).
FIRST_US = to_micros(dt.datetime.min.replace(tzinfo=dt.UTC))


@attrs.frozen
class Columns:
    """What the compiler knows of the input: the attribute columns and their types.

    ``types`` maps an attribute column to ``"str"``, ``"int"``, ``"float"`` or
    ``"bool"``; ``has_ids`` whether any event has an id; ``specials`` the special
    kinds present (so that a table without manual events compiles to one scan).
    """

    types: dict[str, str]
    has_ids: bool = False
    specials: frozenset[str] = frozenset()
    #: ``{merged-away contact: (master it counts for, since_us)}`` at ``as_of``.
    routes: dict[str, tuple[str, int]] = attrs.field(factory=dict)
    #: Order strings as bytes (UTF-8 byte order is Python's code point order);
    #: for engines whose default collation follows a locale (PostgreSQL).
    bytewise: bool = False
    #: The earliest event instant (microseconds), for the zone's offset table.
    first_us: int = 0


# -- conditions -------------------------------------------------------------------

_NUMBER = ("int", "float")


def _is_number(x: Any) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool)


def _fits(kind: str, operand: Any) -> bool:
    """Whether a column of *kind* can hold a value strictly equal to *operand*."""
    if isinstance(operand, bool):
        return kind == "bool"
    if _is_number(operand):
        return kind in _NUMBER
    if isinstance(operand, str):
        return kind == "str"
    return False  # a tuple: frames hold no tuples


def condition(c: Condition, t: ir.Table, cols: Columns) -> ir.BooleanValue:
    """*c* as a boolean column of *t* (never null: a missing value is False)."""
    import ibis

    if isinstance(c, All):
        parts = [condition(x, t, cols) for x in c.conditions]
        out = parts[0]
        for p in parts[1:]:
            out &= p
        return out
    if isinstance(c, AnyOf):
        parts = [condition(x, t, cols) for x in c.conditions]
        out = parts[0]
        for p in parts[1:]:
            out |= p
        return out
    if isinstance(c, Not):
        return ~condition(c.condition, t, cols)
    assert isinstance(c, Compare)
    return _compare(c, t, cols, ibis.literal(value=False))


def _compare(
    c: Compare, t: ir.Table, cols: Columns, false: ir.BooleanValue
) -> ir.BooleanValue:
    op, operand = c.op, c.operand
    if c.key is VALUE:
        col, kind = t["value"], "float"
    elif c.key in cols.types:
        col, kind = t[c.key], cols.types[c.key]
    else:
        col, kind = None, None
    if op == "exists":
        if col is None:
            return ~false if operand is False else false
        return col.notnull() if operand else col.isnull()
    if op in {"eq", "ne", "in_"}:
        operands: tuple[Any, ...] = (
            operand if isinstance(operand, tuple) else (operand,)
        )
        if op != "in_":
            operands = (operand,)
        tests = [_equal(col, kind, o, false) for o in operands]
        out = tests[0] if tests else false
        for x in tests[1:]:
            out |= x
        return ~out if op == "ne" else out
    if col is None or kind is None:
        return false
    if op in {"gt", "ge", "lt", "le"}:
        same = (kind == "str" and isinstance(operand, str)) or (
            kind in _NUMBER and _is_number(operand)
        )
        if not same:
            return false
        x = _collated(col, cols) if kind == "str" else col
        test = {"gt": x > operand, "ge": x >= operand, "lt": x < operand}.get(
            op, x <= operand
        )
        return test.fill_null(FALSE)
    if kind != "str" or not isinstance(operand, str):
        return false  # contains on a tuple: frames hold none
    if op == "contains":
        return col.contains(operand).fill_null(FALSE)
    if op == "startswith":
        return col.startswith(operand).fill_null(FALSE)
    return col.endswith(operand).fill_null(FALSE)


def _equal(
    col: Any, kind: str | None, operand: Any, false: ir.BooleanValue
) -> ir.BooleanValue:
    if operand is None:
        return ~false if col is None else col.isnull()
    if col is None or kind is None or not _fits(kind, operand):
        return false
    return (col == operand).fill_null(FALSE)


def _collated(col: Any, cols: Columns) -> Any:
    return col.cast("binary") if cols.bytewise else col


# -- time -------------------------------------------------------------------------


DAY_US = 86_400_000_000


def first_true(test: Callable[[int], bool], lo: int, hi: int) -> int:
    """The least n in [lo, hi] with test(n) (false, then true); hi + 1 if none."""
    while lo < hi:
        mid = (lo + hi) // 2
        if test(mid):
            hi = mid
        else:
            lo = mid + 1
    return hi if test(hi) else hi + 1


def reaches(
    weigh: Callable[[int], float], level: float, as_of_us: int
) -> tuple[int, int, int]:
    """Where a step policy's weight reaches *level*: ``(d0, tau, d1)``.

    The weight reaches it for instants on days from ``d1`` on, and on days from
    ``d0`` (before ``d1``) from the time of day ``tau`` on. Calendar months keep
    the time of day and clip the day (Aug 29, 30 and 31 + 6 months are all Feb
    28), so an expiry is not monotone in the instant; it is in the day, and within
    the days that clip to one date, in the time of day.
    """
    first_day, last_day = FIRST_US // DAY_US, as_of_us // DAY_US + 1

    def at_end_of(day: int) -> bool:
        return weigh(day * DAY_US + DAY_US - 1) >= level

    def at_start_of(day: int) -> bool:
        return weigh(day * DAY_US) >= level

    d0 = first_true(at_end_of, first_day, last_day)
    d1 = first_true(at_start_of, first_day, last_day)
    tau = first_true(lambda t: weigh(d0 * DAY_US + t) >= level, 0, DAY_US - 1)
    return d0 * DAY_US, tau, d1 * DAY_US


def weight(policy: AgingPolicy, at: Any, rank: Any, as_of_us: int) -> tuple[Any, bool]:
    """The weight column of *policy* at *as_of*, and whether it is always 1."""
    import ibis

    kind = policy.kind
    if kind == "never":
        return ibis.literal(1.0), True
    if kind == "by_count":
        return ibis.literal(policy.factor).pow(rank), False
    if kind in {"half_life", "linear", "inverse"}:
        span = float(policy.period // dt.timedelta(microseconds=1))
        age = (ibis.literal(as_of_us) - at).cast("float64") / span
        if kind == "half_life":
            return ibis.literal(0.5).pow(age), False
        if kind == "linear":
            return ibis.greatest(ibis.literal(0.0), 1.0 - age), False
        return 1.0 / (1.0 + age), False
    branches = step_branches(policy, at, as_of_us)
    if not branches:
        return ibis.literal(0.0), False
    return ibis.cases(*branches, else_=0.0), False


def step_branches(
    policy: AgingPolicy, at: Any, as_of_us: int
) -> list[tuple[Any, float]]:
    """``expire_after`` and ``steps`` at *as_of*: ``(test, weight)``, first true wins.

    A non-decreasing step function of the instant: the tests of the positive
    weights, highest first; an instant none passes weighs 0.
    """
    weigh = kernel(policy)

    def at_level(at_us: int) -> float:
        return weigh(at_us, 0, as_of_us)

    levels = sorted({at_level(as_of_us), 0.0, *(s.weight for s in policy.schedule)})
    branches = []
    for level in reversed(levels):
        if level <= 0:
            continue
        d0, tau, d1 = reaches(at_level, level, as_of_us)
        if d1 - d0 <= DAY_US:  # one clipped day at most: a single cut-off
            test = at >= min(d0 + tau, d1)
        else:
            test = (at >= d1) | ((at >= d0) & (_mod(at, DAY_US) >= tau))
        branches.append((test, level))
    return branches


def _civil(days: Any) -> tuple[Any, Any]:
    """(year, month) of a count of days since 1970-01-01 (Hinnant's algorithm)."""
    import ibis

    z = days + 719468  # >= 0 from year 0 on: every // below is exact
    era = z // 146097
    doe = z - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    month = mp + 3 - ibis.cases((mp >= 10, 12), else_=0)
    year = yoe + era * 400 + ibis.cases((month <= 2, 1), else_=0)
    return year, month


def offsets(zone: zoneinfo.ZoneInfo, lo_us: int, hi_us: int) -> list[tuple[int, int]]:
    """The UTC offsets (microseconds) of *zone* in [lo, hi], as (from_us, offset).

    Transitions are found by bisection between samples 12 hours apart, which no
    zone's rules come close to (two changes in one half-day).
    """
    from leadscore.model._events import from_micros

    def off(us: int) -> int:
        delta = from_micros(us).astimezone(zone).utcoffset()
        assert delta is not None
        return delta // dt.timedelta(microseconds=1)

    step = 12 * 3600 * 10**6
    out = [(lo_us, off(lo_us))]
    t = lo_us
    while t < hi_us:
        nxt = min(t + step, hi_us)
        if off(nxt) != out[-1][1]:
            a, b = t, nxt  # off(a) == current, off(b) differs
            while b - a > 1:
                mid = (a + b) // 2
                if off(mid) == out[-1][1]:
                    a = mid
                else:
                    b = mid
            out.append((b, off(b)))
        t = nxt
    return out


def bucket(
    at: Any, per: str, zone: zoneinfo.ZoneInfo, span: tuple[int, int]
) -> list[Any]:
    """The calendar bucket of *at* in *zone*, as integer columns (see paths.bucket)."""
    import ibis

    changes = offsets(zone, *span)
    if len(changes) == 1:
        offset: Any = ibis.literal(changes[0][1])
    else:
        offset = ibis.cases(
            *((at >= start, off) for start, off in reversed(changes[1:])),
            else_=changes[0][1],
        )
    local = at + offset
    hour_us, day_us = 3600 * 10**6, 86400 * 10**6
    if per == "hour":
        return [_floor(local, hour_us), offset]
    day = _floor(local, day_us)
    if per == "day":
        return [day]
    if per == "week":  # 1970-01-01 was a Thursday; weeks start on Monday
        return [day - _mod(day + 3 * day_us, 7 * day_us)]
    days = (day / day_us).round().cast("int64")  # exact: day is a multiple
    year, month = _civil(days)
    return [year * 12 + month]


def _mod(a: Any, b: int) -> Any:
    """``a mod b`` in [0, b), whatever the engine's sign of ``%``."""
    return (a % b + b) % b


def _floor(a: Any, b: int) -> Any:
    """The multiple of *b* at or below *a*, in exact integer arithmetic.

    Engines compile ``//`` through a float division, which loses microseconds
    beyond 2**53; a remainder does not.
    """
    return a - _mod(a, b)


# -- the score --------------------------------------------------------------------


def canonical_order(t: ir.Table, cols: Columns) -> list[Any]:
    """Sort keys of the canonical event order (see ``model._events.canonical_key``).

    Attributes compare as the sorted (key, value) tuples do: column by column in
    key order, a present value before an absent one that is followed by another
    present key, and after an absent one that ends the tuple; a float's sign
    orders -0.0 before 0.0.
    """
    import ibis

    # Every window using this order is partitioned by contact: the order's last
    # key, the contact, is left out, and so are the ids when no event has one.
    keys: list[Any] = [t[AT]]
    if cols.has_ids:
        keys += [t["id"].notnull(), _collated(t["id"].fill_null(""), cols)]
    keys.append(_collated(t["kind"], cols))
    names = sorted(cols.types)
    for i, name in enumerate(names):
        any_later = _any([t[n].notnull() for n in names[i + 1 :]])
        flag = ibis.cases((t[name].notnull(), 1), (any_later, 2), else_=0)
        value = t[name]
        keys += [flag, _collated(value, cols) if cols.types[name] == "str" else value]
        if cols.types[name] == "float":
            # -0.0 before 0.0, as the pure order has them (SQL finds them equal):
            # atan2(-0.0, -1) is -pi, atan2(0.0, -1) pi.
            keys.append(ibis.cases((value == 0.0, value.atan2(-1.0)), else_=0.0))
    keys.append(t["value"])
    return keys


def _any(flags: Sequence[Any]) -> Any:
    """The OR of boolean expressions (false for none)."""
    import ibis

    either: Any = ibis.literal(value=False)
    for flag in flags:
        either |= flag
    return either


def _disjoint(kind_sets: Sequence[Sequence[str]]) -> bool:
    """Whether no kind is in two of the sets (so no event matches two)."""
    seen: set[str] = set()
    for kinds in kind_sets:
        if seen & set(kinds):
            return False
        seen |= set(kinds)
    return True


def _key_cols(t: ir.Table, keys: Sequence[str], cols: Columns) -> list[Any]:
    import ibis

    return [t[k] if k in cols.types else ibis.null("string") for k in keys]


def until(t: ir.Table, as_of_us: int) -> Any:
    """Whether an event is at or before *as_of_us*.

    On the input's own instant column where the table keeps it (see :data:`TS`).
    """
    import ibis

    from leadscore.model._events import from_micros

    if TS not in t.columns:
        return t[AT] <= as_of_us
    at = from_micros(as_of_us)  # in UTC: compared as an instant, in any zone
    if t[TS].type().timezone is None:  # naive instants read as UTC
        at = at.replace(tzinfo=None)
    return t[TS] <= ibis.literal(at)


def compile_score(
    model: ScoringModel, t: ir.Table, as_of: dt.datetime, cols: Columns
) -> ir.Table:
    """The table ``contact, score`` of *model* over the event table *t* at *as_of*."""
    return _Compiler(model, cols, to_micros(as_of)).score(t)


class _Compiler:
    def __init__(self, model: ScoringModel, cols: Columns, as_of_us: int) -> None:
        self.model, self.cols, self.as_of_us = model, cols, as_of_us
        self.n = len(model.rules)

    # The stages, one method each, in DESIGN's order.

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

    def order(self, t: ir.Table) -> list[Any]:
        """The canonical order's sort keys: its rank when computed, else the keys."""
        if "_ls_ord" in t.columns:
            return [t["_ls_ord"]]
        return canonical_order(t, self.cols)

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
    def span(self) -> tuple[int, int]:
        """The instants an ``at_most`` bucket may be asked of."""
        return (min(self.cols.first_us, self.as_of_us), self.as_of_us)

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
