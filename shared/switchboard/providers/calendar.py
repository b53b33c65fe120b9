"""Switchboard's own calendar event, for any calendar a user wires themselves, signed with Standard
Webhooks (`webhook-id/-timestamp/-signature`, the scheme OpenPhone's 2026 API uses: verified by the same
code). One JSON object per change:

    {"calendar": "clinic", "id": "evt-1", "version": 3 | "updated_at": "<ISO-8601>",
     "status": "confirmed" | "tentative" | "cancelled", "title": "...", "location": "...",
     "start": "<ISO-8601 with offset>", "end": "...", "time_zone": "America/New_York",
     "all_day": "2026-12-01", "attendee": {"phone": "+1...", "time_zone": "America/Chicago"}}

`version` (an integer) or `updated_at` orders the changes of one event; use one of them consistently.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from switchboard.errors import MalformedPayload
from switchboard.models import CalendarEvent, CalendarStatus
from switchboard.providers._calendar import (
    calendar_event,
    instant,
    optional_phone,
    optional_zone,
    version_from_number,
    version_from_time,
)
from switchboard.providers._common import (
    object_field,
    received_time,
    require_fields,
    string_field,
)
from switchboard.providers.openphone import standard_signature_headers, verify_standard_webhook
from switchboard.webhook_request import JSON, WebhookRequest

SECRET_NAME = "calendar"  # noqa: S105 - a section name, not a secret
CONTENT_TYPES = frozenset({JSON})
_STATUSES = {status.value: status for status in CalendarStatus}


def verify(request: WebhookRequest, secrets: dict[str, Any], now: float) -> None:
    verify_standard_webhook(request, secrets, now)


def _version(payload: dict[str, Any]) -> str:
    if payload.get("version") is not None:
        return version_from_number(payload["version"], field="version")
    if payload.get("updated_at") in (None, ""):
        raise MalformedPayload("missing required field(s): version or updated_at")
    return version_from_time(payload["updated_at"], field="updated_at")


def _all_day(value: Any) -> date | None:
    if value in (None, ""):
        return None
    try:
        return date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        pass
    raise MalformedPayload("field 'all_day' must be a YYYY-MM-DD date")


def parse(request: WebhookRequest, received_at: float) -> CalendarEvent | None:
    payload = request.json_object()
    require_fields(payload, "calendar", "id", "status")
    status = _STATUSES.get(string_field(payload, "status") or "")
    if status is None:
        raise MalformedPayload("field 'status' must be confirmed, tentative or cancelled")
    attendee = object_field(payload, "attendee")
    zone = payload.get("time_zone")
    if zone is not None and optional_zone(zone) is None:
        raise MalformedPayload("field 'time_zone' is not an IANA time zone")
    return calendar_event(
        provider="calendar",
        provider_message_id=f"{string_field(payload, 'calendar')}:{string_field(payload, 'id')}",
        occurred_at=received_time(received_at),
        event_type=f"event.{status.value}",
        raw=payload,
        version=_version(payload),
        status=status,
        title=string_field(payload, "title") or "",
        location=string_field(payload, "location"),
        start=instant(payload.get("start"), field="start"),
        end=instant(payload.get("end"), field="end"),
        all_day=_all_day(payload.get("all_day")),
        time_zone=zone,
        attendee_phone=optional_phone(attendee.get("phone"), field="attendee.phone"),
        attendee_time_zone=optional_zone(attendee.get("time_zone")),
    )


def signature_headers(url: str, body: bytes, client_secrets: dict[str, str], now: float) -> dict[str, str]:
    return standard_signature_headers(body, client_secrets["webhook_secret"], now)
