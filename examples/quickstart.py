"""Score a small event list with a HighLevel-style model and explain each score.

Run it with ``python examples/quickstart.py``. The model is the one in
``examples/models/highlevel.toml``: the seed document's example rules (+10 form,
+5 email open, +15 appointment booked, +20 pricing page, -5 unsubscribe, -10
missed appointment) with points expiring after 90 days.
"""

from __future__ import annotations

from pathlib import Path

import leadscore as ls
from leadscore import Event, config

MODEL = config.load(Path(__file__).parent / "models" / "highlevel.toml")

EVENTS = [
    Event("ann@example.com", "form.submitted", "2024-05-02T09:15:00Z", id="evt-1"),
    Event(
        "ann@example.com",
        "email.opened",
        "2024-05-03T08:00:00Z",
        {"campaign": "May newsletter"},
        id="evt-2",
    ),
    Event(
        "ann@example.com",
        "page.viewed",
        "2024-05-03T08:02:00Z",
        {"path": "/pricing"},
        id="evt-3",
    ),
    Event(
        "ann@example.com", "appointment.booked", "2024-05-06T14:00:00+02:00", id="evt-4"
    ),
    Event(
        "bob@example.com",
        "email.opened",
        "2024-05-03T10:00:00Z",
        {"campaign": "Spring promo"},
        id="evt-5",
    ),
    Event("bob@example.com", "appointment.booked", "2024-01-10T10:00:00Z", id="evt-6"),
    Event("bob@example.com", "appointment.missed", "2024-05-20T10:00:00Z", id="evt-7"),
    Event("cy@example.com", "form.submitted", "2024-05-28T16:30:00Z", id="evt-8"),
    Event(
        "cy@example.com",
        "score.adjusted",
        "2024-05-29T09:00:00Z",
        value=25,
        attrs={"by": "sales rep"},
        id="evt-9",
    ),
    # A retry delivered the same event twice: the id makes it count once.
    Event("cy@example.com", "form.submitted", "2024-05-28T16:30:00Z", id="evt-8"),
]

AS_OF = "2024-06-01T00:00:00Z"


def main() -> None:
    scores = ls.score(MODEL, EVENTS, AS_OF)
    print(f"{MODEL.name} at {AS_OF}\n")
    for contact, value in sorted(scores.items(), key=lambda kv: -kv[1]):
        print(f"{contact:20} {value:6.1f}")
        for row in ls.explain(MODEL, EVENTS, contact, AS_OF):
            why = row.rule.label if row.rule else f"manual {row.event.kind}"
            aged = {1.0: "", 0.0: "  (expired)"}.get(
                row.weight, f"  (weight {row.weight:.2f})"
            )
            print(f"    {row.effective:+6.1f}  {why:32} {row.event.at:%Y-%m-%d}{aged}")
    hot = sorted(c for c, v in scores.items() if v > 40)
    print(f"\nHot leads (score > 40): {', '.join(hot) or 'none'}")


if __name__ == "__main__":
    main()
