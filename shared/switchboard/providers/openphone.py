"""OpenPhone (now Quo): message.received, message.delivered and message.failed webhooks.

Two signature schemes live side by side, and a request's headers say which one signed it:
- legacy (app Settings / `/v1/webhooks`): `openphone-signature: hmac;1;<unix ms>;<base64>`, an
  HMAC-SHA256 over `<ms>.<raw body>` keyed with base64-decoded `signing_key`;
- 2026-03-30 API (Standard Webhooks): `webhook-id`, `webhook-timestamp` (Unix s) and
  `webhook-signature: v1,<base64> ...`, an HMAC-SHA256 over `<id>.<ts>.<raw body>` keyed with
  `webhook_secret` (`whsec_` + base64).
The envelopes differ too: the message sits in `data.object` (legacy) or `data.resource` (2026-03-30).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

from switchboard.errors import MalformedPayload, NotConfigured, SignatureInvalid
from switchboard.models import Channel, Direction, Message, StatusUpdate
from switchboard.providers._common import (
    canonical_event,
    check_timestamp,
    decode_base64,
    media_items,
    normalize_phone,
    require_fields,
    require_secret,
    secrets_equal,
    string_field,
    timestamp_or_received,
)
from switchboard.webhook_request import JSON, WebhookRequest

SECRET_NAME = "openphone"  # noqa: S105 - a section name, not a secret
CONTENT_TYPES = frozenset({JSON})
LEGACY_HEADER = "openphone-signature"
STANDARD_HEADERS = ("webhook-id", "webhook-timestamp", "webhook-signature")
_WHSEC_PREFIX = "whsec_"
_STATUS_EVENTS = {"message.delivered": "delivered", "message.failed": "failed"}
_DIRECTIONS = {"incoming": Direction.INBOUND, "outgoing": Direction.OUTBOUND}


def verify(request: WebhookRequest, secrets: dict[str, Any], now: float) -> None:
    """Any Standard Webhooks header routes the request to `webhook_secret`; otherwise `signing_key`."""
    if any(request.header(name) is not None for name in STANDARD_HEADERS):
        _verify_standard(request, secrets, now)
    else:
        _verify_legacy(request, secrets, now)


def _hmac_base64(key: bytes, content: bytes) -> str:
    return base64.b64encode(hmac.new(key, content, hashlib.sha256).digest()).decode()


def _legacy_signature(key: bytes, timestamp: str, body: bytes) -> str:
    return _hmac_base64(key, timestamp.encode() + b"." + body)


def _standard_signature(key: bytes, webhook_id: str, timestamp: str, body: bytes) -> str:
    return _hmac_base64(key, f"{webhook_id}.{timestamp}.".encode() + body)


def _is_digits(value: str, max_length: int) -> bool:
    # ASCII digits only, and short: int() of a huge or non-ASCII digit string would raise
    return value.isascii() and value.isdigit() and len(value) <= max_length


def _legacy_entries(header: str) -> list[tuple[str, str]]:
    """(timestamp ms, signature) for every `hmac;1;...` entry; the docs allow comma-separated ones."""
    entries = []
    for entry in header.split(","):
        fields = entry.strip().split(";")
        if len(fields) == 4 and fields[:2] == ["hmac", "1"] and _is_digits(fields[2], 16):
            entries.append((fields[2], fields[3]))
    return entries


def _verify_legacy(request: WebhookRequest, secrets: dict[str, Any], now: float) -> None:
    key = decode_base64(require_secret(secrets, "signing_key"), what="signing_key", error=NotConfigured)
    header = request.header(LEGACY_HEADER)
    if not header:
        raise SignatureInvalid(f"missing {LEGACY_HEADER} header")
    entries = _legacy_entries(header) if header.isascii() else []
    if not entries:
        raise SignatureInvalid(f"malformed {LEGACY_HEADER} header")
    for timestamp, signature in entries:
        if secrets_equal(_legacy_signature(key, timestamp, request.body), signature):
            check_timestamp(int(timestamp) / 1000, now)  # milliseconds, unlike `now`
            return
    raise SignatureInvalid(f"{LEGACY_HEADER} does not match")


def _verify_standard(request: WebhookRequest, secrets: dict[str, Any], now: float) -> None:
    secret = require_secret(secrets, "webhook_secret")
    key = decode_base64(secret.removeprefix(_WHSEC_PREFIX), what="webhook_secret", error=NotConfigured)
    webhook_id, timestamp, signatures = (request.header(name) for name in STANDARD_HEADERS)
    if not (webhook_id and timestamp and signatures):
        raise SignatureInvalid(f"missing one of the {', '.join(STANDARD_HEADERS)} headers")
    if not (webhook_id.isascii() and signatures.isascii() and _is_digits(timestamp, 12)):
        raise SignatureInvalid("malformed webhook-id, webhook-timestamp or webhook-signature header")
    check_timestamp(int(timestamp), now)
    expected = _standard_signature(key, webhook_id, timestamp, request.body)
    for entry in signatures.split():
        version, _, signature = entry.partition(",")
        if version == "v1" and secrets_equal(expected, signature):
            return
    raise SignatureInvalid("webhook-signature does not match")


def _message_object(payload: dict[str, Any]) -> dict[str, Any]:
    data = payload.get("data")
    if not isinstance(data, dict):
        raise MalformedPayload("missing required field(s): data")
    message = data["resource"] if "resource" in data else data.get("object")
    if not isinstance(message, dict):
        raise MalformedPayload("data.object (or data.resource) must be an object")
    return message


def _phones(message: dict[str, Any], name: str) -> list[str]:
    """`to` is a list in the REST schema, a string in older payloads, and one comma-joined string of
    numbers in a group message's webhook; every form gives the same list of E.164 numbers."""
    value = message.get(name)
    items = value if isinstance(value, list) else [value]
    texts = [string_field({name: item}, name) for item in items]
    numbers = [part.strip() for text in texts if text for part in text.split(",")]
    return [normalize_phone(number, field=name) for number in numbers if number]


