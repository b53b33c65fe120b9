"""Calendly webhooks: invitee.created and invitee.canceled.

`Calendly-Webhook-Signature: t=<unix s>,v1=<hex>`, v1 = HMAC-SHA256 of `<t>.<raw body>` keyed with the
webhook subscription's signing key; `t` must be within 3 minutes (Calendly's own guidance). A reschedule
fires invitee.canceled for the old invitee (`rescheduled: true`) and invitee.created for the new one
(`old_invitee`); each invitee is its own event, the new one naming the one it replaces.
"""

from __future__ import annotations

from typing import Any

import switchboard.providers._calendar as calendar_parts
from switchboard.errors import SignatureInvalid
from switchboard.models import CalendarEvent, CalendarStatus
from switchboard.providers._common import (
    check_timestamp,
    object_field,
    require_fields,
    require_secret,
    string_field,
    timestamp_or_received,
)
from switchboard.webhook_request import JSON, WebhookRequest

SECRET_NAME = "calendly"  # noqa: S105 - a section name, not a secret
CONTENT_TYPES = frozenset({JSON})
SIGNATURE_HEADER = "calendly-webhook-signature"
TOLERANCE_SECONDS = 180
_EVENTS = {"invitee.created": CalendarStatus.CONFIRMED, "invitee.canceled": CalendarStatus.CANCELLED}


def _header_fields(header: str) -> dict[str, str]:
    fields: dict[str, str] = {}
    for part in header.split(","):
        name, _, value = part.strip().partition("=")
        fields.setdefault(name, value)
    return fields


def verify(request: WebhookRequest, secrets: dict[str, Any], now: float) -> None:
    key = require_secret(secrets, "signing_key")
    header = request.header(SIGNATURE_HEADER)
    if not header:
        raise SignatureInvalid(f"missing {SIGNATURE_HEADER} header")
    fields = _header_fields(header) if header.isascii() else {}
    timestamp, signature = fields.get("t", ""), fields.get("v1")
    if not (timestamp.isdigit() and len(timestamp) <= 12 and signature):
        raise SignatureInvalid(f"malformed {SIGNATURE_HEADER} header")
    calendar_parts.check_hmac_hex(
        key, timestamp.encode() + b"." + request.body, signature, header=SIGNATURE_HEADER
    )
    check_timestamp(int(timestamp), now, TOLERANCE_SECONDS)


def _location(scheduled: dict[str, Any]) -> str | None:
    location = object_field(scheduled, "location")
    return string_field(location, "location") or string_field(location, "join_url")


def parse(request: WebhookRequest, received_at: float) -> CalendarEvent | None:
    payload = request.json_object()
    event_type = string_field(payload, "event")
    if event_type not in _EVENTS:
        return None  # routing forms and other subscriptions: acknowledged and ignored
    invitee = object_field(payload, "payload")
    require_fields(invitee, "uri")
    scheduled = object_field(invitee, "scheduled_event")
    changed_at = invitee.get("updated_at") or payload.get("created_at")
    old_invitee = string_field(invitee, "old_invitee")
    return calendar_parts.calendar_event(
        provider="calendly",
        provider_message_id=calendar_parts.last_segment(string_field(invitee, "uri") or ""),
        occurred_at=timestamp_or_received(changed_at, received_at, field="updated_at"),
        event_type=event_type,
        raw=payload,
        version=calendar_parts.version_from_time(changed_at, field="updated_at"),
        status=_EVENTS[event_type],
        title=string_field(scheduled, "name") or "",
        location=_location(scheduled),
        start=calendar_parts.instant(scheduled.get("start_time"), field="scheduled_event.start_time"),
        end=calendar_parts.instant(scheduled.get("end_time"), field="scheduled_event.end_time"),
        attendee_phone=calendar_parts.optional_phone(
            invitee.get("text_reminder_number"), field="text_reminder_number"
        ),
        attendee_time_zone=calendar_parts.optional_zone(invitee.get("timezone")),
        replaces=calendar_parts.last_segment(old_invitee)
        if old_invitee and event_type == "invitee.created"
        else None,
    )


def signature_headers(url: str, body: bytes, client_secrets: dict[str, str], now: float) -> dict[str, str]:
    """The header Calendly sends, stamped `now` (tests, sample events, the sandbox)."""
    timestamp = str(int(now))
    signature = calendar_parts.hmac_sha256_hex(
        client_secrets["signing_key"], timestamp.encode() + b"." + body
    )
    return {SIGNATURE_HEADER: f"t={timestamp},v1={signature}"}
