"""Events: the one input of every score, and the parsing of their timestamps."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterator, Mapping
from typing import Any, TypeAlias

import attrs
from attrs import field
from dateutil.parser import isoparse

from leadscore.exceptions import InvalidEventError

from ._limits import MAX_CONDITION_DEPTH, MAX_INT_ATTR, MAX_POINTS, shorten
from ._numbers import foreign_int, foreign_number, foreign_scalar

__all__ = [
    "CONTACT_MERGED",
    "EARLIEST_US",
    "SCORE_ADJUSTED",
    "SCORE_RESET",
    "SCORE_SET",
    "SPECIAL_KINDS",
    "AttrValue",
    "Event",
    "to_utc",
]

Scalar: TypeAlias = str | int | float | bool | None
AttrValue: TypeAlias = Scalar | tuple[Any, ...]

SCORE_ADJUSTED = "score.adjusted"
SCORE_SET = "score.set"
SCORE_RESET = "score.reset"
CONTACT_MERGED = "contact.merged"
#: Kinds every model handles itself; rules cannot be written on them.
SPECIAL_KINDS = frozenset({SCORE_ADJUSTED, SCORE_SET, SCORE_RESET, CONTACT_MERGED})

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


def bad_text(value: str) -> str | None:
    """Why *value* cannot be stored and compared as text, or None if it can.

    Lone surrogates cannot be encoded (no store, file or database keeps them) and
    NUL ends a string in C and PostgreSQL: both are rejected when an event is built,
    not when it is written.
    """
    if value.isascii():
        return "it contains a NUL character" if "\x00" in value else None
    if "\x00" in value:
        return "it contains a NUL character"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "it contains a lone surrogate, which no encoding can write"
    return None


def _check_text(name: str, value: str, where: str | None) -> str:
    reason = bad_text(value)
    if reason is not None:
        raise InvalidEventError(
            f"{name} cannot be stored: {reason}: {shorten(value)}",
            field=name,
            value=value,
            where=where,
        )
    return value


def _check_attr_value(
    key: str, value: Any, where: str | None, depth: int = 0
) -> AttrValue:
    # Written for speed: the exact plain types are told apart by one identity
    # test each; anything else (a bad value, a tuple, np.int64, a str subclass
    # ...) goes to _other_attr_value.
    cls = value.__class__
    if cls is str:
        if not value.isascii() or "\x00" in value:
            _check_text(f"attrs[{key!r}]", value, where)
        return value  # type: ignore[no-any-return]
    if value is None or cls is bool:
        return value  # type: ignore[no-any-return]
    if (cls is int and -MAX_INT_ATTR <= value <= MAX_INT_ATTR) or (
        cls is float and value == value  # not NaN  # noqa: PLR0124
    ):
        return value  # type: ignore[no-any-return]
    return _other_attr_value(key, value, where, depth)


def _other_attr_value(
    key: str, value: object, where: str | None, depth: int
) -> AttrValue:
    """An attribute value that is not a plain str, bool, None, int or float."""
    if isinstance(value, str):
        return _check_attr_value(key, str(value), where, depth)  # np.str_
    if isinstance(value, int) and not isinstance(value, bool):
        if -MAX_INT_ATTR <= value <= MAX_INT_ATTR:
            return int(value)  # an int subclass (IntEnum): the plain int
        raise InvalidEventError(
            f"attrs[{key!r}] is an int beyond ±2**1023, which stores and float "
            f"comparisons cannot keep exactly: {shorten(value)}",
            field=f"attrs[{key!r}]",
            value=value,
            where=where,
        )
    if isinstance(value, float):
        if math.isnan(value):
            raise InvalidEventError(
                f"attrs[{key!r}] is NaN; NaN is not equal to itself, so events "
                "carrying it could never be matched or de-duplicated; use None",
                field=f"attrs[{key!r}]",
                value=value,
                where=where,
            )
        return float(value)  # np.float64: the plain float
    if isinstance(value, list | tuple):
        if depth >= MAX_CONDITION_DEPTH:
            raise InvalidEventError(
                f"attrs[{key!r}] nests tuples more than {MAX_CONDITION_DEPTH} deep",
                field=f"attrs[{key!r}]",
                value=value,
                where=where,
            )
        return tuple(_check_attr_value(key, v, where, depth + 1) for v in value)
    return _foreign_attr_value(key, value, where, depth)


def _foreign_attr_value(
    key: str, value: object, where: str | None, depth: int
) -> AttrValue:
    """A numpy or pandas scalar as the plain value it is, or InvalidEventError."""
    plain = foreign_scalar(value)  # np.int64, np.bool_, np.float32 ...
    if plain is not value:
        return _check_attr_value(key, plain, where, depth)
    raise InvalidEventError(
        f"attrs[{key!r}] must be str, int, float, bool, None or a tuple of those, "
        f"got {type(value).__name__} {shorten(value)}",
        field=f"attrs[{key!r}]",
        value=value,
        where=where,
    )


class FrozenAttrs(Mapping[str, AttrValue]):
    """A read-only, hashable mapping of event attributes.

    >>> FrozenAttrs({"message": "m1", "tags": ["a", "b"]})
    FrozenAttrs({'message': 'm1', 'tags': ('a', 'b')})
    """

    # ``get`` is the data dict's own bound method, set per instance: the hot
    # loops call ``e.attrs.get(key)`` per event, and a C method costs a third of
    # a Python one.
    __slots__ = ("_data", "_hash", "get")

    _data: dict[str, AttrValue]
    _hash: int | None

    def __init__(
        self, data: Mapping[str, Any] | None = None, where: str | None = None
    ) -> None:
        """Copy and check *data*; lists become tuples."""
        checked: dict[str, AttrValue] = {}
        for key, value in dict(data or {}).items():
            if not isinstance(key, str):
                raise InvalidEventError(
                    f"attrs keys must be str, got {type(key).__name__} {shorten(key)}",
                    field="attrs",
                    value=key,
                    where=where,
                )
            if not key.isascii() or "\x00" in key:
                _check_text("attrs key", key, where)
            checked[key] = _check_attr_value(key, value, where)
        object.__setattr__(self, "_data", checked)
        object.__setattr__(self, "_hash", None)
        object.__setattr__(self, "get", checked.get)

    def __setattr__(self, name: str, value: object) -> None:
        """Refuse: the mapping is read-only."""
        msg = "FrozenAttrs is read-only"
        raise AttributeError(msg)

    def __getitem__(self, key: str) -> AttrValue:
        """Return the value of *key*."""
        return self._data[key]

    def __iter__(self) -> Iterator[str]:
        """Iterate over the keys."""
        return iter(self._data)

    def __len__(self) -> int:
        """Return the number of keys."""
        return len(self._data)

    def __eq__(self, other: object) -> bool:
        """Compare as a mapping in which ``True`` is not ``1`` (nor False 0).

        Conditions tell booleans from numbers, so identity must too: otherwise
        ``{"x": True}`` and ``{"x": 1}`` under one id would count as one event
        and the score would depend on which arrived first.
        """
        if isinstance(other, FrozenAttrs):
            theirs = other._data
        elif isinstance(other, Mapping):
            theirs = dict(other)
        else:
            return NotImplemented
        mine = self._data
        return mine == theirs and all(same_types(v, theirs[k]) for k, v in mine.items())

    def __hash__(self) -> int:
        """Hash the items (cached)."""
        h = self._hash
        if h is None:
            h = hash(frozenset(self._data.items()))
            object.__setattr__(self, "_hash", h)
        return h

    def __repr__(self) -> str:
        """Show the mapping like a dict."""
        return f"FrozenAttrs({self._data!r})"

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickle as the plain dict (for multiprocessing users, not for storage)."""
        return (FrozenAttrs, (self._data,))


