"""Where the engine keeps events: the Store protocol and the shipped stores.

Events are the truth; every store keeps them and nothing else that cannot be
rebuilt. ``MemoryStore`` and ``SQLiteStore`` use only the standard library;
``SQLAlchemyStore`` (extra ``leadscore[sql]``) lives in
:mod:`leadscore.stores.sqlalchemy` and is imported only from there.
"""

from __future__ import annotations

from ._memory import MemoryStore
from ._protocol import Store, check_batch
from ._sqlite import SQLiteStore

__all__ = ["MemoryStore", "SQLiteStore", "Store", "check_batch"]
