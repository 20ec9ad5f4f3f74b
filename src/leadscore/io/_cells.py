"""Cells to Python values: timestamps, numbers, text, and the scalars of numpy/pandas.

Every function here takes one cell as a file or a DataFrame gives it and returns a
plain Python value (str, int, float, bool, None, tuple, aware UTC datetime), or
raises :class:`CellError` with the reason; the reader adds file, line and field.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import zoneinfo
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from email.utils import parsedate_to_datetime
from typing import Any, Literal, TypeAlias

from dateutil.parser import isoparse

__all__ = [
    "CellError",
    "Epoch",
    "check_tz",
    "csv_attr",
    "flatten",
    "plain",
    "to_at",
    "to_number",
    "to_text",
]

#: The unit of numeric timestamps; "auto" decides by magnitude (see to_at).
Epoch: TypeAlias = Literal["auto", "s", "ms", "us", "ns"]

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_PER_SECOND = {"s": 1, "ms": 1_000, "us": 1_000_000, "ns": 1_000_000_000}
# With epoch="auto": below 1e11 a number is seconds (up to the year 5138), below
# 1e14 milliseconds, below 1e17 microseconds, and nanoseconds above.
_AUTO = ((1e11, "s"), (1e14, "ms"), (1e17, "us"))
_NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")
# CSV cells typed as numbers: only the spellings a number prints as, so that zip
# codes ("02134"), phone numbers ("+3361...") and "1." stay text.
_CSV_INT = re.compile(r"-?(?:0|[1-9]\d*)")
_CSV_FLOAT = re.compile(r"-?(?:0|[1-9]\d*)(?:\.\d+(?:[eE][-+]?\d+)?|[eE][-+]?\d+)")
_CSV_BOOL = {"true": True, "True": True, "TRUE": True}
_CSV_BOOL |= {"false": False, "False": False, "FALSE": False}
_UTC_SUFFIXES = (" UTC", " GMT", " Z", "UTC", "GMT")


class CellError(ValueError):
    """A cell cannot be read as the field it fills (the message says why)."""


def check_tz(tz: Any) -> dt.tzinfo | None:
    """*tz* as a tzinfo: None, a tzinfo, or an IANA name such as "Europe/Paris"."""
    if tz is None or isinstance(tz, dt.tzinfo):
        return tz
    if isinstance(tz, str) and tz:
        if tz.upper() == "UTC":
            return dt.UTC
        try:
            return zoneinfo.ZoneInfo(tz)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            msg = f"tz is not a known time zone: {tz!r}; use an IANA name"
            raise CellError(msg + ' such as "Europe/Paris" or "UTC"') from None
    msg = f"tz must be an IANA time zone name or a tzinfo, got {tz!r}"
    raise CellError(msg)


def plain(value: Any) -> Any:  # noqa: C901, PLR0911, PLR0912 - a type switch
    """A DataFrame's or Parquet file's cell as a plain Python value.

    numpy scalars become int/float/bool/str, pandas' and numpy's missing values
    (NA, NaT, NaN) None, pandas Timestamps datetimes, Decimals floats, arrays and
    lists tuples; nested mappings stay mappings (see :func:`flatten`).
    """
    cls = value.__class__
    if cls is str or cls is int or cls is bool or value is None:
        return value
    if cls is float:
        return None if math.isnan(value) else value
    module = cls.__module__
    if module.startswith("numpy"):
        if getattr(value, "ndim", 0):  # an array in a cell: a tuple
            return tuple(plain(v) for v in value.tolist())
        if cls.__name__ in {"datetime64", "timedelta64"}:
            return _numpy_time(value)
        return plain(value.item())
    if module.startswith("pandas"):
        if cls.__name__ in {"NAType", "NaTType"}:
            return None
        if isinstance(value, dt.datetime):
            return _plain_datetime(value)
    if isinstance(value, bool | int | str):  # subclasses (IntEnum, str enums ...)
        return value
    if isinstance(value, float):
        return None if math.isnan(value) else float(value)
    if isinstance(value, Decimal):
        return float(value) if value.is_finite() else None
    if isinstance(value, dt.datetime):
        return _plain_datetime(value)
    if isinstance(value, list | tuple):
        return tuple(plain(v) for v in value)
    return value


def _numpy_time(value: Any) -> Any:
    if value != value:  # noqa: PLR0124 - NaT is the one value not equal to itself
        return None
    if value.dtype.kind == "M":  # datetime64: naive, as numpy has no zones
        return _EPOCH.replace(tzinfo=None) + dt.timedelta(
            microseconds=int(value.astype("datetime64[us]").astype("int64"))
        )
    return value.item()


def _plain_datetime(value: dt.datetime) -> dt.datetime:
    # A pandas Timestamp (or another datetime subclass) as a plain datetime,
    # nanoseconds dropped; an aware one in UTC (its tzinfo may be pytz's).
    if value.tzinfo is not None and value.utcoffset() is not None:
        value = value.astimezone(dt.UTC)
    if value.__class__ is dt.datetime:
        return value
    return dt.datetime(
        value.year,
        value.month,
        value.day,
        value.hour,
        value.minute,
        value.second,
        value.microsecond,
        tzinfo=value.tzinfo,
    )


def flatten(record: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested mappings as dotted keys: ``{"a": {"b": 1}}`` is ``{"a.b": 1}``."""
    out: dict[str, Any] = {}
    for key, value in record.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            out.update(flatten(value, f"{name}."))
        else:
            out[name] = value
    return out


