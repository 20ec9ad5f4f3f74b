"""Events: construction, normalisation and the errors for bad input."""

from __future__ import annotations

import datetime as dt
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

import leadscore as ls
from leadscore import Event
from leadscore.model._events import canonical_key
from leadscore.strategies import events


def test_timestamps_are_normalised_to_utc():
    """ISO strings with an offset and aware datetimes both become UTC."""
    berlin = dt.timezone(dt.timedelta(hours=2))
    a = ls.Event("ann", "email.opened", "2024-05-01T10:00:00+02:00")
    b = ls.Event("ann", "email.opened", dt.datetime(2024, 5, 1, 10, tzinfo=berlin))
    c = ls.Event("ann", "email.opened", "2024-05-01T08:00:00Z")
    assert a == b == c
    assert dt.UTC == a.at.tzinfo


@pytest.mark.parametrize(
    ("at", "match"),
    [
        (dt.datetime(2024, 5, 1, 10), "at must be timezone-aware, got naive"),
        ("2024-05-01T10:00:00", "at has no UTC offset: '2024-05-01T10:00:00'"),
        ("2024-05-01", "at has no UTC offset"),
        ("yesterday", "at is not an ISO-8601 timestamp: 'yesterday'"),
        ("2024-13-01T00:00:00Z", "at is not an ISO-8601 timestamp"),
        (1714557600, "at must be an aware datetime or an ISO-8601 string"),
    ],
)
def test_bad_timestamps_are_rejected_naming_field_and_value(at, match):
    """Naive or unparsable timestamps raise InvalidEventError."""
    with pytest.raises(ls.InvalidEventError, match=match) as info:
        ls.Event("ann", "email.opened", at)
    assert "at" == info.value.field
    assert at is info.value.value


@pytest.mark.parametrize(
    ("kwargs", "field", "match"),
    [
        ({"contact": ""}, "contact", "contact must be a non-empty str, got ''"),
        ({"contact": None}, "contact", "contact must be a non-empty str, got None"),
        ({"kind": ""}, "kind", "kind must be a non-empty str"),
        ({"value": math.nan}, "value", "value must be finite, got nan"),
        ({"value": math.inf}, "value", "value must be finite, got inf"),
        ({"value": "12"}, "value", "value must be a number, got str '12'"),
        ({"attrs": {"x": math.nan}}, "attrs['x']", r"attrs\['x'\] is NaN"),
        ({"attrs": {"x": {"nested": 1}}}, "attrs['x']", "must be str, int, float"),
        ({"attrs": {1: "x"}}, "attrs", "attrs keys must be str"),
        ({"attrs": ["x"]}, "attrs", "attrs must be a mapping"),
        ({"id": ""}, "id", "id must be a non-empty str"),
    ],
)
def test_bad_fields_are_rejected_naming_field_and_value(kwargs, field, match):
    """Every field is validated on construction."""
    args = {
        "contact": "ann",
        "kind": "email.opened",
        "at": "2024-05-01T00:00:00Z",
    } | kwargs
    with pytest.raises(ls.InvalidEventError, match=match) as info:
        ls.Event(**args)
    assert field == info.value.field


def test_errors_are_value_errors_and_lead_score_errors():
    """InvalidEventError and InvalidModelError are ValueErrors too."""
    assert issubclass(ls.InvalidEventError, ValueError)
    assert issubclass(ls.InvalidModelError, ValueError)
    assert issubclass(ls.InvalidEventError, ls.LeadScoreError)
    assert issubclass(ls.InvalidModelError, ls.LeadScoreError)


def test_attrs_are_read_only_and_lists_become_tuples():
    """Attrs is an immutable mapping; lists are stored as tuples."""
    e = ls.Event("ann", "tag.added", "2024-05-01T00:00:00Z", {"tags": ["a", "b"]})
    assert ("a", "b") == e.attrs["tags"]
    with pytest.raises(TypeError):
        e.attrs["tags"] = ()  # type: ignore[index]
    with pytest.raises(AttributeError):
        e.contact = "bob"  # type: ignore[misc]


def test_an_int_id_is_stored_as_str():
    """Numeric ids from exports are accepted and normalised."""
    assert "42" == ls.Event("ann", "x", "2024-05-01T00:00:00Z", id=42).id


@given(events(ids=True))
def test_events_are_hashable_values(e):
    """Equal events hash equally (they can be deduplicated and counted)."""
    copy = ls.Event(e.contact, e.kind, e.at.isoformat(), dict(e.attrs), e.value, e.id)
    assert copy == e
    assert hash(copy) == hash(e)


@given(st.lists(events(ids=True), max_size=5))
def test_a_trusted_event_is_the_event_it_copies(stream):
    """Event.trusted, given what a checked event holds, builds an equal event."""
    for e in stream:
        copy = Event.trusted(e.contact, e.kind, e.at, e.attrs, value=e.value, id=e.id)
        assert e == copy
        assert hash(e) == hash(copy)
        assert canonical_key(e) == canonical_key(copy)
        assert e._us == copy._us
        assert repr(e) == repr(copy)
