"""The canonical Message and StatusUpdate every provider's payload is mapped onto."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator

# DynamoDB caps a partition key at 2048 bytes and a sort key at 1024: 512 bytes of UTF-8 leave room for
# every prefix ("EVT#<provider>#", "STATUS#", "CONTACT#"), where a 512-character limit would not.
KEY_PART_BYTES = 512


def _fits_in_a_key(value: str) -> str:
    if len(value.encode("utf-8", "surrogatepass")) > KEY_PART_BYTES:
        raise ValueError(f"must be at most {KEY_PART_BYTES} bytes of UTF-8")
    return value


KeyPart = Annotated[str, AfterValidator(_fits_in_a_key)]  # a value that becomes part of a table key


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
    provider_message_id: KeyPart = Field(min_length=1, max_length=KEY_PART_BYTES)
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
    sender: KeyPart = Field(min_length=1, description="E.164 number, e-mail address or profile id")
    recipient: KeyPart | None = Field(default=None, description="E.164 number, e-mail address or profile id")
    participants: tuple[str, ...] = Field(default=(), description="a group message's other recipients")
    body: str = ""
    media: tuple[Media, ...] = ()
    status: str | None = None
    thread_id: str | None = None
    account_id: str | None = None
    opt_out_type: str | None = None


class StatusUpdate(_ProviderEvent):
    """A delivery-status change of an outbound message (status callbacks, delivered/bounced events)."""

    kind: Literal["status"] = "status"
    status: KeyPart = Field(min_length=1)
    error_code: str | None = None
    sender: KeyPart | None = None
    recipient: KeyPart | None = None


Event = Message | StatusUpdate
