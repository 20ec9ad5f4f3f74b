"""Real-time scoring over a store: ingest events as they happen, read scores any time.

The store keeps the events (the truth) and the engine's durable state; the engine
keeps, per model, a ledger folded from the events (a cache it can always rebuild).
Scores are computed at read time for any ``as_of``; what changes them is reported
as it happens: by :meth:`Engine.ingest` at the events' own instants, by
:meth:`Engine.advance` when time alone changes them (expiry, decay), and written
to an outbox (:class:`Outbox`) in the same transaction.

>>> import leadscore as ls
>>> from leadscore.stores import MemoryStore
>>> engine = Engine([ls.presets.highlevel()], MemoryStore())
>>> changes = engine.ingest([ls.Event("ann", "form.submitted", "2024-05-01T09:00Z",
...                                   id="e1")])
>>> [(c.contact, c.before, c.after) for c in changes]
[('ann', 0.0, 10.0)]
>>> engine.ingest([ls.Event("ann", "form.submitted", "2024-05-01T09:00Z", id="e1")])
[]
>>> engine.score("Marketing engagement score", "ann", "2024-05-02T00:00Z")
10.0
"""

from __future__ import annotations

from leadscore._triggers import Threshold

from ._engine import Engine, Ingested, SkippedEvent, merged_into, model_version
from ._outbox import Outbox, OutboxRecord

__all__ = [
    "Engine",
    "Ingested",
    "Outbox",
    "OutboxRecord",
    "SkippedEvent",
    "Threshold",
    "merged_into",
    "model_version",
]
