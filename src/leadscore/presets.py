"""Ready models for each seed system, with their documented parameters.

Each preset is an ordinary model (a :class:`~leadscore.ScoringModel`, or a
:class:`~leadscore.FitModel` with a :class:`~leadscore.RatingScale`): inspect it,
serialise it, or change it with :func:`attrs.evolve`.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Mapping
from typing import Any

import attrs

from ._qualify import CombinedModel, QualificationMatrix
from ._segments import Segment
from .exceptions import InvalidModelError
from .model._aging import AgingPolicy
from .model._conditions import where
from .model._events import Event
from .model._fit import FitModel, FitRule, fit_scores
from .model._rating import RatingScale
from .model._rules import Group, Rule, ScoringModel, finite
from .typing import Instant

__all__ = [
    "LETTER",
    "THIRD",
    "TWO_THIRDS",
    "Grading",
    "activecampaign",
    "cold_leads",
    "email_engagement",
    "grade",
    "highlevel",
    "hot_leads",
    "manual",
    "qualification_matrix",
    "reengagement_candidates",
]

#: Grade steps, in the units of :meth:`RatingScale.grades` (thirds of a letter).
THIRD, TWO_THIRDS, LETTER = 1, 2, 3

#: The email engagement score's default weights (see docs/howto/email-engagement).
ENGAGEMENT_WEIGHTS: Mapping[str, float] = {
    "subscribe": 0.75,
    "read": 0.4,
    "click": 1.0,
    "forward": 1.5,
    "reply": 1.5,
    "profile": 0.5,
    "invite": 0.5,
    "bounce": 0.25,
    "complaint": 2.0,
    "unsubscribe": 1.0,
}


def _positive(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidModelError(
            f"{name} must be a number, got {value!r}", path=name, value=value
        )
    if not math.isfinite(value) or value < 0:
        raise InvalidModelError(
            f"{name} must be a finite number >= 0, got {value!r}",
            path=name,
            value=value,
        )
    return float(value)


def email_engagement(
    *, factor: float = 0.9, name: str = "Email engagement", **weights: float
) -> ScoringModel:
    """The email platform's contact score (seed 002) as a ratio model.

    A contact starts from 2.0; subscribing is a positive action (0.75), so a new
    contact scores 2.75, two stars ("New contacts joining the system are given a
    score of 2 ... we assume that since they have just been subscribed, they are
    still active"). Positive actions add their weight, aged by the number of
    actions since (``by_count(factor)``); deliveries are actions worth 0, so
    unread mails age older engagement away and an inactive contact drifts down
    towards 2.0, still two stars ("Inactive contacts may also be rated 2 stars")
    but below a new contact. Bounces, complaints and unsubscribing divide the
    score, aged the same way: one bounce leaves a new contact at two stars, two
    bounces or one complaint take it to one ("may be caused by multiple bounces or
    complaints"). For bounces, reads, clicks, forwards, complaints and replies,
    "only the latest action on an individual message will be considered": they
    form one group with ``once_per=("message",)``, so a mail opened then clicked
    counts the click only. Profile updates count once (the latest); invites once
    per list.

    Args:
        factor: The weight an action keeps per later action, in (0, 1].
        name: The model's name.
        **weights: Overrides of :data:`ENGAGEMENT_WEIGHTS` (``subscribe``,
            ``read``, ``click``, ``forward``, ``reply``, ``profile``, ``invite``,
            ``bounce``, ``complaint``, ``unsubscribe``), each >= 0; bounce,
            complaint and unsubscribe are divisors.

    Raises:
        InvalidModelError: for an unknown weight or a bad value.

    >>> import leadscore as ls
    >>> model = email_engagement()
    >>> ls.score(model, [ls.Event("ann", "contact.subscribed", "2024-01-01T00:00Z")],
    ...          "2024-01-02T00:00Z")
    {'ann': 2.75}
    """
    unknown = sorted(set(weights) - set(ENGAGEMENT_WEIGHTS))
    if unknown:
        raise InvalidModelError(
            f"unknown weight {unknown[0]!r}; use {', '.join(ENGAGEMENT_WEIGHTS)}",
            path=unknown[0],
            value=weights[unknown[0]],
        )
    w = {k: _positive(k, weights.get(k, v)) for k, v in ENGAGEMENT_WEIGHTS.items()}
    # The seed's per-message actions: only the latest on one message counts.
    per_message = [
        ("email.opened", w["read"], "Read"),
        ("email.clicked", w["click"], "Clicked"),
        ("email.forwarded", w["forward"], "Forwarded"),
        ("email.replied", w["reply"], "Replied"),
        ("email.bounced", -w["bounce"], "Bounced"),
        ("email.complained", -w["complaint"], "Complained"),
    ]
    return ScoringModel(
        name,
        [
            Rule("contact.subscribed", w["subscribe"], once_per=(), name="Subscribed"),
            Rule("email.delivered", 0.0, once_per="message", name="Delivered"),
            *(Rule(k, p, group="message", name=n) for k, p, n in per_message),
            Rule("profile.updated", w["profile"], once_per=(), name="Profile updated"),
            Rule("list.invited", w["invite"], once_per="list", name="Invited"),
            Rule(
                "email.unsubscribed",
                -w["unsubscribe"],
                once_per=(),
                name="Unsubscribed",
            ),
        ],
        aging=AgingPolicy.by_count(factor),
        combine="ratio",
        initial=2.0,
        bounds=(0.0, None),
        groups=[Group("message", once_per="message")],
    )


def highlevel() -> ScoringModel:
    """HighLevel's example contact scoring rules (seed 001), 90-day expiry.

    The seed's six rules, each as written: "+10 points — contact submits a contact
    form", "+5 points — contact opens an email" (every open, whatever the
    campaign), "+15 points — contact books an appointment", "+20 points — contact
    visits the pricing page" (``path == "/pricing"``), "-5 points — contact
    unsubscribes from email", "-10 points — contact misses a scheduled
    appointment". The seed's separate example of a condition filter, "email opened
    AND campaign name contains 'newsletter'", is a rule you add or swap in
    yourself::

        Rule("email.opened", 5, when=where("campaign", contains="newsletter"))

    (``docs/howto/highlevel.md``). Expiry is optional in the seed; this preset
    lets points expire after 90 days. The same model as
    ``examples/models/highlevel.toml``.
    """
    return ScoringModel(
        "Marketing engagement score",
        [
            Rule("form.submitted", 10, name="Submits a contact form"),
            Rule("email.opened", 5, name="Opens an email"),
            Rule("appointment.booked", 15, name="Books an appointment"),
            Rule(
                "page.viewed",
                20,
                when=where("path", eq="/pricing"),
                name="Visits the pricing page",
            ),
            Rule("email.unsubscribed", -5, name="Unsubscribes from email"),
            Rule("appointment.missed", -10, name="Misses a scheduled appointment"),
        ],
        aging=AgingPolicy.expire_after(days=90),
    )


def activecampaign() -> ScoringModel:
    """ActiveCampaign's example point table (seed 004): 6-month expiry.

    The same model as ``examples/models/activecampaign.toml``.
    """
    return ScoringModel(
        "ActiveCampaign lead score",
        [
            Rule("email.opened", 1, name="Open an email"),
            Rule("email.clicked", 5, name="Click an email"),
            Rule("email.replied", 10, name="Answer an email"),
            Rule(
                "page.viewed",
                20,
                when=where("path", startswith="/sales"),
                name="Visited a sales page",
            ),
            Rule(
                "page.viewed",
                20,
                when=where("path", startswith="/checkout")
                | where("path", startswith="/purchase"),
                name="Visited a checkout/purchase page",
            ),
            Rule(
                "order.paid",
                100,
                once_per=(),
                aging=AgingPolicy.never(),
                name="Become a Customer",
            ),
        ],
        aging=AgingPolicy.expire_after(months=6),
    )


def manual(
    name: str = "Score", bounds: tuple[float | None, float | None] | None = None
) -> ScoringModel:
    """A CRM's editable score field (seed 003): no rules, only manual changes.

    The score moves only through ``score.set``, ``score.adjusted`` and
    ``score.reset`` events.
    """
    return ScoringModel(name, [], bounds=bounds)


@attrs.frozen
class Grading:
    """A fit model and the letter scale that grades its scores."""

    model: FitModel
    scale: RatingScale[str]

    def grades(self, events: Iterable[Event], as_of: Instant) -> dict[str, str]:
        """Every contact's letter grade at *as_of*."""
        return self.scale.rate_all(fit_scores(self.model, events, as_of))


def grade(rules: Iterable[FitRule], *, name: str = "Grade") -> Grading:
    """A Pardot-style letter grade: every contact starts at D.

    Each rule that matches moves the grade by its ``points``, and each that fails by
    its ``otherwise``, counted in thirds of a letter: :data:`THIRD`,
    :data:`TWO_THIRDS` or :data:`LETTER` (negative to move down). The grade is
    :meth:`RatingScale.grades` applied to the fit score: F, D-, D, D+, ..., A+.

    Raises:
        InvalidModelError: for a step that is not 0, 1, 2 or 3 thirds (either sign).

    >>> from leadscore import Event, FitRule, where
    >>> grading = grade([FitRule(where("title", contains="VP"), LETTER),
    ...                  FitRule(where("country", eq="US"), TWO_THIRDS,
    ...                          otherwise=-THIRD)])
    >>> grading.grades([Event("ann", "profile.updated", "2024-01-01T00:00Z",
    ...                       {"title": "VP Sales", "country": "DE"})],
    ...                "2024-02-01T00:00Z")
    {'ann': 'C-'}
    """
    rules = tuple(rules)
    for i, rule in enumerate(rules):
        if not isinstance(rule, FitRule):
            raise InvalidModelError(
                f"expected a FitRule, got {rule!r}", path=f"rules[{i}]", value=rule
            )
        for field in ("points", "otherwise"):
            step = getattr(rule, field)
            if step not in {-3, -2, -1, 0, 1, 2, 3}:
                raise InvalidModelError(
                    f"a grade moves by THIRD (1), TWO_THIRDS (2) or LETTER (3), up "
                    f"or down; got {step!r}",
                    path=f"rules[{i}].{field}",
                    value=step,
                )
    return Grading(FitModel(name, rules), RatingScale.grades())


def qualification_matrix(
    fit: FitModel,
    engagement: ScoringModel,
    *,
    score_limit: float = 100,
    weights: tuple[float, float] = (1.0, 1.0),
) -> CombinedModel:
    """HubSpot's combined score, graded on its A1-C3 qualification matrix.

    Fit is graded A, B or C and engagement 1, 2 or 3, each axis cut into thirds
    of *score_limit* (HubSpot's default score limit is 100 points): a score of at
    least 2/3 of it is A (or 1), at least 1/3 is B (or 2), below that C (or 3).
    The combined score is ``weights[0] * fit + weights[1] * engagement``, by
    default HubSpot's total, fit plus engagement. For other cuts build a
    :class:`~leadscore.QualificationMatrix` yourself.

    Raises:
        InvalidModelError: for a *score_limit* that is not a positive number, bad
            weights, or models of the wrong type.

    >>> from leadscore import Event, FitModel, FitRule, Rule, ScoringModel, where
    >>> fit = FitModel("Fit", [FitRule(where("title", contains="VP"), 70)])
    >>> engagement = ScoringModel("Engagement", [Rule("form.submitted", 40)])
    >>> matrix = qualification_matrix(fit, engagement)
    >>> matrix.codes([
    ...     Event("ann", "profile.updated", "2024-05-01T00:00Z", {"title": "VP Sales"}),
    ...     Event("ann", "form.submitted", "2024-05-02T00:00Z"),
    ...     Event("bob", "form.submitted", "2024-05-02T00:00Z"),
    ... ], "2024-05-03T00:00Z")
    {'ann': 'A2', 'bob': 'C2'}
    """
    limit = finite("score_limit", score_limit)
    if limit <= 0:
        raise InvalidModelError(
            f"score_limit must be > 0, got {score_limit!r}",
            path="score_limit",
            value=score_limit,
        )
    thirds = (limit / 3, 2 * limit / 3)
    return CombinedModel(
        fit, engagement, QualificationMatrix(thirds, thirds, weights=weights)
    )


def hot_leads(threshold: float = 75) -> Segment:
    """HighLevel's smart list "Hot leads — Score is greater than 75"."""
    return Segment.greater_than("Hot leads", threshold)


def cold_leads(threshold: float = 20) -> Segment:
    """HighLevel's smart list "Cold leads — Score is less than 20"."""
    return Segment.less_than("Cold leads", threshold)


def reengagement_candidates(within: dt.timedelta | None = None) -> Segment:
    """HighLevel's "Re-engagement candidates — Score decreased in the last 30 days"."""
    return Segment.decreased(
        "Re-engagement candidates", within or dt.timedelta(days=30)
    )
