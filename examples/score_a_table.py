"""Score a table without building one Python object per row: leadscore.frame.

Run it with ``python examples/score_a_table.py`` (needs ``leadscore[frame]``). Reads
the CDNOW purchase log (``tests/data/CDNOW_sample.txt``) into a pandas DataFrame,
writes it to Parquet, then scores both on the embedded DuckDB: a lead score (every
purchase +10 for 6 calendar months, repeat buyers capped at 30) and the RFM
segments, and checks both against the pure functions.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path

import pandas as pd

import leadscore as ls
from leadscore import frame
from leadscore.datasets import load_cdnow

DATA = Path(__file__).parent.parent / "tests" / "data" / "CDNOW_sample.txt"
AS_OF = dt.datetime(1997, 9, 1, tzinfo=dt.UTC)
MODEL = ls.ScoringModel(
    "buyers",
    [
        ls.Rule("order.paid", 10, limit=30),
        ls.Rule("order.paid", 5, when=ls.where(ls.VALUE, ge=50)),
    ],
    aging=ls.AgingPolicy.expire_after(months=6),
)


def main() -> None:
    events = load_cdnow(DATA)
    table = pd.DataFrame(
        {
            "contact": [e.contact for e in events],
            "kind": [e.kind for e in events],
            "at": pd.to_datetime([e.at for e in events], utc=True),
            "value": [e.value for e in events],
            "cds": [e.attrs["cds"] for e in events],
        }
    )
    scores = frame.score(MODEL, table, AS_OF)
    print(f"{len(table):,} purchases, {len(scores):,} customers", end=" ")
    print(f"scored as of {AS_OF:%Y-%m-%d}")
    print(scores.sort_values("score", ascending=False).head(5).to_string(index=False))
    pure = ls.score(MODEL, events, AS_OF)
    assert all(
        abs(pure[c] - s) < 1e-9
        for c, s in zip(scores["contact"], scores["score"], strict=True)
    )

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "cdnow.parquet"
        table.to_parquet(path)
        segments = frame.rfm_segments(path, AS_OF)
    print("\nRFM segments from Parquet:")
    print(segments["segment"].value_counts().to_string())
    expected = ls.rfm_segments(events, AS_OF)
    assert dict(zip(segments["contact"], segments["code"], strict=True)) == {
        c: s.code for c, s in expected.items()
    }
    print("\nThe same scores and codes as ls.score and ls.rfm_segments.")


if __name__ == "__main__":
    main()
