"""The canonical Message and StatusUpdate every provider's payload is mapped onto."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator


class Channel(StrEnum):
    SMS = "sms"
    MMS = "mms"
    WHATSAPP = "whatsapp"
    LINKEDIN = "linkedin"
    EMAIL = "email"
    CALL = "call"
    OTHER = "other"


class Direction(StrEnum):
    INBOUND = "inbound"
    OUTBOUND = "outbound"


class Media(BaseModel):
    model_config = ConfigDict(frozen=True)

    url: str
    content_type: str | None = None


class _ProviderEvent(BaseModel):
    """Fields shared by every canonical event: who sent it, its provider id, and the raw payload."""

    model_config = ConfigDict(frozen=True)

    provider: str = Field(min_length=1)
    provider_message_id: str = Field(min_length=1, max_length=512)
    channel: Channel
    occurred_at: datetime
    event_type: str = Field(min_length=1, description="the provider's own name for the event")
    raw: dict[str, Any] = Field(description="the parsed payload exactly as received, kept for audit")

    @field_validator("occurred_at")
    @classmethod
    def _must_be_aware(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            raise ValueError("occurred_at must carry a time zone")
        return value


class Message(_ProviderEvent):
    """A message sent or received on any channel."""

    kind: Literal["message"] = "message"
    direction: Direction
    sender: str = Field(min_length=1, description="E.164 number, e-mail address or profile id")
    recipient: str | None = Field(default=None, description="E.164 number, e-mail address or profile id")
    body: str = ""
    media: tuple[Media, ...] = ()
    status: str | None = None
    thread_id: str | None = None
    account_id: str | None = None
    opt_out_type: str | None = None


class StatusUpdate(_ProviderEvent):
    """A delivery-status change of an outbound message (status callbacks, delivered/bounced events)."""

    kind: Literal["status"] = "status"
    status: str = Field(min_length=1)
    error_code: str | None = None
    sender: str | None = None
    recipient: str | None = None


Event = Message | StatusUpdate
