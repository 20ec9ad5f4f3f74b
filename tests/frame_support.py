"""Shared helpers of the columnar tests: events as tables, scores compared."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import pandas as pd
from hypothesis import strategies as st

import leadscore as ls
from leadscore import strategies

ATTRS = ("message", "path", "campaign", "company", "model", "from")


def rows(events: list[ls.Event]) -> list[dict[str, Any]]:
    """One dict per event: the fields, then every attribute (None when absent)."""
    return [
        {
            "contact": e.contact,
            "kind": e.kind,
            "at": e.at,
            "id": e.id,
            "value": e.value,
            **{k: e.attrs.get(k) for k in ATTRS},
        }
        for e in events
    ]


def to_pandas(events: list[ls.Event]) -> pd.DataFrame:
    """The events as a pandas DataFrame (aware UTC timestamps, microseconds)."""
    df = pd.DataFrame(
        rows(events), columns=["contact", "kind", "at", "id", "value", *ATTRS]
    )
    df["at"] = (
        pd.to_datetime([e.at for e in events], utc=True).as_unit("us")
        if events
        else pd.Series([], dtype="datetime64[us, UTC]")
    )
    for col in ("contact", "kind", "id", *ATTRS):
        df[col] = df[col].astype("string")
    df["value"] = df["value"].astype("float64")
    return df


def to_arrow(events: list[ls.Event]) -> Any:
    import pyarrow as pa

    schema = pa.schema(
        [
            ("contact", pa.string()),
            ("kind", pa.string()),
            ("at", pa.timestamp("us", tz="UTC")),
            ("id", pa.string()),
            ("value", pa.float64()),
            *((k, pa.string()) for k in ATTRS),
        ]
    )
    return pa.Table.from_pylist(rows(events), schema=schema)


def as_dict(table: Any) -> dict[str, float]:
    """A result table (pandas, Polars, Arrow, PySpark) as ``{contact: score}``."""
    kind = type(table).__module__.split(".")[0]
    if kind == "pandas":
        pairs = zip(table["contact"], table["score"], strict=True)
    elif kind == "polars":
        pairs = zip(table["contact"].to_list(), table["score"].to_list(), strict=True)
    elif kind == "pyspark":
        pairs = ((r["contact"], r["score"]) for r in table.collect())
    else:
        d = table.to_pydict()
        pairs = zip(d["contact"], d["score"], strict=True)
    out = {str(c): float(s) for c, s in pairs}
    assert len(out) == len(table) if kind != "pyspark" else True
    return out


def close(expected: dict[str, float], actual: dict[str, float], scale: float) -> None:
    """Same contacts, same scores to 1e-9 relative (of the score or its terms)."""
    assert sorted(expected) == sorted(actual)
    for contact, want in expected.items():
        got = actual[contact]
        assert math.isclose(want, got, rel_tol=1e-9, abs_tol=1e-9 * scale), (
            contact,
            want,
            got,
        )


def scale_of(model: ls.ScoringModel, events: list[ls.Event]) -> float:
    """The size of the terms a score adds up, for an absolute tolerance."""
    points = sum(abs(r.points) for r in model.rules) * max(len(events), 1)
    manual = sum(abs(e.value) for e in events)
    return 1.0 + points + manual + abs(model.initial)


@st.composite
def event_tables(draw: st.DrawFn, max_size: int = 30) -> list[ls.Event]:
    """Event lists with ids on some, exact replays, ties at one instant."""
    events = draw(strategies.event_lists(max_size=max_size))
    with_ids = []
    for i, e in enumerate(events):
        named = e
        if draw(st.booleans()):
            named = ls.Event(
                e.contact, e.kind, e.at, e.attrs, value=e.value, id=f"e{i}"
            )
        with_ids.append(named)
    replays = draw(st.lists(st.sampled_from(with_ids), max_size=3)) if with_ids else []
    ties = []
    if with_ids and draw(st.booleans()):
        base = draw(st.sampled_from(with_ids))
        other = draw(strategies.events())
        ties.append(ls.Event(other.contact, other.kind, base.at, other.attrs))
    return with_ids + [e for e in replays if e.id is not None] + ties


def utc(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).astimezone(dt.UTC)
