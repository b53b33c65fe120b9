"""Sending an approved draft: one SendRequest on the outbound queue, keyed on the draft id, so that a
re-enqueue is deduplicated by the sender (docs/adr/0014). SMS (Twilio, OpenPhone) goes through the
existing sender; the other channels' requests come from `switchboard.providers.replies` once it exists
(until then their drafts stay approved with `send_hold: channel_pending`)."""

from __future__ import annotations

import importlib.util
from typing import Any, Literal, Protocol

from switchboard.models.drafts import draft_send_key
from switchboard.models.outbound import SendRequest

SMS_PROVIDERS = frozenset({"twilio", "openphone"})
REPLIES_MODULE = "switchboard.providers.replies"
Enqueued = Literal["enqueued", "channel_pending"]


class OutboundSink(Protocol):
    def send_request(self, request: Any) -> None: ...


def channel_ready(provider: str) -> bool:
    """Whether a draft to this provider's contact can be sent from this build."""
    return provider in SMS_PROVIDERS or importlib.util.find_spec(REPLIES_MODULE) is not None


def sms_request(draft: dict[str, Any], message_record: dict[str, Any]) -> SendRequest:
    return SendRequest(
        send_key=draft_send_key(draft["pk"]),
        provider=message_record["provider"],
        sender=message_record["recipient"],  # the number the contact wrote to answers them
        recipient=draft["to"],
        body=draft["text"],
        channel="whatsapp" if message_record.get("channel") == "whatsapp" else "sms",
        purpose="auto_reply",
    )


def enqueue_draft(draft: dict[str, Any], message_record: dict[str, Any], queue: OutboundSink) -> Enqueued:
    """Enqueue the approved draft's reply through the channel it came from (the caller made it approved)."""
    provider = message_record["provider"]
    if provider in SMS_PROVIDERS:
        queue.send_request(sms_request(draft, message_record))
        return "enqueued"
    if not channel_ready(provider):
        return "channel_pending"
    replies = importlib.import_module(REPLIES_MODULE)
    queue.send_request(replies.reply_request(message_record, draft))
    return "enqueued"
