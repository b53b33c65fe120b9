"""Sending an approved draft: one SendRequest on the outbound queue, keyed on the draft id, so that a
re-enqueue is deduplicated by the sender (docs/adr/0015). SMS (Twilio, OpenPhone) replies from the number
the contact wrote to; GoHighLevel, SmartLead, Instantly and Unipile reply in the stored message's own
thread (providers/replies.py, which raises ReplyNotPossible when the message lacks what the API needs)."""

from __future__ import annotations

from typing import Any, Protocol

from switchboard.models.drafts import draft_send_key
from switchboard.models.outbound import SendRequest
from switchboard.providers.replies import reply_request

SMS_PROVIDERS = frozenset({"twilio", "openphone"})


class OutboundSink(Protocol):
    def send_request(self, request: Any) -> None: ...


def sms_request(draft: dict[str, Any], message_record: dict[str, Any]) -> SendRequest:
    return SendRequest(
        send_key=draft_send_key(draft["pk"]),
        provider=message_record["provider"],
        sender=message_record["recipient"],  # the number the contact wrote to answers them
        recipient=draft["to"],
        body=draft["text"],
        channel="whatsapp" if message_record.get("channel") == "whatsapp" else "sms",
        purpose="auto_reply",
        draft_pk=draft["pk"],
    )


def enqueue_draft(draft: dict[str, Any], message_record: dict[str, Any], queue: OutboundSink) -> None:
    """Enqueue the approved draft's reply through the channel it came from (the caller made it approved)."""
    if message_record["provider"] in SMS_PROVIDERS:
        queue.send_request(sms_request(draft, message_record))
    else:
        queue.send_request(reply_request(message_record, draft))
