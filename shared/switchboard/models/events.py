"""The canonical Message, StatusUpdate and CalendarEvent every provider's payload is mapped onto."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator


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


class CalendarStatus(StrEnum):
    CONFIRMED = "confirmed"
    TENTATIVE = "tentative"
    CANCELLED = "cancelled"


class CalendarEvent(_ProviderEvent):
    """A booking or calendar event as one version: `provider` is the calendar (calcom, calendly,
    calendar), `provider_message_id` the event id, `version` a sortable string (newer sorts later)."""

    kind: Literal["calendar"] = "calendar"
    channel: Channel = Channel.SMS  # reminders go out as text messages
    version: str = Field(min_length=1, max_length=64)
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
