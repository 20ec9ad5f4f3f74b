"""Which execution path runs each operation of a model: decided once, in one place.

A model is compiled once (:func:`leadscore.plan._compile.compile_model`); the compiled
form carries a :class:`Strategy` that says, operation by operation, which path
runs it. The paths never decide for themselves.

The decision is by features. :func:`features` lists what a model uses: every
``Rule`` and ``ScoringModel`` field set to something other than its default (by
field name, so a field added later is listed without anyone remembering to), the
aging policy kinds, fractional points. Each fast path names the features it
supports (:data:`SUPPORTS`); a model using anything a path does not name goes to
the general path, which is the definition. So a new rule option gives correct
scores from the day it is added, and a fast path takes it only once taught (and
its tests prove it).

The general path can be forced for every model (:func:`forced`, private: the test
suite runs its laws under ``"auto"`` and ``"general"``).
"""

from __future__ import annotations

import enum
from collections.abc import Iterator
from contextlib import contextmanager

import attrs

from leadscore.model._rules import Group, Rule, ScoringModel

__all__ = [
    "PACKED_POINTS",
    "SUPPORTS",
    "Path",
    "Strategy",
    "choose",
    "features",
    "forced",
]


class Path(enum.Enum):
    """An execution path."""

    #: The definition: every feature, one contact at a time (``Scorer.general``).
    GENERAL = "general"
    #: ``score``: one streaming pass keeping per-rule totals per contact.
    STREAM = "stream"
    #: Ledger and engine reads: one loop over a contact's entries (``Scorer.fast``).
    KERNEL = "kernel"
    #: ``crossings``: a sweep over packed integers (plain sums of whole points).
    INTEGER_SWEEP = "integer-sweep"
    #: ``crossings``: a counting sweep (limits, ratio, fractional points).
    COUNT_SWEEP = "count-sweep"
    #: ``crossings``/``changes``/timelines: re-score at every instant (``History``).
    RESCORE = "rescore"


#: Features every path supports: what a rule or model always has, and the zone
#: (it matters only to at_most, a feature of its own).
_BASE = frozenset(
    {"rule.kind", "rule.points", "rule.name", "model.name", "model.timezone"}
)

# Each fast path is taught what the one before it is, and a little more.
#: A plain sum of whole points under step aging: the integer sweep.
_PLAIN_STEPS = _BASE | {
    "rule.when",
    "rule.aging",
    "aging.never",
    "aging.expire_after",
    "model.aging",
    "model.initial",
    "model.bounds",
    "model.active_from",
    "model.merge",
}
#: ... with limits, ratio and fractional points: the counting sweep.
_STEPS = _PLAIN_STEPS | {"rule.limit", "points.fractional", "model.combine"}
#: ... with continuous decay, once_per, group limits and subjects: the streaming
#: score and the kernel.
_RUNNING = _STEPS | {
    "aging.half_life",
    "aging.linear",
    "aging.inverse",
    "aging.steps",
    "rule.once_per",
    "rule.group",
    "model.groups",
    "group.name",
    "group.limit",
    "model.subject",
}

#: ... with ranks (by_count): the per-contact kernel, which sees every instant.
_RANKED = _RUNNING | {"aging.by_count"}

#: A plain sum of whole points under step aging, by subject or in uncapped groups:
#: the stream keeps one exact int per contact (``stream_whole_sums``).
_WHOLE_SUMS = _PLAIN_STEPS | {
    "model.subject",
    "model.groups",
    "rule.group",
    "group.name",
}

#: The features each fast path is taught. Anything else sends a model elsewhere.
SUPPORTS: dict[Path, frozenset[str]] = {
    # A group's once_per keeps the latest event per key among the group's rules
    # as the stream goes; not when a rule of the group has its own once_per too.
    Path.STREAM: _RUNNING | {"group.once_per"},
    # Reads of one contact run the stream's loop over grouped entries; with all
    # of a contact's instants at hand they can rank them too.
    Path.KERNEL: _RANKED,
    Path.INTEGER_SWEEP: _PLAIN_STEPS,
    Path.COUNT_SWEEP: _STEPS,
}

#: Features that change the combination step (``Scorer.combine``); without them a
#: score is ``initial + Σ totals``, clamped.
_COMBINING = frozenset({"rule.limit", "model.combine", "group.limit"})

#: The integer sweep packs an instant's summed points into 24 bits: each rule's
#: points stay below this (64 rules' worth fit).
PACKED_POINTS = 2**17

