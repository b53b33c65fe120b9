"""The canonical Message, StatusUpdate and CalendarEvent every provider's payload is mapped onto."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

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


class CalendarStatus(StrEnum):
    CONFIRMED = "confirmed"
    TENTATIVE = "tentative"
    CANCELLED = "cancelled"


class CalendarEvent(_ProviderEvent):
    """A booking or calendar event as one version: `provider` is the calendar (calcom, calendly,
    calendar), `provider_message_id` the event id, `version` a sortable string (newer sorts later)."""

    kind: Literal["calendar"] = "calendar"
    channel: Channel = Channel.SMS  # reminders go out as text messages
    version: KeyPart = Field(min_length=1, max_length=64)
    status: CalendarStatus
    title: str = ""
    location: str | None = None
    start: datetime | None = None
    end: datetime | None = None
    all_day: date | None = Field(default=None, description="the date of an all-day event (no start/end)")
    time_zone: str | None = Field(default=None, description="IANA zone of the event")
    attendee_phone: str | None = Field(default=None, description="E.164; None: stored, never reminded")
    attendee_time_zone: str | None = Field(default=None, description="IANA zone of the attendee")
    replaces: str | None = Field(default=None, description="event id this one supersedes (a reschedule)")

    @field_validator("start", "end")
    @classmethod
    def _instants_are_aware(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("start/end must carry a time zone")
        return value

    @field_validator("time_zone", "attendee_time_zone")
    @classmethod
    def _known_zone(cls, value: str | None) -> str | None:
        if value is not None and not is_iana_zone(value):
            raise ValueError(f"{value!r} is not an IANA time zone")
        return value

    @model_validator(mode="after")
    def _timed_or_all_day(self) -> CalendarEvent:
        if self.status is not CalendarStatus.CANCELLED and (self.start is None) == (self.all_day is None):
            raise ValueError("an event has either a start time or an all-day date")
        if self.start and self.end and self.end < self.start:
            raise ValueError("end is before start")
        return self


def is_iana_zone(name: str) -> bool:
    """True for a zone zoneinfo can load ("America/New_York"); False for "EST5EDT+x" or a path."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    if not name or len(name) > 64 or name.startswith(("/", ".")) or ".." in name:
        return False
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return False
    return True


Event = Message | StatusUpdate | CalendarEvent
