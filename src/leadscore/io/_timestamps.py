"""Timestamp cells as microseconds since 1970, read as the row path reads them.

:class:`TimestampTyping`, a base of :class:`~leadscore.io._columns.Columns`,
types the ``at`` column. Arrow timestamps with a zone, epoch numbers (in the
reader's unit, or by magnitude) and ISO 8601 text are converted by Arrow
kernels; text without an offset in the reader's time zone is too, where Arrow's
rules for the zone agree with Python's. Every other cell is converted by value
with the row path's ``to_at``, and an instant a datetime cannot hold is a slow
row.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from leadscore.model._events import to_micros

from ._by_value import ByValueTyping
from ._cells import plain, to_at

if TYPE_CHECKING:
    from ._read import EventReader

__all__ = ["TimestampTyping"]


#: The instants a datetime can hold, in microseconds since 1970 (UTC).
_MIN_US = to_micros(dt.datetime.min.replace(tzinfo=dt.UTC))
_MAX_US = to_micros(dt.datetime.max.replace(tzinfo=dt.UTC))
# With epoch="auto" the unit follows the magnitude (see _cells.to_at).
_AUTO = ((100_000_000_000, "s"), (100_000_000_000_000, "ms"))
_AUTO_US = 100_000_000_000_000_000
_PER_US = {"s": 1_000_000, "ms": 1_000}
#: The local times Arrow's named zones are trusted for (see _local_text).
_NAMED_FROM = to_micros(dt.datetime(1900, 1, 1, tzinfo=dt.UTC))
_NAMED_UNTIL = to_micros(dt.datetime(2037, 1, 1, tzinfo=dt.UTC))


class TimestampTyping(ByValueTyping):
    """The typing of the ``at`` column; a base of Columns."""

    reader: EventReader

    def _at(self, cells: Any) -> Any:
        """Microseconds since 1970 (int64); cells the kernels cannot read are slow."""
        import pyarrow as pa
        import pyarrow.compute as pc

        reader = self.reader
        kind = cells.type
        if pa.types.is_timestamp(kind) and kind.tz is not None:
            try:
                us = pc.cast(cells, pa.timestamp("us", tz="UTC"))
            except pa.ArrowInvalid:  # sub-microsecond digits: the row path drops them
                return self._at_by_value(cells)
            us = pc.cast(us, pa.int64())
            self._mark(pc.is_null(us))
            return us
        if pa.types.is_integer(kind):
            try:
                return self._epoch(pc.cast(cells, pa.int64()), reader.epoch)
            except pa.ArrowInvalid:  # a uint64 beyond int64
                return self._at_by_value(cells)
        if not pa.types.is_string(kind):
            return self._at_by_value(cells)
        return self._at_text(cells)

    def _at_text(self, chunk: Any) -> Any:
        """Timestamp text: ISO 8601 with an offset, or digits; the rest by value."""
        import pyarrow as pa
        import pyarrow.compute as pc

        valid = len(chunk) - chunk.null_count
        # Python reads text with a colon by datetime.fromisoformat, the formats
        # Arrow's ISO parser knows among them; digits are epoch numbers.
        if valid and _colons(chunk):
            try:
                at = pc.cast(chunk, pa.timestamp("us", tz="UTC"))
            except pa.ArrowInvalid:
                at = self._local_text(chunk)
            if at is not None:
                if chunk.null_count:
                    self._mark(pc.is_null(chunk))
                return self._in_range(pc.cast(at, pa.int64()))
        elif valid:
            try:
                number = pc.cast(chunk, pa.int64())
            except pa.ArrowInvalid:
                pass
            else:
                return self._epoch(number, self.reader.epoch)
        return self._at_by_value(chunk)

    def _local_text(self, text: Any) -> Any:
        """Timestamps without an offset, in the reader's tz; None if not all are.

        Python attaches the zone with fold=0: a time that occurs twice is its first
        occurrence (Arrow's "earliest"); a time that does not occur (a spring
        gap) has no Arrow equivalent, so those rows are left to the row path.
        """
        import pyarrow as pa
        import pyarrow.compute as pc

        zone = _arrow_zone(self.reader.tz)
        if zone is None:
            return None
        try:
            naive = pc.cast(text, pa.timestamp("us"))
        except pa.ArrowInvalid:
            return None  # offsets and none mixed, or other formats: by value
        if "/" in zone:
            # Arrow's zone rules stop at 2037 (later summers are read as winter
            # time); Python's follow the zone's rule for ever. Times outside
            # 1900-2036 in a named zone are left to the row path.
            us = pc.cast(naive, pa.int64())
            low, high = pc.min_max(us).values()
            if low.as_py() < _NAMED_FROM or high.as_py() >= _NAMED_UNTIL:
                self._mark(
                    pc.or_(pc.less(us, _NAMED_FROM), pc.greater_equal(us, _NAMED_UNTIL))
                )
        at = pc.assume_timezone(
            naive, timezone=zone, ambiguous="earliest", nonexistent="earliest"
        )
        if "/" in zone:  # a time in a gap does not read back as itself
            back = pc.cast(pc.local_timestamp(at), pa.int64())
            gap = pc.not_equal(back, pc.cast(naive, pa.int64()))
            if pc.any(gap).as_py():
                self._mark(gap)
        return at

    def _in_range(self, us: Any) -> Any:
        import pyarrow as pa
        import pyarrow.compute as pc

        low, high = pc.min_max(us).values()
        if low.is_valid and low.as_py() >= _MIN_US and high.as_py() <= _MAX_US:
            return us
        ok = pc.and_(pc.greater_equal(us, _MIN_US), pc.less_equal(us, _MAX_US))
        self._mark(pc.invert(ok.fill_null(fill_value=False)))
        return pc.if_else(ok, us, pa.scalar(None, pa.int64()))

    def _epoch(self, n: Any, epoch: str) -> Any:
        """Numbers since 1970 in *epoch* units (or by magnitude) as microseconds."""
        import pyarrow as pa
        import pyarrow.compute as pc

        size = pc.abs(n)
        # abs() of the smallest int64 is itself (negative): leave it to Python.
        fits = pc.greater_equal(size, 0)
        us = pa.nulls(len(n), pa.int64())
        if epoch == "auto":
            units = [
                ("s", pc.less(size, _AUTO[0][0])),
                (
                    "ms",
                    pc.and_(
                        pc.greater_equal(size, _AUTO[0][0]), pc.less(size, _AUTO[1][0])
                    ),
                ),
                (
                    "us",
                    pc.and_(
                        pc.greater_equal(size, _AUTO[1][0]), pc.less(size, _AUTO_US)
                    ),
                ),
                ("ns", pc.greater_equal(size, _AUTO_US)),
            ]
        else:
            units = [(epoch, pc.is_valid(n))]
        for unit, chosen in units:
            where = pc.and_(chosen, fits)
            if unit in _PER_US:
                limit = _MAX_US // _PER_US[unit]
                where = pc.and_(where, pc.less_equal(size, limit))
                part = pc.multiply(pc.if_else(where, n, 0), _PER_US[unit])
            elif unit == "us":
                part = n
            else:  # ns: to the nearest microsecond, half to even (as Decimal does)
                where = pc.and_(where, pc.greater_equal(n, 0))
                pos = pc.if_else(where, n, 0)
                q = pc.divide(pos, 1000)
                r = pc.subtract(pos, pc.multiply(q, 1000))
                odd = pc.equal(pc.bit_wise_and(q, 1), 1)
                up = pc.or_(pc.greater(r, 500), pc.and_(pc.equal(r, 500), odd))
                part = pc.add(q, pc.cast(up, pa.int64()))
            us = pc.if_else(where.fill_null(fill_value=False), part, us)
        # Numbers outside the units' ranges, negative nanoseconds: Python decides.
        self._mark(pc.and_(pc.is_valid(n), pc.is_null(us)))
        self._mark(pc.is_null(n))
        return self._in_range(us)

    def _at_by_value(self, cells: Any) -> Any:
        import pyarrow as pa

        tz, epoch = self.reader.tz, self.reader.epoch

        def convert(cell: Any) -> int:
            return to_micros(to_at(plain(cell), tz, epoch))

        return self._by_value(cells, convert, pa.int64())


def _arrow_zone(tz: dt.tzinfo | None) -> str | None:
    """The name Arrow knows *tz* by (IANA key, "UTC", "+02:00"), or None."""
    import zoneinfo

    if tz is None:
        return None
    if isinstance(tz, zoneinfo.ZoneInfo):
        return tz.key
    if isinstance(tz, dt.timezone):
        offset = tz.utcoffset(None)
        if offset % dt.timedelta(minutes=1):
            return None  # seconds in the offset: Arrow's zones have none
        minutes = int(offset.total_seconds()) // 60
        sign = "-" if minutes < 0 else "+"
        return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"
    return None


def _colons(text: Any) -> bool:
    """Whether every timestamp text has a colon (Python's ISO branch reads it).

    Arrow's ISO parser also reads colon-free forms ("2024-05-01T10Z",
    "2024-05-01T10+0200", 18 characters at most), which Python reads otherwise:
    texts of 19 characters or more that Arrow reads all have one, so the scan
    for colons is only needed when a shorter text is there.
    """
    import pyarrow.compute as pc

    shortest = pc.min(pc.binary_length(text)).as_py()
    if shortest is not None and shortest >= 19:
        return True
    return bool(pc.all(pc.match_substring(text, ":")).as_py())
