"""How to read the activity exports of real products: columns, kinds, attributes."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

import attrs

from leadscore.exceptions import InvalidEventError

from ._cells import Epoch

__all__ = ["EXPORTS", "FIELDS", "ExportFormat", "hubspot", "mautic", "resolve"]

#: The Event fields a column can fill.
FIELDS = ("contact", "kind", "at", "id", "value")


def _frozen(value: Any) -> Mapping[str, Any]:
    return MappingProxyType(dict(value or {}))


def _names(value: Any) -> tuple[str, ...]:
    return tuple(value)


@attrs.frozen(kw_only=True)
class ExportFormat:
    """How the rows of one product's activity export become events.

    Attributes:
        name: The product and export, for messages and the command line.
        columns: ``{event field: source column}`` for ``contact``, ``kind``,
            ``at``, and optionally ``id`` and ``value``; a nested JSON key is
            written with dots (``"details.stat.emailId"``).
        kinds: ``{the product's event type: the event kind}``; types not listed
            are kept as they are.
        rename: ``{source column: attribute name}`` for the attributes kept
            under another name (the first of several sources present wins).
        drop: Source columns (or dotted prefixes: ``"details"`` drops every
            ``details.*``) that are not attributes.
        epoch: The unit of numeric timestamps (``"ms"`` for HubSpot).
        records: The key of the record list in a JSON document (``"events"``).
    """

    name: str
    columns: Mapping[str, str] = attrs.field(converter=_frozen)
    kinds: Mapping[str, str] = attrs.field(factory=dict, converter=_frozen)
    rename: Mapping[str, str] = attrs.field(factory=dict, converter=_frozen)
    drop: tuple[str, ...] = attrs.field(default=(), converter=_names)
    epoch: Epoch = "auto"
    records: str | None = None

    def __attrs_post_init__(self) -> None:
        """Check the column mapping names Event fields."""
        check_columns(self.columns)

    def dropped(self, key: str) -> bool:
        """Whether the source column *key* is left out of the attributes."""
        return any(key == p or key.startswith(f"{p}.") for p in self.drop)


def check_columns(columns: Mapping[str, Any]) -> None:
    """Raise unless *columns* maps Event fields to non-empty column names."""
    for field, column in columns.items():
        if field not in FIELDS:
            raise InvalidEventError(
                f"columns keys must be Event fields ({', '.join(FIELDS)}), got "
                f"{field!r}",
                field="columns",
                value=field,
            )
        if not isinstance(column, str) or not column:
            raise InvalidEventError(
                f"columns[{field!r}] must be a column name, got {column!r}",
                field="columns",
                value=column,
            )


def hubspot() -> ExportFormat:
    """HubSpot's email events (Email Events API, ``/email/public/v1/events``).

    One record per event: ``id``, ``created`` (milliseconds since 1970),
    ``type`` (``OPEN``, ``CLICK``, ``BOUNCE`` ...), ``recipient`` (the e-mail
    address, the contact), ``emailCampaignId`` (the message: kept as attribute
    ``message``, the key of "latest action per message" rules) and details
    (``url`` of a click, ``browser``, ``location`` ...) kept as attributes with
    dotted names (``browser.family``); ``portalId``, ``appId`` and the
    ``subscriptions`` list of a ``STATUSCHANGE`` are left out (its
    ``portalSubscriptionStatus`` is kept). Types become the kinds of
    ``presets.email_engagement``: ``OPEN`` is ``email.opened``, ``CLICK``
    ``email.clicked``, ``SPAMREPORT`` ``email.complained``.
    """
    return ExportFormat(
        name="hubspot",
        columns={"contact": "recipient", "kind": "type", "at": "created", "id": "id"},
        kinds={
            "SENT": "email.sent",
            "DROPPED": "email.dropped",
            "PROCESSED": "email.processed",
            "DELIVERED": "email.delivered",
            "DEFERRED": "email.deferred",
            "BOUNCE": "email.bounced",
            "OPEN": "email.opened",
            "CLICK": "email.clicked",
            "STATUSCHANGE": "email.subscription_changed",
            "SPAMREPORT": "email.complained",
            "SUPPRESSED": "email.suppressed",
            "PRINT": "email.printed",
            "FORWARD": "email.forwarded",
            "UNBOUNCE": "email.unbounced",
        },
        rename={"emailCampaignId": "message"},
        drop=("portalId", "appId", "subscriptions"),
        epoch="ms",
        records="events",
    )


def mautic() -> ExportFormat:
    """Mautic's contact activity (``GET /api/contacts/activity``).

    One record per event: ``event`` (``page.hit``, ``email.read``,
    ``form.submitted`` ...), ``eventId``, ``eventLabel``, ``eventType``,
    ``timestamp`` (ISO-8601 with offset), ``contactId`` and ``details`` (a
    nested object that differs per type); ``eventId``, where there is one, is
    the event's id. ``email.read`` becomes
    ``email.opened``, ``page.hit`` ``page.viewed``, ``asset.download``
    ``asset.downloaded``, ``point.gained`` ``points.gained``. Attributes: ``label``
    (the event label), ``message`` (the e-mail's id), ``url`` (of a page hit),
    ``form`` (the form's alias), ``asset``, ``points`` (of a point change) and
    ``type`` (Mautic's name of the event type); the rest of ``details`` is left
    out.
    """
    return ExportFormat(
        name="mautic",
        columns={
            "contact": "contactId",
            "kind": "event",
            "at": "timestamp",
            "id": "eventId",
        },
        kinds={
            "email.read": "email.opened",
            "page.hit": "page.viewed",
            "asset.download": "asset.downloaded",
            "point.gained": "points.gained",
        },
        rename={
            "eventLabel.label": "label",
            "eventLabel": "label",
            "eventType": "type",
            "details.stat.emailId": "message",
            "details.hit.url": "url",
            "details.form.alias": "form",
            "details.asset.alias": "asset",
            "details.log.delta": "points",
        },
        drop=("details", "eventLabel", "icon", "eventPriority", "featured"),
        records="events",
    )


#: The product exports ``read_events(columns=...)`` and ``--preset`` know by name.
EXPORTS: Mapping[str, ExportFormat] = MappingProxyType(
    {"hubspot": hubspot(), "mautic": mautic()}
)


def resolve(columns: Any) -> ExportFormat:
    """The export format for ``read_events(columns=...)``.

    None (the Event field names), a ``{field: column}`` mapping, an
    :class:`ExportFormat`, or the name of one in :data:`EXPORTS`.
    """
    if isinstance(columns, ExportFormat):
        return columns
    if isinstance(columns, str):
        try:
            return EXPORTS[columns]
        except KeyError:
            raise InvalidEventError(
                f"no export format named {columns!r}; known: {', '.join(EXPORTS)}",
                field="columns",
                value=columns,
            ) from None
    if columns is None:
        return ExportFormat(name="events", columns={})
    if isinstance(columns, Mapping):
        return ExportFormat(name="events", columns=columns)
    raise InvalidEventError(
        f"columns must be a mapping of Event fields to column names, an "
        f"ExportFormat or an export name, got {type(columns).__name__}",
        field="columns",
        value=columns,
    )
