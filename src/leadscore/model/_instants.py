"""Instants: timestamps as aware UTC datetimes, and as exact integer microseconds.

Every timestamp the package accepts goes through :func:`to_utc`, which rejects a
time without a zone. The fold compares and sorts the integers of
:func:`to_micros`, not datetimes, and :func:`from_micros` turns them back.
"""

from __future__ import annotations

import datetime as dt

from dateutil.parser import isoparse

from leadscore.exceptions import InvalidEventError

from ._limits import shorten

__all__ = ["EARLIEST_US", "from_micros", "to_micros", "to_utc"]

#: An instant (microseconds since the epoch) before every possible event: "no
#: lower limit" wherever an earliest counted instant is kept.
EARLIEST_US = -(2**63)

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_MICROSECOND = dt.timedelta(microseconds=1)


def to_utc(value: object, field: str, where: str | None = None) -> dt.datetime:
    """Return *value* as an aware UTC datetime, or raise naming *field*.

    Accepts aware datetimes and ISO-8601 strings that carry an offset (``Z`` or
    ``+hh:mm``). Naive datetimes and offset-less strings are rejected: a time without
    a zone is a guess, and scores built on guesses drift by hours.

    >>> to_utc("2024-03-01T09:30:00+01:00", "at")
    datetime.datetime(2024, 3, 1, 8, 30, tzinfo=datetime.timezone.utc)
    """
    if value.__class__ is dt.datetime:  # the common case first (exact type, fast)
        if value.tzinfo is None or value.utcoffset() is None:
            raise _naive(value, field, where)
        return _astimezone_utc(value, field, value, where)
    if isinstance(value, str):
        try:
            parsed = isoparse(value)
        except (ValueError, OverflowError) as e:
            raise InvalidEventError(
                f"{field} is not an ISO-8601 timestamp: {shorten(value)} ({e})",
                field=field,
                value=value,
                where=where,
            ) from None
        if parsed.tzinfo is None or parsed.utcoffset() is None:
            raise InvalidEventError(
                f"{field} has no UTC offset: {shorten(value)}; write it with 'Z' or "
                "'+hh:mm', e.g. '2024-03-01T09:30:00Z'",
                field=field,
                value=value,
                where=where,
            )
        return _astimezone_utc(parsed, field, value, where)
    if isinstance(value, dt.datetime):  # a subclass: pandas.Timestamp ...
        if value.tzinfo is None or value.utcoffset() is None:
            raise _naive(value, field, where)
        utc = _astimezone_utc(value, field, value, where)
        # Keep a plain datetime (Timestamp.astimezone gives a Timestamp).
        return dt.datetime(
            utc.year,
            utc.month,
            utc.day,
            utc.hour,
            utc.minute,
            utc.second,
            utc.microsecond,
            dt.UTC,
        )
    raise InvalidEventError(
        f"{field} must be an aware datetime or an ISO-8601 string with an offset, "
        f"got {type(value).__name__} {shorten(value)}",
        field=field,
        value=value,
        where=where,
    )


def _naive(value: object, field: str, where: str | None) -> InvalidEventError:
    return InvalidEventError(
        f"{field} must be timezone-aware, got naive {value!r}; "
        "attach a zone, e.g. value.replace(tzinfo=datetime.UTC)",
        field=field,
        value=value,
        where=where,
    )


def _astimezone_utc(
    at: dt.datetime, field: str, given: object, where: str | None
) -> dt.datetime:
    try:
        return at.astimezone(dt.UTC)
    except (OverflowError, ValueError) as e:
        # 0001-01-01T00:00+01:00 is a valid local time whose UTC instant is not.
        raise InvalidEventError(
            f"{field} is outside the years 1 to 9999 in UTC: {shorten(given)} ({e})",
            field=field,
            value=given,
            where=where,
        ) from None


def to_micros(at: dt.datetime) -> int:
    """Microseconds since the Unix epoch of an aware datetime (exact integer)."""
    return (at - _EPOCH) // _MICROSECOND


def from_micros(us: int) -> dt.datetime:
    """The aware UTC datetime *us* microseconds after the Unix epoch."""
    return _EPOCH + dt.timedelta(microseconds=us)
