"""The email engagement score's calibration: ten weekly mails, scored 2 weeks later.

Run it with ``python examples/engagement_stars.py``. Prints each scenario's score
and star rating with ``presets.email_engagement()`` and ``RatingScale.stars()``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import leadscore as ls
from leadscore import Event, presets

FIRST = dt.datetime(2024, 1, 1, 9, tzinfo=dt.UTC)
AS_OF = FIRST + dt.timedelta(weeks=11)
ALL = range(10)


def mails(
    contact: str,
    *,
    opened: Iterable[int] = (),
    clicked: Iterable[int] = (),
    bounced: Iterable[int] = (),
    complained: Iterable[int] = (),
) -> list[Event]:
    opened, clicked, bounced, complained = (
        set(x) for x in (opened, clicked, bounced, complained)
    )
    events = [Event(contact, "contact.subscribed", FIRST - dt.timedelta(days=1))]
    for i in range(10):
        sent, msg = FIRST + dt.timedelta(weeks=i), {"message": f"m{i}"}
        if i in bounced:
            events.append(Event(contact, "email.bounced", sent, msg))
            continue
        events.append(Event(contact, "email.delivered", sent, msg))
        for hours, kind, which in (
            (1, "email.opened", opened),
            (2, "email.clicked", clicked),
            (3, "email.complained", complained),
        ):
            if i in which:
                events.append(
                    Event(contact, kind, sent + dt.timedelta(hours=hours), msg)
                )
    return events


SCENARIOS = {
    "nothing opened": mails("a"),
    "the two latest mails bounced": mails("b", bounced=(8, 9)),
    "everything opened, a complaint on the latest": mails(
        "c", opened=ALL, complained=(9,)
    ),
    "everything opened, nothing clicked": mails("d", opened=ALL),
    "everything opened and clicked": mails("e", opened=ALL, clicked=ALL),
    "the first five opened, then nothing": mails("f", opened=range(5)),
    "the last five opened": mails("g", opened=range(5, 10)),
}


def main() -> None:
    model, stars = presets.email_engagement(), ls.RatingScale.stars()
    events = [e for scenario in SCENARIOS.values() for e in scenario]
    scores = ls.score(model, events, AS_OF)
    for name, scenario in SCENARIOS.items():
        value = scores[scenario[0].contact]
        rating = stars.rate(value)
        print(f"{name:46} {value:5.2f}  {'*' * rating:5} ({rating})")


if __name__ == "__main__":
    main()
