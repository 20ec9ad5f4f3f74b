"""Roll-ups: a company's (or deal's) score from its contacts' scores.

HubSpot scores companies and deals as well as contacts; Mautic users asked for
"company score = the sum of its contacts' points". A model with
``subject="company"`` scores a company from the events that name it; a roll-up
scores it from the scores of the contacts that belong to it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Literal

from .exceptions import InvalidModelError
from .model._limits import shorten

__all__ = ["HOWS", "rollup"]

#: How :func:`rollup` combines the members' scores.
HOWS = ("sum", "max", "mean")


def rollup(
    scores: Mapping[str, float],
    members: Mapping[str, str | None],
    how: Literal["sum", "max", "mean"] = "sum",
) -> dict[str, float]:
    """Each group's score from its members' scores: ``{company: score}``.

    Args:
        scores: ``{contact: score}``, e.g. from :func:`score`.
        members: ``{contact: company}``; a contact mapped to None belongs to none.
        how: ``"sum"``, ``"max"`` or ``"mean"`` of the scores of the company's
            contacts that *scores* reports. Contacts without a score are not
            counted (not even as zero in a mean); a company none of whose contacts
            has a score is not reported.

    Raises:
        InvalidModelError: an unknown *how* (``path="how"``).

    >>> scores = {"ann": 10.0, "bob": 4.0, "cy": 7.0}
    >>> members = {"ann": "acme", "bob": "acme", "cy": "globex", "dee": "acme"}
    >>> rollup(scores, members)
    {'acme': 14.0, 'globex': 7.0}
    >>> rollup(scores, members, "mean")
    {'acme': 7.0, 'globex': 7.0}
    """
    if how not in HOWS:
        raise InvalidModelError(
            f"unknown how {shorten(how)}; use one of {', '.join(map(repr, HOWS))}",
            path="how",
            value=how,
        )
    grouped: dict[str, list[float]] = {}
    for contact, company in members.items():
        if company is None:
            continue
        value = scores.get(contact)
        if value is not None:
            grouped.setdefault(company, []).append(value)
    if how == "sum":
        return {c: math.fsum(v) for c, v in sorted(grouped.items())}
    if how == "max":
        return {c: max(v) for c, v in sorted(grouped.items())}
    return {c: math.fsum(v) / len(v) for c, v in sorted(grouped.items())}
