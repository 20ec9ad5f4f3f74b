"""Typing tests of the public API: mypy checks these, pytest does not run them."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, assert_type

from dateutil.relativedelta import relativedelta

import leadscore as ls
from leadscore import config
from leadscore.model._events import AttrValue

at = dt.datetime(2024, 5, 1, tzinfo=dt.UTC)
e = ls.Event("ann", "email.opened", at, {"message": "m1"}, value=1.0, id="e1")
assert_type(e.at, dt.datetime)
assert_type(e.id, str | None)

cond = ls.where("campaign", contains="newsletter") & ~ls.where(ls.VALUE, gt=10)
assert_type(cond, ls.Condition)

model = ls.ScoringModel(
    "m",
    [ls.Rule("email.opened", 5, when=cond, once_per="message", limit=20)],
    aging=ls.AgingPolicy.expire_after(months=6),
    bounds=(0, 100),
)
assert_type(ls.score(model, [e], at), ls.results.Scores)
scores: dict[str, float] = ls.score(model, [e], at)  # still a dict
assert_type(ls.score_many([model], [e], at), dict[str, dict[str, float]])
ledger = ls.fold(model, [e])
assert_type(ledger, ls.Ledger)
assert_type(ls.fold(model, [e], ledger).scores(at), ls.results.Scores)
assert_type(ledger.score("ann", at), float)
rows = ls.explain(model, [e], "ann", at)
assert_type(rows, ls.results.Explanation)
assert_type(rows[0], ls.Contribution)
assert_type(rows[0].rule, ls.Rule | None)
assert_type(ls.AgingPolicy.by_count(0.5).weight(at, at, rank=2), float)
assert_type(ls.AgingPolicy.inverse(days=30), ls.AgingPolicy)
hubspot = ls.AgingPolicy.steps(
    [(relativedelta(months=1), 0.75), (dt.timedelta(days=45), 0.5)]
)
assert_type(hubspot.weight(at, at), float)
assert_type(config.model_from_dict(config.model_to_dict(model)), ls.ScoringModel)

stars = ls.RatingScale.stars()
assert_type(stars, ls.RatingScale[int])
assert_type(stars.rate_all({"ann": 3.2}), dict[str, Any])
fit = ls.FitModel("fit", [ls.FitRule(ls.where("title", contains="VP"), 10)])
assert_type(ls.fit_scores(fit, [e], at), dict[str, float])
assert_type(ls.profiles([e], at), dict[str, dict[str, AttrValue]])
assert_type(ls.presets.email_engagement(factor=0.8), ls.ScoringModel)
grading = ls.presets.grade([ls.FitRule(ls.where("country", eq="US"), 1)])
assert_type(grading.grades([e], at), dict[str, str])
assert_type(config.load("model.toml", ls.FitModel), ls.FitModel)
assert_type(config.from_json("{}"), ls.ScoringModel)

assert_type(ls.timeline(model, [e], "ann"), ls.results.Timeline)
assert_type(ls.timeline(model, [e], "ann")[0], tuple[dt.datetime, float])
assert_type(
    ls.crossings(model, [e], 50, first_only=False, until=at), ls.results.Crossings
)
assert_type(ls.changes(model, [e], "ann"), list[ls.ScoreChange])
assert_type(ls.segment(model, [e], ls.presets.hot_leads(), at), list[str])
assert_type(ls.what_if(model, model, [e], at).rows, tuple[ls.ScoreDiff, ...])
assert_type(
    ls.backtest(model, [e], "deal.won", dates=[at], horizon=dt.timedelta(days=30)).auc,
    float,
)

action = ls.ActionScore(recency=0.77, frequency=0.01, value=0.01, social=1.0)
assert_type(action.total, int)
assert_type(ls.action_scores([e], at)["ann"], ls.ActionScore)
assert_type(ls.rfm_segments([e], at, bins=4)["ann"].segment, str | None)
assert_type(ls.rfm_segments([e], at)["ann"].spend, Decimal | None)
assert_type(ls.rfm_segments([e], at)["ann"].recency_days, float | None)
assert_type(action.activities, int | None)

matrix = ls.QualificationMatrix((30, 60), (20, 50), weights=(1.0, 1.0))
assert_type(matrix.code(75.0, 10.0), str)
assert_type(ls.qualify({"ann": 1.0}, {"ann": 2.0}, (1,), (2,)), dict[str, str])
assert_type(ls.combined_scores({"ann": 1.0}, {}), dict[str, float])
fit = ls.FitModel("fit", [ls.FitRule(ls.where("title", contains="VP"), 10)])
combined = ls.presets.qualification_matrix(fit, model)
assert_type(combined, ls.CombinedModel)
assert_type(combined.qualifications([e], at), dict[str, ls.Qualification])
assert_type(combined.codes([e], at)["ann"], str)

from leadscore.engine import Engine, Ingested  # noqa: E402
from leadscore.stores import MemoryStore, SQLiteStore  # noqa: E402

engine = Engine([model], SQLiteStore(":memory:"), thresholds={"m": [10]})
assert_type(engine.ingest([e]), Ingested)
assert_type(engine.scores("m", at), dict[str, float])
assert_type(engine.score("m", "ann", at), float)
assert_type(Engine([model], MemoryStore()).forget("ann"), int)
