"""Cal.com booking webhooks: BOOKING_CREATED, BOOKING_RESCHEDULED and BOOKING_CANCELLED.

`X-Cal-Signature-256` is the hex HMAC-SHA256 of the raw body keyed with the webhook's secret (Cal.com
sends the literal `no-secret-provided` when none is set: that never matches, so such a webhook fails
closed). No timestamp is signed; the version is the payload's `createdAt` (when Cal.com fired it). A
reschedule creates a new booking `uid` whose `rescheduleUid` names the booking it replaces.
"""

from __future__ import annotations

from typing import Any

import switchboard.providers._calendar as calendar_parts
from switchboard.errors import MalformedPayload, SignatureInvalid
from switchboard.models import CalendarEvent, CalendarStatus
from switchboard.providers._common import (
    object_field,
    require_fields,
    require_secret,
    string_field,
    timestamp_or_received,
)
from switchboard.webhook_request import JSON, WebhookRequest

SECRET_NAME = "calcom"  # noqa: S105 - a section name, not a secret
CONTENT_TYPES = frozenset({JSON})
SIGNATURE_HEADER = "x-cal-signature-256"
_TRIGGERS = {"BOOKING_CREATED", "BOOKING_RESCHEDULED", "BOOKING_CANCELLED"}
_STATUSES = {
    "ACCEPTED": CalendarStatus.CONFIRMED,
    "PENDING": CalendarStatus.TENTATIVE,
    "AWAITING_HOST": CalendarStatus.TENTATIVE,
    "CANCELLED": CalendarStatus.CANCELLED,
    "REJECTED": CalendarStatus.CANCELLED,
}


def verify(request: WebhookRequest, secrets: dict[str, Any], now: float) -> None:
    secret = require_secret(secrets, "secret")
    given = request.header(SIGNATURE_HEADER)
    if not given:
        raise SignatureInvalid(f"missing {SIGNATURE_HEADER} header")
    calendar_parts.check_hmac_hex(
        secret, request.body, given.lower() if given.isascii() else given, header=SIGNATURE_HEADER
    )


def _status(trigger: str, booking: dict[str, Any]) -> CalendarStatus:
    if trigger == "BOOKING_CANCELLED":
        return CalendarStatus.CANCELLED
    given = (string_field(booking, "status") or "ACCEPTED").upper()
    if given not in _STATUSES:
        raise MalformedPayload(f"unknown booking status {given!r}")
    return _STATUSES[given]


def _attendee(booking: dict[str, Any]) -> dict[str, Any]:
    attendees = booking.get("attendees")
    if attendees in (None, []):
        return {}
    if not isinstance(attendees, list) or not isinstance(attendees[0], dict):
        raise MalformedPayload("field 'attendees' must be a list of objects")
    return attendees[0]


def _location(booking: dict[str, Any]) -> str | None:
    value = booking.get("location")
    return value if isinstance(value, str) and value else None


def parse(request: WebhookRequest, received_at: float) -> CalendarEvent | None:
    payload = request.json_object()
    trigger = string_field(payload, "triggerEvent")
    if trigger not in _TRIGGERS:
        return None  # meetings ended, payments, forms: acknowledged and ignored
    booking = object_field(payload, "payload")
    require_fields(payload, "createdAt")
    require_fields(booking, "uid")
    attendee = _attendee(booking)
    organizer = object_field(booking, "organizer")
    occurred_at = timestamp_or_received(payload.get("createdAt"), received_at, field="createdAt")
    return calendar_parts.calendar_event(
        provider="calcom",
        provider_message_id=string_field(booking, "uid"),
        occurred_at=occurred_at,
        event_type=trigger,
        raw=payload,
        version=calendar_parts.version_from_time(payload.get("createdAt"), field="createdAt"),
        status=_status(trigger, booking),
        title=string_field(booking, "title") or "",
        location=_location(booking),
        start=calendar_parts.instant(booking.get("startTime"), field="startTime"),
        end=calendar_parts.instant(booking.get("endTime"), field="endTime"),
        time_zone=calendar_parts.optional_zone(organizer.get("timeZone")),
        attendee_phone=calendar_parts.optional_phone(
            booking.get("smsReminderNumber") or attendee.get("phoneNumber"), field="smsReminderNumber"
        ),
        attendee_time_zone=calendar_parts.optional_zone(attendee.get("timeZone")),
        replaces=string_field(booking, "rescheduleUid") if trigger == "BOOKING_RESCHEDULED" else None,
    )


def signature_headers(url: str, body: bytes, client_secrets: dict[str, str], now: float) -> dict[str, str]:
    """The header Cal.com sends (tests, sample events, the sandbox)."""
    return {SIGNATURE_HEADER: calendar_parts.hmac_sha256_hex(client_secrets["secret"], body)}
