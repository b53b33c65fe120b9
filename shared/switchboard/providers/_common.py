"""Small pure helpers every provider module shares: constant-time checks, timestamps, phone numbers."""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from switchboard.errors import MalformedPayload, NotConfigured, SignatureInvalid


def secrets_equal(expected: str | bytes, given: str | bytes | None) -> bool:
    """Constant-time comparison that is False (never an exception) for a missing or odd value."""
    if given is None:
        return False
    left = expected.encode() if isinstance(expected, str) else expected
    right = given.encode() if isinstance(given, str) else given
    return hmac.compare_digest(left, right)


def require_secret(secrets: Mapping[str, Any], *names: str) -> str:
    """The first configured value among `names`; a route with none configured rejects everything."""
    for name in names:
        value = secrets.get(name)
        if isinstance(value, str) and value:
            return value
    raise NotConfigured(f"no {' or '.join(names)} is configured for this route")


TIMESTAMP_TOLERANCE_SECONDS = 300  # the Standard Webhooks / Svix default; GHL's guide says 5 minutes too


def check_timestamp(
    timestamp_seconds: float, now: float, tolerance_seconds: float = TIMESTAMP_TOLERANCE_SECONDS
) -> None:
    """Reject stale or future timestamps: signed-but-replayed requests stop here."""
    if abs(now - timestamp_seconds) > tolerance_seconds:
        raise SignatureInvalid(f"timestamp is outside the {int(tolerance_seconds)} s window")


def require_fields(payload: Mapping[str, Any], *names: str) -> None:
    missing = [name for name in names if payload.get(name) in (None, "")]
    if missing:
        raise MalformedPayload(f"missing required field(s): {', '.join(missing)}")


def string_field(payload: Mapping[str, Any], name: str, *, default: str | None = None) -> str | None:
    value = payload.get(name, default)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise MalformedPayload(f"field {name!r} must be a string")
    return str(value)


def parse_timestamp(value: Any, *, field: str) -> datetime:
    """ISO-8601 strings (with Z), or Unix seconds / milliseconds, to an aware UTC datetime."""
    try:
        if isinstance(value, bool):
            raise TypeError
        if isinstance(value, int | float):
            seconds = value / 1000 if value > 10_000_000_000 else value
            return datetime.fromtimestamp(seconds, tz=UTC)
        if isinstance(value, str):
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        pass
    raise MalformedPayload(f"field {field!r} is not a valid timestamp")


def received_time(received_at: float) -> datetime:
    return datetime.fromtimestamp(received_at, tz=UTC)


def normalize_phone(value: str, *, field: str) -> str:
    """E.164 for phone numbers (via phonenumbers); short codes stay as digits; anything else is a 400."""
    import phonenumbers  # lazy: only the number-carrying providers pay its import

    candidate = value.strip()
    digits = candidate.replace(" ", "").replace("-", "")
    if digits.isdigit() and 3 <= len(digits) <= 8:
        return digits  # carrier short code
    if not candidate.startswith("+"):
        candidate = "+" + digits if digits.isdigit() else candidate
    try:
        number = phonenumbers.parse(candidate, None)
    except phonenumbers.NumberParseException as exc:
        raise MalformedPayload(f"field {field!r} is not a phone number") from exc
    if not phonenumbers.is_possible_number(number):
        raise MalformedPayload(f"field {field!r} is not a possible phone number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
