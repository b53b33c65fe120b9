"""Small pure helpers every provider module shares: constant-time checks, timestamps, phone numbers."""

from __future__ import annotations

import base64
import binascii
import hmac
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, TypeVar

from pydantic import ValidationError

from switchboard.errors import MalformedPayload, NotConfigured, SignatureInvalid, first_problem
from switchboard.models import Media
from switchboard.pseudonyms import pseudonym
from switchboard.webhook_request import WebhookRequest


def secrets_equal(expected: str | bytes, given: str | bytes | None) -> bool:
    """Constant-time comparison that is False (never an exception) for a missing or odd value."""
    if given is None:
        return False
    left = expected.encode() if isinstance(expected, str) else expected
    right = given.encode() if isinstance(given, str) else given
    return hmac.compare_digest(left, right)


def decode_base64(value: str, *, what: str, error: type[SignatureInvalid] = SignatureInvalid) -> bytes:
    """Strict base64 to bytes; anything else (odd padding, non-ASCII) is `error`, never a crash."""
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise error(f"{what} is not valid base64") from exc


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


def timestamp_or_received(value: Any, received_at: float, *, field: str) -> datetime:
    """The provider's own event time when it sent one, else the time we received the webhook."""
    if value in (None, ""):
        return received_time(received_at)
    return parse_timestamp(value, field=field)


def media_items(value: Any, *, field: str) -> tuple[Media, ...]:
    """Attachments sent as a list of URL strings or of {"url", "type" | "contentType"} objects."""
    if value in (None, ""):
        return ()
    if not isinstance(value, list):
        raise MalformedPayload(f"field {field!r} must be a list")
    media = []
    for item in value:
        if isinstance(item, str) and item:
            media.append(Media(url=item))
        elif isinstance(item, dict) and isinstance(item.get("url"), str) and item["url"]:
            content_type = string_field(item, "type") or string_field(item, "contentType")
            media.append(Media(url=item["url"], content_type=content_type))
        else:
            raise MalformedPayload(f"every item of {field!r} needs a url")
    return tuple(media)


def canonical_event(model: type[EventT], **fields: Any) -> EventT:
    """Build the canonical event; a payload the model refuses (an over-long id, say) is a 400, not a 500."""
    try:
        return model(**fields)
    except ValidationError as exc:
        raise MalformedPayload(first_problem(exc, where="payload")) from exc


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


EventT = TypeVar("EventT")  # a canonical model class: Message or StatusUpdate

# Shared-secret providers (Unipile, SmartLead, Instantly) send no signature, only a configured secret.


def secret_matches(expected: str, given: object) -> bool:
    """Constant-time match of a configured secret against an untrusted value of any type."""
    if not isinstance(given, str):
        return False
    # surrogatepass: a lone surrogate (legal in a JSON escape) must fail the match, not raise
    return secrets_equal(expected.encode("utf-8", "surrogatepass"), given.encode("utf-8", "surrogatepass"))


def _secret_header(secrets: Mapping[str, Any], default_header: str) -> tuple[str, str]:
    header = secrets.get("header") or default_header
    if not isinstance(header, str):
        raise NotConfigured("the configured secret header name is not a string")
    return header, require_secret(secrets, "value")


def verify_shared_secret_header(
    request: WebhookRequest, secrets: Mapping[str, Any], *, default_header: str
) -> None:
    """The header named by secrets["header"] must carry exactly secrets["value"]; unset fails closed."""
    header, expected = _secret_header(secrets, default_header)
    if not secret_matches(expected, request.header(header)):
        raise SignatureInvalid(f"{header} header is missing or does not match")


def shared_secret_headers(client_secrets: Mapping[str, Any], *, default_header: str) -> dict[str, str]:
    """The header a provider is configured to send (tests, sample events, the sandbox)."""
    header, value = _secret_header(client_secrets, default_header)
    return {header: value}


def object_field(payload: Mapping[str, Any], name: str) -> dict[str, Any]:
    """A nested JSON object, {} when absent or null; any other type is a 400."""
    value = payload.get(name)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise MalformedPayload(f"field {name!r} must be an object")
    return value


def first_string(payload: Mapping[str, Any], *names: str) -> str | None:
    """The first of `names` holding a non-empty string (or number), else None."""
    for name in names:
        value = string_field(payload, name)
        if value:
            return value
    return None


def _id_facts(payload: Mapping[str, Any], names: tuple[str, ...]) -> list[str]:
    parts = [first_string(payload, name) for name in names]
    if not all(parts):
        raise MalformedPayload(f"no message id, and no {'+'.join(names)} to build one from")
    return [part for part in parts if part]


def composite_id(payload: Mapping[str, Any], *names: str) -> str:
    """An id joined from provider facts, for events that carry no message id; any part missing is a 400."""
    return ":".join(_id_facts(payload, names))


def keyed_composite_id(payload: Mapping[str, Any], secrets: Mapping[str, Any] | None, *names: str) -> str:
    """Like composite_id, for facts that hold personal data (a lead's e-mail): `<first fact>:<HMAC-SHA256
    of them all>`. Keyed with the section's `id_key`, else its shared secret `value`, so the id is stable
    across the provider's retries and cannot be reversed by hashing guessed addresses."""
    parts = _id_facts(payload, names)
    key = require_secret(secrets or {}, "id_key", "value")
    return f"{parts[0]}:{pseudonym(key, *parts)}"
