"""RFM segments and Action Scores of real customers: the CDNOW purchase log.

Run it with ``python examples/cdnow_rfm.py``. Reads ``tests/data/CDNOW_sample.txt``
(2,357 customers of the CDNOW CD store, 1997-98, collected by Fader and Hardie) and
prints the size of each RFM segment and the distribution of Action Scores at the
end of the log.
"""

from __future__ import annotations

import collections
import datetime as dt
from pathlib import Path

import leadscore as ls
from leadscore.datasets import load_cdnow

DATA = Path(__file__).parent.parent / "tests" / "data" / "CDNOW_sample.txt"
AS_OF = dt.datetime(1998, 7, 1, tzinfo=dt.UTC)


def main() -> None:
    events = load_cdnow(DATA)
    customers = {e.contact for e in events}
    print(f"{len(events):,} purchases by {len(customers):,} customers", end=" ")
    print(f"as of {AS_OF:%Y-%m-%d}\n")

    segments = ls.rfm_segments(events, AS_OF)
    print("RFM segment            customers  share")
    sizes = collections.Counter(s.segment for s in segments.values())
    for name, size in sizes.most_common():
        print(f"{name:22} {size:9,}  {size / len(segments):5.1%}")

    scores = ls.action_scores(events, AS_OF)
    print("\nAction Score  customers")
    bands = collections.Counter(min(s.total // 10, 9) for s in scores.values())
    for band in range(10):
        low, high = band * 10 or 1, band * 10 + 9 if band < 9 else 100
        bar = "#" * round(60 * bands[band] / len(scores))
        print(f"{low:>3}-{high:<3}      {bands[band]:9,}  {bar}")
    best = max(scores, key=lambda c: (scores[c].total, c))
    print(f"\nBest customer {best}: {scores[best]} -> {scores[best].total}")


if __name__ == "__main__":
    main()
