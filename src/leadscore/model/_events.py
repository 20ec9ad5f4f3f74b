"""Events: the one input of every score, checked field by field when built.

:class:`Event` and the read-only mapping of its attributes, :class:`FrozenAttrs`,
live here. The parsing of timestamps (:mod:`._instants`), the checks of attribute
values and text (:mod:`._attr_values`) and the canonical order of events
(:mod:`._order`) have modules of their own; their names are imported here too,
where the rest of the package finds them.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterator, Mapping
from typing import Any

import attrs
from attrs import field

from leadscore.exceptions import InvalidEventError

from ._attr_values import AttrValue, Scalar, _check_attr_value, _check_text, bad_text
from ._instants import _EPOCH, _MICROSECOND, EARLIEST_US, from_micros, to_micros, to_utc
from ._limits import MAX_POINTS, shorten
from ._numbers import as_float, foreign_int
from ._order import canonical_key, describe

__all__ = [
    "CONTACT_MERGED",
    "EARLIEST_US",
    "SCORE_ADJUSTED",
    "SCORE_RESET",
    "SCORE_SET",
    "SPECIAL_KINDS",
    "AttrValue",
    "Event",
    "Scalar",
    "bad_text",
    "canonical_key",
    "describe",
    "from_micros",
    "to_micros",
    "to_utc",
]

SCORE_ADJUSTED = "score.adjusted"
SCORE_SET = "score.set"
SCORE_RESET = "score.reset"
CONTACT_MERGED = "contact.merged"
#: Kinds every model handles itself; rules cannot be written on them.
SPECIAL_KINDS = frozenset({SCORE_ADJUSTED, SCORE_SET, SCORE_RESET, CONTACT_MERGED})


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
    got = as_float(value)
    if got is None:
        raise InvalidEventError(
            f"value must be a number, got {type(value).__name__} {shorten(value)}",
            field="value",
            value=value,
        )
    number = got[1]
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
