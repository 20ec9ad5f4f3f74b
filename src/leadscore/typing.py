"""Public type aliases: what the signatures of leadscore accept and return.

Use them in your own annotations::

    from leadscore.typing import Instant

    def nightly(as_of: Instant) -> dict[str, float]: ...

>>> import datetime as dt
>>> from leadscore.typing import Instant
>>> isinstance(dt.datetime(2024, 5, 1, tzinfo=dt.UTC), Instant)
True
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any, TypeAlias

from .model._events import AttrValue

if TYPE_CHECKING:
    from .stores._protocol import Store

__all__ = ["AttrValue", "Instant", "Scores", "Store"]

#: An instant: an aware ``datetime``, or an ISO-8601 string with an offset
#: (``"2024-05-01T09:00:00Z"``). Naive values are rejected when used.
Instant: TypeAlias = dt.datetime | str

#: Scores by contact: what ``score`` and ``Ledger.scores`` return.
Scores: TypeAlias = dict[str, float]


def __getattr__(name: str) -> Any:
    # The Store protocol lives with the stores (the shell); the core imports this
    # module for its aliases without importing the shell.
    if name == "Store":
        from .stores._protocol import Store

        return Store
    msg = f"module {__name__!r} has no attribute {name!r}"
    raise AttributeError(msg)
