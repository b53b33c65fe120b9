"""Instantly (API v2 cold e-mail): reply, sent and engagement webhook events.

Instantly signs nothing: the webhook is created with a custom `headers` entry (`Authorization` by default,
the name is configurable) carrying a shared secret, compared in constant time. Replies and sent e-mails
become Messages; opens, clicks, bounces and unsubscribes become StatusUpdates; anything else is ignored.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from switchboard.errors import MalformedPayload
from switchboard.models import Channel, Direction, Message, StatusUpdate
from switchboard.providers._common import (
    canonical_event,
    first_string,
    keyed_composite_id,
    require_fields,
    shared_secret_headers,
    string_field,
    timestamp_or_received,
    verify_shared_secret_header,
)
from switchboard.webhook_request import JSON, WebhookRequest

SECRET_NAME = "instantly"  # noqa: S105 - the secret's name in WebhookSecrets, not a value
CONTENT_TYPES = frozenset({JSON})
DEFAULT_HEADER = "Authorization"
REPLY = "reply_received"
SENT = "email_sent"
STATUSES = {
    "email_opened": "opened",
    "email_link_clicked": "clicked",
    "link_clicked": "clicked",  # the guide's name for the API enum's email_link_clicked
    "email_bounced": "bounced",
    "lead_unsubscribed": "unsubscribed",
}
# Instantly sends no delivery id; without email_id, events are keyed on these facts (providers.md §10),
# hashed with a key (the lead's e-mail must not reach a table key or a log line).
FALLBACK_ID = ("event_type", "campaign_id", "lead_email", "timestamp")
Secrets = Mapping[str, Any] | None


def verify(request: WebhookRequest, secrets: dict[str, Any], now: float) -> None:
    """No timestamp is signed, so `now` is unused; replays are absorbed by idempotent storage."""
    verify_shared_secret_header(request, secrets, default_header=DEFAULT_HEADER)


def _message_id(payload: dict[str, Any], secrets: Secrets) -> str:
    return first_string(payload, "email_id") or keyed_composite_id(payload, secrets, *FALLBACK_ID)


def _occurred_at(payload: dict[str, Any], received_at: float) -> datetime:
    return timestamp_or_received(payload.get("timestamp"), received_at, field="timestamp")


def _message(payload: dict[str, Any], event_type: str, received_at: float, secrets: Secrets) -> Message:
    inbound = event_type == REPLY
    lead, mailbox = first_string(payload, "lead_email"), first_string(payload, "email_account")
    sender = lead if inbound else mailbox
    if sender is None:
        raise MalformedPayload(f"missing required field(s): {'lead_email' if inbound else 'email_account'}")
    body_fields = ("reply_text", "reply_text_snippet") if inbound else ("email_text",)
    return canonical_event(
        Message,
        provider="instantly",
        provider_message_id=_message_id(payload, secrets),
        channel=Channel.EMAIL,
        direction=Direction.INBOUND if inbound else Direction.OUTBOUND,
        sender=sender,
        recipient=mailbox if inbound else lead,
        body=first_string(payload, *body_fields) or "",
        account_id=first_string(payload, "workspace"),
        occurred_at=_occurred_at(payload, received_at),
        event_type=event_type,
        raw=payload,
    )


def _status(payload: dict[str, Any], event_type: str, received_at: float, secrets: Secrets) -> StatusUpdate:
    return canonical_event(
        StatusUpdate,
        provider="instantly",
        provider_message_id=_message_id(payload, secrets),
        channel=Channel.EMAIL,
        status=STATUSES[event_type],
        sender=first_string(payload, "email_account"),
        recipient=first_string(payload, "lead_email"),
        occurred_at=_occurred_at(payload, received_at),
        event_type=event_type,
        raw=payload,
    )


def parse(
    request: WebhookRequest, received_at: float, secrets: Secrets = None
) -> Message | StatusUpdate | None:
    """`secrets` (the route's WebhookSecrets section) keys the id of events without `email_id`."""
    payload = request.json_object()
    if payload.get("event_type") is None and "custom_interest_value" in payload:
        return None  # custom label events carry event_type null by design
    require_fields(payload, "event_type")
    event_type = string_field(payload, "event_type") or ""
    if event_type in (REPLY, SENT):
        return _message(payload, event_type, received_at, secrets)
    if event_type in STATUSES:
        return _status(payload, event_type, received_at, secrets)
    return None


def signature_headers(url: str, body: bytes, client_secrets: dict[str, str], now: float) -> dict[str, str]:
    """The secret header Instantly is configured to send (tests, sample events, the sandbox)."""
    return shared_secret_headers(client_secrets, default_header=DEFAULT_HEADER)
