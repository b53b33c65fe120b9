"""Unipile (LinkedIn and other messaging accounts): the "messaging" webhook's new-message events.

Unipile signs nothing: the webhook is created with a custom header (`Unipile-Auth` by default, the name
is configurable) carrying a shared secret, compared in constant time. Only `message_received` becomes a
Message; message_read / message_reaction and any other event are acknowledged and ignored, because the
reference documents no payload for them to key a status on.
"""

from __future__ import annotations

from typing import Any

from switchboard.errors import MalformedPayload
from switchboard.models import Channel, Direction, Media, Message
from switchboard.providers._common import (
    canonical_event,
    first_string,
    object_field,
    require_fields,
    shared_secret_headers,
    string_field,
    timestamp_or_received,
    verify_shared_secret_header,
)
from switchboard.webhook_request import JSON, WebhookRequest

SECRET_NAME = "unipile"  # noqa: S105 - the secret's name in WebhookSecrets, not a value
# Webhooks created through the API carry no JSON content type unless configured (providers.md §6), so
# text/plain and a missing Content-Type are accepted too: the body is parsed as JSON either way.
CONTENT_TYPES = frozenset({JSON, "text/plain", ""})
DEFAULT_HEADER = "Unipile-Auth"
MESSAGE_RECEIVED = "message_received"


def verify(request: WebhookRequest, secrets: dict[str, Any], now: float) -> None:
    """No timestamp is sent, so `now` is unused; replays are absorbed by idempotent storage."""
    verify_shared_secret_header(request, secrets, default_header=DEFAULT_HEADER)


def _media(attachments: Any) -> tuple[Media, ...]:
    # The docs show one object, real payloads a list: accept both, keep only attachments with a URL.
    items = attachments if isinstance(attachments, list) else [attachments]
    return tuple(
        Media(url=url, content_type=first_string(item, "mimetype"))
        for item in items
        if isinstance(item, dict) and (url := first_string(item, "url"))
    )


def _other_attendee(payload: dict[str, Any], own_id: str) -> str | None:
    """Who an outbound message went to: the one other attendee of a 1:1 chat, None in a group."""
    attendees = payload.get("attendees")
    if not isinstance(attendees, list):
        return None
    others = {
        first_string(attendee, "attendee_provider_id", "attendee_id")
        for attendee in attendees
        if isinstance(attendee, dict)
    } - {own_id, None}
    return others.pop() if len(others) == 1 else None


def parse(request: WebhookRequest, received_at: float) -> Message | None:
    payload = request.json_object()
    require_fields(payload, "event")
    event = string_field(payload, "event")
    if event != MESSAGE_RECEIVED:
        return None
    require_fields(payload, "message_id")
    sender = first_string(object_field(payload, "sender"), "attendee_provider_id", "attendee_id")
    if sender is None:
        raise MalformedPayload("missing required field(s): sender.attendee_provider_id")
    own_id = first_string(object_field(payload, "account_info"), "user_id")
    account_id = string_field(payload, "account_id")
    # Unipile also reports messages the account sent from other devices: those are outbound.
    outbound = own_id is not None and sender == own_id
    account_type = (string_field(payload, "account_type") or "").upper()
    return canonical_event(
        Message,
        provider="unipile",
        provider_message_id=string_field(payload, "message_id"),
        channel=Channel.LINKEDIN if account_type == "LINKEDIN" else Channel.OTHER,
        direction=Direction.OUTBOUND if outbound else Direction.INBOUND,
        sender=sender,
        recipient=_other_attendee(payload, sender) if outbound else account_id or own_id,
        body=string_field(payload, "message") or "",
        media=_media(payload.get("attachments")),
        thread_id=string_field(payload, "chat_id"),
        account_id=account_id,
        occurred_at=timestamp_or_received(payload.get("timestamp"), received_at, field="timestamp"),
        event_type=event,
        raw=payload,
    )


def signature_headers(url: str, body: bytes, client_secrets: dict[str, str], now: float) -> dict[str, str]:
    """The secret header Unipile is configured to send (tests, sample events, the sandbox)."""
    return shared_secret_headers(client_secrets, default_header=DEFAULT_HEADER)