def csv_attr(text: str) -> Any:
    """An attribute cell of a CSV file, typed: int, float, bool or the text itself.

    Only the canonical spellings are numbers ("42", "-3", "4.5", "1e+20"): "007",
    "+33", "1." and "4,5" stay text; "true"/"false" (also capitalised or upper
    case) are booleans; an empty cell is None (no attribute).
    """
    if not text:
        return None
    first = text[0]
    if first.isdigit() or first == "-":
        if _CSV_INT.fullmatch(text):
            try:
                return int(text)
            except ValueError:  # more digits than Python reads: keep the text
                return text
        if _CSV_FLOAT.fullmatch(text):
            number = float(text)
            return number if math.isfinite(number) else text
        return text
    return _CSV_BOOL.get(text, text)


def to_text(value: Any, what: str) -> str:
    """A contact, kind or id cell as text: str as is, whole numbers as digits."""
    if isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    msg = f"{what} must be text or a whole number, got {type(value).__name__}"
    raise CellError(f"{msg} {value!r}")


def to_number(value: Any) -> float:
    """A value cell as a float: numbers as they are, text parsed, null 0.0."""
    if value is None:
        return 0.0
    if isinstance(value, bool):
        msg = f"value must be a number, got bool {value!r}"
        raise CellError(msg)
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return 0.0
        if _NUMBER.fullmatch(text):
            return float(text)
        msg = f"value is not a number: {value!r}"
        raise CellError(msg)
    msg = f"value must be a number, got {type(value).__name__} {value!r}"
    raise CellError(msg)


def to_at(value: Any, tz: dt.tzinfo | None, epoch: Epoch = "auto") -> dt.datetime:
    """A timestamp cell as an aware UTC datetime.

    Accepts aware datetimes; ISO-8601 text with an offset (``T`` or a space
    between date and time); text ending in " UTC"/" GMT"; RFC 2822 dates
    (``Tue, 30 Apr 2024 10:00:00 +0000``); and numbers of seconds, milliseconds,
    microseconds or nanoseconds since the Unix epoch (as numbers or digits). With
    ``epoch="auto"`` the unit follows the magnitude: below 1e11 seconds (to the
    year 5138), below 1e14 milliseconds (from March 1973), below 1e17
    microseconds, nanoseconds above. Naive datetimes and offset-less text are
    read in *tz*; without *tz* they are an error.
    """
    if isinstance(value, dt.datetime):
        return _aware(_plain_datetime(value), tz, value)
    if isinstance(value, str):
        return _parse_text(value, tz, epoch)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return _from_epoch(Decimal(repr(value)), epoch, value)
    if isinstance(value, dt.date):  # a date alone: midnight, local to tz
        midnight = dt.datetime(value.year, value.month, value.day)  # noqa: DTZ001
        return _aware(midnight, tz, value)
    if value is None:
        msg = "at is missing"
        raise CellError(msg)
    msg = f"at must be a timestamp, got {type(value).__name__} {value!r}"
    raise CellError(msg)


def _parse_text(  # noqa: C901 - the formats, most common first
    text: str, tz: dt.tzinfo | None, epoch: Epoch
) -> dt.datetime:
    s = text.strip()
    if not s:
        msg = "at is missing"
        raise CellError(msg)
    if ":" in s and not s.isdigit():
        # The common case first: ISO-8601 that the C parser reads (about ten
        # times faster than dateutil's); anything it refuses goes the long way.
        try:
            return _aware(dt.datetime.fromisoformat(s), tz, text)
        except ValueError:
            pass
    if _NUMBER.fullmatch(s):
        try:
            return _from_epoch(Decimal(s), epoch, text)
        except InvalidOperation:  # pragma: no cover - the pattern reads as Decimal
            pass
    parsed: dt.datetime | None = None
    for suffix in _UTC_SUFFIXES:
        if s.endswith(suffix):
            s = s[: -len(suffix)].rstrip() + "+00:00"
            break
    try:
        parsed = isoparse(s)
    except (ValueError, OverflowError):
        try:
            parsed = parsedate_to_datetime(s)
        except (ValueError, TypeError, IndexError, OverflowError):
            parsed = None
    if parsed is None:
        msg = (
            f"at is not a timestamp: {text!r}; use ISO-8601 with an offset "
            "(2024-05-01T09:30:00Z), RFC 2822, or seconds/milliseconds since 1970"
        )
        raise CellError(msg)
    return _aware(parsed, tz, text)


def _aware(at: dt.datetime, tz: dt.tzinfo | None, given: object) -> dt.datetime:
    if at.tzinfo is None or at.utcoffset() is None:
        if tz is None:
            msg = (
                f"at has no UTC offset: {given!r}; give the export's time zone "
                "(tz='Europe/Paris', or --tz on the command line)"
            )
            raise CellError(msg)
        at = at.replace(tzinfo=tz)
    try:
        return at.astimezone(dt.UTC)
    except (OverflowError, ValueError) as e:
        msg = f"at is outside the years 1 to 9999 in UTC: {given!r} ({e})"
        raise CellError(msg) from None


def _from_epoch(number: Decimal, epoch: Epoch, given: object) -> dt.datetime:
    if not number.is_finite():
        msg = f"at is not a finite number: {given!r}"
        raise CellError(msg)
    unit: str = epoch
    if unit == "auto":
        size = abs(number)
        unit = next((u for limit, u in _AUTO if size < limit), "ns")
    micros = number * 1_000_000 / _PER_SECOND[unit]
    try:
        return _EPOCH + dt.timedelta(microseconds=int(micros.to_integral_value()))
    except OverflowError:
        msg = f"at is outside the years 1 to 9999 as {unit} since 1970: {given!r}"
        raise CellError(msg) from None
