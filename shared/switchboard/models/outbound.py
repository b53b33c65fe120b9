"""An outbound send request: what the outbound queue carries and the sender sends at most once.

SMS providers (Twilio, OpenPhone) send to an E.164 number. The reply providers (GHL, SmartLead,
Instantly, Unipile) answer in an existing thread: `thread` holds the provider's own reply references
(outbound-apis.md sections 1-4), which each provider needs in full before a request is accepted.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

Purpose = Literal["operator", "canary", "reminder", "auto_reply"]
Provider = Literal["twilio", "openphone", "ghl", "smartlead", "instantly", "unipile"]
SendChannel = Literal["sms", "whatsapp", "email", "linkedin", "other"]

E164 = re.compile(r"^\+[1-9]\d{1,14}$")
_ADDRESS = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
SMS_BODY_LIMIT = 1600  # Twilio's and OpenPhone's own limit
PHONE_CHANNELS = frozenset({"sms", "whatsapp"})
# What each provider's reply API needs from the thread; a request without it is refused here, not there.
THREAD_FIELDS: dict[str, tuple[str, ...]] = {
    "ghl": ("contactId", "type"),
    "smartlead": (
        "campaign_id",
        "email_stats_id",
        "reply_message_id",
        "reply_email_time",
        "reply_email_body",
    ),
    "instantly": ("reply_to_uuid", "eaccount"),
    "unipile": ("chat_id",),
}
CHANNELS: dict[str, frozenset[str]] = {
    "twilio": PHONE_CHANNELS,
    "openphone": PHONE_CHANNELS,
    "ghl": frozenset({"sms", "whatsapp", "email"}),
    "smartlead": frozenset({"email"}),
    "instantly": frozenset({"email"}),
    "unipile": frozenset({"linkedin", "other"}),
}


class SendRequest(BaseModel):
    model_config = ConfigDict(frozen=True)

    send_key: str = Field(min_length=1, max_length=200, description="the caller's idempotency key")
    provider: Provider
    sender: str = Field(min_length=1, max_length=512, description="our number, PN id, mailbox or account")
    recipient: str = Field(
        min_length=1, max_length=512, description="E.164 on phone channels, else an address or profile id"
    )
    body: str = Field(min_length=1, max_length=20_000)
    channel: SendChannel = "sms"
    purpose: Purpose = "operator"
    thread: dict[str, str] | None = Field(default=None, description="the reply API's thread references")
    subject: str | None = Field(default=None, max_length=998)  # RFC 5322's line limit
    draft_pk: str | None = Field(default=None, max_length=1100, description="the draft an auto-reply sends")

    @model_validator(mode="after")
    def _fits_the_provider(self) -> SendRequest:
        if self.channel not in CHANNELS[self.provider]:
            raise ValueError(f"{self.provider} does not send on channel {self.channel}")
        if self.channel in PHONE_CHANNELS:
            if not E164.match(self.recipient):
                raise ValueError("recipient must be an E.164 number on a phone channel")
            if len(self.body) > SMS_BODY_LIMIT:
                raise ValueError(f"a text message is at most {SMS_BODY_LIMIT} characters")
        if self.channel == "email" and not _ADDRESS.match(self.recipient):
            raise ValueError("recipient must be an e-mail address on the email channel")
        needed = THREAD_FIELDS.get(self.provider, ())
        missing = [name for name in needed if not (self.thread or {}).get(name)]
        if missing:
            raise ValueError(f"{self.provider} needs thread field(s): {', '.join(missing)}")
        if not needed and self.thread:
            raise ValueError(f"{self.provider} sends no thread references")
        if self.provider == "instantly" and not self.subject:
            raise ValueError("an Instantly reply needs a subject")
        return self