def _phone(message: dict[str, Any], name: str) -> str | None:
    """The first number: in a group message, the workspace's own line comes first (see README)."""
    numbers = _phones(message, name)
    return numbers[0] if numbers else None


def parse(request: WebhookRequest, received_at: float) -> Message | StatusUpdate | None:
    payload = request.json_object()
    event_type = string_field(payload, "type")
    if event_type != "message.received" and event_type not in _STATUS_EVENTS:
        return None  # calls, contacts, summaries: acknowledged and ignored
    message = _message_object(payload)
    require_fields(message, "id")
    media = media_items(message.get("media"), field="media")
    common: dict[str, Any] = {
        "provider": "openphone",
        "provider_message_id": string_field(message, "id"),  # the message (AC...), not the event (EV...)
        "channel": Channel.MMS if media else Channel.SMS,
        "occurred_at": timestamp_or_received(
            message.get("createdAt") or payload.get("createdAt"), received_at, field="createdAt"
        ),
        "event_type": event_type,
        "raw": payload,
    }
    if event_type in _STATUS_EVENTS:
        return canonical_event(
            StatusUpdate,
            **common,
            status=_STATUS_EVENTS[event_type],
            sender=_phone(message, "from"),
            recipient=_phone(message, "to"),
        )
    require_fields(message, "from")
    direction = _DIRECTIONS.get(string_field(message, "direction") or "incoming")
    if direction is None:
        raise MalformedPayload("field 'direction' must be incoming or outgoing")
    return canonical_event(
        Message,
        **common,
        direction=direction,
        sender=_phone(message, "from"),
        recipient=_phone(message, "to"),
        participants=tuple(_phones(message, "to")[1:]),  # a group's other members
        body=string_field(message, "text") or string_field(message, "body") or "",
        media=media,
        status=string_field(message, "status"),
        thread_id=string_field(message, "conversationId"),
        account_id=string_field(message, "phoneNumberId"),
    )


def legacy_signature_headers(body: bytes, signing_key: str, now: float) -> dict[str, str]:
    """`openphone-signature` as legacy webhooks send it, stamped `now` in milliseconds."""
    timestamp = str(int(now * 1000))
    signature = _legacy_signature(base64.b64decode(signing_key), timestamp, body)
    return {LEGACY_HEADER: f"hmac;1;{timestamp};{signature}"}


def standard_signature_headers(
    body: bytes, webhook_secret: str, now: float, webhook_id: str | None = None
) -> dict[str, str]:
    """Standard Webhooks headers as 2026-03-30 webhooks send them; the id defaults to one from the body."""
    webhook_id = webhook_id or "msg_" + hashlib.sha256(body).hexdigest()[:26]  # stable: reproducible events
    timestamp = str(int(now))
    key = base64.b64decode(webhook_secret.removeprefix(_WHSEC_PREFIX))
    signature = _standard_signature(key, webhook_id, timestamp, body)
    return {"webhook-id": webhook_id, "webhook-timestamp": timestamp, "webhook-signature": f"v1,{signature}"}


def _is_standard_envelope(body: bytes) -> bool:
    try:
        payload = json.loads(body)
    except ValueError:
        return False
    data = payload.get("data") if isinstance(payload, dict) else None
    return isinstance(data, dict) and "resource" in data


def signature_headers(url: str, body: bytes, client_secrets: dict[str, str], now: float) -> dict[str, str]:
    """Headers OpenPhone would send: a webhook's API version fixes both its envelope and its scheme,
    so a `data.resource` (2026-03-30) body is signed with `webhook_secret`, any other with `signing_key`."""
    if _is_standard_envelope(body):
        return standard_signature_headers(body, client_secrets["webhook_secret"], now)
    return legacy_signature_headers(body, client_secrets["signing_key"], now)


def message_direction(message: dict[str, Any]) -> Direction:
    """A message object's direction as the webhooks read it (absent: incoming); the message list reuses it."""
    direction = _DIRECTIONS.get(string_field(message, "direction") or "incoming")
    if direction is None:
        raise MalformedPayload("field 'direction' must be incoming or outgoing")
    return direction


def message_phone(message: dict[str, Any], name: str) -> str | None:
    """A message object's `from`/`to` as E.164 (`to` may be a list); the message list reuses it."""
    return _phone(message, name)
