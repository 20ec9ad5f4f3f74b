"""The outbox: every change and crossing the engine reports, kept for consumers.

The engine writes each reported :class:`~leadscore.ScoreChange` and crossing in the
same transaction as what caused it (the batch of events, or the new ``advance``
watermark), as a row with a stable id. A consumer (a webhook worker, say) reads
the rows after its cursor, handles them, and acknowledges: it gets every row at
least once, in the order written, and dedupes by id.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from math import isfinite
from typing import Any, Literal

import attrs

from leadscore._triggers import Threshold
from leadscore.exceptions import StoreError
from leadscore.model._events import from_micros, to_micros
from leadscore.model._limits import shorten
from leadscore.results import Crossing, ScoreChange
from leadscore.stores import Store
from leadscore.stores._protocol import OutboxEntry, OutboxRow

__all__ = ["Outbox", "OutboxRecord", "change_entry", "crossing_entry", "record_of"]

#: One encoder for every entry: ``json.dumps`` with options builds one per call.
_ENCODE = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
#: How that encoder writes a str (quoted and escaped, non-ASCII kept).
_TEXT = json.encoder.encode_basestring


@attrs.frozen
class OutboxRecord:
    """One reported score change or threshold crossing, as the outbox keeps it.

    Attributes:
        position: Its place in the outbox (increasing in the order written).
        id: Its stable id: the same change or crossing always has the same id, so
            a consumer that sees an id again has handled it already.
        type: ``"change"`` or ``"crossing"``.
        model: The model's name.
        contact: Whose score it is.
        at: When it happened.
        before: The score just before.
        after: The score at ``at``.
        direction: ``"up"`` or ``"down"`` for a crossing, else None.
        threshold: The :class:`~leadscore.Threshold` crossed, else None.
    """

    position: int
    id: str
    type: Literal["change", "crossing"]
    model: str
    contact: str
    at: dt.datetime
    before: float
    after: float
    direction: Literal["up", "down"] | None = None
    threshold: Threshold | None = None

    @property
    def change(self) -> ScoreChange:
        """The record as a :class:`~leadscore.ScoreChange`."""
        return ScoreChange(self.contact, self.model, self.at, self.before, self.after)

    @property
    def crossing(self) -> Crossing | None:
        """The record as a :class:`~leadscore.Crossing` (None for a change)."""
        if self.direction is None:
            return None
        return Crossing(self.contact, self.at, self.before, self.after, self.direction)


def _id(*parts: object) -> str:
    return _digest("\x1f".join(repr(p) for p in parts))


def _digest(text: str) -> str:
    return hashlib.blake2b(
        text.encode("utf-8", "surrogatepass"), digest_size=16
    ).hexdigest()


def change_entry(change: ScoreChange, cause: str) -> OutboxEntry:
    """The outbox entry of a score change; *cause* names the commit reporting it.

    Its id and payload are those of :func:`_id` and the JSON encoder, written
    out directly (one per reported change: the engine's hottest write).
    """
    at_us = to_micros(change.at)
    model, contact = change.model, change.contact
    before, after = change.before, change.after
    plain = type(before) is float and type(after) is float  # not a subclass
    if plain and isfinite(before) and isfinite(after):
        payload = (
            f'{{"type":"change","model":{_TEXT(model)},"contact":{_TEXT(contact)},'
            f'"at_us":{at_us},"before":{before!r},"after":{after!r}}}'
        )
    else:
        payload = _ENCODE(
            {
                "type": "change",
                "model": model,
                "contact": contact,
                "at_us": at_us,
                "before": before,
                "after": after,
            }
        )
    key = (
        f"'change'\x1f{cause!r}\x1f{model!r}\x1f{contact!r}"
        f"\x1f{at_us!r}\x1f{before!r}\x1f{after!r}"
    )
    return OutboxEntry(_digest(key), contact, payload)


def crossing_entry(
    model: str, threshold: Threshold, crossing: Crossing, cause: str
) -> OutboxEntry:
    """The outbox entry of a crossing; first-only thresholds carry their marker."""
    at_us = to_micros(crossing.at)
    payload = {
        "type": "crossing",
        "model": model,
        "contact": crossing.contact,
        "at_us": at_us,
        "before": crossing.before,
        "after": crossing.after,
        "direction": crossing.direction,
        "threshold": {
            "value": threshold.value,
            "direction": threshold.direction,
            "first_only": threshold.first_only,
            "strict": threshold.strict,
        },
    }
    once = (
        _id("first", model, threshold.key, crossing.contact)
        if threshold.first_only
        else None
    )
    return OutboxEntry(
        _id(
            "crossing",
            cause,
            model,
            threshold.key,
            crossing.contact,
            at_us,
            crossing.before,
            crossing.after,
        ),
        crossing.contact,
        _ENCODE(payload),
        once,
    )


def record_of(row: OutboxRow) -> OutboxRecord:
    """The record a stored outbox row holds.

    Raises:
        StoreError: naming the position, for a row that cannot be read.
    """
    try:
        data: dict[str, Any] = json.loads(row.payload)
        threshold = data.get("threshold")
        return OutboxRecord(
            row.position,
            row.id,
            data["type"],
            data["model"],
            data["contact"],
            from_micros(data["at_us"]),
            float(data["before"]),
            float(data["after"]),
            data.get("direction"),
            None if threshold is None else Threshold(**threshold),
        )
    except (ValueError, TypeError, KeyError, OverflowError) as e:
        raise StoreError(
            f"outbox row at position {row.position} cannot be read ({e}): "
            f"{shorten(row.payload)}"
        ) from None


class Outbox:
    """A consumer's view of the outbox: read after its cursor, then acknowledge.

    Args:
        store: The store the engine writes to.
        consumer: The consumer's name; each name has its own durable cursor.

    The contract is at-least-once: :meth:`read` returns the records after the
    last acknowledged position, so a consumer that dies before acknowledging
    gets them again. Handle each record idempotently, or remember the ids
    handled (:attr:`OutboxRecord.id` is stable) and skip those seen. Records of
    one contact come in the order they were reported.
    """

    def __init__(self, store: Store, consumer: str = "default") -> None:
        """The outbox of *store* as *consumer* sees it."""
        if not isinstance(consumer, str) or not consumer:
            raise ValueError(f"consumer must be a non-empty str, got {consumer!r}")
        self.store = store
        self.consumer = consumer

    @property
    def cursor(self) -> int:
        """The last acknowledged position (0 before the first acknowledgement)."""
        return int(self.store.state().get(f"cursor:{self.consumer}", "0"))

    def read(self, limit: int = 100, *, after: int | None = None) -> list[OutboxRecord]:
        """Up to *limit* records after *after* (default: the cursor), in order."""
        start = self.cursor if after is None else after
        return [record_of(r) for r in self.store.outbox(start, limit)]

    def acknowledge(self, upto: OutboxRecord | int) -> None:
        """Mark everything up to *upto* (a record or a position) as handled."""
        position = upto.position if isinstance(upto, OutboxRecord) else upto
        self.store.acknowledge(self.consumer, position)