_forced: list[Path] = []


@contextmanager
def forced(path: str) -> Iterator[None]:
    """Within the block, compile every model for *path*: ``"auto"`` or ``"general"``.

    Private, for tests: the laws must hold on every path, not only on the one a
    model's shape happens to select.
    """
    if path not in {"auto", "general"}:
        msg = f"path must be 'auto' or 'general', got {path!r}"
        raise ValueError(msg)
    _forced.append(Path.GENERAL if path == "general" else Path.STREAM)
    try:
        yield
    finally:
        _forced.pop()


def _non_default(instance: Rule | ScoringModel | Group) -> list[str]:
    """The fields of *instance* that are required or differ from their default."""
    out = []
    for field in attrs.fields(type(instance)):
        default = field.default
        required = default is attrs.NOTHING or isinstance(default, attrs.Factory)  # type: ignore[arg-type]
        if required or getattr(instance, field.name) != default:
            out.append(field.name)
    return out


def features(model: ScoringModel) -> frozenset[str]:
    """Everything *model* uses that a path may or may not support.

    >>> from leadscore import AgingPolicy, Rule, ScoringModel
    >>> sorted(features(ScoringModel("m", [Rule("k", 1.5, once_per="message")],
    ...                              aging=AgingPolicy.by_count(0.9))))
    ... # doctest: +NORMALIZE_WHITESPACE
    ['aging.by_count', 'model.aging', 'model.name', 'model.rules',
     'points.fractional', 'rule.kind', 'rule.once_per', 'rule.points']
    """
    found = {f"model.{name}" for name in _non_default(model)}
    found.discard("model.rules")
    found.add("model.rules")  # always present; listed for completeness
    rule: Rule
    for rule in model.rules:
        found.update(f"rule.{name}" for name in _non_default(rule))
        found.add(f"aging.{model.policy(rule).kind}")
        if not float(rule.points).is_integer():
            found.add("points.fractional")
    for group in model.groups:
        found.update(f"group.{name}" for name in _non_default(group))
        if group.once_per is not None and any(
            r.group == group.name and r.once_per is not None for r in model.rules
        ):
            found.add("group.once_per.nested")  # two once_per stages, one rule
    return frozenset(found)


@attrs.frozen
class Strategy:
    """Which path runs each operation of one model.

    Attributes:
        score: ``score()``: :attr:`Path.STREAM` or :attr:`Path.GENERAL`.
        reads: Ledger and engine reads of a contact without manual events or
            merges: :attr:`Path.KERNEL` or :attr:`Path.GENERAL`.
        plain_sum: The score is ``initial + Σ totals`` (clamped), with no limit or
            ratio to apply.
        whole_sums: ``score`` streams one exact int total per contact: a plain sum
            of whole points under step aging.
        crossings: :attr:`Path.INTEGER_SWEEP`, :attr:`Path.COUNT_SWEEP` or
            :attr:`Path.RESCORE`.
        changes: ``changes()`` and timelines: :attr:`Path.RESCORE`.
        features: What the model uses (see :func:`features`).
    """

    score: Path
    reads: Path
    plain_sum: bool
    whole_sums: bool
    crossings: Path
    changes: Path
    features: frozenset[str]


def _takes(path: Path, used: frozenset[str]) -> bool:
    return used <= SUPPORTS[path]


def choose(model: ScoringModel) -> Strategy:
    """The strategy for *model*: the fastest path that supports all it uses."""
    used = features(model) - {"model.rules"}
    general = bool(_forced) and _forced[-1] is Path.GENERAL
    stream = not general and _takes(Path.STREAM, used)
    kernel = not general and _takes(Path.KERNEL, used)
    if general:
        crossings = Path.RESCORE
    elif _takes(Path.INTEGER_SWEEP, used) and all(
        abs(r.points) < PACKED_POINTS for r in model.rules
    ):
        crossings = Path.INTEGER_SWEEP
    elif _takes(Path.COUNT_SWEEP, used):
        crossings = Path.COUNT_SWEEP
    else:
        crossings = Path.RESCORE
    return Strategy(
        score=Path.STREAM if stream else Path.GENERAL,
        reads=Path.KERNEL if kernel else Path.GENERAL,
        plain_sum=not used & _COMBINING,
        whole_sums=stream and used <= _WHOLE_SUMS,
        crossings=crossings,
        changes=Path.RESCORE,
        features=used,
    )
