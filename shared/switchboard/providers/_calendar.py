"""Helpers the calendar providers (calcom, calendly, calendar) share: versions, phones, zones, times."""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime
from typing import Any

from switchboard.errors import MalformedPayload, SignatureInvalid
from switchboard.models import CalendarEvent, is_iana_zone
from switchboard.providers._common import (
    canonical_event,
    normalize_phone,
    parse_timestamp,
    secrets_equal,
    string_field,
)

VERSION_DIGITS = 20  # zero-padded, so string order is numeric order in the sort key


def hmac_sha256_hex(key: str, content: bytes) -> str:
    return hmac.new(key.encode(), content, hashlib.sha256).hexdigest()


def check_hmac_hex(key: str, content: bytes, given: str, *, header: str) -> None:
    """Cal.com and Calendly sign with a hex HMAC-SHA256; compared in constant time."""
    if not secrets_equal(hmac_sha256_hex(key, content), given):
        raise SignatureInvalid(f"{header} does not match")


def calendar_event(**fields: Any) -> CalendarEvent:
    """The canonical calendar event; a value the model refuses is a 400 (canonical_event)."""
    return canonical_event(CalendarEvent, **fields)


def version_from_time(value: Any, *, field: str) -> str:
    """A change time as a sortable version: its Unix milliseconds, zero-padded."""
    instant = parse_timestamp(value, field=field)
    return f"{int(instant.timestamp() * 1000):0{VERSION_DIGITS}d}"


def version_from_number(value: Any, *, field: str) -> str:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 10**VERSION_DIGITS:
        raise MalformedPayload(f"field {field!r} must be a non-negative integer")
    return f"{value:0{VERSION_DIGITS}d}"


def optional_phone(value: Any, *, field: str) -> str | None:
    """E.164, or None for an absent or unusable number: the booking is still stored (never refused for
    the attendee's typo); the worker records why it gets no reminder."""
    text = string_field({field: value}, field) if not isinstance(value, dict | list) else None
    if not text:
        return None
    try:
        phone = normalize_phone(text, field=field)
    except MalformedPayload:
        return None
    return phone if phone.startswith("+") else None  # a short code is no attendee


def optional_zone(value: Any) -> str | None:
    """An IANA zone, or None when absent or unknown (the event's zone or the number's zones then apply)."""
    return value if isinstance(value, str) and is_iana_zone(value) else None


def instant(value: Any, *, field: str) -> datetime | None:
    """An aware start/end; a time without an offset is refused (it would be read in the wrong zone)."""
    if value in (None, ""):
        return None
    if isinstance(value, str) and not _has_offset(value):
        raise MalformedPayload(f"field {field!r} needs a UTC offset or Z")
    return parse_timestamp(value, field=field)


def _has_offset(text: str) -> bool:
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).tzinfo is not None
    except ValueError:
        return True  # parse_timestamp reports the malformed value


def last_segment(uri: str) -> str:
    """Calendly identifies invitees by URI; the id is its last path segment."""
    return uri.rstrip("/").rsplit("/", 1)[-1]
