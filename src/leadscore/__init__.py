"""leadscore: contact activity in, lead scores, ratings and action scores out.

Everything public is importable from here; adapters live in their own modules.
"""

from __future__ import annotations

from . import exceptions, presets, results
from ._action import ActionScore, ActionScoreConfig, action_scores
from ._backtest import Backtest, backtest, roc_auc
from ._qualify import (
    CombinedModel,
    Qualification,
    QualificationMatrix,
    combined_scores,
    qualify,
)
from ._rfm import CLASSIC_SEGMENTS, RFMSegment, SegmentRule, rfm_segments
from ._rollup import rollup
from ._segments import ScoreDiff, Segment, WhatIf, segment, what_if
from ._time import band_changes, changes, crossings, timeline
from ._triggers import Threshold
from .exceptions import InvalidEventError, InvalidModelError, LeadScoreError
from .model._aging import AgingPolicy
from .model._conditions import (
    VALUE,
    All,
    Any_,
    AnyOf,
    Compare,
    Condition,
    EventField,
    Not,
    where,
)
from .model._events import (
    CONTACT_MERGED,
    SCORE_ADJUSTED,
    SCORE_RESET,
    SCORE_SET,
    SPECIAL_KINDS,
    Event,
    FrozenAttrs,
)
from .model._fit import FitModel, FitRule, fit_scores, profiles
from .model._rating import GRADE_LETTERS, RatingScale
from .model._rules import Frequency, Group, Rule, ScoringModel
from .paths._fold import Ledger, explain, fold, score, score_many
from .results import BandChange, Contribution, Crossing, ScoreChange

__all__ = [
    "CLASSIC_SEGMENTS",
    "CONTACT_MERGED",
    "GRADE_LETTERS",
    "SCORE_ADJUSTED",
    "SCORE_RESET",
    "SCORE_SET",
    "SPECIAL_KINDS",
    "VALUE",
    "ActionScore",
    "ActionScoreConfig",
    "AgingPolicy",
    "All",
    "AnyOf",
    "Any_",
    "Backtest",
    "BandChange",
    "CombinedModel",
    "Compare",
    "Condition",
    "Contribution",
    "Crossing",
    "Event",
    "EventField",
    "FitModel",
    "FitRule",
    "Frequency",
    "FrozenAttrs",
    "Group",
    "InvalidEventError",
    "InvalidModelError",
    "LeadScoreError",
    "Ledger",
    "Not",
    "Qualification",
    "QualificationMatrix",
    "RFMSegment",
    "RatingScale",
    "Rule",
    "ScoreChange",
    "ScoreDiff",
    "ScoringModel",
    "Segment",
    "SegmentRule",
    "Threshold",
    "WhatIf",
    "action_scores",
    "backtest",
    "band_changes",
    "changes",
    "combined_scores",
    "crossings",
    "exceptions",
    "explain",
    "fit_scores",
    "fold",
    "presets",
    "profiles",
    "qualify",
    "results",
    "rfm_segments",
    "roc_auc",
    "rollup",
    "score",
    "score_many",
    "segment",
    "timeline",
    "what_if",
    "where",
]


def __getattr__(name: str) -> str:
    if name == "__version__":
        from importlib.metadata import version

        return version("leadscore")
    msg = f"module {__name__!r} has no attribute {name!r}"
    raise AttributeError(msg)
