"""The documented ranges of the library: one name each, shared by every check.

Inputs outside these ranges are rejected when they are built (an ``Event``, a
``Rule``, a condition, an aging policy), never later while scoring or storing, so
nothing that was accepted can fail afterwards. ``docs/concepts.md`` ("Limits")
states them for users.
"""

from __future__ import annotations

__all__ = [
    "MAX_CONDITION_DEPTH",
    "MAX_DAYS",
    "MAX_FREQUENCY",
    "MAX_INT_ATTR",
    "MAX_MONTHS",
    "MAX_POINTS",
    "MAX_REPR",
    "MAX_STEPS",
]

#: Largest absolute number of points: a rule's points, a model's ``initial`` and
#: ``bounds``, a manual ``score.adjusted``/``score.set`` value. Far above any real
#: score, far enough below the float range that no sum of them overflows.
MAX_POINTS = 1e15

#: Deepest nesting of conditions (``where`` inside ``&``/``|``/``~``). Chains such
#: as ``a & b & c ...`` are flattened and do not nest.
MAX_CONDITION_DEPTH = 64

#: Longest aging period: 1,000 years, in months and in days.
MAX_MONTHS = 12_000
MAX_DAYS = 366_000

#: Most steps of ``AgingPolicy.steps``: a schedule per day for almost three years;
#: far above any product's (HubSpot's has two or three), and few enough that
#: checking their order stays quick for a model from untrusted configuration.
MAX_STEPS = 1_000

#: Largest count of a frequency cap (``Frequency(count, per)``).
MAX_FREQUENCY = 10**9

#: Largest absolute int in an event attribute: every store (JSON, SQL) keeps it
#: exactly and conditions compare it with any float.
MAX_INT_ATTR = 2**1023

#: Longest rendering of a bad value in an error message.
MAX_REPR = 200


def shorten(value: object, limit: int = MAX_REPR) -> str:
    """The repr of *value*, cut to *limit* characters with a marker of the rest.

    A 10 MB bad value must not make a 10 MB error message.

    >>> shorten("x" * 1000, 20)
    "'xxxxxxxxxxxxxxxxxx… (1000 characters)"
    """
    size = None
    if isinstance(value, str | bytes) and len(value) > limit:
        size, value = len(value), value[:limit]
    try:
        text = repr(value)
    except ValueError:  # holds an int of more digits than Python prints
        if isinstance(value, int):
            return f"<an int of {value.bit_length()} bits>"
        return f"<a {type(value).__name__} too large to show>"
    except RecursionError:
        return f"<a {type(value).__name__} nested too deep to show>"
    if len(text) <= limit and size is None:
        return text
    return f"{text[: limit - 1]}… ({size or len(text)} characters)"
