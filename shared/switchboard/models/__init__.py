"""Canonical models: what every provider's webhook is normalized into, and the job sent to the worker."""

from switchboard.models.events import (
    CalendarEvent,
    CalendarStatus,
    Channel,
    Direction,
    Event,
    Media,
    Message,
    StatusUpdate,
    is_iana_zone,
)
from switchboard.models.jobs import Job

__all__ = [
    "CalendarEvent",
    "CalendarStatus",
    "Channel",
    "Direction",
    "Event",
    "Job",
    "Media",
    "Message",
    "StatusUpdate",
    "is_iana_zone",
]