EMPTY_ATTRS = FrozenAttrs()


def same_types(a: object, b: object) -> bool:
    """Whether two equal attribute values agree on being booleans, all the way in."""
    if a.__class__ is tuple and b.__class__ is tuple:
        return all(same_types(x, y) for x, y in zip(a, b, strict=True))
    return (a.__class__ is bool) == (b.__class__ is bool)


def _to_attrs(value: Any) -> FrozenAttrs:
    if isinstance(value, FrozenAttrs):
        return value
    if value is None or (isinstance(value, Mapping) and not value):
        return EMPTY_ATTRS
    if not isinstance(value, Mapping):
        raise InvalidEventError(
            f"attrs must be a mapping, got {type(value).__name__} {value!r}",
            field="attrs",
            value=value,
        )
    return FrozenAttrs(value)


def _to_value(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        plain = foreign_number(value)  # np.int64, np.float32, Decimal ...
        if plain is None:
            raise InvalidEventError(
                f"value must be a number, got {type(value).__name__} {shorten(value)}",
                field="value",
                value=value,
            )
        value = plain
    try:
        number = float(value)
    except OverflowError:
        number = math.inf
    if not math.isfinite(number):
        raise InvalidEventError(
            f"value must be finite, got {number!r}", field="value", value=number
        )
    return number + 0.0  # -0.0 is 0.0: stores keep one zero


def _to_id(value: Any) -> str | None:
    if value is None:
        return None
    if value.__class__ is str and value:  # the common case first
        if not value.isascii() or "\x00" in value:
            _check_text("id", value, None)
        return value
    if isinstance(value, str) and value:  # np.str_: a plain str
        return _to_id(str(value))
    if not isinstance(value, int):
        whole = foreign_int(value)  # np.int64
        value = value if whole is None else whole
    if isinstance(value, int) and not isinstance(value, bool):
        try:
            return str(value)
        except ValueError:  # more digits than Python will print
            raise InvalidEventError(
                "id is an int too long to write as text", field="id", value=value
            ) from None
    raise InvalidEventError(
        f"id must be a non-empty str (or an int), got {shorten(value)}",
        field="id",
        value=value,
    )


def _non_empty_str(name: str, value: Any) -> str:
    if value.__class__ is not str:  # np.str_ and other subclasses: a plain str
        if not isinstance(value, str):
            raise InvalidEventError(
                f"{name} must be a non-empty str, got {shorten(value)}",
                field=name,
                value=value,
            )
        value = str(value)
    if not value:
        raise InvalidEventError(
            f"{name} must be a non-empty str, got {shorten(value)}",
            field=name,
            value=value,
        )
    if not value.isascii() or "\x00" in value:
        _check_text(name, value, None)
    return value  # type: ignore[no-any-return]


def _to_contact(value: Any) -> str:
    return _non_empty_str("contact", value)


def _to_kind(value: Any) -> str:
    return _non_empty_str("kind", value)


def _to_at(value: Any) -> dt.datetime:
    return to_utc(value, "at")


@attrs.frozen(repr=False)
class Event:
    """One thing a contact did, or one thing done to a contact's score.

    Args:
        contact: The contact's id (non-empty).
        kind: What happened, e.g. ``"email.opened"`` (non-empty). The special kinds
            ``score.adjusted``, ``score.set``, ``score.reset`` and
            ``contact.merged`` are handled by every model.
        at: When: an aware datetime or an ISO-8601 string with an offset.
            Normalised to UTC.
        attrs: Attributes to match rules on (``{"message": "m1"}``): str keys;
            values str, int, float, bool, None or tuples of those (lists become
            tuples). Stored read-only.
        value: A number: the amount of a purchase, the points of a manual
            adjustment. Finite.
        id: The event's identity. The same event given twice counts once; two
            different events with the same id are an error. Give ids to make
            replays and retries harmless.

    Raises:
        InvalidEventError: naming the field and the value.

    >>> e = Event("ann", "email.opened", "2024-05-01T10:00:00+02:00",
    ...           {"message": "m1"})
    >>> e.at.isoformat()
    '2024-05-01T08:00:00+00:00'
    """

    contact: str = field(converter=_to_contact)
    kind: str = field(converter=_to_kind)
    at: dt.datetime = field(converter=_to_at)
    attrs: FrozenAttrs = field(default=EMPTY_ATTRS, converter=_to_attrs)
    value: float = field(default=0.0, converter=_to_value)
    id: str | None = field(default=None, converter=_to_id)
    # Exact microseconds since the epoch, derived from `at`: the fold compares and
    # sorts integers, not datetimes, in its hot loops.
    _us: int = field(init=False, eq=False, hash=False)

    def __attrs_post_init__(self) -> None:
        """Derive the integer timestamp; check what special kinds need."""
        object.__setattr__(self, "_us", to_micros(self.at))
        if self.kind in SPECIAL_KINDS:
            check_special(self)

    @classmethod
    def trusted(
        cls,
        contact: str,
        kind: str,
        at: dt.datetime,
        attrs: Mapping[str, AttrValue] | None = None,
        *,
        value: float = 0.0,
        id: str | None = None,  # noqa: A002 - the field's name
    ) -> Event:
        """Build an event from values already known to be valid, without checks.

        For input that was validated before: rows a store wrote after checking
        them (and checksummed), a loader's columns it has typed. *at* must be an
        aware UTC datetime, *attrs* a mapping of valid values (tuples, not
        lists), *value* a finite float. Anything else gives an event that breaks
        later; when in doubt, call ``Event(...)``, which checks everything.
        About three times cheaper than ``Event(...)``.

        >>> import datetime as dt
        >>> e = Event.trusted("ann", "email.opened",
        ...                   dt.datetime(2024, 5, 1, tzinfo=dt.UTC), {"message": "m1"})
        >>> e == Event("ann", "email.opened", "2024-05-01T00:00Z", {"message": "m1"})
        True
        """
        event = object.__new__(cls)
        setattr_ = object.__setattr__
        setattr_(event, "contact", contact)
        setattr_(event, "kind", kind)
        setattr_(event, "at", at)
        if attrs:
            frozen = object.__new__(FrozenAttrs)
            data = dict(attrs)
            setattr_(frozen, "_data", data)
            setattr_(frozen, "_hash", None)
            setattr_(frozen, "get", data.get)
        else:
            frozen = EMPTY_ATTRS
        setattr_(event, "attrs", frozen)
        setattr_(event, "value", value)
        setattr_(event, "id", id)
        setattr_(event, "_us", (at - _EPOCH) // _MICROSECOND)
        return event

    def __repr__(self) -> str:
        """Show the event compactly, with only the fields that are set."""
        parts = [repr(self.contact), repr(self.kind), repr(self.at.isoformat())]
        if self.attrs:
            parts.append(f"attrs={dict(self.attrs)!r}")
        if self.value:
            parts.append(f"value={self.value!r}")
        if self.id is not None:
            parts.append(f"id={self.id!r}")
        return f"Event({', '.join(parts)})"


def check_special(e: Event) -> None:
    """Reject a manual score event or merge that no model could fold.

    Checked when the event is built, so that a store never keeps an event that
    the engine would then fail to fold.

    Raises:
        InvalidEventError: a merge without a str ``attrs['from']`` or into
            itself; a manual value beyond ``MAX_POINTS``; a non-str
            ``attrs['model']``.
    """
    model = e.attrs.get("model")
    if model is not None and not isinstance(model, str):
        raise InvalidEventError(
            f"attrs['model'] names the model a {e.kind} applies to and must be a "
            f"str, got {type(model).__name__} {shorten(model)}",
            field="attrs['model']",
            value=model,
            where=describe(e),
        )
    if e.kind == CONTACT_MERGED:
        source = e.attrs.get("from")
        if not isinstance(source, str) or not source:
            raise InvalidEventError(
                "contact.merged needs attrs['from'], the merged contact's id (a "
                f"non-empty str), got {shorten(source)}",
                field="attrs['from']",
                value=source,
                where=describe(e),
            )
        if source == e.contact:
            raise InvalidEventError(
                f"a contact cannot be merged into itself: attrs['from'] is "
                f"{shorten(source)}",
                field="attrs['from']",
                value=source,
                where=describe(e),
            )
    elif e.kind in {SCORE_ADJUSTED, SCORE_SET} and abs(e.value) > MAX_POINTS:
        raise InvalidEventError(
            f"value of a {e.kind} must be within ±{MAX_POINTS:g} points, got "
            f"{e.value!r}",
            field="value",
            value=e.value,
            where=describe(e),
        )


def _rank_value(v: AttrValue) -> tuple[Any, ...]:
    # A total order over mixed attribute values: by type first, then by value.
    if v is None:
        return (0,)
    if isinstance(v, bool):
        return (1, v)
    if isinstance(v, int):
        return (2, v, 0)
    if isinstance(v, float):
        # 1 and 1.0, 0.0 and -0.0 are equal but not the same input: order them.
        return (2, v, 1, math.copysign(1.0, v))
    if isinstance(v, str):
        return (3, v)
    return (4, tuple(_rank_value(x) for x in v))


def canonical_key(e: Event) -> tuple[Any, ...]:
    """A total order on events that never depends on arrival order.

    Time first, then id (events without an id first), then kind, attributes, value
    and contact. Used wherever "the latest" of several events must be chosen.
    """
    return (
        e._us,  # noqa: SLF001
        e.id is not None,
        e.id or "",
        e.kind,
        tuple(sorted((k, _rank_value(v)) for k, v in e.attrs.items())),
        e.value,
        e.contact,
    )


def describe(e: Event) -> str:
    """Name an event in an error message: its id, or contact, kind and time."""
    if e.id is not None:
        return f"event id={shorten(e.id)}"
    return f"event {shorten(e.kind)} of {shorten(e.contact)} at {e.at.isoformat()}"
