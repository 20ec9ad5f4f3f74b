"""The errors leadscore raises.

Every error is a :class:`LeadScoreError`. The leaves also inherit the builtin that
fits (``InvalidEventError`` and ``InvalidModelError`` are also ``ValueError``), so
code that already catches ``ValueError`` keeps working. Each error carries the offending
data as attributes, and its message names the field, the bad value and where it came
from.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "InvalidEventError",
    "InvalidModelError",
    "LeadScoreError",
    "LeadScoreWarning",
    "StoreError",
]


class LeadScoreError(Exception):
    """Root of every error raised by leadscore."""


class InvalidEventError(LeadScoreError, ValueError):
    """An event, or a stream of events, is not acceptable.

    Attributes:
        field: The offending field (``"at"``, ``"value"``, ``"events[3]"``, ...).
        value: The offending value.
        where: Where the value came from (an event id, a position, a line), or
            ``None``.
    """

    def __init__(
        self, message: str, *, field: str, value: Any, where: str | None = None
    ) -> None:
        """Build the error; *message* should already name field and value."""
        if where is not None:
            message = f"{where}: {message}"
        super().__init__(message)
        self.field = field
        self.value = value
        self.where = where


class InvalidModelError(LeadScoreError, ValueError):
    """A scoring model, rule, condition or aging policy is not acceptable.

    Attributes:
        path: The path of the offending key (``"rules[2].aging.months"``), or the
            field name when the error comes from a constructor.
        value: The offending value.
        reason: The message without the path.
        source: The file the model came from, or None.
    """

    def __init__(
        self, message: str, *, path: str, value: Any, source: str | None = None
    ) -> None:
        """Build the error; *message* should already name the value."""
        text = f"{path}: {message}" if path else message
        super().__init__(f"{source}: {text}" if source else text)
        self.path = path
        self.value = value
        self.reason = message
        self.source = source


class StoreError(LeadScoreError):
    """A store could not read or write (the driver's error is chained as cause)."""


class LeadScoreWarning(UserWarning):
    """Something was left out rather than failing, and the user should know.

    For example a stored row that the current version no longer accepts as an
    event: the store still opens, the row is kept where it is, and this warning
    names it.
    """
