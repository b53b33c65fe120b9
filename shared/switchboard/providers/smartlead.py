"""SmartLead (cold e-mail campaigns): the flat `event_type` webhook payloads.

SmartLead signs nothing and sends no auth header: every payload carries a `secret_key` field, compared in
constant time with the configured one. Only the flat shape (`event_type: "EMAIL_REPLY"`) the help center
and real payloads use is supported; the nested `{event, lead, reply}` shape of another doc variant has no
`event_type` and is refused as malformed (400) rather than silently acknowledged.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from switchboard.errors import MalformedPayload, SignatureInvalid
from switchboard.models import Channel, Direction, Message, StatusUpdate
from switchboard.providers._common import (
    canonical_event,
    composite_id,
    first_string,
    object_field,
    require_fields,
    require_secret,
    secret_matches,
    string_field,
    timestamp_or_received,
)
from switchboard.webhook_request import JSON, WebhookRequest

SECRET_NAME = "smartlead"  # noqa: S105 - the secret's name in WebhookSecrets, not a value
CONTENT_TYPES = frozenset({JSON})
SECRET_FIELD = "secret_key"  # noqa: S105 - a payload field name, not a value
REPLY = "EMAIL_REPLY"
# Replies SmartLead could not match to a campaign lead: the same flat shape, and just as much a reply.
REPLIES = frozenset({REPLY, "UNTRACKED_REPLIES"})
SENT = frozenset({"EMAIL_SENT", "FIRST_EMAIL_SENT"})
STATUSES = {
    "EMAIL_OPEN": "opened",
    "EMAIL_LINK_CLICK": "clicked",
    "EMAIL_BOUNCE": "bounced",
    "LEAD_UNSUBSCRIBED": "unsubscribed",
}
# Events without a message id are keyed on these provider facts (providers.md §10), never a body hash.
FALLBACK_ID = ("stats_id", "event_type", "event_timestamp")


def verify(request: WebhookRequest, secrets: dict[str, Any], now: float) -> None:
    """The secret travels in the body, so it is parsed first: non-JSON is a 400, a wrong key a 401."""
    expected = require_secret(secrets, SECRET_FIELD)
    if not secret_matches(expected, request.json_object().get(SECRET_FIELD)):
        raise SignatureInvalid(f"{SECRET_FIELD} is missing or does not match")


def _occurred_at(payload: dict[str, Any], received_at: float) -> datetime:
    return timestamp_or_received(payload.get("event_timestamp"), received_at, field="event_timestamp")


def _message(payload: dict[str, Any], event_type: str, received_at: float) -> Message:
    if event_type in REPLIES:
        content = object_field(payload, "reply_message")
        correspondence = object_field(payload, "leadCorrespondence")
        # Threaded replies: replyReceivedFrom is who actually wrote, which may not be the targeted lead;
        # to_email is "the lead that replies" in SmartLead's own field list.
        sender = first_string(correspondence, "replyReceivedFrom") or first_string(
            payload, "sl_lead_email", "to_email"
        )
        # from_email is the campaign mailbox that sent the original e-mail, so it received the reply.
        recipient = first_string(payload, "from_email")
        body = first_string(content, "text") or first_string(payload, "preview_text", "reply_body")
        # The reply's own Message-ID (reply_message.message_id; top-level message_id before 2024) is
        # stable when SmartLead re-sends the webhook, and is what `messages get` is asked for.
        message_id = first_string(content, "message_id") or first_string(payload, "message_id")
        direction = Direction.INBOUND
    else:
        content = object_field(payload, "sent_message")
        sender = first_string(payload, "from_email")
        recipient = first_string(payload, "to_email", "sl_lead_email")
        body = first_string(content, "text")
        message_id = first_string(content, "message_id")
        direction = Direction.OUTBOUND
    if sender is None:
        raise MalformedPayload(f"{event_type} names no sender address")
    return canonical_event(
        Message,
        provider="smartlead",
        provider_message_id=message_id or composite_id(payload, *FALLBACK_ID),
        channel=Channel.EMAIL,
        direction=direction,
        sender=sender,
        recipient=recipient,
        body=body or "",
        thread_id=first_string(payload, "stats_thread_id"),
        occurred_at=_occurred_at(payload, received_at),
        event_type=event_type,
        raw=_without_secret(payload),
    )


def _status(payload: dict[str, Any], event_type: str, received_at: float) -> StatusUpdate:
    # Keyed like the sent Message when SmartLead includes it, else by the stats record of that e-mail.
    sent_id = first_string(object_field(payload, "sent_message"), "message_id")
    if sent_id is None:
        require_fields(payload, "stats_id")
    return canonical_event(
        StatusUpdate,
        provider="smartlead",
        provider_message_id=sent_id or first_string(payload, "stats_id"),
        channel=Channel.EMAIL,
        status=STATUSES[event_type],
        sender=first_string(payload, "from_email"),
        recipient=first_string(payload, "to_email", "sl_lead_email"),
        occurred_at=_occurred_at(payload, received_at),
        event_type=event_type,
        raw=_without_secret(payload),
    )


def _without_secret(payload: dict[str, Any]) -> dict[str, Any]:
    """Everything as received except the shared secret, which must not be copied into storage."""
    return {key: value for key, value in payload.items() if key != SECRET_FIELD}


def parse(request: WebhookRequest, received_at: float) -> Message | StatusUpdate | None:
    payload = request.json_object()
    require_fields(payload, "event_type")
    event_type = string_field(payload, "event_type") or ""
    if event_type in REPLIES or event_type in SENT:
        return _message(payload, event_type, received_at)
    if event_type in STATUSES:
        return _status(payload, event_type, received_at)
    return None


def signature_headers(url: str, body: bytes, client_secrets: dict[str, str], now: float) -> dict[str, str]:
    """Nothing: SmartLead's secret is the body's own `secret_key` field."""
    return {}
