"""Where the engine keeps events: the Store protocol and the shipped stores.

Events are the truth; every store keeps them and nothing else that cannot be
rebuilt. ``MemoryStore`` and ``SQLiteStore`` use only the standard library;
``SQLAlchemyStore`` (extra ``leadscore[sql]``) lives in
:mod:`leadscore.stores.sqlalchemy` and is imported only from there.

The SQL stores check every row they read: one that cannot be decoded raises
:class:`~leadscore.exceptions.StoreError` naming the row (``quarantine_corrupt()``
moves such rows aside); one that decodes but is no longer a valid event is skipped
and listed as a :class:`RejectedRow` in the store's ``rejected``.
"""

from __future__ import annotations

from ._memory import MemoryStore
from ._protocol import QuarantinedRow, RejectedRow, Store, check_batch
from ._sqlite import SQLiteStore

__all__ = [
    "MemoryStore",
    "QuarantinedRow",
    "RejectedRow",
    "SQLiteStore",
    "Store",
    "check_batch",
]
